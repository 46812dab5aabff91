"""The deadline guard at chosen instants: weekends, holidays and carrier cutoffs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from oms.domain.calendar import BusinessCalendar, PickupSchedule
from oms.domain.deadlines import assess
from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.domain.types import utc_now

NY = ZoneInfo("America/New_York")
US = BusinessCalendar(timezone="America/New_York", country="US")
UPS = PickupSchedule("UPS", cutoff=time(16, 0))


def order(
    purchased: datetime,
    ship_by: datetime,
    *,
    status: OrderStatus = OrderStatus.UNSHIPPED,
    channel: FulfillmentChannel = FulfillmentChannel.MFN,
) -> Order:
    return Order(
        order_id="111-1",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=purchased,
        last_update_date=purchased,
        latest_ship_date=ship_by,
        items=[OrderItem(order_item_id="1", sku="S", quantity=1)],
    )


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


@time_machine.travel(ny(2026, 11, 24, 9, 0), tick=False)
def test_an_order_with_most_of_its_working_time_left_is_fine():
    result = assess(order(ny(2026, 11, 23, 10), ny(2026, 11, 25, 18)), utc_now(), US, UPS)
    assert not result.at_risk and not result.late


@time_machine.travel(ny(2026, 11, 25, 16, 30), tick=False)
def test_after_the_last_cutoff_before_a_holiday_the_order_is_at_risk():
    # ship by Friday 10:00; Thursday is Thanksgiving, the next pickup is Friday 16:00: too late
    result = assess(order(ny(2026, 11, 24, 10), ny(2026, 11, 27, 10)), utc_now(), US, UPS)
    assert result.at_risk and not result.late
    assert "pickup" in (result.reason or "")
    assert result.next_pickup == ny(2026, 11, 27, 16).astimezone(UTC)


@time_machine.travel(ny(2026, 11, 30, 15, 0), tick=False)
def test_little_working_time_left_is_at_risk_even_across_a_weekend_but_not_yet_late():
    # purchased Friday 9:00, ship by Monday 17:00 (weekend in between): 2 of 18 working hours left
    result = assess(order(ny(2026, 11, 27, 9), ny(2026, 11, 30, 17)), utc_now(), US)
    assert result.at_risk and "working time" in (result.reason or "")
    assert not result.late, "at risk is a warning: the latest ship date has not passed"
    assert result.working_time_left == timedelta(hours=2)


@time_machine.travel(ny(2026, 12, 1, 9, 0), tick=False)
def test_past_the_latest_ship_date_it_is_late():
    result = assess(order(ny(2026, 11, 27, 9), ny(2026, 11, 30, 17)), utc_now(), US, UPS)
    assert result.late and result.at_risk


@pytest.mark.parametrize(
    ("status", "channel"),
    [
        (OrderStatus.SHIPPED, FulfillmentChannel.MFN),
        (OrderStatus.CANCELED, FulfillmentChannel.MFN),
        (OrderStatus.UNSHIPPED, FulfillmentChannel.AFN),
        (OrderStatus.PENDING, FulfillmentChannel.MFN),
    ],
)
def test_shipped_canceled_amazon_fulfilled_or_pending_orders_cannot_be_late(status, channel):
    result = assess(
        order(ny(2026, 11, 1, 9), ny(2026, 11, 2, 9), status=status, channel=channel), ny(2026, 12, 1, 9), US
    )
    assert not result.late and not result.at_risk


@pytest.mark.parametrize(("share", "boundary"), [(0.25, ny(2026, 11, 30, 14)), (0.5, ny(2026, 11, 30, 12))])
def test_exactly_the_at_risk_share_left_is_still_fine_and_a_second_less_is_at_risk(share, boundary):
    # bought Monday 8:00 (the warehouse opens), ship by Monday 16:00: 8 working hours in all
    bought_monday = order(ny(2026, 11, 30, 8), ny(2026, 11, 30, 16))

    on_the_line = assess(bought_monday, boundary, US, at_risk_share=share)
    just_past = assess(bought_monday, boundary + timedelta(seconds=1), US, at_risk_share=share)

    assert on_the_line.working_time_left == timedelta(hours=8) * share
    assert not on_the_line.at_risk and not on_the_line.late and on_the_line.reason is None
    assert just_past.at_risk and not just_past.late
    assert just_past.reason == f"less than {int(share * 100)}% of the working time to ship is left"


def test_at_the_latest_ship_date_itself_the_order_is_at_risk_but_not_late():
    ship_by = ny(2026, 11, 30, 17)
    on_the_dot = assess(order(ny(2026, 11, 27, 9), ship_by), ship_by, US)
    a_second_after = assess(order(ny(2026, 11, 27, 9), ship_by), ship_by + timedelta(seconds=1), US)

    assert on_the_dot.at_risk and not on_the_dot.late
    assert a_second_after.late


def test_a_pickup_exactly_at_the_latest_ship_date_still_makes_it():
    # bought Monday 8:00, ship by Wednesday 16:00 (UPS's cutoff); on Wednesday at 10:00, 6 of 28 working hours
    # are left (above a 10% share) and the day's pickup is the deadline itself
    result = assess(
        order(ny(2026, 11, 23, 8), ny(2026, 11, 25, 16)), ny(2026, 11, 25, 10), US, UPS, at_risk_share=0.1
    )

    assert result.next_pickup == ny(2026, 11, 25, 16)
    assert not result.at_risk and not result.late


@pytest.mark.parametrize("share", [0, 1, -0.25, 1.5])
def test_an_at_risk_share_outside_0_to_1_is_refused(share):
    with pytest.raises(ValueError, match="between 0 and 1"):
        assess(
            order(ny(2026, 11, 23, 8), ny(2026, 11, 25, 16)), ny(2026, 11, 24, 10), US, at_risk_share=share
        )
