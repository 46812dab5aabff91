"""Counting the orders stored before the demand counters existed, once: each order of the last two years
that has counted nothing (no `unitsOrdered`) adds its units to its purchase day's counters and is marked
counted, in one transaction, so a crash or a rerun never counts an order twice. Newest orders first, so
an interrupted count still gives the recent history; the nightly plan runs it before planning until done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from oms.domain.calendar import BusinessCalendar
from oms.domain.types import iso_z
from oms.errors import Conflict
from oms.inventory.demand_days import COUNTED_ATTRIBUTE, units_ordered
from oms.planning.demand import HISTORY_DAYS
from oms.store import keys
from oms.store.conditional import add_ordered, mark_order_counted
from oms.store.orders import order_from_item
from oms.store.table import Table, again_if_transient, back_off
from oms.warehouse.settings import ShippingSettingsStore

JOB, SCOPE = "demand-backfill", "orders"
MARGIN_SECONDS = 60.0
_ATTEMPTS = 10
_TRIES = 3  # a write the table refused for a moment


def count_stored_orders(table: Table, now: datetime, time_left: Callable[[], float]) -> tuple[int, bool]:
    """Orders counted in this call, and whether every stored order of the window is counted now. A write the
    table refuses for a moment is tried again (decision 108; its reads the table asks again itself): counting
    an order is idempotent."""
    mark = table.get(keys.watermark_key(JOB, SCOPE), consistent=True) or {}
    if mark.get("done"):
        return 0, True
    calendar = ShippingSettingsStore(table).get().calendar
    oldest = iso_z(now - timedelta(days=HISTORY_DAYS))
    before = mark.get("before")
    query = keys.orders_purchased_before(before)
    counted = 0
    for item in table.query_all(query, page_size=100):
        if time_left() < MARGIN_SECONDS:
            _save(table, before, done=False)
            return counted, False
        if str(item["purchaseDate"]) < oldest:
            break
        count = partial(_count, table, str(item["orderId"]), calendar)
        if COUNTED_ATTRIBUTE not in item and again_if_transient(
            count, tries=_TRIES, what="counting an order"
        ):
            counted += 1
        before = keys.purchase_position(item)
    _save(table, before, done=True)
    return counted, True


def _count(table: Table, order_id: str, calendar: BusinessCalendar) -> bool:
    """Count one order (read again, consistently); False when it turned out counted already."""
    for attempt in range(_ATTEMPTS):
        item = table.get(keys.order_key(order_id), consistent=True)
        if item is None or COUNTED_ATTRIBUTE in item:
            return False
        order = order_from_item(item)
        units = {sku: n for sku, n in units_ordered(order).items() if n > 0}
        day = calendar.local(order.purchase_date).date().isoformat()
        channel, marketplace = order.fulfillment_channel.value, order.marketplace_id
        writes = [
            add_ordered(day, sku, units=n, channel=channel, marketplace=marketplace)
            for sku, n in sorted(units.items())
        ]
        writes.append(mark_order_counted(order_id, units, int(item.get("version", 0))))
        try:
            table.transact(writes)
        except Conflict:
            back_off(attempt)  # written meanwhile: read it again
            continue
        return True
    raise Conflict(f"order {order_id} kept changing while its demand was counted; the next run tries again")


def _save(table: Table, before: str | None, *, done: bool) -> None:
    table.put({**keys.watermark_key(JOB, SCOPE), "entity": "Watermark", "before": before, "done": done})
