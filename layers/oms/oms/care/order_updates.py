"""Updates a seller sends before the buyer asks, through Amazon's Messaging API: confirm delivery details,
confirm order details, an unexpected problem (the delay notice the guard sends is the same message). Each
only where Amazon offers the action for the order now, each once per order (claimed before it is sent, the
claim freed if Amazon refuses), under the shared rate budget, and on the order's timeline.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from oms.amazon.client import SpApiClient
from oms.amazon.messaging_api import (
    CONFIRM_DELIVERY_DETAILS,
    CONFIRM_ORDER_DETAILS,
    MAX_TEXT_LENGTH,
    OPERATIONS,
    UNEXPECTED_PROBLEM,
    messaging_actions,
    send_message,
)
from oms.care.content_rules import check_reply
from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from oms.store import keys
from oms.store.table import Table

# In the seller's words (the API's answers, the order's timeline).
KINDS = {
    CONFIRM_DELIVERY_DETAILS: "confirm delivery details",
    CONFIRM_ORDER_DETAILS: "confirm order details",
    UNEXPECTED_PROBLEM: "unexpected problem",
}


class OrderUpdate(ApiModel):
    kind: str = Field(description="confirmDeliveryDetails, confirmOrderDetails or unexpectedProblem")
    text: str
    sent_at: UtcDateTime
    by: str


class UpdateOptions(ApiModel):
    allowed: list[str] = Field(description="the kinds Amazon offers for this order now")
    sent: list[OrderUpdate] = Field(description="updates sent already (each kind once)")


def _sent(table: Table, order_id: str) -> list[OrderUpdate]:
    found = table.get_many([keys.order_update_key(order_id, kind) for kind in OPERATIONS])
    return [
        OrderUpdate(
            kind=str(i.get("kind") or UNEXPECTED_PROBLEM),
            text=str(i.get("text") or ""),
            sent_at=i["sentAt"],
            by=str(i.get("by") or "ship_guard"),
        )
        for i in found
        if i.get("sentAt")
    ]


def _order(table: Table, order_id: str) -> dict:
    item = table.get(keys.order_key(order_id))
    if item is None:
        raise NotFound(f"order {order_id} is not known here")
    return item


def update_options(table: Table, client: SpApiClient, order_id: str) -> UpdateOptions:
    order = _order(table, order_id)
    offered = messaging_actions(client, order_id, str(order["marketplaceId"]))
    return UpdateOptions(allowed=[k for k in OPERATIONS if k in offered], sent=_sent(table, order_id))


def send_update(
    table: Table,
    client: SpApiClient,
    order_id: str,
    kind: str,
    text: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> OrderUpdate:
    """Send one update; 409 when it was sent before or Amazon does not offer it for the order now, 422 when
    the text breaks Amazon's content rules (nothing sent either way)."""
    now = now or utc_now()
    if kind not in OPERATIONS:
        raise InvalidInput.for_field("kind", f"one of {', '.join(OPERATIONS)}")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput.for_field("text", f"Amazon takes at most {MAX_TEXT_LENGTH} characters")
    check_reply(text)
    order = _order(table, order_id)
    marketplace = str(order["marketplaceId"])
    key = keys.order_update_key(order_id, kind)
    entity = "DelayNotice" if kind == UNEXPECTED_PROBLEM else "OrderUpdate"
    try:
        table.put_new({**key, "entity": entity, "orderId": order_id, "kind": kind, "claimedAt": iso_z(now)})
    except AlreadyExists:
        before = table.get(key) or {}
        when = before.get("sentAt") or before.get("claimedAt") or "earlier"
        raise Conflict(f"the {KINDS[kind]} message was already sent for order {order_id} ({when})") from None
    try:
        if kind not in messaging_actions(client, order_id, marketplace):
            raise Conflict(f"Amazon does not offer '{KINDS[kind]}' for order {order_id} now")
        send_message(client, order_id, marketplace, kind, text)
    except BaseException:
        table.delete(key)  # nothing went out: the seller may try again
        raise
    sent = OrderUpdate(kind=kind, text=text, sent_at=now, by=actor)
    table.put(
        {
            **key,
            "entity": entity,
            "orderId": order_id,
            "kind": kind,
            "claimedAt": iso_z(now),
            "sentAt": iso_z(now),
            "text": text,
            "by": actor,
        }
    )
    return sent
