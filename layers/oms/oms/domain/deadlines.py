"""The deadline guard's rules: is an unshipped order at risk of shipping late, or late already?

Amazon counts an MFN order late when its ship confirmation comes after the latest ship date. An
order is at risk before that: when less than a share of its working time is left, or when the
next carrier pickup comes only after the latest ship date. Pure: the clock is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from oms.domain.calendar import BusinessCalendar, PickupSchedule
from oms.domain.orders import FulfillmentChannel, Order, OrderFlag, OrderStatus, flags_in_order

AWAITING_SHIPMENT = frozenset({OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED})
DEFAULT_AT_RISK_SHARE = 0.25


@dataclass(frozen=True)
class Assessment:
    at_risk: bool
    late: bool
    reason: str | None
    working_time_left: timedelta | None
    next_pickup: datetime | None


ON_TIME = Assessment(False, False, None, None, None)


def assess(
    order: Order,
    now: datetime,
    calendar: BusinessCalendar,
    pickup: PickupSchedule | None = None,
    *,
    at_risk_share: float = DEFAULT_AT_RISK_SHARE,
) -> Assessment:
    """Where an order stands against its latest ship date (only seller-fulfilled, unshipped orders can slip)."""
    if not 0 < at_risk_share < 1:
        raise ValueError("the at-risk share is a fraction between 0 and 1")
    deadline = order.latest_ship_date
    if (
        order.fulfillment_channel != FulfillmentChannel.MFN
        or order.status not in AWAITING_SHIPMENT
        or not deadline
    ):
        return ON_TIME
    left = calendar.working_time_between(now, deadline)
    next_pickup = pickup.next_pickup(calendar, now) if pickup else None
    if now > deadline:
        return Assessment(True, True, "the latest ship date has passed", left, next_pickup)
    start = order.earliest_ship_date or order.purchase_date
    total = calendar.working_time_between(min(start, now), deadline)
    if next_pickup and next_pickup > deadline:
        return Assessment(
            True,
            False,
            f"the next {pickup.carrier if pickup else ''} pickup is after the latest ship date",
            left,
            next_pickup,
        )
    if total > timedelta() and left < total * at_risk_share:
        share = int(at_risk_share * 100)
        return Assessment(
            True, False, f"less than {share}% of the working time to ship is left", left, next_pickup
        )
    return Assessment(False, False, None, left, next_pickup)


def with_deadline_flags(order: Order, assessment: Assessment) -> Order:
    """The order with its atRisk/late flags as the assessment says (other flags untouched)."""
    kept = [f for f in order.flags if f not in (OrderFlag.AT_RISK, OrderFlag.LATE)]
    raised = [
        f for f, on in ((OrderFlag.AT_RISK, assessment.at_risk), (OrderFlag.LATE, assessment.late)) if on
    ]
    flags = flags_in_order(kept + raised)
    return order if flags == order.flags else order.model_copy(update={"flags": flags})
