"""SP-API notification documents as pydantic models.

They accept every document valid under Amazon's schemas (contracts/sp-api-models/schemas/notifications):
fields Amazon adds later are ignored, any SellerSKU text is kept as is, and the time fields,
which the schemas type as plain strings, are read as instants when they are instants and as
unknown (None) otherwise. What the schema requires is required here too: a document without it
is refused and its message goes, alone, to the DLQ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from oms.domain.orders import OrderStatus

APPLIED_RECORD_DAYS = 30  # how long "applied" records are kept: longer than SQS keeps a message (14 days)


class Outcome(StrEnum):
    """What applying one notification did (each type's owner returns one)."""

    APPLIED = "applied"
    STALE = "stale"  # older than what the order already reflects: recorded, no effect
    DUPLICATE = "duplicate"  # this change was applied before


def _instant_or_none(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# A schema "string" that should hold an ISO-8601 instant; anything else reads as unknown.
Instant = Annotated[datetime | None, BeforeValidator(_instant_or_none)]


class AmazonModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


def _either(name: str) -> AliasChoices:
    """Amazon writes the envelope in PascalCase for most types, in camelCase for some (reports)."""
    return AliasChoices(name, name[0].lower() + name[1:])


class NotificationMetadata(AmazonModel):
    application_id: str = Field(validation_alias=_either("ApplicationId"))
    subscription_id: str = Field(validation_alias=_either("SubscriptionId"))
    publish_time_text: str = Field(validation_alias=_either("PublishTime"))
    notification_id: str = Field(validation_alias=_either("NotificationId"))

    @property
    def publish_time(self) -> datetime | None:
        return _instant_or_none(self.publish_time_text)


class Notification(AmazonModel):
    """The envelope every SP-API notification shares."""

    notification_version: str | None = Field(default=None, validation_alias=_either("NotificationVersion"))
    notification_type: str = Field(validation_alias=_either("NotificationType"))
    payload_version: str = Field(validation_alias=_either("PayloadVersion"))
    event_time_text: str = Field(validation_alias=_either("EventTime"))
    payload: dict[str, Any] = Field(validation_alias=_either("Payload"))
    notification_metadata: NotificationMetadata = Field(validation_alias=_either("NotificationMetadata"))

    @property
    def event_time(self) -> datetime | None:
        return _instant_or_none(self.event_time_text)

    @property
    def notification_id(self) -> str:
        return self.notification_metadata.notification_id


class NotificationLevel(StrEnum):
    ORDER = "OrderLevel"
    ORDER_ITEM = "OrderItemLevel"


class OrderChangeType(StrEnum):
    ORDER_STATUS_CHANGE = "OrderStatusChange"
    BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"
    DELIVERY_TIP_CHANGE = "DeliveryTipChange"


class OrderChangeTrigger(AmazonModel):
    time_of_order_change: Instant = Field(alias="TimeOfOrderChange")
    change_reason: str = Field(alias="ChangeReason")


class OrderChangeItem(AmazonModel):
    order_item_id: str = Field(alias="OrderItemId")
    seller_sku: str = Field(alias="SellerSKU")
    supply_source_id: str | None = Field(alias="SupplySourceId")
    order_item_status: str | None = Field(default=None, alias="OrderItemStatus")
    quantity: int = Field(alias="Quantity")
    quantity_shipped: int | None = Field(default=None, alias="QuantityShipped")
    is_buyer_requested_cancel: bool | None = Field(default=None, alias="IsBuyerRequestedCancel")


class OrderChangeSummary(AmazonModel):
    marketplace_id: str = Field(alias="MarketplaceId")
    order_status: OrderStatus = Field(alias="OrderStatus")
    purchase_date: Instant = Field(alias="PurchaseDate")
    destination_postal_code: str | None = Field(alias="DestinationPostalCode")
    fulfillment_type: str = Field(alias="FulfillmentType", pattern="^(AFN|MFN)$")
    order_type: str = Field(alias="OrderType")
    number_of_items_shipped: int | None = Field(default=None, alias="NumberOfItemsShipped")
    number_of_items_unshipped: int | None = Field(default=None, alias="NumberOfItemsUnshipped")
    earliest_delivery_date: Instant = Field(default=None, alias="EarliestDeliveryDate")
    latest_delivery_date: Instant = Field(default=None, alias="LatestDeliveryDate")
    earliest_ship_date: Instant = Field(default=None, alias="EarliestShipDate")
    latest_ship_date: Instant = Field(default=None, alias="LatestShipDate")
    order_programs: list[str] = Field(default_factory=list, alias="OrderPrograms")
    shipping_programs: list[str] = Field(default_factory=list, alias="ShippingPrograms")
    order_items: list[OrderChangeItem] = Field(alias="OrderItems")


class OrderChangeNotification(AmazonModel):
    notification_level: NotificationLevel = Field(alias="NotificationLevel")
    seller_id: str = Field(alias="SellerId")
    amazon_order_id: str = Field(alias="AmazonOrderId")
    order_change_type: OrderChangeType = Field(alias="OrderChangeType")
    order_change_trigger: OrderChangeTrigger = Field(alias="OrderChangeTrigger")
    summary: OrderChangeSummary = Field(alias="Summary")


class OrderChangePayload(AmazonModel):
    order_change_notification: OrderChangeNotification = Field(alias="OrderChangeNotification")
