"""Return rates, pure: units returned / units shipped per SKU over a window of warehouse days, by reason, and
which SKUs return well above the seller's own average.

"Well above" (flagged): the SKU's rate is at least FLAG_FACTOR times the seller's rate over the same window,
and the SKU has the volume for that to mean something: at least FLAG_MIN_SHIPPED units shipped and
FLAG_MIN_RETURNED units returned in the window (one return of one sale is 100% and says nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from pydantic import Field

from oms.domain.types import ApiModel

WINDOWS = (30, 90)
FLAG_FACTOR = 2.0
FLAG_MIN_SHIPPED = 20
FLAG_MIN_RETURNED = 3


@dataclass
class DayUnits:
    """One SKU's counters for one warehouse day."""

    sku: str
    shipped: int = 0
    returned: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class ReasonUnits(ApiModel):
    reason: str = Field(description="the buyer's reason (Amazon's code), or 'not given'")
    units: int


class RateFigures(ApiModel):
    units_shipped: int
    units_returned: int
    rate: float | None = Field(description="units returned / units shipped in the window; null: none shipped")


class SkuReturnRate(RateFigures):
    sku: str
    reasons: list[ReasonUnits] = Field(description="units returned per reason, most first")
    flagged: bool = Field(description="returns well above the seller's own average (see flagRule)")


class ReturnRates(ApiModel):
    days: int
    first_day: date = Field(alias="from", description="the window's first warehouse day")
    last_day: date = Field(alias="to", description="the window's last warehouse day (today)")
    seller: RateFigures
    items: list[SkuReturnRate] = Field(
        description="each SKU shipped or returned in the window, flagged first"
    )
    flag_rule: str = Field(description="what 'well above the average' means here")


def _rate(returned: int, shipped: int) -> float | None:
    return round(returned / shipped, 4) if shipped else None


def flag_rule() -> str:
    return (
        f"a SKU's return rate at least {FLAG_FACTOR:g} times the seller's, with at least {FLAG_MIN_SHIPPED} units "
        f"shipped and {FLAG_MIN_RETURNED} returned in the window"
    )


def return_rates(
    days: Iterable[DayUnits], *, window: int, first_day: date, last_day: date, sku: str | None = None
) -> ReturnRates:
    """The window's figures from its days' counters: the seller's over every SKU, each SKU's (only `sku`'s
    when given) with its reasons and flag."""
    shipped: Counter[str] = Counter()
    returned: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for day in days:
        shipped[day.sku] += day.shipped
        returned[day.sku] += day.returned
        reasons.setdefault(day.sku, Counter()).update(day.reasons)
    total_shipped, total_returned = sum(shipped.values()), sum(returned.values())
    seller_rate = _rate(total_returned, total_shipped)
    items = []
    for name in sorted(set(shipped) | set(returned)):
        if sku is not None and name != sku:
            continue
        rate = _rate(returned[name], shipped[name])
        flagged = (
            rate is not None
            and seller_rate is not None
            and shipped[name] >= FLAG_MIN_SHIPPED
            and returned[name] >= FLAG_MIN_RETURNED
            and rate >= FLAG_FACTOR * seller_rate
        )
        by_reason = sorted(reasons.get(name, Counter()).items(), key=lambda r: (-r[1], r[0]))
        items.append(
            SkuReturnRate(
                sku=name,
                units_shipped=shipped[name],
                units_returned=returned[name],
                rate=rate,
                reasons=[ReasonUnits(reason=r, units=n) for r, n in by_reason if n],
                flagged=flagged,
            )
        )
    items.sort(key=lambda i: (not i.flagged, -(i.rate if i.rate is not None else -1), i.sku))
    return ReturnRates(
        days=window,
        first_day=first_day,
        last_day=last_day,
        seller=RateFigures(units_shipped=total_shipped, units_returned=total_returned, rate=seller_rate),
        items=items,
        flag_rule=flag_rule(),
    )
