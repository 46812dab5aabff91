"""Planning routes: one SKU's plan with its history and forecast, and the reorder suggestions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.amazon.client import default_client, region_of
from oms.amazon.pricing_api import PriceContext, competitive_summaries
from oms.planning.demand import HISTORY_DAYS
from oms.planning.lines import ProductLines, read_settings, save_settings
from oms.planning.stock_health import StockHealth, stock_health
from oms.planning.views import ReorderList, SkuPlan, reorder_list, sku_plan
from oms.settings import get_settings
from oms.store.default import default_table

router = APIGatewayRouter()
Sku = Annotated[str, Path(min_length=1, max_length=200, description="the seller SKU, percent-encoded")]


@router.get(
    "/planning/skus/<sku>",
    summary="A SKU's stock plan: history, forecast, method and accuracy, reorder point, safety stock, order quantity",
    tags=["planning"],
)
def get_sku_plan(
    sku: Sku,
    history_days: Annotated[
        int, Query(alias="historyDays", ge=1, le=HISTORY_DAYS, description="days of history to return")
    ] = HISTORY_DAYS,
) -> SkuPlan:
    """Last night's plan (404 until the SKU's first night). The history is read now (raw: units ordered per day; cleaned: out-of-stock days
    unknown); every figure comes with its formula and inputs."""
    return sku_plan(default_table(), unquote(sku), days=history_days)  # REST API paths arrive percent-encoded


@router.get("/planning/reorder", summary="Reorder suggestions, per supplier", tags=["planning"])
def get_reorder(
    limit: Annotated[int, Query(ge=1, le=500, description="page size (SKUs)")] = 100,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ReorderList:
    """The SKUs last night's plans found due: available + on order at or below the reorder point."""
    return reorder_list(default_table(), limit=limit, next_token=next_token)


@router.get(
    "/planning/stock-health", summary="Too much, too little: aged stock and stockout risk", tags=["planning"]
)
def get_stock_health(
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=500,
            description="SKUs with a problem per page: fewer only at the end, or when 2,000 stock rows were read "
            "without finding as many (then nextToken goes on)",
        ),
    ] = 100,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> StockHealth:
    """From last night's plans: SKUs whose available units last more than 3 times what an order covers (lead
    time + review + target), and SKUs whose available units run out within the lead time; each with what to
    do (reorder now, expedite an open purchase order due after the stock runs out, a price or promotion
    hint: hints only, no price is changed). Stockout risks first, the soonest first."""
    settings = get_settings()
    marketplace = settings.marketplaces[0]

    def prices(asins: Sequence[str]) -> Mapping[str, PriceContext]:
        client = default_client()
        return competitive_summaries(client, asins, marketplace_id=marketplace, region=region_of(marketplace))

    return stock_health(
        default_table(), limit=limit, next_token=next_token, prices=prices, seller_id=settings.seller_id
    )


@router.get(
    "/planning/settings", summary="Product lines: fixed methods, growth factors, events", tags=["planning"]
)
def get_planning_settings() -> ProductLines:
    return read_settings(default_table())


@router.put(
    "/planning/settings",
    summary="Replace the product lines (a line by productLine or SKU prefix)",
    tags=["planning"],
)
def put_planning_settings(settings: Annotated[ProductLines, Body()]) -> ProductLines:
    """The whole list (400 naming a bad line: an unknown method, an event ending before it starts, a name
    twice). Used from the next nightly plan on: a fixed method (still backtested beside the others), a growth
    factor on every forecast day, and events whose days' forecast is multiplied by their factor."""
    return save_settings(default_table(), settings)
