"""Deliveries: each domain event a subscription wants becomes one delivery (its id doubles as webhook-id),
attempted at once and then on the retry schedule; every attempt goes in the delivery's log (kept 30 days).

A delivery is written before it is attempted, an attempt is claimed before it is sent and recorded after,
each in one conditional write, so a function that dies anywhere loses nothing (the sweep finds what is due)
and a queued retry racing the sweep never sends twice. A 410 from the receiver, or a day of failures without
a success, disables the subscription (WebhookDisabled on the bus, and an alert)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, Conflict, NotFound
from oms.store import conditional, keys
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import ShippingSettingsStore
from oms.webhooks import schedule, sender
from oms.webhooks.signing import signed_headers
from oms.webhooks.subscriptions import SubscriptionStore, signing_secrets

LOG_KEPT = timedelta(days=30)
HOLD = timedelta(seconds=60)  # an attempt's claim: well past the send timeout
QUEUE_MAX_DELAY = 900  # SQS's longest delay; later retries wait in the table for the sweep
SWEEP_LIMIT = 200
PARALLEL = 8


class RetryQueue(Protocol):
    def send(self, subscription_id: str, delivery_id: str, delay_seconds: int) -> None: ...


Post = Callable[..., sender.Outcome]


def delivery_id_for(event_id: str, subscription_id: str, occurred_at: str) -> str:
    """One id per event and subscription (a repeated event finds its delivery), sorted by the event's time."""
    digest = hashlib.sha256(f"{event_id}|{subscription_id}".encode()).hexdigest()[:20]
    return "msg_" + occurred_at.replace("-", "").replace(":", "") + digest


def body_of(detail_type: str, detail: dict[str, Any]) -> str:
    """What a receiver gets: Standard Webhooks' type/timestamp/data envelope, plus the event's id."""
    metadata = detail.get("metadata", {})
    return json.dumps(
        {
            "type": detail_type,
            "timestamp": metadata.get("occurredAt"),
            "eventId": metadata.get("eventId"),
            "data": detail.get("data", {}),
        },
        separators=(",", ":"),
    )


def view(item: Item) -> dict[str, Any]:
    return {
        "deliveryId": item["deliveryId"],
        "subscriptionId": item["subscriptionId"],
        "eventType": item["eventType"],
        "eventId": item["eventId"],
        "status": item["status"],
        "attemptCount": int(item.get("attemptCount", 0)),
        "attempts": [
            {
                "attempt": a["attempt"],
                "at": a["at"],
                "statusCode": a.get("statusCode"),  # none: no HTTP answer (refused, timed out, unreachable)
                "latencyMs": a.get("latencyMs", 0),
                "error": a.get("error"),
            }
            for a in item.get("attempts", [])
        ],
        "nextAttemptAt": item.get("nextAttemptAt") if item["status"] == "pending" else None,
        "createdAt": item["createdAt"],
    }


