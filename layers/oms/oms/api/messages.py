"""Customer care routes: buyers' message threads (the inbox, one thread) and the quarantined mail."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.paging import ListPage
from oms.care.clock import stop_clock
from oms.care.threads import Threads, ThreadStatus
from oms.domain.types import utc_now
from oms.settings import get_settings
from oms.store.default import default_buyer_table, default_table

router = APIGatewayRouter()
Limit = Annotated[int | None, Query(ge=1, le=500, description="page size")]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=4096)]


def _threads() -> Threads:
    return Threads(default_table(), default_buyer_table())


@router.get(
    "/messages",
    summary="Buyers' message threads: waiting ones by time left (late first), then the others, newest first",
    tags=["messages"],
)
def list_threads(
    status: Annotated[ThreadStatus | None, Query(description="only threads in this state")] = None,
    order_id: Annotated[
        str | None,
        Query(alias="orderId", min_length=1, max_length=64, description="only this order's threads"),
    ] = None,
    limit: Limit = None,
    next_token: NextToken = None,
) -> ListPage:
    page = _threads().list(
        status=status,
        order_id=order_id,
        limit=limit or get_settings().default_page_size,
        next_token=next_token,
    )
    return ListPage(items=page.items, next_token=page.next_token)


@router.get(
    "/messages/quarantine",
    summary="Mail that could not be taken as a buyer's message, with the reason, newest first",
    tags=["messages"],
)
def list_quarantine(limit: Limit = None, next_token: NextToken = None) -> ListPage:
    page = _threads().quarantined(limit=limit or get_settings().default_page_size, next_token=next_token)
    return ListPage(items=page.items, next_token=page.next_token)


@router.get("/messages/<threadId>", summary="One thread with its messages", tags=["messages"])
def get_thread(threadId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    return _threads().get(threadId)


@router.post(
    "/messages/<threadId>/no-response-needed",
    summary="Close the thread's clock without an answer (not counted in the late response rate)",
    tags=["messages"],
)
def no_response_needed(threadId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    stop_clock(default_table(), threadId, utc_now(), answered=False)
    return _threads().get(threadId)
