"""GET /orders and GET /orders/{orderId}."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.paging import ListPage
from oms.domain.orders import FulfillmentChannel, OrderStatus
from oms.domain.products import skus_of
from oms.domain.types import UtcDateTime, utc_now
from oms.orders.views import OrderView, order_view, timeline
from oms.settings import get_settings
from oms.shipping.batches import batches_of
from oms.store.default import default_table
from oms.store.orders import OrderFilter, OrderRepository, order_from_item
from oms.store.products import ProductStore
from oms.warehouse.settings import ShippingSettingsStore

router = APIGatewayRouter()


def _orders() -> OrderRepository:
    return OrderRepository(default_table())


@router.get("/orders", summary="List orders", tags=["orders"])
def list_orders(
    status: Annotated[OrderStatus | None, Query(description="only orders in this status")] = None,
    fulfillment_channel: Annotated[
        FulfillmentChannel | None, Query(alias="fulfillmentChannel", description="MFN or AFN")
    ] = None,
    ship_by: Annotated[
        UtcDateTime | None, Query(alias="shipBy", description="latest ship date before this time")
    ] = None,
    purchased_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="purchased at or after")
    ] = None,
    purchased_to: Annotated[
        UtcDateTime | None, Query(alias="to", description="purchased at or before")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    where = OrderFilter(status, fulfillment_channel, ship_by, purchased_from, purchased_to)
    page = _orders().list(where, limit=limit or get_settings().default_page_size, next_token=next_token)
    settings, now = ShippingSettingsStore(default_table()).get(), utc_now()
    orders = [order_from_item(item) for item in page.items]
    products = ProductStore(default_table()).many(skus_of(orders))
    batches = batches_of(default_table(), [order.order_id for order in orders])
    views = [
        order_view(
            order, settings, now, links=False, products=products, batch=batches.get(order.order_id)
        ).model_dump(mode="json", by_alias=True)
        for order in orders
    ]
    return ListPage(items=views, next_token=page.next_token)


@router.get("/orders/<orderId>", summary="One order", tags=["orders"])
def get_order(orderId: Annotated[str, Path(min_length=1, max_length=64)]) -> OrderView:  # the contract's name
    order = _orders().get(unquote(orderId))  # REST API paths arrive percent-encoded
    products = ProductStore(default_table()).many(skus_of([order]))
    batch = batches_of(default_table(), [order.order_id]).get(order.order_id)
    return order_view(
        order,
        ShippingSettingsStore(default_table()).get(),
        utc_now(),
        links=True,
        products=products,
        batch=batch,
    )


@router.get("/orders/<orderId>/timeline", summary="What happened to an order, oldest first", tags=["orders"])
def get_timeline(
    orderId: Annotated[str, Path(min_length=1, max_length=64)],
) -> dict[str, list[dict[str, object]]]:
    return {"items": timeline(default_table(), unquote(orderId))}
