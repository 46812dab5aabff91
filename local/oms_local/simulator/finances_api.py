"""The Finances API (v0) of the local marketplace: listFinancialEventsByOrderId shows the refunds Amazon made
through order adjustments (feeds_api), each once its posting time has come (Amazon: up to 48 hours)."""

from __future__ import annotations

from typing import Any

from oms_local.simulator import shapes
from oms_local.simulator.feeds_api import FeedsApi
from oms_local.simulator.market_core import ORDER_ID, invalid


class FinancesApi(FeedsApi):
    """listFinancialEventsByOrderId (RefundEventList only: the seller's refunds)."""

    def financial_events_of_order(self, order_id: str) -> dict[str, Any]:
        if not ORDER_ID.match(order_id):
            raise invalid("Invalid Input", f"{order_id!r} is not an Amazon order id.")
        now = self.clock()
        with self.feeds_state.lock:
            postings = [p for p in self.feeds_state.refunds if p.order_id == order_id and p.posted <= now]
        events = [
            {
                "AmazonOrderId": posting.order_id,
                "MarketplaceName": "Amazon.com",
                "PostedDate": shapes.iso(posting.posted),
                "ShipmentItemAdjustmentList": [
                    {
                        "SellerSKU": sku,
                        "OrderAdjustmentItemId": adjustment_id,
                        "ItemChargeAdjustmentList": [
                            {
                                "ChargeType": kind,
                                # refunds are money going back to the buyer: negative for the seller
                                "ChargeAmount": {
                                    "CurrencyCode": shapes.CURRENCY,
                                    "CurrencyAmount": float(-amount),
                                },
                            }
                            for kind, amount in charges.items()
                        ],
                    }
                    for sku, _, adjustment_id, charges in posting.items
                ],
            }
            for posting in postings
        ]
        return {"payload": {"FinancialEvents": {"RefundEventList": events}}}