@dataclass
class Deliveries:
    table: Table
    allow_loopback: bool
    timeout: float
    queue: RetryQueue | None
    clock: Callable[[], datetime] = utc_now
    post: Post = sender.post
    rng: random.Random = field(default_factory=random.Random)

    @property
    def subscriptions(self) -> SubscriptionStore:
        return SubscriptionStore(self.table)

    def _expires(self, now: datetime) -> int:
        return int((now + LOG_KEPT).timestamp())

    # --- from the bus ----------------------------------------------------------------------------

    def fan_out(self, bus_event: dict[str, Any]) -> list[tuple[str, str]]:
        """A delivery for every enabled subscription that wants this event (one per event however often
        the event arrives); returns the deliveries to attempt now."""
        detail_type, detail = bus_event["detail-type"], bus_event["detail"]
        metadata = detail["metadata"]
        now = self.clock()
        at = iso_z(now)
        wanted = [
            s for s in self.subscriptions.all() if s.get("enabled") and detail_type in s.get("events", [])
        ]
        due = []
        for subscription in wanted:
            subscription_id = subscription["subscriptionId"]
            delivery_id = delivery_id_for(metadata["eventId"], subscription_id, metadata["occurredAt"])
            item: Item = {
                **keys.webhook_delivery_key(subscription_id, delivery_id),
                **keys.webhook_due_index_keys(at, subscription_id, delivery_id),
                "entity": "WebhookDelivery",
                "deliveryId": delivery_id,
                "subscriptionId": subscription_id,
                "eventType": detail_type,
                "eventId": metadata["eventId"],
                "payload": body_of(detail_type, detail),
                "status": "pending",
                "attemptCount": 0,
                "attempts": [],
                "nextAttemptAt": at,
                "createdAt": at,
                keys.TTL_ATTRIBUTE: self._expires(now),
            }
            with suppress(AlreadyExists):  # the event came again: its delivery exists, attempted if still due
                self.table.put_new(item)
            due.append((subscription_id, delivery_id))
        return due

    # --- attempts --------------------------------------------------------------------------------

    def attempt_all(self, targets: Iterable[tuple[str, str]]) -> list[sender.Outcome | None]:
        targets = list(targets)
        if len(targets) <= 1:
            return [self.attempt(*t) for t in targets]
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            return list(pool.map(lambda t: self.attempt(*t), targets))

    def attempt(self, subscription_id: str, delivery_id: str) -> sender.Outcome | None:
        """Send the delivery if it is due and nobody else is sending it; None when there was nothing to do."""
        delivery = self.table.get(keys.webhook_delivery_key(subscription_id, delivery_id), consistent=True)
        now = self.clock()
        at = iso_z(now)
        if delivery is None or delivery["status"] != "pending" or delivery.get("nextAttemptAt", "") > at:
            return None
        made = int(delivery.get("attemptCount", 0))
        try:
            self.table.transact(
                [
                    conditional.webhook_attempt_claim(
                        subscription_id, delivery_id, attempts_made=made, now=at, hold_until=iso_z(now + HOLD)
                    )
                ]
            )
        except Conflict:
            return None  # another attempt took it
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None or not subscription.get("enabled"):
            outcome = sender.Outcome(None, 0, "not sent: the subscription was deleted or disabled")
        else:
            body = delivery["payload"].encode()
            headers = signed_headers(delivery_id, now, body, signing_secrets(subscription, now))
            outcome = self.post(
                subscription["url"], body, headers, timeout=self.timeout, allow_loopback=self.allow_loopback
            )
        self._record(subscription, delivery, made, outcome, now)
        return outcome

    def _record(
        self, subscription: Item | None, delivery: Item, made: int, outcome: sender.Outcome, started: datetime
    ) -> None:
        subscription_id, delivery_id = delivery["subscriptionId"], delivery["deliveryId"]
        now = self.clock()
        entry = {
            "attempt": made + 1,
            "at": iso_z(started),
            "statusCode": outcome.status_code,
            "latencyMs": outcome.latency_ms,
            "error": outcome.error,
        }
        sendable = subscription is not None and subscription.get("enabled")
        retry_at = (
            None if outcome.delivered or not sendable else schedule.next_attempt_at(made + 1, now, self.rng)
        )
        if outcome.status_code == 410:
            retry_at = None  # Gone: the receiver asks for no more
        status = "delivered" if outcome.delivered else ("pending" if retry_at else "failed")
        writes: list[Write] = [
            conditional.webhook_attempt_recorded(
                subscription_id,
                delivery_id,
                attempt=entry,
                attempts_made=made,
                status=status,
                next_attempt_at=iso_z(retry_at) if retry_at else None,
                expires_at=self._expires(now),
            )
        ]
        if sendable and subscription is not None:
            health = _health(subscription, outcome, now, self._warehouse_zone)
            if health is not None:
                writes.append(health)
        try:
            self.table.transact(writes)
        except Conflict as refused:
            if refused.failed_index != 1:
                return  # recorded already by an attempt that outlived its hold; its record stands
            try:  # the subscription was deleted while this attempt was sent: the attempt is still logged
                self.table.transact(writes[:1])
            except Conflict:
                return
        if retry_at is not None and self.queue is not None:
            delay = max(0, int((retry_at - now).total_seconds() + 0.999))
            if delay <= QUEUE_MAX_DELAY:
                self.queue.send(subscription_id, delivery_id, delay)

    def _warehouse_zone(self) -> ZoneInfo:
        """The warehouse's time zone, for the times a person reads (read only when a subscription is disabled)."""
        return ZoneInfo(ShippingSettingsStore(self.table).get().warehouse.time_zone)

    # --- the sweep and the seller's retry ----------------------------------------------------------

    def sweep(self) -> int:
        """Attempt every delivery due now: retries too far off for the queue's delay, and any attempt lost
        with its function. Returns how many were attempted."""
        due = []
        for item in self.table.query_all(keys.webhook_deliveries_due(iso_z(self.clock()))):
            due.append((item["subscriptionId"], item["deliveryId"]))
            if len(due) >= SWEEP_LIMIT:
                break
        return sum(1 for outcome in self.attempt_all(due) if outcome is not None)

    def redeliver(self, subscription_id: str, delivery_id: str) -> Item:
        """The seller asks for a delivery again: due now (continuing its attempt count), sent from the queue."""
        subscription = self.subscriptions.existing(subscription_id)
        if not subscription.get("enabled"):
            raise Conflict(
                f"subscription {subscription_id} is disabled: enable it (PATCH enabled=true) first"
            )
        key = keys.webhook_delivery_key(subscription_id, delivery_id)
        if self.table.get(key, consistent=True) is None:
            raise NotFound(f"no delivery {delivery_id} of subscription {subscription_id} (kept 30 days)")
        now = self.clock()
        try:
            self.table.transact(
                [
                    conditional.webhook_redelivery(
                        subscription_id, delivery_id, now=iso_z(now), expires_at=self._expires(now)
                    )
                ]
            )
        except Conflict:
            raise Conflict(
                f"delivery {delivery_id} is being attempted right now; ask again in a minute"
            ) from None
        if self.queue is not None:
            self.queue.send(subscription_id, delivery_id, 0)
        item = self.table.get(key, consistent=True)
        assert item is not None
        return item

    def page(
        self, subscription_id: str, *, limit: int, next_token: str | None
    ) -> tuple[list[Item], str | None]:
        self.subscriptions.existing(subscription_id)
        found = self.table.query_page(
            keys.webhook_deliveries(subscription_id), limit=limit, next_token=next_token
        )
        return found.items, found.next_token


def _health(
    subscription: Item, outcome: sender.Outcome, now: datetime, zone: Callable[[], ZoneInfo]
) -> Write | None:
    """The subscription's run of failures after this attempt, or None when nothing changes."""
    subscription_id = subscription["subscriptionId"]
    if outcome.delivered:
        if subscription.get("failingSince"):
            return conditional.webhook_subscription_health(subscription_id, failing_since=None, disable=None)
        return None
    at = iso_z(now)
    if outcome.status_code == 410:
        reason = "the receiver answered 410 Gone"
        return conditional.webhook_subscription_health(
            subscription_id, failing_since=at, disable={"reason": reason, "at": at}
        )
    since = subscription.get("failingSince")
    if since and now - datetime.fromisoformat(since.replace("Z", "+00:00")) >= schedule.FAILING_FOR:
        local = datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(zone())
        reason = f"every delivery failed since {local:%b %d, %H:%M %Z} (the last: {outcome.error})"
        return conditional.webhook_subscription_health(
            subscription_id, failing_since=at, disable={"reason": reason, "at": at}
        )
    if since:
        return None
    return conditional.webhook_subscription_health(subscription_id, failing_since=at, disable=None)
