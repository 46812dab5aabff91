"""The order as this product keeps it (docs/openapi.json: OrderView, which adds how it is shown)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import Field, field_validator

from oms.domain.types import ApiModel, Money, UtcDateTime


class OrderStatus(StrEnum):
    PENDING = "Pending"
    UNSHIPPED = "Unshipped"
    PARTIALLY_SHIPPED = "PartiallyShipped"
    SHIPPED = "Shipped"
    CANCELED = "Canceled"
    UNFULFILLABLE = "Unfulfillable"
    INVOICE_UNCONFIRMED = "InvoiceUnconfirmed"
    PENDING_AVAILABILITY = "PendingAvailability"


class FulfillmentChannel(StrEnum):
    MFN = "MFN"  # shipped by the seller
    AFN = "AFN"  # shipped by Amazon (FBA)


class OrderFlag(StrEnum):
    AT_RISK = "atRisk"
    LATE = "late"
    STOCK_SHORTAGE = "stockShortage"
    BUYER_REQUESTED_CANCEL = "buyerRequestedCancel"
    CANCELED_BY_AMAZON = "canceledByAmazon"  # e.g. a payment that failed: not the seller's cancellation


# Statuses whose unshipped units hold stock; the shipped ones have left the shelf.
HOLDS_STOCK = frozenset(
    {
        OrderStatus.PENDING,
        OrderStatus.UNSHIPPED,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.PENDING_AVAILABILITY,
    }
)
ALL_SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.INVOICE_UNCONFIRMED})


class ShipmentSource(StrEnum):
    BUY_SHIPPING = "buyShipping"  # label bought through Amazon (Merchant Fulfillment): claim protection
    RECORDED = "recorded"  # carrier and tracking bought elsewhere


class ConfirmationStatus(StrEnum):
    PENDING = "pending"  # recorded here, not yet sent to Amazon
    RETRYING = "retrying"  # Amazon throttled or failed; tried again on a back-off
    REFUSED = "refused"  # Amazon said no; kept, retried hourly, needs the seller's eye
    CONFIRMED = "confirmed"


class ShipmentItem(ApiModel):
    order_item_id: str
    sku: str
    quantity: int = Field(gt=0)


class Confirmation(ApiModel):
    status: ConfirmationStatus = ConfirmationStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: UtcDateTime | None = None
    confirmed_at: UtcDateTime | None = None


class ScanStatus(StrEnum):
    IN_TRANSIT = "in-transit"
    OUT_FOR_DELIVERY = "out-for-delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class DeliveryScan(ApiModel):
    """A carrier's scan of the package, as a tracking integration reported it."""

    status: ScanStatus
    at: UtcDateTime
    description: str | None = None
    location: str | None = None
    source: str | None = Field(default=None, description="the integration that reported it")


class Shipment(ApiModel):
    shipment_id: str
    carrier: str  # Amazon's carrier code (CARRIERS)
    carrier_name: str
    tracking_number: str
    service: str | None = None
    ship_date: UtcDateTime
    items: list[ShipmentItem]
    source: ShipmentSource
    weight_grams: int | None = None
    rate: Money | None = None
    estimated_delivery: UtcDateTime | None = None
    label_key: str | None = None  # where a bought label is kept (documents bucket); the API links it
    amazon_shipment_id: str | None = None
    created_at: UtcDateTime
    confirmation: Confirmation = Field(default_factory=Confirmation)
    scans: list[DeliveryScan] = Field(default_factory=list, description="the carrier's scans, oldest first")
    delivered_at: UtcDateTime | None = Field(default=None, description="when a scan said it was delivered")


class OrderItem(ApiModel):
    order_item_id: str
    sku: str
    quantity: int = Field(ge=0)
    quantity_shipped: int = Field(default=0, ge=0)
    quantity_short: int = Field(
        default=0, ge=0, description="units of this line backordered now: no stock on hand serves them"
    )
    title: str | None = None
    asin: str | None = None
    unit_price: Money | None = None
    image_url: str | None = None  # from the catalogue, when shown


class OrderHandling(ApiModel):
    """How the order is to be handled, as the seller's rules set it (shown on the order)."""

    tags: list[str] = Field(default_factory=list)
    hold_until: UtcDateTime | None = Field(default=None, description="kept out of the work queue until then")
    carrier: str | None = Field(default=None, description="the carrier a rule chose")
    service: str | None = Field(default=None, description="the shipping service a rule chose")
    package_preset: str | None = Field(
        default=None, description="the package preset a rule chose for the label"
    )
    location: str | None = Field(default=None, description="the stock location to ship from")
    pick_group: str | None = None


class Order(ApiModel):
    order_id: str = Field(min_length=1)
    marketplace_id: str
    status: OrderStatus
    fulfillment_channel: FulfillmentChannel
    purchase_date: UtcDateTime
    last_update_date: UtcDateTime
    earliest_ship_date: UtcDateTime | None = None
    latest_ship_date: UtcDateTime | None = None
    earliest_delivery_date: UtcDateTime | None = None
    latest_delivery_date: UtcDateTime | None = None
    is_prime: bool = False
    is_business_order: bool = False
    order_type: str | None = None
    ship_service_level: str | None = None
    order_total: Money | None = None
    enriched: bool = False  # prices and service level read from the Orders API
    items: list[OrderItem] = Field(default_factory=list)
    shipments: list[Shipment] = Field(default_factory=list)
    flags: list[OrderFlag] = Field(default_factory=list)
    handling: OrderHandling | None = Field(default=None, description="set by the seller's order rules")

    @field_validator("flags")
    @classmethod
    def _one_order(cls, flags: list[OrderFlag]) -> list[OrderFlag]:
        """Each flag once, always in the same order, so two orders with the same flags compare equal."""
        return flags_in_order(flags)


def flags_in_order(flags: Iterable[OrderFlag]) -> list[OrderFlag]:
    """Each flag once, in the enum's order (model_copy skips validators: flag setters call this)."""
    present = set(flags)
    return [flag for flag in OrderFlag if flag in present]


def units_by_sku(order: Order) -> dict[str, tuple[int, int]]:
    """Per SKU: (units shipped so far, units still to ship that hold stock)."""
    totals: dict[str, tuple[int, int]] = {}
    for item in order.items:
        shipped = item.quantity if order.status in ALL_SHIPPED else min(item.quantity_shipped, item.quantity)
        needed = item.quantity - shipped if order.status in HOLDS_STOCK else 0
        before = totals.get(item.sku, (0, 0))
        totals[item.sku] = (before[0] + shipped, before[1] + needed)
    return totals


def with_shortage(order: Order, short_by_sku: dict[str, int]) -> Order:
    """The order showing what it is short now: units short per line (a SKU's short units go to its
    last lines first) and the stockShortage flag exactly while some unit is short."""
    left = {sku: units for sku, units in short_by_sku.items() if units > 0}
    items = list(order.items)
    for index in reversed(range(len(items))):
        item = items[index]
        open_units = item.quantity - min(item.quantity_shipped, item.quantity)
        short = min(left.get(item.sku, 0), open_units)
        left[item.sku] = left.get(item.sku, 0) - short
        items[index] = item.model_copy(update={"quantity_short": short})
    flags: list[OrderFlag] = [f for f in order.flags if f != OrderFlag.STOCK_SHORTAGE]
    if any(item.quantity_short for item in items):
        flags.append(OrderFlag.STOCK_SHORTAGE)
    return order.model_copy(update={"items": items, "flags": flags_in_order(flags)})
