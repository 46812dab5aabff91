"""Cycle counts, pure: ABC classes by sales value, the count schedule, and what a counted line corrects.

A line is counted at one moment; its correction is (counted - onHand at that moment), applied at
approval to whatever onHand is then, so sales and receipts between counting and approval are kept.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from oms.domain.stock import StockLevel


class AbcClass(StrEnum):
    A = "A"  # the top SKUs making ~80% of sales value
    B = "B"  # the next ~15%
    C = "C"  # the rest, and every SKU without sales


A_SHARE = Decimal("0.80")
B_SHARE = Decimal("0.95")
COUNT_EVERY_MONTHS = {AbcClass.A: 1, AbcClass.B: 3, AbcClass.C: 12}
COUNT_EVERY_NAME = {AbcClass.A: "monthly", AbcClass.B: "quarterly", AbcClass.C: "yearly"}


def classify(sales_value: Mapping[str, Decimal]) -> dict[str, AbcClass]:
    """Pareto by sales value: a SKU is A while the SKUs above it make less than 80% of the total,
    B while they make less than 95%, else C. Ties break by SKU so the answer never wavers."""
    total = sum((v for v in sales_value.values() if v > 0), Decimal(0))
    classes: dict[str, AbcClass] = {}
    above = Decimal(0)
    for sku, value in sorted(sales_value.items(), key=lambda kv: (-kv[1], kv[0])):
        if value <= 0 or total == 0:
            classes[sku] = AbcClass.C
            continue
        share_above = above / total
        classes[sku] = (
            AbcClass.A if share_above < A_SHARE else AbcClass.B if share_above < B_SHARE else AbcClass.C
        )
        above += value
    return classes


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_count_due(last_counted: datetime | None, abc_class: AbcClass, now: datetime) -> datetime:
    """A never-counted SKU is due now; otherwise one interval of its class after its last count."""
    if last_counted is None:
        return now
    return add_months(last_counted, COUNT_EVERY_MONTHS[abc_class])


class Flag(StrEnum):
    OPEN_PICKS = "reserved-for-open-picks"
    EXCEEDS_ON_HAND = "exceeds-on-hand"
    NO_STOCK_ROW = "no-stock-row"


FLAG_EXPLAINED = {
    Flag.OPEN_PICKS: "units of this SKU are reserved for unshipped seller-fulfilled orders: picked units may "
    "be off the shelf but still on hand; check the picks, then adjust by hand",
    Flag.EXCEEDS_ON_HAND: "stock left since the count: the correction would take onHand below zero",
    Flag.NO_STOCK_ROW: "the stock row no longer exists",
}


@dataclass(frozen=True)
class Correction:
    """What approval does with a counted line: `units` onto onHand, or nothing and a flag."""

    variance: int  # counted - onHand when counted
    units: int  # applied at approval (0 when flagged)
    flag: Flag | None = None


def plan_correction(
    *, expected: int, counted: int, reserved_at_count: int, now: StockLevel | None
) -> Correction:
    """A variance on a SKU with open picks (reserved units when counted or now) is left to the seller:
    a shortfall may be units already picked for an order, a surplus may be a pick put back."""
    variance = counted - expected
    if variance == 0:
        return Correction(0, 0)
    if now is None:
        return Correction(variance, 0, Flag.NO_STOCK_ROW)
    if reserved_at_count > 0 or now.reserved > 0:
        return Correction(variance, 0, Flag.OPEN_PICKS)
    if now.on_hand + variance < 0:
        return Correction(variance, 0, Flag.EXCEEDS_ON_HAND)
    return Correction(variance, variance)
