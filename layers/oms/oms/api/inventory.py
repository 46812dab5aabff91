"""GET /inventory, GET /inventory/{sku} and its ledger."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.paging import ListPage
from oms.settings import get_settings
from oms.stock import StockRepository, StockRow
from oms.store.default import default_table

router = APIGatewayRouter()


def _stock() -> StockRepository:
    return StockRepository(default_table())


@router.get("/inventory", summary="List stock rows", tags=["inventory"])
def list_stock(
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = _stock().list(limit=limit or get_settings().default_page_size, next_token=next_token)
    return ListPage(items=page.items, next_token=page.next_token)


@router.get("/inventory/<sku>", summary="One SKU's stock", tags=["inventory"])
def get_stock(sku: Annotated[str, Path(min_length=1, max_length=200)]) -> StockRow:
    return _stock().get(unquote(sku))  # REST API paths arrive percent-encoded


@router.get("/inventory/<sku>/ledger", summary="Every movement of a SKU, newest first", tags=["inventory"])
def get_ledger(
    sku: Annotated[str, Path(min_length=1, max_length=200)],
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    page = _stock().ledger(
        unquote(sku), limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=page.items, next_token=page.next_token)
