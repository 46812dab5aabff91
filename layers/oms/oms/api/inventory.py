"""Inventory routes: stock rows, policies, adjustments (idempotent) and the ledger."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, StrictInt, field_validator

from oms.api.callers import actor
from oms.api.idempotency import run_once
from oms.api.paging import ListPage
from oms.domain.types import ApiModel
from oms.inventory.stock import StockPolicy, StockRepository, StockRow, adjust_stock, set_policy
from oms.planning.suppliers import units_on_order, units_on_order_of
from oms.settings import get_settings
from oms.store import keys
from oms.store.default import default_table
from oms.store.once import Once

router = APIGatewayRouter()
Sku = Annotated[str, Path(min_length=1, max_length=200, description="the seller SKU, percent-encoded")]
Location = Annotated[str, Query(min_length=1, max_length=64, description="stock location")]


def _stock() -> StockRepository:
    return StockRepository(default_table())


@router.get("/inventory", summary="List stock rows", tags=["inventory"])
def list_stock(
    below_reorder_point: Annotated[
        bool, Query(alias="belowReorderPoint", description="only rows at or below their reorder point")
    ] = False,
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = _stock().list(
        limit=limit or get_settings().default_page_size,
        next_token=next_token,
        below_reorder_point=below_reorder_point,
    )
    on_order = units_on_order_of(default_table(), [str(row["sku"]) for row in page.items])
    items = [{**row, "onOrder": on_order[str(row["sku"])]} for row in page.items]
    return ListPage(items=items, next_token=page.next_token)


@router.get("/inventory/<sku>", summary="One SKU's stock", tags=["inventory"])
def get_stock(sku: Sku, location: Location = keys.DEFAULT_LOCATION) -> StockRow:
    stock = _stock()
    row = stock.get(unquote(sku), location)  # REST API paths arrive percent-encoded
    on_order = units_on_order(default_table(), row.sku)
    return row.model_copy(update={"days_of_cover": stock.days_of_cover(row), "on_order": on_order})


@router.put("/inventory/<sku>", summary="Create or update a SKU's stock policy", tags=["inventory"])
def put_policy(
    sku: Sku, policy: Annotated[StockPolicy, Body()], location: Location = keys.DEFAULT_LOCATION
) -> StockRow:
    return set_policy(default_table(), unquote(sku), policy, location=location)


class AdjustmentReason(StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    DAMAGED = "damaged"
    LOST = "lost"
    FOUND = "found"
    COUNT_CORRECTION = "count-correction"
    RETURN_RESTOCK = "return-restock"


class AdjustmentRequest(ApiModel):
    delta: StrictInt = Field(description="signed units: + into stock, - out of it; never 0")
    reason: AdjustmentReason
    reference: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500, description="what happened, in the seller's words")
    location: str = Field(default=keys.DEFAULT_LOCATION, min_length=1, max_length=64)

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: int) -> int:
        if delta == 0:
            raise ValueError("must not be 0")
        if abs(delta) > 1_000_000:
            raise ValueError("is beyond 1,000,000 units")
        return delta


class Adjustment(ApiModel):
    entry_id: str
    stock: StockRow


def _answer(row: StockRow, entry_id: str) -> dict[str, Any]:
    return Adjustment(entry_id=entry_id, stock=row).model_dump(mode="json", by_alias=True)


def _apply(call: dict[str, Any], once: Once | None) -> dict[str, Any]:
    request = AdjustmentRequest.model_validate(call["request"])
    row, entry_id = adjust_stock(
        default_table(),
        call["sku"],
        request.delta,
        reason=request.reason.value,
        reference=request.reference,
        actor=call["actor"],
        location=request.location,
        note=request.note,
        record=(lambda row, entry_id: once.record(_answer(row, entry_id))) if once else None,
    )
    return _answer(row, entry_id)


@router.post(
    "/inventory/<sku>/adjustments",
    summary="Adjust on-hand stock",
    tags=["inventory"],
    responses={
        201: {"description": "adjusted; orders that lost reserved units are short now"},
        409: {"description": "fewer units on hand than taken out"},
    },
)
def post_adjustment(
    sku: Sku,
    adjustment: Annotated[AdjustmentRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> tuple[dict[str, Any], int]:
    call = {
        "sku": unquote(sku),
        "request": adjustment.model_dump(mode="json", by_alias=True),
        "actor": actor(router),
    }
    answer = run_once(
        router,
        _apply,
        call,
        idempotency_key,
        route="POST /inventory/{sku}/adjustments",
        key_fields=("sku",),
        what="request",
    )
    return answer, 201


@router.get("/inventory/<sku>/ledger", summary="Every movement of a SKU, newest first", tags=["inventory"])
def get_ledger(
    sku: Sku,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = _stock().ledger(
        unquote(sku), limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=page.items, next_token=page.next_token)
