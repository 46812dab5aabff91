"""How an order is shown: with its ship-by time and cutoff in the warehouse's zone, links to its labels,
and its timeline (statuses, stock movements, shipments and their confirmations, messages to the buyer)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from oms.domain.orders import Order, ScanStatus, Shipment
from oms.domain.products import Product, with_catalogue
from oms.domain.types import iso_z
from oms.shipping.batches import BatchRef
from oms.store import keys
from oms.store.documents import default_documents
from oms.store.orders import order_from_item
from oms.store.table import Table
from oms.warehouse.settings import ShippingSettings
from oms.warehouse.ship_by import Cutoff, LocalTime, ship_by

_CLOCK_MARGIN = timedelta(minutes=10)


class ShipmentView(Shipment):
    label_url: str | None = None  # a presigned link to the bought label (minutes: it holds buyer data)


class OrderView(Order):
    shipments: list[ShipmentView]  # type: ignore[assignment]
    must_ship_by: LocalTime | None = None
    cutoff: Cutoff | None = None
    batch: BatchRef | None = None  # the pick batch it is in
    on_hold: bool = False  # an order rule holds it until handling.holdUntil, which is still to come


def order_view(
    order: Order,
    settings: ShippingSettings,
    now: datetime,
    *,
    links: bool,
    products: Mapping[str, Product] | None = None,
    batch: BatchRef | None = None,
) -> OrderView:
    must, cutoff = ship_by(order, settings, now)
    if products:
        order = order.model_copy(update={"items": with_catalogue(order.items, products)})
    shipments = []
    for shipment in order.shipments:
        url = None
        if links and shipment.label_key:
            with contextlib.suppress(Exception):  # no bucket configured: the order still shows
                url = default_documents().link(
                    shipment.label_key, filename=f"label-{order.order_id}-{shipment.shipment_id}.pdf"
                )
        shipments.append(ShipmentView(**shipment.model_dump(), label_url=url))
    return OrderView(
        **{**order.model_dump(), "shipments": shipments},
        must_ship_by=must,
        cutoff=cutoff,
        batch=batch,
        on_hold=bool(order.handling and order.handling.hold_until and order.handling.hold_until > now),
    )


_SCAN_WORDS = {
    ScanStatus.IN_TRANSIT: "in transit",
    ScanStatus.OUT_FOR_DELIVERY: "out for delivery",
    ScanStatus.DELIVERED: "delivered",
    ScanStatus.EXCEPTION: "held up by the carrier",
}


def timeline(table: Table, order_id: str) -> list[dict[str, Any]]:
    """Oldest first: the order's statuses, its SKUs' stock movements for it, shipments, confirmations, notices."""
    from oms.errors import NotFound

    under = {item["sk"]: item for item in table.query_all(keys.order_partition(order_id))}
    current = under.get(keys.ORDER_SK)
    if current is None:
        raise NotFound(f"order {order_id} is not known here")
    order = order_from_item(current)
    entries: list[dict[str, Any]] = []
    for change in current.get("history") or []:
        entries.append(
            {
                "at": change["at"],
                "kind": "status",
                "text": f"{change['status']} ({change.get('by', '')})",
                "details": change,
            }
        )
    for shipment in order.shipments:
        units = sum(i.quantity for i in shipment.items)
        entries.append(
            {
                "at": iso_z(shipment.created_at),
                "kind": "shipment",
                "text": f"{units} unit(s) shipped with {shipment.carrier_name}, tracking {shipment.tracking_number}",
                "details": shipment.model_dump(mode="json", by_alias=True, exclude={"label_key"}),
            }
        )
        for scan in shipment.scans:  # a tracking integration's carrier scans
            where = ", ".join(part for part in (scan.location, scan.description) if part)
            entries.append(
                {
                    "at": iso_z(scan.at),
                    "kind": "delivery",
                    "text": f"package {shipment.shipment_id} {_SCAN_WORDS[scan.status]} ({shipment.carrier_name}"
                    + (f": {where})" if where else ")"),
                    "details": scan.model_dump(mode="json", by_alias=True),
                }
            )
        c = shipment.confirmation
        if c.confirmed_at:
            entries.append(
                {
                    "at": iso_z(c.confirmed_at),
                    "kind": "confirmation",
                    "text": f"package {shipment.shipment_id} confirmed to Amazon",
                    "details": {"attempts": c.attempts},
                }
            )
        elif c.last_error:
            entries.append(
                {
                    "at": iso_z(c.next_attempt_at or shipment.created_at),
                    "kind": "confirmation",
                    "text": f"confirmation {c.status.value} after {c.attempts} attempt(s): {c.last_error}",
                    "details": {"status": c.status.value},
                }
            )
    notice = under.get("DELAYNOTICE")
    if notice and notice.get("sentAt"):
        entries.append(
            {
                "at": notice["sentAt"],
                "kind": "message",
                "text": "delay notice sent to the buyer"
                + (f" by {notice['by']}" if notice.get("by") else ""),
                "details": {"text": notice.get("text")},
            }
        )
    for sk, update in under.items():
        if sk.startswith("UPDATE#") and update.get("sentAt"):
            words = {"confirmDeliveryDetails": "delivery details", "confirmOrderDetails": "order details"}
            entries.append(
                {
                    "at": update["sentAt"],
                    "kind": "message",
                    "text": f"asked the buyer to confirm {words.get(str(update.get('kind')), 'details')} through Amazon",
                    "details": {
                        "text": update.get("text"),
                        "kind": update.get("kind"),
                        "by": update.get("by"),
                    },
                }
            )
    for sk, entry in under.items():
        if sk.startswith("RULELOG#"):
            entries.append(
                {
                    "at": entry["at"],
                    "kind": "rule",
                    "text": entry.get("text", ""),
                    "details": {k: entry.get(k) for k in ("ruleId", "ruleName", "action", "trigger")},
                }
            )
    skus = {item.sku for item in order.items}
    since = (order.purchase_date - _CLOCK_MARGIN).isoformat()  # Amazon's clock and ours may disagree a little
    for sku in sorted(skus):
        for entry in table.query_all(keys.ledger_since(sku, since)):
            if entry.get("reference") != order_id:
                continue
            entries.append(
                {
                    "at": entry["at"],
                    "kind": "stock",
                    "text": f"{sku}: {entry.get('reason')} (on hand {int(entry.get('delta', 0)):+d}, "
                    f"reserved {int(entry.get('reservedDelta', 0)):+d}, backordered {int(entry.get('backorderedDelta', 0)):+d})",
                    "details": {
                        k: entry.get(k)
                        for k in ("sku", "location", "delta", "reservedDelta", "backorderedDelta", "reason")
                    },
                }
            )
    return sorted(entries, key=lambda e: e["at"])
