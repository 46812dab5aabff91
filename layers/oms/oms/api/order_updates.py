"""Updates to the buyer before they ask (Amazon's Messaging API): which Amazon offers for an order, and send one."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.amazon.client import default_client
from oms.api.callers import actor
from oms.care.order_updates import OrderUpdate, UpdateOptions, send_update, update_options
from oms.domain.types import ApiModel
from oms.store.default import default_table

router = APIGatewayRouter()
OrderId = Annotated[str, Path(min_length=1, max_length=64)]


class NewUpdate(ApiModel):
    kind: Literal["confirmDeliveryDetails", "confirmOrderDetails", "unexpectedProblem"]
    text: Annotated[str, Field(min_length=1, max_length=2000, description="in the buyer's language")]


@router.get(
    "/orders/<orderId>/buyer-updates",
    summary="The updates Amazon lets you send the buyer of this order now, and those sent",
    tags=["messages"],
    responses={404: {"description": "unknown order"}},
)
def get_updates(orderId: OrderId) -> UpdateOptions:
    return update_options(default_table(), default_client(), unquote(orderId))


@router.post(
    "/orders/<orderId>/buyer-updates",
    summary="Send the buyer an update through Amazon (each kind once per order)",
    tags=["messages"],
    responses={
        201: {"description": "sent"},
        404: {"description": "unknown order"},
        409: {"description": "sent before, or Amazon does not offer it for the order now"},
        422: {"description": "the text breaks one of Amazon's content rules (named); nothing sent"},
    },
)
def post_update(orderId: OrderId, body: Annotated[NewUpdate, Body()]) -> tuple[OrderUpdate, int]:
    sent = send_update(
        default_table(), default_client(), unquote(orderId), body.kind, body.text, actor=actor(router)
    )
    return sent, 201
