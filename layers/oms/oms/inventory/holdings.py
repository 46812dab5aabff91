"""What an order holds: its units per SKU, written with every stock row, ledger entry and demand item
they move, and the other orders whose units short this changes, in one transaction.

Every writer of an order (intake of Amazon's changes, shipments recorded here, the deadline guard) writes
it through order_writes, so stock moves by the difference only, whoever writes next.
"""

from __future__ import annotations

from typing import Any

from oms.domain.orders import FulfillmentChannel, Order, units_by_sku, with_shortage
from oms.domain.types import iso_z, utc_now
from oms.inventory.allocation import (
    MAX_WRITES,
    Reallocation,
    claim_of,
    other_order_writes,
    read_book,
    reallocate,
    short_by_sku,
)
from oms.inventory.demand_days import COUNTED_ATTRIBUTE, ordered_writes
from oms.inventory.stock import pending_marker, row_writes
from oms.store.conditional import add_units
from oms.store.orders import order_from_item, order_to_item
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import ShippingSettingsStore


def order_writes(
    table: Table,
    order: Order,
    current: Item | None,
    *,
    actor: str,
    last_change: dict[str, str] | None = None,
    room: int = MAX_WRITES - 2,
) -> list[Write]:
    """The order as given, with every stock row it moves, their ledger entries, its demand items and the
    other orders whose units short this changes, for one transaction of at most `room` writes.

    The order's holding per SKU (units it needs, units it has shipped, units short) is kept on the order
    item, so whoever writes the order next (a notification, a shipment recorded here) moves stock by the
    difference only: a shipment's units leave onHand once, whichever side reports it first. Other orders
    that do not fit in `room` are written right after (oms.inventory.stock.finish_allocation).
    """
    holdings: dict[str, dict[str, int]] = {
        sku: dict(held) for sku, held in ((current or {}).get("stockHeld") or {}).items()
    }
    writes: list[Write] = []
    changes: list[Reallocation] = []
    if order.fulfillment_channel == FulfillmentChannel.MFN:
        units = units_by_sku(order)
        before = order_from_item(current) if current is not None else None
        for sku in sorted(set(units) | set(holdings)):
            shipped, needed = units.get(sku, (0, 0))
            held = holdings.get(sku, {})
            shipped_total = max(shipped, int(held.get("shipped", 0)))  # units never un-ship
            if _holds_as_before(before, held, order, needed, shipped_total):
                continue  # its place in the SKU's queue and its units are unchanged: so is the allocation
            book = read_book(table, sku)
            change = reallocate(
                book,
                on_hand=book.level.on_hand - (shipped_total - int(held.get("shipped", 0))),
                claims=[claim_of(order, needed)],
            )
            holdings[sku] = {
                "needed": needed,
                "shipped": shipped_total,
                "short": change.short.get(order.order_id, 0),
            }
            if change.changed:
                changes.append(change)
                writes += _row_writes(change, reference=order.order_id, actor=actor)
                writes += change.own
    ordered, ordered_counts = ordered_writes(table, order, current, changes)
    others, pending = other_order_writes(
        table,
        changes,
        writing={order.order_id},
        room=room - 1 - len(writes) - len(changes) - len(ordered_counts),
    )
    if pending:  # the rows say so (and a marker each); the transaction stays within DynamoDB's 100 writes
        for change in changes:
            writes.append(pending_marker(change.sku))
        for write in writes:
            if write.item and write.item.get("entity") == "Stock":
                write.item["allocationPending"] = True
    counted, counts = _shipped_units(table, order, current)
    writes += counts + ordered_counts
    item = order_to_item(with_shortage(order, short_by_sku(holdings)))
    item["stockHeld"] = holdings
    item["unitsCounted"] = counted
    item[COUNTED_ATTRIBUTE] = ordered
    item["lastChange"] = last_change or (current or {}).get("lastChange")
    if current and current.get("history"):
        item["history"] = current["history"]
    item["history"] = _history(item.get("history") or [], order, actor, current)
    expected = int(current["version"]) if current else None
    return [Write.put_versioned(item, expected), *writes, *others]


def _shipped_units(table: Table, order: Order, current: Item | None) -> tuple[dict[str, int], list[Write]]:
    """Units shipped since the order was last written, added to each SKU's counter of the day (the return
    rates' denominator), and the units counted so far per SKU (kept on the order, so a unit is counted once
    whoever reports it and however often). An order first seen shipped (a backfill) counts on the warehouse
    day of its last update (when Amazon marked it shipped); later shipments on the day they are written. An
    order stored before the counters existed counts only what ships from now on."""
    before = order_from_item(current) if current is not None else None
    if current is not None and "unitsCounted" in current:
        counted = {sku: int(n) for sku, n in (current.get("unitsCounted") or {}).items()}
    else:
        counted = {sku: shipped for sku, (shipped, _) in units_by_sku(before).items()} if before else {}
    shipped_now = {sku: shipped for sku, (shipped, _) in units_by_sku(order).items()}
    new = {sku: n - counted.get(sku, 0) for sku, n in shipped_now.items() if n > counted.get(sku, 0)}
    if not new:
        return counted, []
    at = order.last_update_date if current is None else utc_now()
    day = ShippingSettingsStore(table).get().calendar.local(at).date().isoformat()
    return counted | {sku: counted.get(sku, 0) + n for sku, n in new.items()}, [
        add_units(day, sku, shipped=n) for sku, n in sorted(new.items())
    ]


def _holds_as_before(
    before: Order | None, held: dict[str, int], order: Order, needed: int, shipped_total: int
) -> bool:
    """The order needs and has shipped what it did, from the same place in the queue (ship-by, purchase)."""
    return (
        before is not None
        and "needed" in held
        and int(held["needed"]) == needed
        and int(held.get("shipped", 0)) == shipped_total
        and claim_of(before, needed) == claim_of(order, needed)
    )


def _row_writes(change: Reallocation, *, reference: str, actor: str) -> list[Write]:
    return row_writes(change, reason=_reason(change.movement), reference=reference, actor=actor)


_HISTORY_LIMIT = 50


def _history(
    history: list[dict[str, Any]], order: Order, actor: str, current: Item | None
) -> list[dict[str, Any]]:
    """The order's timeline of statuses: a new entry when the status changes (the last 50 kept)."""
    if current is not None and current.get("status") == order.status.value:
        return history
    entry = {"at": iso_z(utc_now()), "status": order.status.value, "by": actor}
    return [*history, entry][-_HISTORY_LIMIT:]


def _reason(movement: Any) -> str:
    if movement.on_hand:
        return "shipment"
    if movement.reserved > 0 or movement.backordered > 0:
        return "reservation"
    if movement.reserved < 0 or movement.backordered < 0:
        return "release"
    return "new-sku"
