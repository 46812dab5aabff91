"""The Messaging API (v1) of the local marketplace: the actions allowed on an order, and the one message
the product sends (createUnexpectedProblem), kept on the order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oms_local.simulator import contract
from oms_local.simulator.entities import CANCELED, BuyerMessage, Order
from oms_local.simulator.market_core import MarketCore, invalid

UNEXPECTED_PROBLEM = "unexpectedProblem"  # the messaging action for a delay or other problem


class MessagingApi(MarketCore):
    """getMessagingActionsForOrder and createUnexpectedProblem."""

    def _messaging_order(self, order_id: str, marketplace_ids: Sequence[str]) -> Order:
        if list(marketplace_ids) != [self.marketplace_id]:
            raise invalid(
                "Invalid Input",
                f"marketplaceIds is required and takes one marketplace ({self.marketplace_id}).",
            )
        return self._order(order_id)

    @staticmethod
    def _message_types(order: Order) -> list[str]:
        """What the seller may send: a note about an unexpected problem, on open or shipped MFN orders."""
        return [] if order.afn or order.status == CANCELED else [UNEXPECTED_PROBLEM]

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
        problems = contract.request_body_problems("createUnexpectedProblem", request)
        if problems or not isinstance(request, dict) or not isinstance(request.get("text"), str):
            raise invalid("Invalid Input", "; ".join(problems[:3]) or "text is required.")
        with self._lock:
            order = self._messaging_order(order_id, marketplace_ids)
            if UNEXPECTED_PROBLEM not in self._message_types(order):
                raise invalid("Invalid Input", f"{UNEXPECTED_PROBLEM} is not available for order {order_id}.")
            order.messages.append(BuyerMessage(UNEXPECTED_PROBLEM, request["text"], self.clock()))
