"""Purchasing routes: suppliers with their terms per SKU, and purchase orders (draft, send, receive, close)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.api.callers import actor, scoped_key
from oms.api.paging import ListPage
from oms.domain.supply import (
    MAX_PO_LINES,
    MAX_RECEIPT_LINES,
    NewPoLine,
    PoStatus,
    PurchaseOrder,
    ReceiptLine,
    SupplierRequest,
    TermsRequest,
)
from oms.domain.types import ApiModel
from oms.planning.purchase_orders import PurchaseOrders, po_id_for
from oms.planning.suppliers import SkuTerms, Supplier, Suppliers, supplier_id_for
from oms.settings import get_settings
from oms.store.default import default_table
from oms.store.documents import default_documents
from oms.warehouse.settings import ShippingSettingsStore

router = APIGatewayRouter()
SupplierId = Annotated[str, Path(min_length=1, max_length=64)]
PoId = Annotated[str, Path(min_length=1, max_length=64)]
Sku = Annotated[str, Path(min_length=1, max_length=200, description="the seller SKU, percent-encoded")]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="a retry with it applies once"),
]


class NewPurchaseOrder(ApiModel):
    supplier_id: str = Field(min_length=1, max_length=64)
    lines: list[NewPoLine] = Field(min_length=1, max_length=MAX_PO_LINES)
    note: str | None = Field(default=None, max_length=1000, description="printed on the PDF")


class PoReceiptRequest(ApiModel):
    lines: list[ReceiptLine] = Field(min_length=1, max_length=MAX_RECEIPT_LINES)


def _pos() -> PurchaseOrders:
    return PurchaseOrders(default_table(), default_documents())


# --- suppliers --------------------------------------------------------------------------------------


@router.post(
    "/suppliers",
    summary="Add a supplier",
    tags=["purchasing"],
    responses={
        201: {"description": "added"},
        200: {"description": "a retry with the same Idempotency-Key: the supplier it added"},
    },
)
def post_supplier(
    request: Annotated[SupplierRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[Supplier, int]:
    supplier_id = supplier_id_for(scoped_key(router, idempotency_key, "POST /suppliers"))
    supplier, new = Suppliers(default_table()).create(request, supplier_id=supplier_id)
    return supplier, 201 if new else 200


@router.get("/suppliers", summary="List suppliers, oldest first", tags=["purchasing"])
def list_suppliers(
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = Suppliers(default_table()).list(
        limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=page.items, next_token=page.next_token)


@router.get("/suppliers/<supplierId>", summary="One supplier with its terms per SKU", tags=["purchasing"])
def get_supplier(supplierId: SupplierId) -> Supplier:
    return Suppliers(default_table()).get(unquote(supplierId))


@router.put("/suppliers/<supplierId>", summary="Replace a supplier's details", tags=["purchasing"])
def put_supplier(supplierId: SupplierId, request: Annotated[SupplierRequest, Body()]) -> Supplier:
    return Suppliers(default_table()).replace(unquote(supplierId), request)


@router.put(
    "/suppliers/<supplierId>/skus/<sku>",
    summary="Set a supplier's terms for a SKU (lead time per leg, MOQ, case pack, cost)",
    tags=["purchasing"],
    responses={200: {"description": "the terms, what was observed and the lead time the reorder rules use"}},
)
def put_terms(
    supplierId: SupplierId,
    sku: Sku,
    request: Annotated[TermsRequest, Body()],
) -> SkuTerms:
    return Suppliers(default_table()).put_terms(unquote(supplierId), unquote(sku), request)


# --- purchase orders -------------------------------------------------------------------------------


@router.post(
    "/purchase-orders",
    summary="Draft a purchase order to a supplier",
    tags=["purchasing"],
    responses={
        201: {"description": "drafted (nothing on order until it is sent)"},
        200: {"description": "a retry with the same Idempotency-Key: the purchase order it drafted"},
    },
)
def post_purchase_order(
    request: Annotated[NewPurchaseOrder, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[PurchaseOrder, int]:
    po_id = po_id_for(scoped_key(router, idempotency_key, "POST /purchase-orders"))
    po, new = _pos().create(request.supplier_id, request.lines, po_id=po_id, note=request.note)
    return po, 201 if new else 200


@router.get("/purchase-orders", summary="List purchase orders, newest first", tags=["purchasing"])
def list_purchase_orders(
    status: Annotated[PoStatus | None, Query(description="only purchase orders in this state")] = None,
    supplier_id: Annotated[
        str | None, Query(alias="supplierId", min_length=1, max_length=64, description="only this supplier's")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = _pos().list(
        status=status,
        supplier_id=supplier_id,
        limit=limit or get_settings().default_page_size,
        next_token=next_token,
    )
    return ListPage(items=page.items, next_token=page.next_token)


@router.get("/purchase-orders/<poId>", summary="One purchase order with its receipts", tags=["purchasing"])
def get_purchase_order(poId: PoId) -> PurchaseOrder:
    return _pos().get(unquote(poId))


@router.post(
    "/purchase-orders/<poId>/send",
    summary="Send a draft purchase order: its PDF, its units on order",
    tags=["purchasing"],
    responses={
        200: {"description": "sent (sent before: as it is, never twice), with pdfUrl"},
        409: {"description": "the purchase order kept changing while it was being sent; try again"},
    },
)
def post_send(poId: PoId) -> PurchaseOrder:
    table = default_table()
    po, _ = PurchaseOrders(table, default_documents()).send(unquote(poId), ShippingSettingsStore(table).get())
    return po


@router.post(
    "/purchase-orders/<poId>/receipts",
    summary="Receive units of a sent purchase order, in parts",
    tags=["purchasing"],
    responses={
        201: {"description": "received: units on hand through the ledger (reason receipt), off order"},
        200: {"description": "a retry with the same Idempotency-Key: applied once already"},
        409: {"description": "more units than are open, a SKU not on the PO, or a PO not sent"},
    },
)
def post_po_receipt(
    poId: PoId,
    request: Annotated[PoReceiptRequest, Body()],
    idempotency_key: IdempotencyKey = None,
) -> tuple[PurchaseOrder, int]:
    po, new = _pos().receive(
        unquote(poId),
        request.lines,
        actor=actor(router),
        receipt_id=scoped_key(router, idempotency_key, "POST /purchase-orders/{poId}/receipts"),
    )
    return po, 201 if new else 200


@router.post(
    "/purchase-orders/<poId>/close",
    summary="Close a purchase order: units not received are cancelled",
    tags=["purchasing"],
    responses={
        200: {"description": "closed (closed before: as it is)"},
        409: {"description": "received whole already"},
    },
)
def post_close(poId: PoId) -> PurchaseOrder:
    po, _ = _pos().close(unquote(poId), actor=actor(router))
    return po
