"""Customer care routes: buyers' message threads (the inbox, one thread) and the quarantined mail."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.amazon.client import default_client
from oms.api.callers import scoped_key
from oms.api.paging import ListPage
from oms.care.auto_answer import CareSetup, CareSetupStore
from oms.care.clock import stop_clock
from oms.care.inbox import Inbox
from oms.care.intents import OTHER, IntentRules, IntentRuleStore, suggested_reply
from oms.care.locale import buyer_language, thread_language
from oms.care.replies import send_reply, settle_reply
from oms.care.templates import Template, Templates, fill_template
from oms.care.threads import Threads, ThreadStatus
from oms.domain.types import ApiModel, utc_now
from oms.errors import Conflict, InvalidInput, NotFound
from oms.returns.records import ReturnRecords
from oms.settings import get_settings
from oms.store.clients import aws_client
from oms.store.default import default_buyer_table, default_table
from oms.store.documents import default_documents
from oms.store.orders import OrderRepository
from oms.warehouse.settings import ShippingSettingsStore

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


class StillQuarantined(Conflict):
    code = "StillQuarantined"


@router.post(
    "/messages/quarantine/<quarantineId>/retry",
    summary="Take a quarantined mail again (e.g. its order has arrived since); 409 with the reason if still bad",
    tags=["messages"],
    responses={
        409: {"description": "still not a buyer's message: the reason (the mail stays in quarantine)"}
    },
)
def retry_quarantined(quarantineId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    settings = get_settings()
    inbox = Inbox(
        default_table(),
        default_buyer_table(),
        default_documents(),
        retention_days=settings.buyer_data_retention_days,
    )
    applied = inbox.retry(quarantineId)
    if applied.outcome == "quarantined":
        raise StillQuarantined(f"still quarantined: {applied.reason}")
    return {"outcome": applied.outcome, "threadId": applied.thread_id}


@router.get("/messages/setup", summary="The seller's customer-care choices", tags=["messages"])
def get_care_setup() -> CareSetup:
    return CareSetupStore(default_table()).get()


@router.put(
    "/messages/setup",
    summary='Set the customer-care choices (autoAnswerWhereIsMyOrder: answer "where is my order" about a shipped '
    "order with its tracking number at once)",
    tags=["messages"],
)
def put_care_setup(setup: Annotated[CareSetup, Body()]) -> CareSetup:
    return CareSetupStore(default_table()).put(setup)


@router.get(
    "/messages/buyers/<buyerId>",
    summary="One buyer across their orders: their threads, the orders and the orders' returns",
    tags=["messages"],
)
def get_buyer(buyerId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    threads = _threads().of_buyer(buyerId)
    if not threads:
        raise NotFound(f"no buyer {buyerId} with messages here")
    orders = []
    for order_id in dict.fromkeys(str(t["orderId"]) for t in threads):
        try:
            order = OrderRepository(default_table()).get(order_id)
        except NotFound:
            continue
        returns = ReturnRecords(default_table()).of_order(order_id)
        orders.append(
            {
                "orderId": order.order_id,
                "status": order.status.value,
                "purchaseDate": order.model_dump(mode="json", by_alias=True)["purchaseDate"],
                "items": [{"sku": i.sku, "title": i.title, "quantity": i.quantity} for i in order.items],
                "returns": [
                    {
                        "returnId": r.return_id,
                        "status": r.status.value,
                        "items": r.model_dump(mode="json", by_alias=True)["items"],
                    }
                    for r in returns
                ],
            }
        )
    alias = next((t["buyerAlias"] for t in threads if t.get("buyerAlias")), None)
    return {"buyerId": buyerId, "buyerAlias": alias, "threads": threads, "orders": orders}


@router.get("/messages/templates", summary="The seller's reply templates", tags=["messages"])
def list_templates() -> ListPage:
    return ListPage(items=Templates(default_table()).list(), next_token=None)


@router.put(
    "/messages/templates/<templateId>",
    summary="Create or replace a reply template ({{orderId}}, {{items}}, {{trackingNumber}}, {{carrier}}, "
    "{{expectedDelivery}}, {{returnInstructions}}; one text per language)",
    tags=["messages"],
)
def put_template(
    templateId: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    template: Annotated[Template, Body()],
) -> dict[str, Any]:
    return Templates(default_table()).put(templateId, template)


@router.get("/messages/templates/<templateId>", summary="One reply template", tags=["messages"])
def get_template(templateId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    return Templates(default_table()).get(templateId)


@router.delete("/messages/templates/<templateId>", summary="Delete a reply template", tags=["messages"])
def delete_template(
    templateId: Annotated[str, Path(min_length=1, max_length=64)],
) -> tuple[dict[str, Any], int]:
    Templates(default_table()).delete(templateId)
    return {}, 200


@router.get(
    "/messages/intent-rules",
    summary="The rules that name what a buyer wants (keywords, optionally order states; the first match wins)",
    tags=["messages"],
)
def get_intent_rules() -> IntentRules:
    return IntentRuleStore(default_table()).get()


@router.put("/messages/intent-rules", summary="Replace the intent rules", tags=["messages"])
def put_intent_rules(rules: Annotated[IntentRules, Body()]) -> IntentRules:
    return IntentRuleStore(default_table()).put(rules)


@router.get(
    "/messages/<threadId>",
    summary="One thread with its messages and a suggested reply for its intent, filled with the order's facts",
    tags=["messages"],
)
def get_thread(threadId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    thread = _threads().get(threadId)
    thread["suggestedReply"] = None
    try:
        order = OrderRepository(default_table()).get(str(thread["orderId"]))
    except NotFound:
        return thread
    zone = ShippingSettingsStore(default_table()).get().warehouse.time_zone
    language = buyer_language(default_buyer_table(), default_client(), threadId, order)
    thread["buyerLocale"] = language
    thread["suggestedReply"] = suggested_reply(
        default_table(), order, thread.get("intent") or OTHER, zone, language
    )
    return thread


@router.post(
    "/messages/<threadId>/no-response-needed",
    summary="Close the thread's clock without an answer (not counted in the late response rate)",
    tags=["messages"],
)
def no_response_needed(threadId: Annotated[str, Path(min_length=1, max_length=64)]) -> dict[str, Any]:
    stop_clock(default_table(), threadId, utc_now(), answered=False)
    return _threads().get(threadId)


class ReplyRequest(ApiModel):
    """The answer's text, or a template filled with the order's facts."""

    body: str | None = Field(default=None, max_length=20_000, description="the reply's text")
    template_id: str | None = Field(default=None, min_length=1, max_length=64, description="a saved template")
    language: str | None = Field(
        default=None,
        min_length=2,
        max_length=10,
        description="the template's language, e.g. de or de-DE (default: the buyer's, from Amazon's getAttributes)",
    )


@router.post(
    "/messages/<threadId>/replies",
    summary="Answer the buyer (through SES from the seller's registered address); stops the thread's clock",
    tags=["messages"],
    responses={
        201: {"description": "sent and recorded"},
        409: {
            "description": "no registered sender address, the buyer's address was purged, or (ReplyInDoubt) "
            "a retry of a reply whose sending was interrupted: it may have been sent, settle it on the thread"
        },
        422: {
            "description": "the reply breaks one of Amazon's content rules (named in details); nothing sent"
        },
    },
)
def reply(
    threadId: Annotated[str, Path(min_length=1, max_length=64)],
    request: Annotated[ReplyRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key", min_length=1, max_length=200, description="a retry with it sends once"
        ),
    ] = None,
) -> tuple[dict[str, Any], int]:
    if (request.body is None) == (request.template_id is None):
        raise InvalidInput.for_field("body", 'give either "body" or "templateId"')
    asked = request.model_dump(mode="json", by_alias=True)
    text = request.body
    if request.template_id is not None:
        language = request.language or thread_language(
            default_table(), default_buyer_table(), default_client(), threadId
        )
        text = fill_template(default_table(), threadId, request.template_id, language)
    answer = send_reply(
        default_table(),
        default_buyer_table(),
        _ses(),
        threadId,
        text or "",
        sender=get_settings().support_email_address,
        now=utc_now(),
        key=scoped_key(router, idempotency_key, "POST /messages/{threadId}/replies"),
        request_hash=hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest(),
    )
    return answer, 201


class ReplyOutcome(ApiModel):
    """What the seller found about a reply whose sending was interrupted."""

    sent: bool = Field(
        description="true: it is in Seller Central's sent messages (the clock stops when it was handed to "
        "SES); false: it never went out (the clock runs on; write again)"
    )


@router.post(
    "/messages/<threadId>/replies/<messageId>/outcome",
    summary="Settle a reply that may have been sent (its sending was interrupted): sent or not sent",
    tags=["messages"],
    responses={409: {"description": "the reply is still being sent; look again in a minute"}},
)
def settle(
    threadId: Annotated[str, Path(min_length=1, max_length=64)],
    messageId: Annotated[str, Path(min_length=1, max_length=128)],
    outcome: Annotated[ReplyOutcome, Body()],
) -> dict[str, Any]:
    settle_reply(
        default_table(), default_buyer_table(), threadId, messageId, sent=outcome.sent, now=utc_now()
    )
    return _threads().get(threadId)


@lru_cache(maxsize=1)
def _ses() -> Any:
    return aws_client("ses")
