"""What the packer sees on an order awaiting shipment: the ship-by time in the warehouse's zone and the
carrier cutoff that applies (the next pickup of the carrier it will leave with)."""

from __future__ import annotations

from datetime import datetime

from oms.domain.deadlines import AWAITING_SHIPMENT, ON_TIME, assess, with_deadline_flags
from oms.domain.orders import FulfillmentChannel, Order
from oms.domain.types import ApiModel, UtcDateTime, utc_now
from oms.store.table import Table
from oms.warehouse.settings import ShippingSettings, ShippingSettingsStore


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


def with_deadline(order: Order, settings: ShippingSettings) -> Order:
    """The order with a latest ship date: Amazon's, or (when Amazon gave none) the purchase plus the
    default carrier's handling time in business days."""
    if order.latest_ship_date is not None:
        return order
    handling = settings.carrier().handling_days
    deadline = settings.calendar.add_working_days(order.purchase_date, handling)
    return order.model_copy(update={"latest_ship_date": deadline})


def ship_by(
    order: Order, settings: ShippingSettings, now: datetime
) -> tuple[LocalTime | None, Cutoff | None]:
    if not awaiting_shipment(order):
        return None, None
    order = with_deadline(order, settings)
    if order.latest_ship_date is None:  # for the type checker: with_deadline always sets one
        return None, None
    calendar = settings.calendar
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


def guarded(table: Table, order: Order, now: datetime | None = None) -> Order:
    """The order with its atRisk/late flags as of now (the deadline guard, on every order change)."""
    if not awaiting_shipment(order):  # Amazon ships it, or it shipped or ended: nothing can be late
        return with_deadline_flags(order, ON_TIME)
    settings = ShippingSettingsStore(table).get()
    carrier = settings.carrier()
    assessment = assess(
        with_deadline(order, settings),
        now or utc_now(),
        settings.calendar,
        settings.pickup(carrier.code),
        at_risk_share=settings.at_risk_share,
    )
    return with_deadline_flags(order, assessment)
