"""Account health as Amazon measures a seller-fulfilled account, counted on the orders kept here.

- Late shipment rate (10 and 30 days; target under 4%): of the MFN orders whose latest ship date fell in the
  window, those whose first package reached Amazon (was confirmed) after it, or that are still unshipped
  or unconfirmed past it.
- Pre-fulfilment cancel rate (7 days; under 2.5%): of the MFN orders purchased in the window, those
  canceled before shipping, except cancellations the buyer asked for or Amazon made (e.g. a failed
  payment), which Amazon does not count against the seller.
- Valid tracking rate (30 days; over 95%): of the MFN orders shipped in the window, those whose every
  package carries a tracking number that passes its carrier's check; an order Amazon reports shipped with
  no shipment recorded here counts as untracked.
- On-time delivery rate (14 days; over 90%): of the MFN orders whose latest delivery date fell in the window
  and that have shipped, those expected by that date: the label's delivery estimate, else the ship date
  plus the carrier's transit days in business days; once a carrier's scans came in (a tracking
  integration), each package counts when it was delivered (oms.shipping.deliveries).

Each comes with a projection: its value at the window's end if every order now flagged atRisk or late
ships late (and, for delivery, arrives late). One Query over the orders purchased in the last 60 days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from oms.domain.carriers import carrier as find_carrier
from oms.domain.orders import (
    ALL_SHIPPED,
    ConfirmationStatus,
    FulfillmentChannel,
    Order,
    OrderFlag,
    OrderStatus,
    Shipment,
    ShipmentSource,
)
from oms.domain.shipments import first_ship_date
from oms.domain.types import ApiModel, iso_z, utc_now
from oms.store import keys
from oms.store.orders import order_from_item
from oms.store.table import Table
from oms.warehouse.settings import ShippingSettings, ShippingSettingsStore

LOOKBACK = timedelta(days=60)


class Metric(ApiModel):
    value: float | None = None  # a fraction, None while no order counts
    target: float
    comparison: str  # "below" or "above": where the value must stay
    projected: float | None = None
    window: str
    numerator: int
    denominator: int
    projected_numerator: int
    projected_denominator: int
    meets_target: bool | None = None


class AccountHealth(ApiModel):
    as_of: str
    late_shipment_rate: Metric
    late_shipment_rate30d: Metric = Field(alias="lateShipmentRate30d")
    pre_fulfillment_cancel_rate: Metric
    valid_tracking_rate: Metric
    on_time_delivery_rate: Metric
    refund_on_time_rate: Metric | None = Field(
        default=None, description="returns refunded by refundDueBy (30 days; target 98%): oms.returns.health"
    )
    return_decision_on_time_rate: Metric | None = Field(
        default=None, description="return requests answered within 24 hours (30 days; target 98%)"
    )
    late_response_rate7d: Metric | None = Field(
        default=None,
        alias="lateResponseRate7d",
        description="buyer messages answered after 24 hours or not at all (7 days; target under 10%): oms.care.clock",
    )
    late_response_rate30d: Metric | None = Field(
        default=None, alias="lateResponseRate30d", description="the same over 30 days"
    )
    late_response_rate90d: Metric | None = Field(
        default=None, alias="lateResponseRate90d", description="the same over 90 days"
    )


# Figures other capabilities add to account health (the returns' refund and decision rates): counted with the
# rest and kept in the same snapshot, without this package knowing them.
MoreFigures = Callable[[Table, datetime], dict[str, "Metric"]]


@dataclass
class Count:
    hit: int = 0
    total: int = 0
    hit_if_risky: int = 0
    total_if_risky: int = 0


def metric(count: Count, *, target: float, below: bool, window: int) -> Metric:
    """For rates of good things (tracking, delivery) risky orders add to the total only."""
    value = count.hit / count.total if count.total else None
    projected_total = count.total + count.total_if_risky
    projected = (count.hit + count.hit_if_risky) / projected_total if projected_total else None
    meets = None if value is None else (value < target if below else value >= target)
    return Metric(
        value=None if value is None else round(value, 4),
        target=target,
        comparison="below" if below else "above",
        projected=None if projected is None else round(projected, 4),
        window=f"{window}d",
        numerator=count.hit,
        denominator=count.total,
        projected_numerator=count.hit + count.hit_if_risky,
        projected_denominator=projected_total,
        meets_target=meets,
    )


def _risky(order: Order) -> bool:
    return OrderFlag.AT_RISK in order.flags or OrderFlag.LATE in order.flags


def account_health(orders: Iterable[Order], settings: ShippingSettings, now: datetime) -> AccountHealth:
    lsr10, lsr30, cancel, tracking, delivery = Count(), Count(), Count(), Count(), Count()
    for order in orders:
        if order.fulfillment_channel != FulfillmentChannel.MFN:
            continue
        shipped_at = first_ship_date(order)
        unshipped = (
            order.status not in ALL_SHIPPED and order.status != OrderStatus.CANCELED and shipped_at is None
        )
        lsd = order.latest_ship_date
        for count, days in ((lsr10, 10), (lsr30, 30)):
            if lsd and now - timedelta(days=days) <= lsd <= now and order.status != OrderStatus.CANCELED:
                count.total += 1
                # Amazon knows a shipment once it is confirmed: a package recorded but still unconfirmed
                # past the latest ship date is late as far as Amazon can tell
                told = _told_amazon_at(order)
                shipped_elsewhere = order.status in ALL_SHIPPED and not order.shipments
                late = (told is not None and told > lsd) or (
                    told is None and not shipped_elsewhere and now > lsd
                )
                count.hit += late
            elif lsd and lsd > now and unshipped and _risky(order):
                # due later in the window's future: counts once it is due, late if it ships late
                count.hit_if_risky += 1
                count.total_if_risky += 1
        if now - timedelta(days=7) <= order.purchase_date <= now:
            cancel.total += 1
            if order.status == OrderStatus.CANCELED and shipped_at is None:
                cancel.hit += not (
                    {OrderFlag.BUYER_REQUESTED_CANCEL, OrderFlag.CANCELED_BY_AMAZON} & set(order.flags)
                )
            elif unshipped and OrderFlag.STOCK_SHORTAGE in order.flags:
                cancel.hit_if_risky += 1  # cannot ship without stock: a cancel in waiting
        shipped_on = shipped_at or (order.last_update_date if order.status in ALL_SHIPPED else None)
        if shipped_on and now - timedelta(days=30) <= shipped_on <= now:
            tracking.total += 1
            valid = bool(order.shipments) and all(
                s.source == ShipmentSource.BUY_SHIPPING  # Amazon's own labels carry valid tracking
                or (
                    (found := find_carrier(s.carrier)) is not None and found.valid_tracking(s.tracking_number)
                )
                for s in order.shipments
            )
            tracking.hit += valid
        ldd = order.latest_delivery_date
        if ldd and now - timedelta(days=14) <= ldd <= now and shipped_at is not None:
            delivery.total += 1
            delivery.hit += _expected_by(order, settings) <= ldd
        elif ldd and ldd > now and unshipped and _risky(order):
            delivery.total_if_risky += 1  # if it ships late it arrives late: not on time
    return AccountHealth(
        as_of=iso_z(now),
        late_shipment_rate=metric(lsr10, target=0.04, below=True, window=10),
        late_shipment_rate30d=metric(lsr30, target=0.04, below=True, window=30),
        pre_fulfillment_cancel_rate=metric(cancel, target=0.025, below=True, window=7),
        valid_tracking_rate=metric(tracking, target=0.95, below=False, window=30),
        on_time_delivery_rate=metric(delivery, target=0.90, below=False, window=14),
    )


def _told_amazon_at(order: Order) -> datetime | None:
    """When Amazon learned the order shipped: its first confirmed package (not before its ship date)."""
    told = [
        max(s.ship_date, s.confirmation.confirmed_at)
        for s in order.shipments
        if s.confirmation.status == ConfirmationStatus.CONFIRMED and s.confirmation.confirmed_at
    ]
    return min(told, default=None)


def _expected_by(order: Order, settings: ShippingSettings) -> datetime:
    if any(s.scans for s in order.shipments):
        # a carrier's scans came in (a tracking integration): each package counts when it was delivered,
        # a package not delivered yet (or never scanned) by its own estimate
        return max(s.delivered_at or _package_estimate(s, settings) for s in order.shipments)
    estimates = [s.estimated_delivery for s in order.shipments if s.estimated_delivery]
    if estimates:
        return max(estimates)
    last = max(order.shipments, key=lambda s: s.ship_date)
    transit = settings.carrier(last.carrier).transit_days
    return settings.calendar.add_working_days(last.ship_date, transit)


def _package_estimate(shipment: Shipment, settings: ShippingSettings) -> datetime:
    if shipment.estimated_delivery:
        return shipment.estimated_delivery
    transit = settings.carrier(shipment.carrier).transit_days
    return settings.calendar.add_working_days(shipment.ship_date, transit)


def current_account_health(
    table: Table, now: datetime | None = None, more: MoreFigures | None = None
) -> AccountHealth:
    now = now or utc_now()
    since = iso_z(now - LOOKBACK)
    orders = (order_from_item(item) for item in table.query_all(keys.orders_by_purchase_date(since, None)))
    health = account_health(orders, ShippingSettingsStore(table).get(), now)
    return health.model_copy(update=more(table, now)) if more else health


SNAPSHOT_MAX_AGE = timedelta(minutes=20)  # ship_guard refreshes it every 15 minutes


def refresh_snapshot(
    table: Table, now: datetime | None = None, more: MoreFigures | None = None
) -> AccountHealth:
    """Count now and keep the figures (the ship_guard schedule does this, so the API reads one item)."""
    health = current_account_health(table, now, more)
    table.put(
        {
            **keys.metrics_key("account-health"),
            "entity": "MetricsSnapshot",
            "figures": health.model_dump(mode="json", by_alias=True),
        }
    )
    return health


def account_health_now(
    table: Table, *, fresh: bool = False, now: datetime | None = None, more: MoreFigures | None = None
) -> AccountHealth:
    """Counted now (`fresh`), or the kept figures while they are recent (else counted and kept now)."""
    now = now or utc_now()
    if fresh:
        return current_account_health(table, now, more)  # a read: only the guard and a stale cache write
    item = table.get(keys.metrics_key("account-health"))
    if item is not None:
        kept = AccountHealth.model_validate(item["figures"])
        if now - datetime.fromisoformat(kept.as_of) <= SNAPSHOT_MAX_AGE:
            return kept
    return refresh_snapshot(table, now, more)
