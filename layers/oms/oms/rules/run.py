"""Rules run on an order change, once: their effect on the order, one timeline entry per action and the
record that this change was handled go in one transaction, so a redelivered event or a crash between two
steps never applies a rule twice or half."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from oms.domain.orders import OrderHandling
from oms.domain.rules import Outcome, Rule, RuleTrigger, run_rules
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, Conflict
from oms.events import order_summary
from oms.rules.facts import Destination, facts_of, needs_destination
from oms.store import keys
from oms.store.orders import order_from_item
from oms.store.products import ProductStore
from oms.store.table import Table, Write, back_off

RUN_RECORD_DAYS = 30  # longer than any redelivery of the event that triggered the run
_ATTEMPTS = 10


@dataclass(frozen=True)
class RunResult:
    order_id: str
    outcome: Outcome | None  # None: nothing to do (a repeated change, an unknown order, no rule matched)
    duplicate: bool = False


def run_on_change(
    table: Table,
    rules: list[Rule],
    *,
    order_id: str,
    change_id: str,
    trigger: RuleTrigger,
    destination: Destination | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Apply the matching rules to the order as it is now, for the change `change_id` (the event's id)."""
    now = now or utc_now()
    live = [r for r in rules if r.enabled and trigger in r.run_on]
    if not live:
        return RunResult(order_id, None)
    for attempt in range(_ATTEMPTS):
        current = table.get(keys.order_key(order_id), consistent=True)
        if current is None:
            return RunResult(order_id, None)
        order = order_from_item(current)
        products = ProductStore(table).many({i.sku for i in order.items})
        address = destination(order) if destination and needs_destination(live) else None
        before = order.handling or OrderHandling()
        outcome = run_rules(live, facts_of(order, products, address), before, trigger=trigger, now=now)
        run_record = Write.put_new(
            {
                **keys.rule_run_key(order_id, change_id),
                "entity": "RuleRun",
                "orderId": order_id,
                "rules": outcome.matched,
                keys.TTL_ATTRIBUTE: int((now + timedelta(days=RUN_RECORD_DAYS)).timestamp()),
            }
        )
        if not outcome.applied:
            try:
                table.transact([run_record])
            except AlreadyExists:
                return RunResult(order_id, None, duplicate=True)
            return RunResult(order_id, None)
        writes = [run_record]
        if outcome.handling != before:
            item = {**current, "handling": outcome.handling.model_dump(mode="json", by_alias=True)}
            writes.append(Write.put_versioned(item, int(current.get("version", 0))))
        at = iso_z(now)
        for index, applied in enumerate(outcome.applied):
            writes.append(
                Write.put_new(
                    {
                        **keys.rule_log_key(order_id, at, change_id, index),
                        "entity": "RuleAction",
                        "orderId": order_id,
                        "at": at,
                        "ruleId": applied.rule_id,
                        "ruleName": applied.rule_name,
                        "action": applied.action,
                        "text": applied.text,
                        "trigger": trigger.value,
                        # what an action that announces (sendWebhook, notify) says about the order
                        "order": dict(order_summary(current)),
                    }
                )
            )
        try:
            table.transact(writes)
        except AlreadyExists as refused:
            if refused.failed_index == 0:
                return RunResult(order_id, None, duplicate=True)
            back_off(attempt)
            continue
        except Conflict:
            back_off(attempt)
            continue  # the order changed meanwhile: run the rules on what it is now
        return RunResult(order_id, outcome)
    raise Conflict(f"order {order_id} kept changing while its rules ran; the event will be retried")


TRIGGERS = {"OrderReceived": RuleTrigger.ARRIVAL, "OrderStatusChanged": RuleTrigger.STATUS_CHANGE}


@dataclass(frozen=True)
class OrderEvent:
    """The part of a domain event from the bus that the rules need."""

    order_id: str
    change_id: str
    trigger: RuleTrigger

    @classmethod
    def of(cls, event: dict) -> OrderEvent:
        """From an EventBridge event (as its SQS target delivers it); ValueError when it is not one for rules."""
        trigger = TRIGGERS.get(str(event.get("detail-type")))
        detail = event.get("detail") or {}
        order_id = (detail.get("data") or {}).get("orderId")
        event_id = (detail.get("metadata") or {}).get("eventId")
        if trigger is None or not order_id or not event_id:
            raise ValueError(f"not an order event the rules react to: {str(event)[:200]}")
        return cls(str(order_id), str(event_id), trigger)
