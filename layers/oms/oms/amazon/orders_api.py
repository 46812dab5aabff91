"""Orders API v2026-01-01 (searchOrders, getOrder): the answer shapes this product reads, and the order
they describe. Field names follow contracts/sp-api-models/orders-api-model/orders_2026-01-01.json;
fields not read here are ignored, so Amazon may add fields freely.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.client import SpApiClient, region_of
from oms.domain.orders import FulfillmentChannel, Order, OrderFlag, OrderItem, OrderStatus
from oms.domain.types import Money, iso_z


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ApiMoney(_Model):
    amount: str
    currency_code: str = Field(alias="currencyCode")

    def money(self) -> Money:
        return Money(amount=self.amount, currency_code=self.currency_code)


class DateTimeRange(_Model):
    earliest: datetime | None = Field(default=None, alias="earliestDateTime")
    latest: datetime | None = Field(default=None, alias="latestDateTime")


class SalesChannel(_Model):
    channel_name: str = Field(alias="channelName")
    marketplace_id: str | None = Field(default=None, alias="marketplaceId")


class OrderFulfillment(_Model):
    fulfillment_status: str | None = Field(default=None, alias="fulfillmentStatus")
    fulfilled_by: str | None = Field(default=None, alias="fulfilledBy")
    fulfillment_service_level: str | None = Field(default=None, alias="fulfillmentServiceLevel")
    ship_by_window: DateTimeRange | None = Field(default=None, alias="shipByWindow")
    deliver_by_window: DateTimeRange | None = Field(default=None, alias="deliverByWindow")


class ItemPrice(_Model):
    unit_price: ApiMoney | None = Field(default=None, alias="unitPrice")


class ItemProduct(_Model):
    asin: str | None = None
    title: str | None = None
    seller_sku: str | None = Field(default=None, alias="sellerSku")
    price: ItemPrice | None = None


class ItemFulfillment(_Model):
    quantity_fulfilled: int | None = Field(default=None, alias="quantityFulfilled")
    quantity_unfulfilled: int | None = Field(default=None, alias="quantityUnfulfilled")


class CancellationRequest(_Model):
    requester: str | None = None


class CancellationExecution(_Model):
    cancelled_by: str | None = Field(default=None, alias="cancelledBy")


class ItemCancellation(_Model):
    cancellation_request: CancellationRequest | None = Field(default=None, alias="cancellationRequest")
    cancellation_execution: CancellationExecution | None = Field(default=None, alias="cancellationExecution")


class ApiOrderItem(_Model):
    order_item_id: str = Field(alias="orderItemId")
    quantity_ordered: int = Field(alias="quantityOrdered")
    product: ItemProduct
    fulfillment: ItemFulfillment | None = None
    cancellation: ItemCancellation | None = None


class OrderProceeds(_Model):
    grand_total: ApiMoney | None = Field(default=None, alias="grandTotal")


class ApiOrder(_Model):
    order_id: str = Field(alias="orderId")
    created_time: datetime = Field(alias="createdTime")
    last_updated_time: datetime = Field(alias="lastUpdatedTime")
    programs: list[str] = Field(default_factory=list)
    sales_channel: SalesChannel = Field(alias="salesChannel")
    proceeds: OrderProceeds | None = None
    fulfillment: OrderFulfillment | None = None
    order_items: list[ApiOrderItem] = Field(alias="orderItems")


class Pagination(_Model):
    next_token: str | None = Field(default=None, alias="nextToken")


class SearchOrdersResponse(_Model):
    orders: list[ApiOrder]
    pagination: Pagination | None = None
    last_updated_before: datetime | None = Field(default=None, alias="lastUpdatedBefore")
    created_before: datetime | None = Field(default=None, alias="createdBefore")


class GetOrderResponse(_Model):
    order: ApiOrder


_STATUSES = {
    "PENDING_AVAILABILITY": OrderStatus.PENDING_AVAILABILITY,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": OrderStatus.PARTIALLY_SHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELED,
    "UNFULFILLABLE": OrderStatus.UNFULFILLABLE,
}

# Included datasets searchOrders/getOrder should return for this product (prices, service level).
INCLUDED_DATA = ["FULFILLMENT", "PROCEEDS", "CANCELLATION"]
ORDERS_PER_PAGE = 100


def order_from_api(api: ApiOrder, marketplace_id: str) -> Order:
    """The order as the Orders API describes it, prices and service level included."""
    fulfillment = api.fulfillment or OrderFulfillment()
    status = _STATUSES.get(fulfillment.fulfillment_status or "")
    if status is None:
        raise ValueError(
            f"order {api.order_id}: unknown fulfillmentStatus {fulfillment.fulfillment_status!r}"
        )
    ship_by = fulfillment.ship_by_window or DateTimeRange()
    deliver_by = fulfillment.deliver_by_window or DateTimeRange()
    programs = [p.upper() for p in api.programs]
    return Order(
        flags=_cancellation_flags(api),
        order_id=api.order_id,
        marketplace_id=api.sales_channel.marketplace_id or marketplace_id,
        status=status,
        fulfillment_channel=FulfillmentChannel.AFN
        if fulfillment.fulfilled_by == "AMAZON"
        else FulfillmentChannel.MFN,
        purchase_date=api.created_time,
        last_update_date=api.last_updated_time,
        earliest_ship_date=ship_by.earliest,
        latest_ship_date=ship_by.latest,
        earliest_delivery_date=deliver_by.earliest,
        latest_delivery_date=deliver_by.latest,
        is_prime=any("PRIME" in p for p in programs),
        is_business_order="AMAZON_BUSINESS" in programs or "BUSINESS" in programs,
        ship_service_level=fulfillment.fulfillment_service_level,
        order_total=api.proceeds.grand_total.money() if api.proceeds and api.proceeds.grand_total else None,
        enriched=True,
        items=[
            OrderItem(
                order_item_id=item.order_item_id,
                sku=item.product.seller_sku or "",
                quantity=max(item.quantity_ordered, 0),
                quantity_shipped=max(
                    (item.fulfillment.quantity_fulfilled or 0) if item.fulfillment else 0, 0
                ),
                title=item.product.title,
                asin=item.product.asin,
                unit_price=item.product.price.unit_price.money()
                if item.product.price and item.product.price.unit_price
                else None,
            )
            for item in api.order_items
        ],
    )


def _cancellation_flags(api: ApiOrder) -> list[OrderFlag]:
    """Who asked for or made a cancellation (Amazon counts only the seller's against the seller)."""
    requested = {
        (item.cancellation.cancellation_request.requester if item.cancellation.cancellation_request else None)
        for item in api.order_items
        if item.cancellation
    }
    made_by = {
        (
            item.cancellation.cancellation_execution.cancelled_by
            if item.cancellation.cancellation_execution
            else None
        )
        for item in api.order_items
        if item.cancellation
    }
    flags = []
    if "BUYER" in requested or "BUYER" in made_by:
        flags.append(OrderFlag.BUYER_REQUESTED_CANCEL)
    if "AMAZON" in made_by:
        flags.append(OrderFlag.CANCELED_BY_AMAZON)
    return flags


# --- v0 confirmShipment (the write the 2026-01-01 API does not have) ----------------------------------


class NoContent(_Model):
    """confirmShipment answers 204 with no body."""


def confirm_shipment(
    client: SpApiClient,
    *,
    order_id: str,
    marketplace_id: str,
    package_reference_id: str,
    carrier_code: str,
    carrier_name: str | None,
    shipping_method: str | None,
    tracking_number: str,
    ship_date: datetime,
    items: list[tuple[str, int]],
) -> None:
    """Tell Amazon a package left: its carrier, tracking number, ship date and the units in it."""
    detail: dict[str, object] = {
        "packageReferenceId": package_reference_id,
        "carrierCode": carrier_code,
        "trackingNumber": tracking_number,
        "shipDate": iso_z(ship_date),
        "orderItems": [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in items],
    }
    if carrier_name:
        detail["carrierName"] = carrier_name
    if shipping_method:
        detail["shippingMethod"] = shipping_method
    client.call(
        "confirmShipment",
        NoContent,
        region=region_of(marketplace_id),
        path={"orderId": order_id},
        body={"packageDetail": detail, "marketplaceId": marketplace_id},
    )


# --- the buyer's name and address (PII), read only when an order is about to ship ------------------


class ApiAddress(_Model):
    name: str | None = None
    company_name: str | None = Field(default=None, alias="companyName")
    address_line1: str | None = Field(default=None, alias="addressLine1")
    address_line2: str | None = Field(default=None, alias="addressLine2")
    address_line3: str | None = Field(default=None, alias="addressLine3")
    city: str | None = None
    state_or_region: str | None = Field(default=None, alias="stateOrRegion")
    postal_code: str | None = Field(default=None, alias="postalCode")
    country_code: str | None = Field(default=None, alias="countryCode")
    phone: str | None = None


class ApiRecipient(_Model):
    delivery_address: ApiAddress | None = Field(default=None, alias="deliveryAddress")


class ApiBuyer(_Model):
    buyer_name: str | None = Field(default=None, alias="buyerName")
    buyer_email: str | None = Field(default=None, alias="buyerEmail")


class OrderWithPii(_Model):
    order_id: str = Field(alias="orderId")
    buyer: ApiBuyer | None = None
    recipient: ApiRecipient | None = None


class GetOrderPiiResponse(_Model):
    order: OrderWithPii


def order_item_titles(client: SpApiClient, order_id: str, marketplace_id: str) -> dict[str, str]:
    """The order's own item titles by orderItemId and by seller SKU (getOrder: its items come with every
    answer)."""
    order = client.call(
        "getOrder",
        GetOrderResponse,
        region=region_of(marketplace_id),
        path={"orderId": order_id},
        query={"includedData": ["FULFILLMENT"]},
    ).order
    titles: dict[str, str] = {}
    for item in order.order_items:
        if item.product.title:
            titles[item.order_item_id] = item.product.title
            if item.product.seller_sku:
                titles.setdefault(item.product.seller_sku, item.product.title)
    return titles


def get_order_pii(client: SpApiClient, order_id: str, marketplace_id: str) -> OrderWithPii:
    """getOrder with the BUYER and RECIPIENT data sets (Amazon shows them once an order is paid)."""
    return client.call(
        "getOrder",
        GetOrderPiiResponse,
        region=region_of(marketplace_id),
        path={"orderId": order_id},
        query={"includedData": ["BUYER", "RECIPIENT"]},
    ).order
