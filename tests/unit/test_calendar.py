"""Business time as Amazon counts it: weekends, public holidays, carrier holidays and cutoffs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oms.domain.calendar import BusinessCalendar, PickupSchedule

NY = ZoneInfo("America/New_York")
US = BusinessCalendar(timezone="America/New_York", country="US")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_thanksgiving_and_weekends_are_not_working_days():
    assert US.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"  # today, as it happens
    assert not US.is_working_day(date(2026, 11, 26))
    assert not US.is_working_day(date(2026, 11, 28))  # Saturday
    assert US.is_working_day(date(2026, 11, 27))


def test_working_time_counts_only_open_hours_of_working_days():
    # Wednesday 17:00 to Friday 10:00 across Thanksgiving: 1 h Wednesday + 2 h Friday
    assert US.working_time_between(ny(2026, 11, 25, 17), ny(2026, 11, 27, 10)) == timedelta(hours=3)
    assert US.working_time_between(ny(2026, 11, 27, 10), ny(2026, 11, 25, 17)) == -timedelta(hours=3)
    # a weekend contributes nothing
    assert US.working_time_between(ny(2026, 11, 28, 9), ny(2026, 11, 29, 17)) == timedelta()


def test_handling_time_in_working_days_skips_holidays_and_weekends():
    # ordered Wednesday evening: received Friday (Thanksgiving skipped); 2 days handling: Monday, Tuesday
    assert US.add_working_days(ny(2026, 11, 25, 19), 2) == ny(2026, 12, 1, 18).astimezone(UTC)
    # ordered on Saturday with 1 day handling: received Monday, shipped by Tuesday
    assert US.add_working_days(ny(2026, 11, 28, 10), 1) == ny(2026, 12, 1, 18).astimezone(UTC)
    assert US.add_working_days(ny(2026, 11, 25, 9), 0) == ny(2026, 11, 25, 18).astimezone(UTC)


def test_a_carrier_holiday_and_the_cutoff_decide_the_next_pickup():
    ups = PickupSchedule("UPS", cutoff=time(16, 0), holidays=frozenset({date(2026, 11, 27)}))
    # Wednesday after the cutoff: Thursday is Thanksgiving, Friday is UPS's holiday -> Monday 16:00
    assert ups.next_pickup(US, ny(2026, 11, 25, 16, 30)) == ny(2026, 11, 30, 16).astimezone(UTC)
    assert ups.next_pickup(US, ny(2026, 11, 25, 15, 59)) == ny(2026, 11, 25, 16).astimezone(UTC)


def test_the_seller_s_own_closed_days_and_another_country():
    closed = US.closed_also([date(2026, 12, 24)])
    assert not closed.is_working_day(date(2026, 12, 24)) and US.is_working_day(date(2026, 12, 24))
    uk = BusinessCalendar.for_marketplace("A1F83G8C2ARO7P", timezone="Europe/London")
    assert not uk.is_working_day(date(2026, 12, 28))  # Boxing Day (substitute) in England
    assert uk.is_working_day(date(2026, 11, 26))


def test_broken_calendars_are_refused():
    with pytest.raises(ValueError, match="close after"):
        BusinessCalendar(opens=time(18), closes=time(8))
    with pytest.raises(ValueError, match="working weekday"):
        BusinessCalendar(weekend=frozenset(range(7)))
