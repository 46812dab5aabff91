"""Purchase orders: drafted per supplier, sent (a PDF), received in parts through the ledger, closed.

Every change of a PO is one transaction with what it moves: sending adds each line's units to the SKU's
units on order (a counter, `oms.store.conditional.add_on_order`); a receipt puts the units on hand
through the ledger (reason `receipt`, reference the PO id; open orders short of the SKU served in the
same transaction), takes them off order, and records each line's lead time on its first receipt in the
supplier's terms for the SKU; closing cancels what was not received and takes it off order. The receipt
id (the request's Idempotency-Key) is kept on the versioned PO, so a retried receipt applies once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oms.domain.stock import DEFAULT_LOCATION
from oms.domain.supply import (
    MAX_RECEIPT_LINES,
    NewPoLine,
    PoLine,
    PoReceipt,
    PoStatus,
    PurchaseOrder,
    ReceiptLine,
    check_new_lines,
    closed,
    money_amount,
    on_order_change,
    po_total,
    received,
    sent,
)
from oms.domain.types import Money, utc_now
from oms.errors import Busy, Conflict, InvalidInput, NotFound
from oms.inventory.allocation import MAX_WRITES, read_book
from oms.inventory.stock import finish_pending, stock_change_writes
from oms.planning.purchase_order_pdf import PurchaseOrderPaper, purchase_order_pdf
from oms.planning.suppliers import Suppliers, observed_lead_time_writes
from oms.shipping.paperwork import PrintSetup
from oms.store import conditional, keys
from oms.store.documents import DocumentStore, document_key
from oms.store.products import ProductStore
from oms.store.table import Item, Page, Table, Write, back_off
from oms.warehouse.settings import ShippingSettings

PO_ENTITY = "PurchaseOrder"
RECEIPT_REASON = "receipt"
_ATTEMPTS = 30


def po_id_for(idempotency_key: str | None) -> str:
    """A new PO's id; a retried request (same Idempotency-Key) names the same PO, so it makes one."""
    if idempotency_key:
        return "PO-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
    return "PO-" + uuid.uuid4().hex[:10].upper()


def _item(po: PurchaseOrder, *, pdf_key: str | None = None) -> Item:
    body = po.model_dump(mode="json", by_alias=True, exclude={"pdf_url"})
    return {
        **keys.purchase_order_key(po.po_id),
        **keys.purchase_order_index_keys(po.po_id, po.status.value, body["createdAt"], po.supplier_id),
        "entity": PO_ENTITY,
        **body,
        **({"pdfKey": pdf_key} if pdf_key else {}),
    }


def _po(item: Mapping[str, Any]) -> PurchaseOrder:
    fields = {f.alias for f in PurchaseOrder.model_fields.values() if f.alias}
    return PurchaseOrder.model_validate({k: v for k, v in item.items() if k in fields})


def _on_order_writes(before: PurchaseOrder | None, after: PurchaseOrder) -> list[Write]:
    return [conditional.add_on_order(sku, units) for sku, units in on_order_change(before, after).items()]


