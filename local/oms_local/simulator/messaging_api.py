"""The Messaging API (v1) of the local marketplace: the actions allowed on an order, and the messages the
product sends (createUnexpectedProblem, createConfirmDeliveryDetails, createConfirmOrderDetails), kept on
the order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oms_local.simulator import contract
from oms_local.simulator.entities import CANCELED, PENDING, UNSHIPPED, BuyerMessage, Order
from oms_local.simulator.market_core import MarketCore, invalid

UNEXPECTED_PROBLEM = "unexpectedProblem"  # the messaging action for a delay or other problem
CONFIRM_DELIVERY_DETAILS = "confirmDeliveryDetails"
CONFIRM_ORDER_DETAILS = "confirmOrderDetails"
SENDS = {  # the operation -> the action it needs
    "createUnexpectedProblem": UNEXPECTED_PROBLEM,
    "createConfirmDeliveryDetails": CONFIRM_DELIVERY_DETAILS,
    "createConfirmOrderDetails": CONFIRM_ORDER_DETAILS,
}


class MessagingApi(MarketCore):
    """getMessagingActionsForOrder, GetAttributes and the messages of SENDS."""

    def _messaging_order(self, order_id: str, marketplace_ids: Sequence[str]) -> Order:
        if list(marketplace_ids) != [self.marketplace_id]:
            raise invalid(
                "Invalid Input",
                f"marketplaceIds is required and takes one marketplace ({self.marketplace_id}).",
            )
        return self._order(order_id)

    @staticmethod
    def _message_types(order: Order) -> list[str]:
        """What the seller may send, on MFN orders not canceled: a note about an unexpected problem, delivery
        details (until delivered), and a question about the order before it ships."""
        if order.afn or order.status == CANCELED:
            return []
        kinds = [UNEXPECTED_PROBLEM, CONFIRM_DELIVERY_DETAILS]
        if order.status in (PENDING, UNSHIPPED):
            kinds.append(CONFIRM_ORDER_DETAILS)
        return kinds

    def messaging_actions(self, order_id: str, marketplace_ids: Sequence[str]) -> dict[str, Any]:
        """getMessagingActionsForOrder: HAL links to the message types allowed for the order."""
        with self._lock:
            order = self._messaging_order(order_id, marketplace_ids)
            kinds = self._message_types(order)
        base = f"/messaging/v1/orders/{order_id}"
        query = f"?marketplaceIds={self.marketplace_id}"
        return {
            "_links": {
                "actions": [{"href": f"{base}/messages/{kind}{query}", "name": kind} for kind in kinds],
                "self": {"href": base + query},
            }
        }

    def buyer_attributes(self, order_id: str, marketplace_ids: Sequence[str]) -> dict[str, Any]:
        """getAttributes: the buyer's preferred language (most buyers here: en-US; `buyer_locales` overrides)."""
        with self._lock:
            order = self._messaging_order(order_id, marketplace_ids)
            locale = (getattr(self, "buyer_locales", None) or {}).get(order.order_id, "en-US")
        return {"buyer": {"locale": locale}}

    def send_unexpected_problem(self, order_id: str, marketplace_ids: Sequence[str], request: Any) -> None:
        """createUnexpectedProblem: the message is kept on the order (the control view shows it)."""
        self.send_buyer_message("createUnexpectedProblem", order_id, marketplace_ids, request)

    def send_buyer_message(
        self, operation: str, order_id: str, marketplace_ids: Sequence[str], request: Any
    ) -> None:
        """One of SENDS' messages: kept on the order; refused when the order does not offer its action."""
        problems = contract.request_body_problems(operation, request)
        if problems or not isinstance(request, dict) or not isinstance(request.get("text"), str):
            raise invalid("Invalid Input", "; ".join(problems[:3]) or "text is required.")
        kind = SENDS[operation]
        with self._lock:
            order = self._messaging_order(order_id, marketplace_ids)
            if kind not in self._message_types(order):
                raise invalid("Invalid Input", f"{kind} is not available for order {order_id}.")
            order.messages.append(BuyerMessage(kind, request["text"], self.clock()))
