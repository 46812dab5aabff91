"""The local marketplace's state: orders with their lines and packages, listings, FBA stock.

Plain mutable records; the Marketplace guards them with its lock and shapes.py renders them in
Amazon's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from oms_local.simulator.catalogue import Product

# Order statuses as Amazon names them in notifications (and Orders v0); v2026-01-01 spells them
# as FulfillmentStatus values.
PENDING_AVAILABILITY = "PendingAvailability"
PENDING = "Pending"
UNSHIPPED = "Unshipped"
PARTIALLY_SHIPPED = "PartiallyShipped"
SHIPPED = "Shipped"
CANCELED = "Canceled"
UNFULFILLABLE = "Unfulfillable"

FULFILLMENT_STATUS = {
    PENDING_AVAILABILITY: "PENDING_AVAILABILITY",
    PENDING: "PENDING",
    UNSHIPPED: "UNSHIPPED",
    PARTIALLY_SHIPPED: "PARTIALLY_SHIPPED",
    SHIPPED: "SHIPPED",
    CANCELED: "CANCELLED",
    UNFULFILLABLE: "UNFULFILLABLE",
}
OPEN = (PENDING_AVAILABILITY, PENDING, UNSHIPPED, PARTIALLY_SHIPPED)


@dataclass
class Address:
    name: str
    line1: str
    city: str
    state: str
    postal_code: str
    phone: str
    line2: str | None = None
    company: str | None = None
    address_type: str = "RESIDENTIAL"
    country_code: str = "US"


@dataclass
class Buyer:
    name: str
    email: str
    company: str | None = None


@dataclass
class Line:
    order_item_id: str
    product: Product
    quantity: int
    unit_price: Decimal
    shipped: int = 0
    cancel_requested: bool = False
    cancel_reason: str | None = None
    canceled_by: str | None = None  # BUYER, MERCHANT or AMAZON once canceled

    @property
    def unshipped(self) -> int:
        return self.quantity - self.shipped

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class Package:
    reference_id: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    ship_date: datetime
    created: datetime
    items: list[tuple[str, int]]  # (orderItemId, units)


@dataclass
class ShippingLabel:
    """A label bought with createShipment (Buy Shipping); the order ships only once confirmed."""

    shipment_id: str
    service_id: str
    service_name: str
    carrier_name: str
    carrier_code: str  # as confirmShipment names the carrier: UPS, USPS
    tracking_id: str
    rate: Decimal
    ship_date: datetime
    latest_delivery: datetime
    created: datetime
    items: list[tuple[str, int]]  # (orderItemId, units)
    file_type: str
    size_bytes: int


@dataclass
class BuyerMessage:
    """A message the seller sent the buyer through the Messaging API."""

    kind: str  # the messaging action, e.g. unexpectedProblem
    text: str
    sent: datetime


@dataclass
class Order:
    order_id: str
    created: datetime
    updated: datetime
    status: str
    afn: bool
    prime: bool
    business: bool
    preorder: bool
    service_level: str
    ship_window: tuple[datetime, datetime]
    delivery_window: tuple[datetime, datetime]
    buyer: Buyer
    address: Address
    lines: list[Line]
    packages: list[Package] = field(default_factory=list)
    labels: list[ShippingLabel] = field(default_factory=list)
    messages: list[BuyerMessage] = field(default_factory=list)
    noticed: datetime | None = None  # the EventTime of its last ORDER_CHANGE: each later one is later

    @property
    def fulfillment_type(self) -> str:
        return "AFN" if self.afn else "MFN"

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def units_shipped(self) -> int:
        return sum(line.shipped for line in self.lines)

    def line(self, order_item_id: str) -> Line | None:
        return next((line for line in self.lines if line.order_item_id == order_item_id), None)


@dataclass
class Listing:
    """A seller's offer of one SKU; `quantity` is the MFN quantity last pushed (patchListingsItem)."""

    product: Product
    quantity: int
    created: datetime
    updated: datetime
    attributes: dict[str, object] = field(default_factory=dict)


@dataclass
class FbaStock:
    product: Product
    fulfillable: int
    inbound_working: int = 0
    inbound_shipped: int = 0
    inbound_receiving: int = 0
    reserved_orders: int = 0  # pendingCustomerOrderQuantity
    reserved_processing: int = 0  # fcProcessingQuantity
    researching: int = 0
    unfulfillable: int = 0
    updated: datetime | None = None

    @property
    def reserved(self) -> int:
        return self.reserved_orders + self.reserved_processing

    @property
    def total(self) -> int:
        return (
            self.fulfillable
            + self.reserved
            + self.researching
            + self.unfulfillable
            + self.inbound_working
            + self.inbound_shipped
            + self.inbound_receiving
        )
