"""One-off spikes capped before the nightly plan forecasts (oms.planning.spikes), pure: fixed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from oms.domain.audits import AbcClass
from oms.domain.reorder import LeadTime
from oms.planning.demand import DemandHistory
from oms.planning.history import SkuHistory
from oms.planning.spikes import cap_spikes
from oms.planning.stock_plan import Stock, compute_plan

AS_OF = date(2026, 11, 23)
AT = datetime(2026, 11, 24, 7, tzinfo=UTC)
STOCK = Stock(on_hand=0, available=0, backordered=0, case_pack=None, minimum_order_quantity=None)
WEEK = [3.0, 4.0, 5.0, 6.0, 7.0, 9.0, 2.0]  # 36 a week


def _demand(days: int, spikes: dict[int, float]) -> DemandHistory:
    units = [spikes.get(k, WEEK[k % 7]) for k in range(days)]
    return DemandHistory("MUG", AS_OF - timedelta(days=days - 1), units, [False] * days)


def test_two_wholesale_orders_are_capped_and_the_forecast_keeps_the_usual_level() -> None:
    # two orders of 300 units, 3 and 9 days ago: a moving average would carry them into every coming day
    spiky = _demand(200, {190: 300.0, 196: 300.0})
    plain = _demand(200, {})
    plan = compute_plan(
        "MUG", spiky, STOCK, AbcClass.B, LeadTime(10, 0, "typed"), 0, as_of=AS_OF, planned_at=AT
    )
    usual = compute_plan(
        "MUG", plain, STOCK, AbcClass.B, LeadTime(10, 0, "typed"), 0, as_of=AS_OF, planned_at=AT
    )

    assert plan["history"]["spikeCap"] == pytest.approx(9.0)  # the usual best day
    assert "2 day(s) above 9 units counted as 9 (one-off spikes)" in plan["note"]
    # uncapped, last week's copy would forecast 1,332 units over these 28 days; capped, the days count as 9
    assert sum(usual["forecast"]["units"]) == 144 < sum(plan["forecast"]["units"]) <= 1.2 * 144
    assert usual["history"]["spikeCap"] == pytest.approx(9.0) and "spikes" not in usual["note"]


def test_a_young_sku_and_unknown_days_are_left_as_they_are() -> None:
    young = SkuHistory("MUG", AS_OF, [1.0] * 60 + [50.0])
    assert cap_spikes(young) == (young, None, 0)  # 61 known days: too few to tell a spike
    gaps = SkuHistory("MUG", AS_OF, [None, *[2.0] * 120, 40.0, None])
    capped, cap, lowered = cap_spikes(gaps)
    assert (cap, lowered) == (2.0, 1) and capped.units[0] is None and capped.units[-1] is None
    assert capped.units[-2] == 2.0