@dataclass(frozen=True)
class PurchaseOrders:
    table: Table
    documents: DocumentStore | None = None

    # --- reading ---------------------------------------------------------------------------------

    def _read(self, po_id: str) -> tuple[PurchaseOrder, Item]:
        item = self.table.get(keys.purchase_order_key(po_id), consistent=True)
        if item is None:
            raise NotFound(f"no purchase order {po_id}")
        return _po(item), item

    def _with_link(self, po: PurchaseOrder, item: Mapping[str, Any]) -> PurchaseOrder:
        if self.documents is None or not item.get("pdfKey"):
            return po
        url = self.documents.link(str(item["pdfKey"]), filename=f"purchase-order-{po.po_id}.pdf")
        return po.model_copy(update={"pdf_url": url})

    def get(self, po_id: str) -> PurchaseOrder:
        po, item = self._read(po_id)
        return self._with_link(po, item)

    def list(
        self, *, status: PoStatus | None, supplier_id: str | None, limit: int, next_token: str | None
    ) -> Page:
        """Newest first; `status` or `supplier_id` narrow it (both: by status, then the supplier's kept)."""
        query = keys.purchase_orders(status.value if status else None, supplier_id)
        page = self.table.query_page(query, limit=limit, next_token=next_token, scope=supplier_id or "")
        pos = [_po(i) for i in page.items]
        if status and supplier_id:
            pos = [po for po in pos if po.supplier_id == supplier_id]
        page.items = [po.model_dump(mode="json", by_alias=True, exclude={"receipts"}) for po in pos]
        return page

    # --- changing ----------------------------------------------------------------------------------

    def create(
        self, supplier_id: str, lines: Sequence[NewPoLine], *, po_id: str, note: str | None = None
    ) -> tuple[PurchaseOrder, bool]:
        """A draft (nothing on order yet). Each SKU needs the supplier's terms (its supplier SKU and, when
        the line gives none, its unit cost). (the PO, False): this id made it before (a retry)."""
        existing = self.table.get(keys.purchase_order_key(po_id), consistent=True)
        if existing is not None:
            return self._same_request(existing, supplier_id, lines), False
        suppliers = Suppliers(self.table)
        try:
            supplier = suppliers.item(supplier_id)
        except NotFound:
            raise InvalidInput.for_field("supplierId", f"no supplier {supplier_id}") from None
        check_new_lines(list(lines))
        currency = str(supplier["currencyCode"])
        po_lines = []
        for index, line in enumerate(lines):
            terms = suppliers.terms_item(supplier_id, line.sku)
            if terms is None:
                raise InvalidInput.for_field(
                    f"lines[{index}].sku",
                    f"{supplier['name']} has no terms for {line.sku}: set them with PUT "
                    f"/suppliers/{supplier_id}/skus/{line.sku}",
                )
            typed = terms["terms"].get("unitCost")
            cost = line.unit_cost or (Money.model_validate(typed) if typed else None)
            if cost is None:
                raise InvalidInput.for_field(
                    f"lines[{index}].unitCost", f"needed: the terms for {line.sku} give no unit cost"
                )
            money_amount(cost, f"lines[{index}].unitCost")
            if cost.currency_code != currency:  # given so, or the terms' from before a currency change
                raise InvalidInput.for_field(
                    f"lines[{index}].unitCost.currencyCode",
                    f"{supplier['name']} invoices in {currency}"
                    + ("" if line.unit_cost else f"; the terms for {line.sku} say {cost.currency_code}"),
                )
            po_lines.append(
                PoLine(
                    sku=line.sku,
                    supplier_sku=terms["terms"].get("supplierSku"),
                    quantity=line.quantity,
                    unit_cost=cost,
                )
            )
        po = PurchaseOrder(
            po_id=po_id,
            supplier_id=supplier_id,
            supplier_name=str(supplier["name"]),
            status=PoStatus.DRAFT,
            currency_code=currency,
            lines=po_lines,
            total=po_total(po_lines, currency),
            created_at=utc_now(),
            note=note,
        )
        try:
            self.table.transact([Write.put_versioned(_item(po), None)])
        except Conflict:  # the same id made concurrently: that one stands
            _, item = self._read(po_id)
            return self._same_request(item, supplier_id, lines), False
        return po, True

    def _same_request(self, item: Item, supplier_id: str, lines: Sequence[NewPoLine]) -> PurchaseOrder:
        """The PO a retried request made; the same Idempotency-Key with another supplier or lines: 409."""
        po = _po(item)
        asked = [(line.sku, line.quantity) for line in lines]
        costs = [line.unit_cost for line in lines]
        made = [(line.sku, line.quantity) for line in po.lines]
        if (
            po.supplier_id != supplier_id
            or made != asked
            or any(
                cost is not None and cost != line.unit_cost
                for cost, line in zip(costs, po.lines, strict=True)
            )
        ):
            raise Conflict("this Idempotency-Key was used for a different purchase order")
        return self._with_link(po, item)

    def send(self, po_id: str, settings: ShippingSettings) -> tuple[PurchaseOrder, bool]:
        """Sent: its PDF stored, its units on order, in one transaction with the status. Sending a PO sent
        before changes nothing and answers it (False)."""
        if self.documents is None:
            raise RuntimeError("sending a purchase order needs the documents bucket")
        for attempt in range(_ATTEMPTS):
            po, item = self._read(po_id)
            if po.status is not PoStatus.DRAFT and po.sent_at is not None:
                return self._with_link(po, item), False
            suppliers = Suppliers(self.table)
            after = sent(po, utc_now(), suppliers.lead_times(po.supplier_id, [line.sku for line in po.lines]))
            supplier = suppliers.item(po.supplier_id)
            pdf_key = document_key("purchase-orders", f"{po_id}.pdf")
            self.documents.put(
                pdf_key,
                purchase_order_pdf(_paper(after, supplier, settings, _titles(self.table, after))),
                "application/pdf",
            )
            writes = [Write.put_versioned(_item(after, pdf_key=pdf_key), int(item["version"]))]
            try:
                self.table.transact([*writes, *_on_order_writes(po, after)])
            except Conflict:
                back_off(attempt)
                continue
            return self._with_link(after, {"pdfKey": pdf_key}), True
        raise Busy(f"purchase order {po_id} is changing too fast; try again")

    def close(self, po_id: str, *, actor: str) -> tuple[PurchaseOrder, bool]:
        """Closed: units not received are cancelled and no longer on order. Closed before: as it is."""
        for attempt in range(_ATTEMPTS):
            po, item = self._read(po_id)
            if po.status is PoStatus.CLOSED:
                return self._with_link(po, item), False
            after = closed(po, utc_now())
            writes = [Write.put_versioned(_item(after, pdf_key=item.get("pdfKey")), int(item["version"]))]
            try:
                self.table.transact([*writes, *_on_order_writes(po, after)])
            except Conflict:
                back_off(attempt)
                continue
            return self._with_link(after, item), True
        raise Busy(f"purchase order {po_id} is changing too fast; try again")

    def receive(
        self, po_id: str, lines: Sequence[ReceiptLine], *, actor: str, receipt_id: str | None = None
    ) -> tuple[PurchaseOrder, bool]:
        """Apply a receipt once: (the PO, True) when applied now; (the PO, False) when this receipt id was
        applied before with the same lines (a retry), nothing written again. More units than are open, a
        SKU not on the PO, a PO not sent: 409 naming the line, nothing written."""
        if len(lines) > MAX_RECEIPT_LINES:
            raise InvalidInput.for_field("lines", f"at most {MAX_RECEIPT_LINES} lines in one receipt")
        asked = [line.model_copy(update={"location": line.location or DEFAULT_LOCATION}) for line in lines]
        receipt_id = receipt_id or uuid.uuid4().hex[:16]
        for attempt in range(_ATTEMPTS):
            po, item = self._read(po_id)
            done = po.receipt(receipt_id)
            if done is not None:
                if done.lines != asked:
                    raise Conflict("this Idempotency-Key was used for a different receipt")
                return self._with_link(po, item), False
            receipt = PoReceipt(receipt_id=receipt_id, at=utc_now(), actor=actor, lines=asked)
            after, lead_times = received(po, receipt)
            writes = [
                Write.put_versioned(_item(after, pdf_key=item.get("pdfKey")), int(item["version"])),
                *_on_order_writes(po, after),
                *observed_lead_time_writes(self.table, po.supplier_id, lead_times),
            ]
            writes += _stock_writes(self.table, asked, po_id, actor, room=MAX_WRITES - len(writes))
            try:
                self.table.transact(writes)
            except Conflict:  # the PO, a stock row or the terms changed since they were read: read again
                back_off(attempt)
                continue
            finish_pending(self.table, writes, actor=actor)
            return self._with_link(after, item), True
        raise Busy(f"purchase order {po_id} is changing too fast; try again")


