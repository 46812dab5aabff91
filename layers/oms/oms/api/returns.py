"""Returns routes: list and record returns, one return with its timeline, receive and grade its units."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.api.callers import actor, scoped_key
from oms.api.paging import ListPage
from oms.domain.returns import MAX_ITEMS, ReceivedUnits, Return, ReturnItem, ReturnStatus
from oms.domain.types import ApiModel, UtcDateTime
from oms.returns.decisions import authorize_return, close_return
from oms.returns.receiving import MAX_RECEIPT_LINES, receive
from oms.returns.records import ReturnFilter, ReturnRecords, return_id_for
from oms.settings import get_settings
from oms.store.default import default_table
from oms.warehouse.settings import ShippingSettingsStore

router = APIGatewayRouter()
ReturnId = Annotated[str, Path(min_length=1, max_length=64)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="a retry with it applies once"),
]


class ReturnRequest(ApiModel):
    """A return that arrives outside Amazon's flow: shipped units of an order, per SKU."""

    order_id: str = Field(min_length=1, max_length=64)
    items: list[ReturnItem] = Field(min_length=1, max_length=MAX_ITEMS)


class CloseRequest(ApiModel):
    """Why the return ends here: a request declined, a return that never came back, ..."""

    reason: str = Field(
        min_length=1, max_length=500, pattern=r"\S", description="shown on the return's timeline"
    )


class ReceiptRequest(ApiModel):
    items: list[ReceivedUnits] = Field(min_length=1, max_length=MAX_RECEIPT_LINES)


@router.get("/returns", summary="List returns, newest request first", tags=["returns"])
def list_returns(
    status: Annotated[ReturnStatus | None, Query(description="only returns in this state")] = None,
    sku: Annotated[
        str | None, Query(min_length=1, max_length=200, description="only returns of this SKU")
    ] = None,
    requested_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="requested at or after")
    ] = None,
    requested_to: Annotated[
        UtcDateTime | None, Query(alias="to", description="requested at or before")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="find by return id, order id, Amazon RMA id or return tracking number (the receiving "
            "screen's scan; case and spaces ignored): one page, the other filters narrow it",
        ),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=500, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    where = ReturnFilter(status, sku, requested_from, requested_to)
    if q is not None:
        return ListPage(items=ReturnRecords(default_table()).find(q, where), next_token=None)
    page = ReturnRecords(default_table()).list(
        where, limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=page.items, next_token=page.next_token)


@router.post(
    "/returns",
    summary="Record a return outside Amazon's flow",
    tags=["returns"],
    responses={
        201: {"description": "recorded (authorized: the seller decided)"},
        200: {"description": "a retry with the same Idempotency-Key: the return it made"},
        409: {"description": "more units than shipped and not already returned, or an FBA order"},
    },
)
def post_return(
    request: Annotated[ReturnRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[Return, int]:
    ret, new = ReturnRecords(default_table()).record(
        request.order_id,
        request.items,
        return_id=return_id_for(scoped_key(router, idempotency_key, "POST /returns")),
    )
    return ret, 201 if new else 200


@router.get("/returns/<returnId>", summary="One return with its receipts and timeline", tags=["returns"])
def get_return(returnId: ReturnId) -> Return:  # the contract's name
    return ReturnRecords(default_table()).get(unquote(returnId))


@router.post(
    "/returns/<returnId>/receipts",
    summary="Receive and grade a return's units",
    tags=["returns"],
    responses={
        201: {
            "description": "received: sellable units back on hand, the rest written off, each in the ledger"
        },
        200: {"description": "a retry with the same Idempotency-Key: applied once already"},
        409: {"description": "more units than returned, a SKU not in the return, or a return not receivable"},
    },
)
def post_receipt(
    returnId: ReturnId, request: Annotated[ReceiptRequest, Body()], idempotency_key: IdempotencyKey = None
) -> tuple[Return, int]:
    table = default_table()
    ret, new = receive(
        table,
        unquote(returnId),
        request.items,
        actor=actor(router),
        calendar=ShippingSettingsStore(table).get().calendar,
        receipt_id=scoped_key(router, idempotency_key, "POST /returns/{returnId}/receipts"),
    )
    return ret, 201 if new else 200


@router.post(
    "/returns/<returnId>/authorize",
    summary="Authorize a return request (requested -> authorized)",
    tags=["returns"],
    responses={
        200: {"description": "authorized (a retry: the return as it is): off the 24-hour decision clock"},
        409: {
            "description": "the return is past the request (received, closed, ...): it cannot be authorized"
        },
    },
)
def post_authorize(returnId: ReturnId) -> Return:
    return authorize_return(default_table(), unquote(returnId), actor=actor(router))


@router.post(
    "/returns/<returnId>/close",
    summary="Close a return with the reason (a request declined, a return that never came back)",
    tags=["returns"],
    responses={
        200: {"description": "closed (a retry with the same reason: the return as it is)"},
        409: {"description": "the state machine refuses it (e.g. units received and not yet disposed of)"},
    },
)
def post_close(returnId: ReturnId, request: Annotated[CloseRequest, Body()]) -> Return:
    return close_return(default_table(), unquote(returnId), request.reason, actor=actor(router))
