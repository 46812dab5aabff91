"""Webhooks out: POST/GET/PATCH/DELETE /webhooks/subscriptions, secret rotation, the delivery log and its
retry. (POST /webhooks/{integrationId}, webhooks in, is another function's public route.)"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.callers import scoped_key
from oms.api.paging import ListPage
from oms.domain.types import utc_now
from oms.settings import get_settings
from oms.store.default import default_table
from oms.webhooks import deliveries, subscriptions
from oms.webhooks.deliveries import Deliveries
from oms.webhooks.queue import DeliveriesQueue
from oms.webhooks.subscriptions import EventTypes, SubscriptionChange, SubscriptionRequest, SubscriptionStore

router = APIGatewayRouter()
SubscriptionId = Annotated[str, Path(min_length=1, max_length=64)]
DeliveryId = Annotated[str, Path(min_length=1, max_length=80)]
TAGS = ["webhooks"]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", min_length=1, max_length=200, description="a retry with it subscribes once"
    ),
]


def _store() -> SubscriptionStore:
    return SubscriptionStore(default_table())


def _deliveries() -> Deliveries:
    settings = get_settings()
    queue = (
        DeliveriesQueue(settings.webhook_deliveries_queue_url)
        if settings.webhook_deliveries_queue_url
        else None
    )
    return Deliveries(
        default_table(), allow_loopback=settings.webhooks_allow_loopback, timeout=5.0, queue=queue
    )


@router.post(
    "/webhooks/subscriptions",
    summary="Subscribe a URL to domain events; the signing secret is shown once",
    tags=TAGS,
    responses={
        201: {"description": "subscribed: `secret` (whsec_...) signs every delivery; keep it now"},
        200: {
            "description": "a retry with the same Idempotency-Key: the subscription it made, secret included"
        },
    },
)
def create_subscription(
    body: SubscriptionRequest, idempotency_key: IdempotencyKey = None
) -> tuple[dict[str, Any], int]:
    item, secret, new = _store().create(
        body,
        allow_loopback=get_settings().webhooks_allow_loopback,
        now=utc_now(),
        key=scoped_key(router, idempotency_key, "POST /webhooks/subscriptions"),
    )
    return subscriptions.view(item, secret), 201 if new else 200


@router.get(
    "/webhooks/event-types",
    summary="Every event a subscription may name, with when it is sent (docs/events.md)",
    tags=TAGS,
)
def list_event_types() -> EventTypes:
    return subscriptions.event_types()


@router.get("/webhooks/subscriptions", summary="Every subscription", tags=TAGS)
def list_subscriptions() -> ListPage:
    items = sorted(_store().all(), key=lambda s: s["createdAt"])
    return ListPage(items=[subscriptions.view(s) for s in items])


@router.get("/webhooks/subscriptions/<subscription_id>", summary="One subscription", tags=TAGS)
def get_subscription(subscription_id: SubscriptionId) -> dict[str, Any]:
    return subscriptions.view(_store().existing(subscription_id))


@router.patch(
    "/webhooks/subscriptions/<subscription_id>",
    summary="Change a subscription's URL, events, description or enabled (enabling clears a disable)",
    tags=TAGS,
)
def change_subscription(subscription_id: SubscriptionId, body: SubscriptionChange) -> dict[str, Any]:
    item = _store().change(
        subscription_id, body, allow_loopback=get_settings().webhooks_allow_loopback, now=utc_now()
    )
    return subscriptions.view(item)


@router.delete(
    "/webhooks/subscriptions/<subscription_id>",
    summary="Unsubscribe (the delivery log expires in 30 days)",
    tags=TAGS,
    responses={204: {"description": "deleted"}},
)
def delete_subscription(subscription_id: SubscriptionId) -> tuple[None, int]:
    _store().delete(subscription_id)
    return None, 204


@router.post(
    "/webhooks/subscriptions/<subscription_id>/secret/rotate",
    summary="A new signing secret, shown once; the previous one also signs for 24 hours",
    tags=TAGS,
)
def rotate_secret(subscription_id: SubscriptionId) -> dict[str, Any]:
    item, secret = _store().rotate_secret(subscription_id, now=utc_now())
    return subscriptions.view(item, secret)


@router.get(
    "/webhooks/subscriptions/<subscription_id>/deliveries",
    summary="The subscription's deliveries, newest first, each with its attempts (kept 30 days)",
    tags=TAGS,
)
def list_deliveries(
    subscription_id: SubscriptionId,
    limit: Annotated[int | None, Query(ge=1, le=100, description="page size")] = None,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=4096)] = None,
) -> ListPage:
    items, token = _deliveries().page(
        subscription_id, limit=limit or get_settings().default_page_size, next_token=next_token
    )
    return ListPage(items=[deliveries.view(i) for i in items], next_token=token)


@router.post(
    "/webhooks/subscriptions/<subscription_id>/deliveries/<delivery_id>/retry",
    summary="Deliver again now (same webhook-id, a new attempt)",
    tags=TAGS,
    responses={202: {"description": "queued: the attempt shows in the delivery's log within seconds"}},
)
def retry_delivery(subscription_id: SubscriptionId, delivery_id: DeliveryId) -> tuple[dict[str, Any], int]:
    return deliveries.view(_deliveries().redeliver(subscription_id, delivery_id)), 202
