"""Pick batches: orders grouped for one walk through the warehouse, with a pick list and packing slips.

The pick list aggregates the batch's units by SKU and location in walking order (oms.domain.picking);
packing slips are one page per order. Both are PDFs in the documents bucket, handed out as presigned
links (fresh ones on every read). Slips carry buyer addresses, so they live under buyer/ (30-day expiry).

One order, one pick: each order remembers the batch it is in (`ORDER#id / PICKBATCH`, written in the batch's
own transaction), and an order already in a batch is not batched again without `force` (409 naming the
batch). Only orders awaiting shipment are batched, so the batch an order awaiting shipment is in is open
(some of its orders are neither shipped nor canceled); once the order ships or is canceled it cannot be
batched at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from oms.amazon.client import SpApiClient
from oms.domain.orders import Order
from oms.domain.picking import pick_lines
from oms.domain.products import skus_of, with_catalogue
from oms.domain.shipments import remaining_units
from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.errors import Conflict, FieldProblem, InvalidInput, NotFound
from oms.observability import logger
from oms.shipping.buyer_data import BuyerData, buyer_data_to_ship
from oms.shipping.paperwork import PackingSlip, PrintSetup, packing_slips_pdf, pick_list_pdf
from oms.shipping.slip_reprint import untitled_fields, with_titled_slips
from oms.shipping.slip_titles import with_order_titles
from oms.store import keys
from oms.store.default import default_buyer_table
from oms.store.documents import DocumentStore, document_key
from oms.store.orders import order_from_item
from oms.store.products import ProductStore
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import ShippingSettingsStore
from oms.warehouse.ship_by import awaiting_shipment

# A pick cart's worth; also what one API call can fetch buyer addresses for within Amazon's getOrder
# budget (burst 30, then one every 2 s) and API Gateway's 29 s.
MAX_ORDERS = 25


class PickListLine(ApiModel):
    location: str | None = None  # None: no location holds the units (not on hand)
    sku: str
    title: str | None = None
    units: int
    order_ids: list[str]


class Batch(ApiModel):
    batch_id: str
    created_at: UtcDateTime
    order_ids: list[str]
    lines: list[PickListLine]
    pick_list_url: str | None = None
    packing_slips_url: str | None = None
    moved_from: dict[str, str] | None = None  # with force: the batch each moved order was in before


class BatchRef(ApiModel):
    """The pick batch an order is in, as the queue and the order page show it."""

    batch_id: str
    created_at: UtcDateTime


def batches_of(table: Table, order_ids: list[str]) -> dict[str, BatchRef]:
    """The batch each of these orders is in (orders in none are left out)."""
    return {
        order_id: BatchRef(batch_id=item["batchId"], created_at=item["createdAt"])
        for order_id, item in _memberships(table, order_ids).items()
    }


def _memberships(table: Table, order_ids: list[str]) -> dict[str, Item]:
    found: dict[str, Item] = {}
    for start in range(0, len(order_ids), 100):
        for item in table.get_many([keys.pick_batch_key(o) for o in order_ids[start : start + 100]]):
            found[item["orderId"]] = item
    return found


def _already_batched(found: dict[str, BatchRef]) -> Conflict:
    named = ", ".join(f"{o} is in batch {b.batch_id}" for o, b in found.items())
    return Conflict(
        f"already in a pick batch: {named}; pass force: true to batch again (one order, one pick)",
        [FieldProblem("orderIds", f"{o} is in batch {b.batch_id}") for o, b in found.items()],
    )


def orders_in_pick_group(table: Table, group: str, now: datetime) -> list[str]:
    """The seller-fulfilled orders awaiting shipment that a rule added to `group`, soonest ship date first,
    leaving out those on hold and those already in a batch; 404 when none is left to pick."""
    found: list[str] = []
    for status in ("Unshipped", "PartiallyShipped"):
        for item in table.query_all(keys.orders_by_status(status, "MFN", None)):
            handling = item.get("handling") or {}
            if handling.get("pickGroup") != group:
                continue
            hold = handling.get("holdUntil")
            if hold and datetime.fromisoformat(str(hold).replace("Z", "+00:00")) > now:
                continue
            found.append(item["orderId"])
    batched = _memberships(table, found) if found else {}
    waiting = [o for o in found if o not in batched][:MAX_ORDERS]
    if not waiting:
        raise NotFound(f"no order in pick group '{group}' is waiting to be picked")
    return waiting


def create_batch(
    table: Table,
    documents: DocumentStore,
    order_ids: list[str],
    *,
    client: SpApiClient | None = None,
    force: bool = False,
    retention_days: int,
    now: datetime | None = None,
) -> Batch:
    """A batch of orders awaiting shipment, with its PDFs; 409 naming the batch of an order already in one
    (unless `force`: the order moves to the new batch)."""
    now = now or utc_now()
    wanted = list(dict.fromkeys(order_ids))  # each order once, in the seller's order
    if not wanted:
        raise InvalidInput.for_field("orderIds", "name at least one order")
    if len(wanted) > MAX_ORDERS:
        raise InvalidInput.for_field(
            "orderIds", f"at most {MAX_ORDERS} orders per batch (a pick cart's worth); make several batches"
        )
    found = {item["orderId"]: item for item in table.get_many([keys.order_key(o) for o in wanted])}
    missing = [o for o in wanted if o not in found]
    if missing:
        raise NotFound(f"unknown order(s): {', '.join(missing)}")
    orders = [order_from_item(found[o]) for o in wanted]
    products = ProductStore(table).many(skus_of(orders))  # titles the orders lack yet (before the backstop)
    orders = [o.model_copy(update={"items": with_catalogue(o.items, products)}) for o in orders]
    not_ready = [
        o.order_id for o in orders if not awaiting_shipment(o) or not any(remaining_units(o).values())
    ]
    if not_ready:
        raise Conflict(
            f"not awaiting shipment by the seller (MFN, Unshipped or PartiallyShipped): {', '.join(not_ready)}"
        )
    seen = _memberships(table, wanted)
    earlier = {o: BatchRef(batch_id=m["batchId"], created_at=m["createdAt"]) for o, m in seen.items()}
    if earlier and not force:
        raise _already_batched(earlier)
    orders = with_order_titles(
        client, orders
    )  # printed before the backstop and the catalogue: Amazon's titles
    skus = sorted({i.sku for o in orders for i in o.items})
    stock: dict[str, dict[str, int]] = {}
    for sku in skus:
        for row in table.query_all(keys.stock_rows_of(sku)):
            stock.setdefault(sku, {})[row.get("location", keys.DEFAULT_LOCATION)] = int(row.get("onHand", 0))
    lines = pick_lines(orders, stock)
    batch_id = f"{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    settings = ShippingSettingsStore(table).get()
    slips = [
        PackingSlip(
            order=o,
            ship_to=address_lines(_buyer(table, client, o, now, retention_days)),
            seller_name=settings.seller_name,
        )
        for o in orders
    ]
    pick_key = document_key("batches", batch_id, "pick-list.pdf")
    slips_key = document_key("batches", batch_id, "packing-slips.pdf", buyer_data=True)
    setup = PrintSetup.for_warehouse(settings.warehouse.country, settings.warehouse.time_zone)
    documents.put(pick_key, pick_list_pdf(batch_id, now, lines, len(orders), setup=setup), "application/pdf")
    documents.put(slips_key, packing_slips_pdf(slips, setup=setup), "application/pdf")
    batch = Batch(
        batch_id=batch_id,
        created_at=now,
        order_ids=wanted,
        lines=[
            PickListLine(
                location=p.location, sku=p.sku, title=p.title, units=p.units, order_ids=list(p.order_ids)
            )
            for p in lines
        ],
        moved_from={o: b.batch_id for o, b in earlier.items()} or None,
    )
    writes = [
        Write.put_new(
            {
                **keys.batch_key(batch_id),
                **keys.batch_index_keys(now, batch_id),
                "entity": "Batch",
                "pickListKey": pick_key,
                "packingSlipsKey": slips_key,
                **untitled_fields(orders),  # to print the slips again once the titles are known
                **batch.model_dump(mode="json", by_alias=True, exclude_none=True),
            }
        )
    ]
    for order_id in wanted:  # the batch and every order's membership together, or nothing
        membership = {
            **keys.pick_batch_key(order_id),
            "entity": "PickBatchMembership",
            "orderId": order_id,
            "batchId": batch_id,
            "createdAt": iso_z(now),
        }
        # forced: replace the membership seen, and only that one (a batch made meanwhile still wins)
        version = int(seen[order_id].get("version", 0)) if order_id in seen else None
        writes.append(Write.put_versioned(membership, version))
    try:
        table.transact(writes)
    except Conflict:  # another batch took one of these orders meanwhile
        raise _already_batched(batches_of(table, wanted)) from None
    return with_links(batch, documents, pick_key, slips_key)


def _buyer(
    table: Table, client: SpApiClient | None, order: Order, now: datetime, retention_days: int
) -> BuyerData | None:
    """The ship-to for a slip; a slip without it still prints (the label carries the address)."""
    try:
        return buyer_data_to_ship(
            default_buyer_table(), client, order, retention_days=retention_days, now=now
        )
    except Exception:
        logger.warning("no buyer address for the packing slip", extra={"orderId": order.order_id})
        return None


def address_lines(buyer: BuyerData | None) -> list[str] | None:
    if not buyer or not buyer.address:
        return None
    a = buyer.address
    lines = [
        buyer.name,
        a.get("addressLine1"),
        a.get("addressLine2"),
        a.get("addressLine3"),
        " ".join(p for p in (a.get("city"), a.get("stateOrRegion"), a.get("postalCode")) if p),
        a.get("countryCode"),
    ]
    return [str(line) for line in lines if line]


def with_links(batch: Batch, documents: DocumentStore, pick_key: str, slips_key: str) -> Batch:
    return batch.model_copy(
        update={
            "pick_list_url": documents.link(pick_key, filename=f"pick-list-{batch.batch_id}.pdf"),
            "packing_slips_url": documents.link(slips_key, filename=f"packing-slips-{batch.batch_id}.pdf"),
        }
    )


def get_batch(table: Table, documents: DocumentStore, batch_id: str) -> Batch:
    item = table.get(keys.batch_key(batch_id))
    if item is None:
        raise NotFound(f"batch {batch_id} is not known here")
    item = with_titled_slips(table, documents, item)  # printed before the titles were known: again, titled
    return with_links(_batch_of(item), documents, item["pickListKey"], item["packingSlipsKey"])


_FIELDS = {field.alias for field in Batch.model_fields.values()}


def _batch_of(item: dict[str, Any]) -> Batch:
    return Batch.model_validate({k: v for k, v in item.items() if k in _FIELDS})


def list_batches(
    table: Table, documents: DocumentStore, *, limit: int, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, without pick-list lines, with fresh links to reprint each batch's PDFs."""
    page = table.query_page(keys.batches_newest_first(), limit=limit, next_token=next_token)
    items = [
        with_links(_batch_of(i), documents, i["pickListKey"], i["packingSlipsKey"]).model_dump(
            mode="json", by_alias=True, exclude={"lines"}
        )
        for i in (with_titled_slips(table, documents, i) for i in page.items)
    ]
    return items, page.next_token
