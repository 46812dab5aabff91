"""Finances API v0 (listFinancialEventsByOrderId): the refund events Amazon posts for an order, up to 48
hours after the refund. Shapes follow contracts/sp-api-models/finances-api-model/financesV0.json; fields not
read here are ignored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from oms.amazon.client import SpApiClient, region_of
from oms.amazon.notifications import AmazonModel

MAX_PAGES = 10


class Currency(AmazonModel):
    currency_code: str | None = Field(default=None, alias="CurrencyCode")
    currency_amount: Decimal | None = Field(default=None, alias="CurrencyAmount")


class ChargeComponent(AmazonModel):
    charge_type: str | None = Field(default=None, alias="ChargeType")
    charge_amount: Currency | None = Field(default=None, alias="ChargeAmount")


class ShipmentItem(AmazonModel):
    seller_sku: str | None = Field(default=None, alias="SellerSKU")
    order_item_id: str | None = Field(default=None, alias="OrderItemId")
    order_adjustment_item_id: str | None = Field(default=None, alias="OrderAdjustmentItemId")
    item_charge_adjustment_list: list[ChargeComponent] = Field(
        default_factory=list, alias="ItemChargeAdjustmentList"
    )


class ShipmentEvent(AmazonModel):
    amazon_order_id: str | None = Field(default=None, alias="AmazonOrderId")
    posted_date: datetime | None = Field(default=None, alias="PostedDate")
    shipment_item_adjustment_list: list[ShipmentItem] = Field(
        default_factory=list, alias="ShipmentItemAdjustmentList"
    )


class FinancialEvents(AmazonModel):
    refund_event_list: list[ShipmentEvent] = Field(default_factory=list, alias="RefundEventList")


class ListFinancialEventsPayload(AmazonModel):
    next_token: str | None = Field(default=None, alias="NextToken")
    financial_events: FinancialEvents | None = Field(default=None, alias="FinancialEvents")


class ListFinancialEventsResponse(AmazonModel):
    payload: ListFinancialEventsPayload | None = None


def refund_events(client: SpApiClient, marketplace_id: str, order_id: str) -> list[ShipmentEvent]:
    """Every refund event Amazon has posted for the order (each page, up to MAX_PAGES)."""
    events: list[ShipmentEvent] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        answer = client.call(
            "listFinancialEventsByOrderId",
            ListFinancialEventsResponse,
            region=region_of(marketplace_id),
            path={"orderId": order_id},
            query={"MaxResultsPerPage": 100, "NextToken": token},
        )
        payload = answer.payload
        if payload and payload.financial_events:
            events += payload.financial_events.refund_event_list
        token = payload.next_token if payload else None
        if not token:
            break
    return events


def refund_posted(
    events: list[ShipmentEvent], order_id: str, since: datetime, skus: set[str] | None = None
) -> ShipmentEvent | None:
    """The first refund event of the order posted at or after `since` (a minute's slack for clocks) that
    adjusts every SKU in `skus` (another return's refund of the same order adjusts others)."""
    for event in sorted(events, key=lambda e: e.posted_date or since):
        adjusted = {item.seller_sku for item in event.shipment_item_adjustment_list}
        if skus and not skus <= adjusted:
            continue
        if event.amazon_order_id == order_id and event.posted_date is not None:
            posted = event.posted_date
            if posted.tzinfo is None:
                continue
            if posted.timestamp() >= since.timestamp() - 60:
                return event
    return None
