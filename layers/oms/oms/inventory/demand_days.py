"""Demand per SKU and day, counted where orders are recorded: the units each order asked for (per channel and
marketplace) on the warehouse day it was placed, and the days a SKU ran out (available hit 0, or an order
was short), in the same transaction as the order. Planning reads these days (oms.planning.demand), never
the orders.

Units are counted once per unit whoever writes the order next: the order keeps what it has counted
(unitsOrdered). A cancelled order stays counted: the buyer asked for it, and demand is what was asked for.
An order stored before the counters existed counts when it is next written, or when the nightly plan's
first run counts the stored orders (oms.planning.backfill).
"""

from __future__ import annotations

from collections.abc import Sequence

from oms.domain.orders import Order
from oms.domain.types import utc_now
from oms.inventory.allocation import Reallocation
from oms.store.conditional import add_ordered
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import ShippingSettingsStore

COUNTED_ATTRIBUTE = "unitsOrdered"


def units_ordered(order: Order) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in order.items:
        totals[item.sku] = totals.get(item.sku, 0) + item.quantity
    return totals


def ordered_writes(
    table: Table, order: Order, current: Item | None, changes: Sequence[Reallocation]
) -> tuple[dict[str, int], list[Write]]:
    """The units counted so far per SKU (to keep on the order) and one counter write per SKU and day: units
    newly ordered on the order's purchase day, and today marked out for every SKU this change leaves with
    nothing available or some order short."""
    # an order stored before the counters existed has counted nothing: its units count now, on its purchase day
    counted = {sku: int(n) for sku, n in ((current or {}).get(COUNTED_ATTRIBUTE) or {}).items()}
    now_ordered = units_ordered(order)
    new = {sku: n - counted.get(sku, 0) for sku, n in now_ordered.items() if n > counted.get(sku, 0)}
    out = sorted(
        {c.sku for c in changes if c.after.available <= 0 or any(units > 0 for units in c.short.values())}
    )
    if not new and not out:
        return counted, []
    calendar = ShippingSettingsStore(table).get().calendar
    purchase_day = calendar.local(order.purchase_date).date().isoformat()
    today = calendar.local(utc_now()).date().isoformat()
    writes = []
    for sku in sorted(set(new) | set(out)):
        marked = sku in out
        if sku in new:
            writes.append(
                add_ordered(
                    purchase_day,
                    sku,
                    units=new[sku],
                    channel=order.fulfillment_channel.value,
                    marketplace=order.marketplace_id,
                    out=marked and purchase_day == today,
                )
            )
            marked = marked and purchase_day != today
        if marked:
            writes.append(add_ordered(today, sku, out=True))
    return counted | {sku: max(n, counted.get(sku, 0)) for sku, n in now_ordered.items()}, writes
