"""Business calendars: when a warehouse works and a carrier picks up, counted as Amazon counts deadlines.

A calendar belongs to a warehouse (its time zone and working hours) in a country (public holidays
from the `holidays` library, for the marketplace's country and optionally a subdivision), with
weekends and extra closed days (the seller's own, and each carrier's holidays). Pure functions of
their arguments: no clock is read here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # loaded on the first holiday looked up, not at a cold start (bench/cold_start.py)
    import holidays

# Marketplace -> the country whose public holidays apply (Amazon's marketplace ids).
MARKETPLACE_COUNTRIES = {
    "ATVPDKIKX0DER": "US",
    "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "GB",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES",
    "A1805IZSGTT6HS": "NL",
    "A2NODRKZP88ZB9": "SE",
    "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE",
    "A33AVAJ2PDY3EV": "TR",
    "A2VIGQ35RCS4UG": "AE",
    "A17E79C6D8DWNP": "SA",
    "ARBP9OOSHTCHU": "EG",
    "A21TJRUUN4KGV": "IN",
    "A1VC38T7YXB528": "JP",
    "A39IBJ37TRP1C6": "AU",
    "A19VAU5U5O7RUS": "SG",
}
_MAX_DAYS = 3660  # a search that finds no working day within ten years is a broken calendar


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "America/New_York"
    country: str = "US"
    subdivision: str | None = None
    weekend: frozenset[int] = frozenset({5, 6})  # Monday is 0
    opens: time = time(8, 0)
    closes: time = time(18, 0)
    closed_days: frozenset[date] = field(default_factory=frozenset)  # the seller's or a carrier's own

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError("a working day must close after it opens")
        if len(self.weekend) >= 7:
            raise ValueError("a calendar needs at least one working weekday")

    @classmethod
    def for_marketplace(cls, marketplace_id: str, **settings: object) -> BusinessCalendar:
        return cls(country=MARKETPLACE_COUNTRIES.get(marketplace_id, "US"), **settings)  # type: ignore[arg-type]

    def closed_also(self, days: Iterable[date]) -> BusinessCalendar:
        """This calendar with more closed days (e.g. a carrier's holidays)."""
        return BusinessCalendar(
            self.timezone,
            self.country,
            self.subdivision,
            self.weekend,
            self.opens,
            self.closes,
            self.closed_days | frozenset(days),
        )

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _public_holidays(self) -> holidays.HolidayBase:
        import holidays

        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def holiday_name(self, day: date) -> str | None:
        if day in self.closed_days:
            return "closed"
        name = self._public_holidays.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and self.holiday_name(day) is None

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, self.zone), datetime.combine(day, self.closes, self.zone))

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from start to end (negative when end is earlier): only open hours of working days."""
        if end < start:
            return -self.working_time_between(end, start)
        total = timedelta()
        day = self.local(start).date()
        last = self.local(end).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._window(day)
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        candidate = day if include else day + timedelta(days=1)
        for _ in range(_MAX_DAYS):
            if self.is_working_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise ValueError("no working day within ten years: check the calendar")

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """The close of the working day `days` working days after `moment`'s day (handling time).

        As Amazon counts handling time, an order that arrives on a closed day or after closing counts as
        received on the next working day, and its handling days run from there."""
        day = self.local(moment).date()
        if not self.is_working_day(day) or self.local(moment) >= self._window(day)[1]:
            day = self.next_working_day(day)
        for _ in range(days):
            day = self.next_working_day(day)
        return self._window(day)[1].astimezone(UTC)


@dataclass(frozen=True)
class PickupSchedule:
    """When a carrier collects at the warehouse: on some weekdays, parcels handed over before the cutoff."""

    carrier: str
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    cutoff: time = time(16, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)

    def next_pickup(self, calendar: BusinessCalendar, after: datetime) -> datetime:
        """The first cutoff at or after `after` on a pickup day the warehouse and the carrier both work."""
        local = calendar.local(after)
        day = local.date()
        for _ in range(_MAX_DAYS):
            cutoff = datetime.combine(day, self.cutoff, calendar.zone)
            if (
                day.weekday() in self.weekdays
                and day not in self.holidays
                and calendar.is_working_day(day)
                and cutoff >= local
            ):
                return cutoff.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError(f"{self.carrier} never picks up within ten years: check its schedule")
