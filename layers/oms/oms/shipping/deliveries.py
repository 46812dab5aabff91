"""Delivery scans: what carriers report about a package after it left (a tracking integration sends them).

A scan is added to every shipment carrying its tracking number (a shared box: each order's), once: the same
status at the same instant is the same scan. A `delivered` scan sets the shipment's `deliveredAt` (the
earliest such scan wins), which account health then counts instead of the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from oms.domain.carriers import OTHER, carrier, normalise_tracking
from oms.domain.orders import DeliveryScan, Order, ScanStatus, Shipment
from oms.domain.types import iso_z
from oms.errors import NotFound
from oms.inventory.allocation import MAX_WRITES
from oms.inventory.holdings import order_writes
from oms.shipping.shipments import _tracking_carrier
from oms.store import conditional, keys
from oms.store.orders import order_from_item
from oms.store.table import Table, Write


@dataclass(frozen=True)
class ScanWrites:
    writes: list[Write]
    orders: list[str]  # the orders whose shipments gain the scan
    new: bool  # False: every shipment had the scan already


def package_owner(carrier_text: str, tracking_number: str) -> tuple[str, str]:
    """(the tracking marker's carrier part, the normalised number) for a carrier's code or name."""
    found = carrier(carrier_text)
    code, name = (found.code, found.name) if found else (OTHER, carrier_text)
    if found and found.code == OTHER:
        name = carrier_text
    return _tracking_carrier(code, name), normalise_tracking(tracking_number)


def _with_scan(shipment: Shipment, scan: DeliveryScan) -> Shipment | None:
    """The shipment with the scan added in time order (None: it has it already)."""
    if any(
        s.status == scan.status and iso_z(s.at) == iso_z(scan.at) for s in shipment.scans
    ):  # to the second
        return None
    scans = sorted([*shipment.scans, scan], key=lambda s: s.at)
    delivered = [s.at for s in scans if s.status == ScanStatus.DELIVERED]
    return shipment.model_copy(update={"scans": scans, "delivered_at": min(delivered, default=None)})


def scan_writes(
    table: Table, carrier_text: str, tracking_number: str, scan: DeliveryScan, *, actor: str
) -> ScanWrites:
    """The writes that add `scan` to the shipments with this carrier and tracking number, for one
    transaction with whatever the caller adds; 404 when no shipment here carries the number."""
    owner, number = package_owner(carrier_text, tracking_number)
    marker = table.get(keys.tracking_key(owner, number), consistent=True)
    if marker is None:
        raise NotFound(f"no shipment here carries {carrier_text} tracking number {number}")
    writes: list[Write] = []
    orders: list[str] = []
    for order_id in sorted(marker.get("orderIds") or []):
        current = table.get(keys.order_key(order_id), consistent=True)
        if current is None:
            continue
        order = order_from_item(current)
        changed = _scanned(order, number, scan)
        if changed is None:
            continue
        updated, touched = changed
        writes += order_writes(table, updated, current, actor=actor, room=MAX_WRITES - 10)
        for shipment in touched:
            writes.append(
                conditional.shipment_scans(
                    order_id,
                    shipment.shipment_id,
                    [s.model_dump(mode="json", by_alias=True) for s in shipment.scans],
                    shipment.model_dump(mode="json", by_alias=True)["deliveredAt"],
                )
            )
        orders.append(order_id)
    return ScanWrites(writes, orders, bool(orders))


def _scanned(order: Order, number: str, scan: DeliveryScan) -> tuple[Order, list[Shipment]] | None:
    shipments, touched = [], []
    for shipment in order.shipments:
        updated = _with_scan(shipment, scan) if shipment.tracking_number == number else None
        shipments.append(updated or shipment)
        if updated is not None:
            touched.append(updated)
    if not touched:
        return None
    return order.model_copy(update={"shipments": shipments}), touched
