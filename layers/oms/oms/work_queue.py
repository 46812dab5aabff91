"""What the packer sees on an order awaiting shipment: the ship-by time in the warehouse's zone and the
carrier cutoff that applies (the next pickup of the carrier it will leave with)."""

from __future__ import annotations

from datetime import datetime

from oms.domain.deadlines import AWAITING_SHIPMENT
from oms.domain.orders import FulfillmentChannel, Order
from oms.domain.types import ApiModel, UtcDateTime
from oms.shipping_settings import ShippingSettings


class LocalTime(ApiModel):
    at: UtcDateTime
    local: str  # ISO-8601 with the warehouse's offset
    time_zone: str


class Cutoff(ApiModel):
    carrier: str
    at: UtcDateTime
    local: str
    after_latest_ship_date: bool  # the next pickup leaves too late: hand it to another carrier or hurry


def awaiting_shipment(order: Order) -> bool:
    return order.fulfillment_channel == FulfillmentChannel.MFN and order.status in AWAITING_SHIPMENT


def ship_by(
    order: Order, settings: ShippingSettings, now: datetime
) -> tuple[LocalTime | None, Cutoff | None]:
    if not awaiting_shipment(order) or order.latest_ship_date is None:
        return None, None
    calendar = settings.calendar()
    zone = settings.warehouse.time_zone
    must = LocalTime(
        at=order.latest_ship_date, local=calendar.local(order.latest_ship_date).isoformat(), time_zone=zone
    )
    carrier = order.shipments[-1].carrier if order.shipments else settings.default_carrier
    pickup = settings.pickup(carrier).next_pickup(calendar, now)
    cutoff = Cutoff(
        carrier=carrier,
        at=pickup,
        local=calendar.local(pickup).isoformat(),
        after_latest_ship_date=pickup > order.latest_ship_date,
    )
    return must, cutoff
