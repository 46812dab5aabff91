"""The deadline guard: every 15 minutes (and on every order change, in intake) each seller-fulfilled order
awaiting shipment is weighed against its latest ship date in business time. Flags move on the order item
(the stream then announces OrderAtRisk / OrderLate once per transition, and the alerts rule mails them).
Where the delivery promise can no longer be met, the buyer gets one delay notice through the Messaging API,
if Amazon offers that action for the order: the notice is claimed in the table before it is sent.
"""

from __future__ import annotations

from datetime import datetime

from oms.amazon.client import SpApiClient
from oms.amazon.messaging_api import UNEXPECTED_PROBLEM, messaging_actions, send_unexpected_problem
from oms.domain.deadlines import AWAITING_SHIPMENT
from oms.domain.orders import FulfillmentChannel, Order
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists
from oms.inventory.allocation import MAX_WRITES
from oms.inventory.holdings import order_writes
from oms.inventory.stock import finish_pending, finish_pending_allocations
from oms.observability import logger
from oms.store import keys
from oms.store.orders import order_from_item
from oms.store.reflag import Reflag, reflag
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import ShippingSettings, ShippingSettingsStore
from oms.warehouse.ship_by import guarded


def promise_missed(order: Order, settings: ShippingSettings, now: datetime) -> bool:
    """Unshipped, and even the next pickup plus the carrier's transit days lands after the latest delivery date."""
    if order.latest_delivery_date is None or order.status not in AWAITING_SHIPMENT:
        return False
    setup = settings.carrier()
    calendar = settings.calendar
    pickup = settings.pickup(setup.code).next_pickup(calendar, now)
    return calendar.add_working_days(pickup, setup.transit_days) > order.latest_delivery_date


def guard(table: Table, client: SpApiClient | None, *, now: datetime | None = None) -> dict[str, int]:
    now = now or utc_now()
    settings = ShippingSettingsStore(table).get(fresh=True)
    counts = {"checked": 0, "flagged": 0, "cleared": 0, "delayNotices": 0}
    counts["allocationsFinished"] = finish_pending_allocations(table, actor="ship_guard")
    for status in AWAITING_SHIPMENT:
        query = keys.orders_by_status(status.value, FulfillmentChannel.MFN.value, None)
        for item in table.query_all(query):
            counts["checked"] += 1
            changed = _reflag(table, item, now)
            if changed is not None:
                counts["flagged" if changed else "cleared"] += 1
            order = order_from_item(item)
            if client is not None and promise_missed(order, settings, now):
                counts["delayNotices"] += _send_delay_notice(table, client, order, now)
    logger.info("ship guard done", extra=counts)
    return counts


def _reflag(table: Table, item: Item, now: datetime) -> bool | None:
    """Write the order's atRisk/late flags if they changed (with the stock effect of the order's writer):
    True when one was raised, False when they were only cleared, None unchanged (store/reflag.py)."""

    def weigh(current: Item) -> Reflag | None:
        order = order_from_item(current)
        flagged = guarded(table, order, now)
        if flagged.flags == order.flags:
            return None
        writes = order_writes(table, flagged, current, actor="ship_guard", room=MAX_WRITES)
        return Reflag(writes, raised=bool(set(flagged.flags) - set(order.flags)))

    def after(writes: list[Write]) -> None:
        finish_pending(table, writes, actor="ship_guard")

    return reflag(table, item, keys.order_key(order_from_item(item).order_id), weigh, after=after)


def _send_delay_notice(table: Table, client: SpApiClient, order: Order, now: datetime) -> int:
    """Once per order: claim, ask Amazon whether the action is allowed, send, record; a failure frees the claim."""
    key = keys.delay_notice_key(order.order_id)
    try:
        table.put_new({**key, "entity": "DelayNotice", "orderId": order.order_id, "claimedAt": iso_z(now)})
    except AlreadyExists:
        return 0  # sent before (or being sent)
    text = (
        f"We are sorry: your order {order.order_id} will arrive later than promised. "
        "It is being prepared and we will send tracking details as soon as it ships."
    )
    try:
        if UNEXPECTED_PROBLEM not in messaging_actions(client, order.order_id, order.marketplace_id):
            table.put({**key, "entity": "DelayNotice", "orderId": order.order_id, "notAllowedAt": iso_z(now)})
            return 0
        send_unexpected_problem(client, order.order_id, order.marketplace_id, text)
    except Exception:
        table.delete(key)  # try again on the next run
        logger.exception("delay notice not sent", extra={"orderId": order.order_id})
        return 0
    table.put({**key, "entity": "DelayNotice", "orderId": order.order_id, "sentAt": iso_z(now), "text": text})
    return 1
