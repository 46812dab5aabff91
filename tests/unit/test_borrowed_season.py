"""A seasonality profile borrowed from another product line (oms.planning.borrowed_season), pure: fixed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from oms.domain.audits import AbcClass
from oms.domain.reorder import LeadTime
from oms.planning.borrowed_season import profile_of
from oms.planning.demand import DemandHistory
from oms.planning.lines import ProductLine, ProductLines
from oms.planning.stock_plan import Stock, compute_plan

AS_OF = date(2026, 10, 20)  # the old mugs' winter starts 11 days after
AT = datetime(2026, 10, 21, 7, tzinfo=UTC)
LEAD = LeadTime(30, 0, "typed on the SKU")  # a forecast of 37 days: into November
STOCK = Stock(on_hand=0, available=0, backordered=0, case_pack=None, minimum_order_quantity=None)
NEW_MUGS = ProductLine(name="New mugs", seasonality_from="Mugs")


def _history(sku: str, start: date, per_day) -> DemandHistory:
    days = (AS_OF - start).days + 1
    units = [float(per_day(start + timedelta(days=k))) for k in range(days)]
    return DemandHistory(sku, start, units, [False] * days)


def _winter(day: date) -> int:
    """The old mugs: 2 a day, 10 a day in November and December."""
    return 10 if day.month in (11, 12) else 2


OLD = [_history("MUG-OLD-1", date(2024, 10, 1), _winter), _history("MUG-OLD-2", date(2024, 9, 1), _winter)]


def _forecast(plan: dict) -> dict[str, float]:
    start = date.fromisoformat(plan["forecast"]["start"])
    return {(start + timedelta(days=k)).isoformat(): v for k, v in enumerate(plan["forecast"]["units"])}


def test_a_young_sku_borrows_the_other_line_s_winter() -> None:
    young = _history("MUG-NEW", date(2026, 8, 1), lambda day: 1)  # three months old, 1 a day, no winter yet
    profile = profile_of("Mugs", OLD)
    assert profile is not None and profile.units[-1] == 4  # both old SKUs, summed
    # the index: the fortnight around the day a year before over that year's average day
    assert profile.index(date(2026, 9, 15)) == pytest.approx(4 / profile_mean(profile, date(2025, 9, 15)))

    own = compute_plan(
        "MUG-NEW", young, STOCK, AbcClass.B, LEAD, 0, as_of=AS_OF, planned_at=AT, line=NEW_MUGS
    )
    borrowed = compute_plan(
        "MUG-NEW",
        young,
        STOCK,
        AbcClass.B,
        LEAD,
        0,
        as_of=AS_OF,
        planned_at=AT,
        line=NEW_MUGS,
        season=profile,
    )

    assert _forecast(own)["2026-11-20"] == pytest.approx(1, abs=0.2)  # its own history knows no winter
    assert _forecast(borrowed)["2026-11-20"] == pytest.approx(5, rel=0.15)  # 10 / 2 of the old mugs' days
    assert "seasonality borrowed from product line Mugs" in borrowed["note"]
    assert (
        borrowed["orderQuantity"]["inputs"]["forecastDemand"]
        > 3 * own["orderQuantity"]["inputs"]["forecastDemand"]
    )


def profile_mean(profile, centre: date) -> float:
    k = (centre - profile.start).days
    return sum(profile.units[k - 182 : k + 183]) / 365


def test_a_sku_with_its_own_years_keeps_them_and_a_short_profile_lends_nothing() -> None:
    profile = profile_of("Mugs", OLD)
    old = compute_plan(
        "MUG-OLD-2",
        OLD[1],
        STOCK,
        AbcClass.B,
        LEAD,
        0,
        as_of=AS_OF,
        planned_at=AT,
        line=NEW_MUGS,
        season=profile,
    )
    assert "borrowed" not in old["note"]

    short = profile_of(
        "Mugs", [_history("MUG-OLD-3", date(2026, 1, 1), _winter)]
    )  # ten months: no whole year
    young = _history("MUG-NEW", date(2026, 8, 1), lambda day: 1)
    plan = compute_plan(
        "MUG-NEW", young, STOCK, AbcClass.B, LEAD, 0, as_of=AS_OF, planned_at=AT, line=NEW_MUGS, season=short
    )
    assert "no whole year around these days yet: not borrowed" in plan["note"]
    assert _forecast(plan)["2026-11-20"] == pytest.approx(1, abs=0.2)
    assert profile_of("Mugs", []) is None


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([{"name": "Mugs", "seasonalityFrom": "Mugs"}], "from itself"),
        ([{"name": "New mugs", "seasonalityFrom": "Cups"}], "which is not a product line"),
    ],
)
def test_a_line_borrows_only_from_another_existing_line(lines, message) -> None:
    with pytest.raises(ValidationError, match=message):
        ProductLines.model_validate({"lines": lines})
    ok = ProductLines.model_validate(
        {"lines": [{"name": "Mugs"}, {"name": "New mugs", "seasonalityFrom": "Mugs"}]}
    )
    assert ok.lines[1].seasonality_from == "Mugs"
