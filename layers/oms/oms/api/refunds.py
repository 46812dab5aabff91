"""Refund route: POST /returns/{returnId}/refund records the refund pending (202); it is sent to Amazon as an
order adjustment feed, then submitted -> confirmed, or refused (oms.returns.refunds)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.callers import actor, scoped_key
from oms.api.returns import IdempotencyKey, ReturnId
from oms.domain.refunds import RefundAsk
from oms.domain.returns import Return
from oms.returns.refunds import refund_id_for, request_refund
from oms.store.default import default_table

router = APIGatewayRouter()


@router.post(
    "/returns/<returnId>/refund",
    summary="Refund a received return through Amazon (all of it, or some items and price components)",
    tags=["returns"],
    responses={
        202: {"description": "recorded: refund.status pending, then submitted -> confirmed, or refused"},
        200: {"description": "a retry with the same Idempotency-Key: the refund it recorded"},
        409: {
            "description": "refunded (or being refunded) already, more than the buyer paid, units not received, "
            "a restocking fee Amazon's policy does not allow, or an FBA return"
        },
    },
)
def post_refund(
    returnId: ReturnId,  # the contract's name
    request: Annotated[RefundAsk | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> tuple[Return, int]:
    ret, new = request_refund(
        default_table(),
        unquote(returnId),
        request or RefundAsk(),
        actor=actor(router),
        refund_id=refund_id_for(scoped_key(router, idempotency_key, "POST /returns/{returnId}/refund")),
    )
    return ret, 202 if new else 200