def _stock_writes(
    table: Table, lines: Sequence[ReceiptLine], po_id: str, actor: str, *, room: int
) -> list[Write]:
    """Each SKU and location's units on hand: its row, a ledger entry (reason receipt, reference the PO)
    and the open orders short of it served."""
    units: dict[tuple[str, str], int] = {}
    for line in lines:
        key = (line.sku, line.location or DEFAULT_LOCATION)
        units[key] = units.get(key, 0) + line.quantity
    writes: list[Write] = []
    share = room // max(len(units), 1)
    for (sku, location), count in units.items():
        book = read_book(table, sku, location)
        if book.row is None and location != DEFAULT_LOCATION:
            index = next(i for i, line in enumerate(lines) if (line.sku, line.location) == (sku, location))
            raise InvalidInput.for_field(
                f"lines[{index}].location",
                f"SKU {sku} has no stock row at {location}: create it with "
                f"PUT /inventory/{sku}?location={location}, or leave location out",
            )
        change, _ = stock_change_writes(
            table,
            book,
            book.level.on_hand + count,
            reason=RECEIPT_REASON,
            reference=po_id,
            actor=actor,
            note=f"{count} unit(s) received on purchase order {po_id}",
            room=share,
        )
        writes += change
    return writes


def _titles(table: Table, po: PurchaseOrder) -> dict[str, str]:
    """The catalogue's title of each SKU on the PO (the seller's own title wins), so the supplier reads what
    the product is, not only the seller's code."""
    products = ProductStore(table).many(line.sku for line in po.lines)
    return {sku: product.title for sku, product in products.items() if product.title}


def _paper(
    po: PurchaseOrder, supplier: Mapping[str, Any], settings: ShippingSettings, titles: Mapping[str, str]
) -> PurchaseOrderPaper:
    warehouse = settings.warehouse
    address = warehouse.address
    ship_to = [settings.seller_name, warehouse.name]
    if address is not None:
        city = " ".join(p for p in (address.city, address.state_or_province_code, address.postal_code) if p)
        ship_to += [address.address_line1, *([address.address_line2] if address.address_line2 else [])]
        ship_to += [city, address.country_code, f"{address.phone} · {address.email}"]
    return PurchaseOrderPaper(
        po=po,
        buyer_name=settings.seller_name,
        supplier_lines=[
            str(supplier["name"]),
            *[str(line) for line in supplier.get("address") or []],
            *[str(supplier[k]) for k in ("email", "phone") if supplier.get(k)],
        ],
        ship_to=ship_to,
        setup=PrintSetup.for_warehouse(warehouse.country, warehouse.time_zone),
        titles=titles,
    )


def sent_at_text(po: PurchaseOrder, settings: ShippingSettings) -> str | None:
    """When it was sent, in the warehouse's zone (for people)."""
    if po.sent_at is None:
        return None
    return PrintSetup(time_zone=settings.warehouse.time_zone).when(po.sent_at)
