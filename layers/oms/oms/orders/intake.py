"""Order intake: every change Amazon reports applied exactly once, in order, with its stock effect.

One change (an ORDER_CHANGE notification, or an order state read from the Orders API by the
backstop) is written in ONE transaction: the order, which names the change it reflects
(lastChange), and for seller-fulfilled orders every touched stock row with its ledger entry.
Changes are ordered by (event time, publish time): an older change than the one the order
reflects is recorded as seen (an AppliedChange record, by its id) and changes nothing but the
Orders API's prices, once (then it writes the order alone, no record), so late, repeated and
shuffled deliveries converge on the same orders and stock as applying each change once, in
order. A change that is applied writes no record of its own (2 write units saved on most
notifications, decision 81): the order's lastChange says it was applied, and the order's
version refuses a second writer that read the order before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from oms.amazon.notifications import (
    APPLIED_RECORD_DAYS,
    NotificationLevel,
    OrderChangeNotification,
    OrderChangePayload,
    Outcome,
)
from oms.amazon.notifications import Notification as Envelope
from oms.amazon.orders_api import ApiOrder, order_from_api
from oms.domain.orders import FulfillmentChannel, Order, OrderFlag, OrderItem
from oms.domain.shipments import never_unshipped
from oms.domain.types import utc_now
from oms.errors import AlreadyExists, Conflict
from oms.inventory.holdings import order_writes
from oms.inventory.stock import finish_pending
from oms.observability import logger, metrics
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import order_from_item, order_item_over
from oms.store.table import Item, Table, Write, back_off
from oms.warehouse.ship_by import guarded

_ATTEMPTS = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    """One reported state of an order, with where it came from and when it happened."""

    change_id: str  # NotificationId, or "orders-api:<orderId>:<lastUpdated>" for the backstop
    event_time: datetime | None
    publish_time: datetime | None
    order: Order
    item_level: bool = False  # an OrderItemLevel notification speaks for its items only
    actor: str = "amazon:ORDER_CHANGE"

    @property
    def ordering(self) -> tuple[datetime, datetime]:
        return (self.event_time or _EPOCH, self.publish_time or _EPOCH)


def change_from_notification(envelope: Envelope, now: datetime | None = None) -> Change:
    """The order as an ORDER_CHANGE notification describes it (its Summary), at once."""
    change = OrderChangePayload.model_validate(envelope.payload).order_change_notification
    now = now or utc_now()
    return Change(
        change_id=envelope.notification_id,
        event_time=envelope.event_time,
        publish_time=envelope.notification_metadata.publish_time,
        order=_order_from_summary(change, envelope.event_time or now),
        item_level=change.notification_level == NotificationLevel.ORDER_ITEM,
    )


def _order_from_summary(change: OrderChangeNotification, event_time: datetime) -> Order:
    summary = change.summary
    programs = [p.lower() for p in summary.order_programs + summary.shipping_programs]
    flags = (
        [OrderFlag.BUYER_REQUESTED_CANCEL]
        if any(i.is_buyer_requested_cancel for i in summary.order_items)
        else []
    )
    return Order(
        order_id=change.amazon_order_id,
        marketplace_id=summary.marketplace_id,
        status=summary.order_status,
        fulfillment_channel=FulfillmentChannel(summary.fulfillment_type),
        purchase_date=summary.purchase_date or event_time,
        last_update_date=change.order_change_trigger.time_of_order_change or event_time,
        earliest_ship_date=summary.earliest_ship_date,
        latest_ship_date=summary.latest_ship_date,
        earliest_delivery_date=summary.earliest_delivery_date,
        latest_delivery_date=summary.latest_delivery_date,
        is_prime=any("prime" in p for p in programs),
        is_business_order=any("business" in p for p in programs),
        order_type=summary.order_type,
        items=[
            OrderItem(
                order_item_id=item.order_item_id,
                sku=item.seller_sku,
                quantity=max(item.quantity, 0),
                quantity_shipped=max(item.quantity_shipped or 0, 0),
            )
            for item in summary.order_items
        ],
        flags=flags,
    )


def change_from_api(api_order: ApiOrder, marketplace_id: str) -> Change:
    """The order as the Orders API reports it now (the backstop and the enrichment)."""
    order = order_from_api(api_order, marketplace_id)
    return Change(
        change_id=f"orders-api:{order.order_id}:{api_order.last_updated_time.isoformat()}",
        event_time=api_order.last_updated_time,
        publish_time=api_order.last_updated_time,
        order=order,
        actor="amazon:orders-api",
    )


def apply_order_change(envelope: Envelope) -> Outcome:
    """The ORDER_CHANGE owner (see oms.notifications)."""
    outcome = apply_change(default_table(), change_from_notification(envelope))
    metrics.add_metric(name=f"OrderChanges{outcome.value.title()}", unit=MetricUnit.Count, value=1)
    return outcome


def apply_change(table: Table, change: Change) -> Outcome:
    """Apply one change exactly once; concurrent writers to the same order or SKU retry on conflict."""
    for attempt in range(_ATTEMPTS):
        current = table.get(keys.order_key(change.order.order_id), consistent=True)
        if current is not None and (current.get("lastChange") or {}).get("changeId") == change.change_id:
            return Outcome.DUPLICATE  # the order's state is this change's: it was applied
        applied_record = Write.put_new(
            {
                **keys.notification_key(change.change_id),
                "entity": "AppliedChange",
                "orderId": change.order.order_id,
                keys.TTL_ATTRIBUTE: int((utc_now() + timedelta(days=APPLIED_RECORD_DAYS)).timestamp()),
            }
        )
        if current is not None and not _is_newer(change, current):
            # An older state changes nothing, but prices and service level never go stale. Enriching is
            # done once (a second time finds the order enriched), so it needs no record of its own.
            enrich = change.order.enriched and not current.get("enriched")
            writes = [_enrichment_write(change, current)] if enrich else [applied_record]
            outcome = Outcome.STALE
        else:
            # No applied record: the order's lastChange names this change, and its version guards the write.
            writes = _order_and_stock_writes(table, change, current)
            outcome = Outcome.APPLIED
        try:
            table.transact(writes)
        except AlreadyExists:
            if writes[0] is applied_record:  # this change was seen before
                return Outcome.DUPLICATE
            back_off(attempt)
            continue  # someone created the order or a stock row meanwhile: read again
        except Conflict:
            back_off(attempt)
            continue  # a version moved under us: read again and recompute
        finish_pending(table, writes, actor=change.actor)
        logger.info(
            "order change %s",
            outcome.value,
            extra={
                "orderId": change.order.order_id,
                "changeId": change.change_id,
                "status": change.order.status,
            },
        )
        return outcome
    raise Conflict(f"order {change.order.order_id} kept changing under us; the message will be retried")


def _is_newer(change: Change, current: Item) -> bool:
    seen = current.get("lastChange") or {}
    seen_ordering = (_instant(seen.get("eventTime")), _instant(seen.get("publishTime")))
    return change.ordering > seen_ordering


def _instant(text: str | None) -> datetime:
    return datetime.fromisoformat(text) if text else _EPOCH


def _merged(change: Change, current: Item | None) -> Order:
    """The new order: what the change says, over what this product knows and Amazon does not say."""
    order = change.order
    if current is None:
        return order
    before = order_from_item(current)
    items = order.items
    if change.item_level:  # only the items this notification names changed
        named = {i.order_item_id for i in order.items}
        items = [i for i in before.items if i.order_item_id not in named] + order.items
    # who asked for a cancellation stays known (a later state may not repeat it); shortage is recomputed
    kept_flags = [f for f in before.flags if f != OrderFlag.STOCK_SHORTAGE and f not in order.flags]
    order = _with_enrichment(order.model_copy(update={"items": items}), before)
    order = order.model_copy(
        update={
            "shipments": before.shipments,
            "handling": before.handling,  # the seller's rules set it; Amazon knows nothing of it
            "flags": kept_flags + order.flags,
            "purchase_date": before.purchase_date,  # fixed once known; a summary may omit it
            # the notification's order type (StandardOrder, Preorder...): searchOrders does not say it
            "order_type": order.order_type or before.order_type,
        }
    )
    return never_unshipped(order, before)  # units shipped (here or there) never un-ship when Amazon lags


_ENRICHMENT = ("ship_service_level", "order_total", "enriched")
_ITEM_ENRICHMENT = ("title", "asin", "unit_price")


def _with_enrichment(order: Order, source: Order) -> Order:
    """`order` with the Orders API details of `source` wherever `order` lacks them."""
    details = {name: getattr(source, name) for name in _ENRICHMENT if getattr(order, name) in (None, False)}
    by_id = {item.order_item_id: item for item in source.items}
    items = [
        item.model_copy(
            update={
                name: getattr(by_id[item.order_item_id], name)
                for name in _ITEM_ENRICHMENT
                if item.order_item_id in by_id and getattr(item, name) is None
            }
        )
        for item in order.items
    ]
    return order.model_copy(update={**details, "items": items})


def _enrichment_write(change: Change, current: Item) -> Write:
    order = _with_enrichment(order_from_item(current), change.order)
    return Write.put_versioned(order_item_over(current, order), int(current["version"]))


def _order_and_stock_writes(table: Table, change: Change, current: Item | None) -> list[Write]:
    order = guarded(table, _merged(change, current))
    last_change = {
        "changeId": change.change_id,
        "eventTime": change.ordering[0].isoformat(),
        "publishTime": change.ordering[1].isoformat(),
    }
    return order_writes(table, order, current, actor=change.actor, last_change=last_change)
