"""Packing slips printed before any title was known (neither the order, the catalogue nor Amazon's getOrder
had one) are printed again when the batch is reprinted once the catalogue knows the titles: the same orders
and the units the slips listed, the buyer's address as kept for the slip (none once purged), now with the
titles. Batches whose slips had every title are served as printed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from oms.domain.orders import Order
from oms.domain.products import with_catalogue
from oms.domain.shipments import remaining_units
from oms.domain.types import utc_now
from oms.errors import Conflict
from oms.observability import logger
from oms.shipping.paperwork import PackingSlip, PrintSetup, packing_slips_pdf
from oms.store import conditional, keys
from oms.store.documents import DocumentStore, document_key
from oms.store.orders import order_from_item
from oms.store.products import ProductStore
from oms.store.table import Item, Table
from oms.warehouse.settings import ShippingSettingsStore

SLIPS_UNTITLED = "slipsUntitled"  # the SKUs the batch's slips printed without a title
SLIP_UNITS = "slipUnits"  # per order, the units of each order item the slips listed


def untitled_fields(orders: Sequence[Order]) -> dict[str, Any]:
    """What a batch keeps to print its slips again (nothing when every listed item has a title)."""
    listed = {o.order_id: {k: v for k, v in remaining_units(o).items() if v > 0} for o in orders}
    untitled = sorted(
        {i.sku for o in orders for i in o.items if not i.title and listed[o.order_id].get(i.order_item_id)}
    )
    return {SLIPS_UNTITLED: untitled, SLIP_UNITS: listed} if untitled else {}


def with_titled_slips(
    table: Table, documents: DocumentStore, item: Item, *, now: datetime | None = None
) -> Item:
    """The batch item, its slips printed again (and the item moved on) when titles it lacked are now in the
    catalogue; else as it is. A failure leaves the slips as printed: a reprint is never refused for this."""
    untitled = [str(sku) for sku in item.get(SLIPS_UNTITLED) or []]
    if not untitled:
        return item
    known = {sku for sku, p in ProductStore(table).many(untitled).items() if p.title}
    if not known:
        return item
    try:
        return _reprint(table, documents, item, [s for s in untitled if s not in known], now or utc_now())
    except Conflict:  # another reprint stored its PDF first: serve that one
        return table.get(keys.batch_key(str(item["batchId"]))) or item
    except Exception:
        logger.warning("packing slips not printed again", extra={"batchId": item.get("batchId")})
        return item


def _reprint(table: Table, documents: DocumentStore, item: Item, left: list[str], now: datetime) -> Item:
    from oms.shipping.batches import address_lines  # the slip's address lines, as first printed
    from oms.shipping.buyer_data import buyer_data_to_ship
    from oms.store.default import default_buyer_table

    batch_id, units = str(item["batchId"]), item.get(SLIP_UNITS) or {}
    order_ids = [str(o) for o in item.get("orderIds") or []]
    found = {i["orderId"]: order_from_item(i) for i in table.get_many([keys.order_key(o) for o in order_ids])}
    orders = [found[o] for o in order_ids if o in found]
    products = ProductStore(table).many({i.sku for o in orders for i in o.items})
    settings = ShippingSettingsStore(table).get()
    slips = []
    for order in orders:
        listed = {str(k): int(v) for k, v in (units.get(order.order_id) or {}).items()}
        items = [  # the units the slip listed: shipped since or not, the slip reads as printed
            i.model_copy(update={"quantity_shipped": i.quantity - listed.get(i.order_item_id, 0)})
            for i in with_catalogue(order.items, products)
        ]
        kept = buyer_data_to_ship(default_buyer_table(), None, order, retention_days=0, now=now)
        slips.append(
            PackingSlip(
                order=order.model_copy(update={"items": items}),
                ship_to=address_lines(kept),
                seller_name=settings.seller_name,
            )
        )
    setup = PrintSetup.for_warehouse(settings.warehouse.country, settings.warehouse.time_zone)
    old_key = str(item["packingSlipsKey"])
    new_key = document_key("batches", batch_id, f"packing-slips-{now:%Y%m%dT%H%M%S}.pdf", buyer_data=True)
    documents.put(new_key, packing_slips_pdf(slips, setup=setup), "application/pdf")
    table.transact([conditional.reprinted_slips(batch_id, old_key=old_key, new_key=new_key, untitled=left)])
    logger.info("packing slips printed again with titles", extra={"batchId": batch_id})
    after = {**item, "packingSlipsKey": new_key}
    if left:
        after[SLIPS_UNTITLED] = left
    else:
        after.pop(SLIPS_UNTITLED, None)
    return after
