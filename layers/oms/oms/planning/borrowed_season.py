"""A seasonality profile borrowed from another product line, for SKUs too young to have their own year.

A line may name another (`seasonalityFrom`): the other line's SKUs' daily units, summed, are its profile.
A day's seasonal index is the profile's fortnight around the same day a year before over that whole year
(the yearly method's index, `oms.planning.methods.yearly_index`, read off the other line). For a SKU of the
borrowing line whose own history is too short for the yearly method, the plan divides the SKU's history by
the index of each day, forecasts that by the method its backtest chooses, and multiplies the forecast (and
its band) back by the index of each forecast day. A SKU with its own year uses its own; a profile without
a whole year around a day gives that day no index, and then nothing is borrowed (the note says so).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from oms.planning.backtest import Plan, backtest_origins, candidates
from oms.planning.demand import DemandHistory
from oms.planning.history import SkuHistory
from oms.planning.methods import YEAR

FLOOR, CEILING = 0.25, 4.0  # as the yearly method's own index


@dataclass(frozen=True)
class Profile:
    """A line's units summed per day from `start` (out-of-stock days count what was sold)."""

    line: str
    start: date
    units: list[float]

    def index(self, day: date) -> float | None:
        """The day's season against its year, a year before; None without a whole year around that day."""
        centre = (day - self.start).days - YEAR
        low, high = centre - YEAR // 2, centre + YEAR // 2 + 1
        if low < 0 or high > len(self.units):
            return None
        base = sum(self.units[low:high]) / (high - low)
        if base <= 0:
            return None
        window = self.units[centre - 7 : centre + 8]
        return min(CEILING, max(FLOOR, sum(window) / len(window) / base))


def profile_of(line: str, histories: Iterable[DemandHistory]) -> Profile | None:
    """The line's profile: its SKUs' histories summed day by day; None when none sold."""
    by_day: dict[date, float] = {}
    for history in histories:
        for k, units in enumerate(history.units):
            day = history.start + timedelta(days=k)
            by_day[day] = by_day.get(day, 0.0) + units
    if not by_day:
        return None
    start, end = min(by_day), max(by_day)
    return Profile(
        line, start, [by_day.get(start + timedelta(days=k), 0.0) for k in range((end - start).days + 1)]
    )


def too_young(history: SkuHistory, horizon: int) -> bool:
    """The SKU's own history cannot carry the yearly method (every backtest origin needs 1.5 years before it)."""
    origins = backtest_origins(len(history.units), horizon)
    return not origins or "exponential smoothing, yearly" not in candidates(origins)


def indices(profile: Profile, first: date, days: int) -> list[float] | None:
    """The index of each of `days` days from `first`; None when the profile lacks a whole year for one."""
    out: list[float] = []
    for k in range(days):
        index = profile.index(first + timedelta(days=k))
        if index is None:
            return None
        out.append(index)
    return out


def deseasonalised(history: SkuHistory, profile: Profile) -> SkuHistory | None:
    """The SKU's history divided by the profile's index of each day; None without an index for every day."""
    factors = indices(profile, history.start, len(history.units))
    if factors is None:
        return None
    return SkuHistory(
        history.sku,
        history.start,
        [None if u is None else u / f for u, f in zip(history.units, factors, strict=True)],
    )


def with_season(chosen: Plan, factors: list[float], profile: Profile) -> Plan:
    """The plan made on the deseasonalised history, multiplied back by each forecast day's index."""
    note = (
        f"{chosen.note}; seasonality borrowed from product line {profile.line} "
        f"(index {min(factors):.2f} to {max(factors):.2f} over the forecast)"
    )
    return Plan(
        chosen.sku,
        chosen.method,
        note,
        [f * v for f, v in zip(factors, chosen.forecast, strict=True)],
        [f * v for f, v in zip(factors, chosen.low, strict=True)],
        [f * v for f, v in zip(factors, chosen.high, strict=True)],
        chosen.accuracy,
    )
