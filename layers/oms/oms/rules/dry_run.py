"""A rule tried on the orders of the last days, changing nothing: what it would have done to each."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import islice

from pydantic import Field

from oms.domain.orders import Order, OrderHandling
from oms.domain.products import Product
from oms.domain.rules import Rule, RuleDraft, run_rules
from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.rules.facts import DESTINATION_FIELDS, facts_of
from oms.store import keys
from oms.store.orders import order_from_item
from oms.store.products import ProductStore
from oms.store.table import Table

MAX_ORDERS = 5_000  # a dry run reads at most this many orders (newest first) and says when it stopped
MAX_LISTED = 100
ORDERS_PER_READ = 100  # orders whose products are read in one go (a batch read takes 100 keys)


class DryRunOrder(ApiModel):
    order_id: str
    purchase_date: UtcDateTime
    status: str
    actions: list[str] = Field(description="what the rule would have done, in words")


class DryRun(ApiModel):
    rule_id: str | None
    since: UtcDateTime
    orders_checked: int
    orders_matched: int
    truncated: bool = Field(description="more orders than a dry run reads: the newest were checked")
    destination_unknown: bool = Field(
        description="the rule tests the destination, which is read only for orders being shipped: orders "
        "without a kept address did not match"
    )
    matched: list[DryRunOrder] = Field(description=f"the newest {MAX_LISTED} matching orders")


def _orders_since(table: Table, since: str) -> Iterator[Order]:
    for item in table.query_all(keys.orders_by_purchase_date(since, None)):
        full = table.get(keys.order_key(item["orderId"])) if "items" not in item else item
        if full is not None:
            yield order_from_item(full)


def _chunks(orders: Iterator[Order], size: int) -> Iterator[list[Order]]:
    while chunk := list(islice(orders, size)):
        yield chunk


def dry_run(
    table: Table,
    rule: Rule | RuleDraft,
    *,
    addresses: Callable[[str], Mapping[str, str] | None] | None = None,
    days: int = 30,
    now: datetime | None = None,
) -> DryRun:
    """`addresses` gives the kept address of an order (buyer data), if any: a dry run never asks Amazon."""
    now = now or utc_now()
    since = now - timedelta(days=days)
    as_rule = (
        rule
        if isinstance(rule, Rule)
        else Rule(
            **rule.model_dump(exclude={"position"}),
            rule_id="draft",
            position=0,
            created_at=now,
            updated_at=now,
        )
    )
    as_rule = as_rule.model_copy(update={"enabled": True, "stop_processing": False})
    uses_destination = any(c.field in DESTINATION_FIELDS for c in as_rule.conditions)
    checked = matched_count = 0
    matched: list[DryRunOrder] = []
    truncated = False
    store = ProductStore(table)
    products: dict[str, Product | None] = {}
    for chunk in _chunks(_orders_since(table, iso_z(since)), ORDERS_PER_READ):
        truncated = checked + len(chunk) > MAX_ORDERS
        orders = chunk[: MAX_ORDERS - checked]
        # one batch read of the products these orders name, not one per order: a dry run over a few hundred
        # orders ran past the API's 29 seconds on a busy stack
        unseen = {i.sku for order in orders for i in order.items} - products.keys()
        if unseen:
            found = store.many(unseen)
            products.update({sku: found.get(sku) for sku in unseen})
        known = {sku: p for sku, p in products.items() if p is not None}
        for order in orders:
            checked += 1
            address = addresses(order.order_id) if uses_destination and addresses else None
            outcome = run_rules(
                [as_rule],
                facts_of(order, known, address),
                order.handling or OrderHandling(),
                trigger=as_rule.run_on[0],
                now=order.purchase_date,
            )
            if not outcome.applied:
                continue
            matched_count += 1
            if len(matched) < MAX_LISTED:
                matched.append(
                    DryRunOrder(
                        order_id=order.order_id,
                        purchase_date=order.purchase_date,
                        status=order.status.value,
                        actions=[a.text for a in outcome.applied],
                    )
                )
        if truncated:
            break
    return DryRun(
        rule_id=rule.rule_id if isinstance(rule, Rule) else None,
        since=since,
        orders_checked=checked,
        orders_matched=matched_count,
        truncated=truncated,
        destination_unknown=uses_destination,
        matched=matched,
    )
