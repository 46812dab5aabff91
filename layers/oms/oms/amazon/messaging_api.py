"""Messaging API v1 (getMessagingActionsForOrder, GetAttributes, createUnexpectedProblem,
createConfirmDeliveryDetails, createConfirmOrderDetails): what the seller may tell a buyer about an order,
the delay notice and the updates a seller sends before the buyer asks. Shapes follow
contracts/sp-api-models/messaging-api-model/messaging.json; fields not read here are ignored.

Amazon allows only the message types it lists for an order (and only through these operations: buyers'
e-mail addresses are not for the seller's own mail), so a notice is sent after asking which it allows.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.client import SpApiClient, region_of
from oms.errors import InvalidInput

# The message type the product uses to tell a buyer their order is late (createUnexpectedProblem).
UNEXPECTED_PROBLEM = "unexpectedProblem"
CONFIRM_DELIVERY_DETAILS = "confirmDeliveryDetails"  # arrange a delivery, confirm contact details for it
CONFIRM_ORDER_DETAILS = "confirmOrderDetails"  # ask an order-related question before shipping
# The messages a seller sends before the buyer asks: the action's name -> its operation.
OPERATIONS = {
    UNEXPECTED_PROBLEM: "createUnexpectedProblem",
    CONFIRM_DELIVERY_DETAILS: "createConfirmDeliveryDetails",
    CONFIRM_ORDER_DETAILS: "createConfirmOrderDetails",
}
MAX_TEXT_LENGTH = 2000  # each request's text: 1 to 2000 characters


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class LinkObject(_Model):
    href: str
    name: str | None = None


class ActionLinks(_Model):
    actions: list[LinkObject]
    self_link: LinkObject | None = Field(default=None, alias="self")


class GetMessagingActionsForOrderResponse(_Model):
    links: ActionLinks | None = Field(default=None, alias="_links")


class CreateUnexpectedProblemResponse(_Model):
    """201 with an empty body (or errors, which the client turns into SpApiError before this)."""


def messaging_actions(client: SpApiClient, order_id: str, marketplace_id: str) -> set[str]:
    """The message types Amazon allows for the order now, e.g. {"unexpectedProblem"}."""
    answer = client.call(
        "getMessagingActionsForOrder",
        GetMessagingActionsForOrderResponse,
        region=region_of(marketplace_id),
        path={"amazonOrderId": order_id},
        query={"marketplaceIds": [marketplace_id]},
    )
    actions = answer.links.actions if answer.links else []
    return {action.name for action in actions if action.name}


class BuyerAttributes(_Model):
    locale: str | None = None


class GetAttributesResponse(_Model):
    buyer: BuyerAttributes | None = None


def buyer_locale(client: SpApiClient, order_id: str, marketplace_id: str) -> str | None:
    """getAttributes: the buyer's preferred language as a locale tag (e.g. "en-US", "de-DE"), if Amazon says."""
    answer = client.call(
        "GetAttributes",
        GetAttributesResponse,
        region=region_of(marketplace_id),
        path={"amazonOrderId": order_id},
        query={"marketplaceIds": [marketplace_id]},
    )
    return answer.buyer.locale if answer.buyer else None


def send_unexpected_problem(client: SpApiClient, order_id: str, marketplace_id: str, text: str) -> None:
    """createUnexpectedProblem: tell the buyer something unexpected affects their order (e.g. a delay)."""
    send_message(client, order_id, marketplace_id, UNEXPECTED_PROBLEM, text)


def send_message(client: SpApiClient, order_id: str, marketplace_id: str, kind: str, text: str) -> None:
    """One of OPERATIONS' messages to the buyer of the order (Amazon answers 201 with no body)."""
    if kind not in OPERATIONS:
        raise InvalidInput.for_field("kind", f"one of {', '.join(OPERATIONS)}")
    if not text.strip():
        raise InvalidInput.for_field("text", "the message to the buyer is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput.for_field(
            "text", f"Amazon takes at most {MAX_TEXT_LENGTH} characters; this message has {len(text)}"
        )
    client.call(
        OPERATIONS[kind],
        CreateUnexpectedProblemResponse,
        region=region_of(marketplace_id),
        path={"amazonOrderId": order_id},
        query={"marketplaceIds": [marketplace_id]},
        body={"text": text},
    )
