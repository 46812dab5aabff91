"""A SKU's plan from its demand history (oms.planning.stock_plan.compute_plan), pure: no table, fixed dates."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from oms.domain.audits import AbcClass
from oms.domain.reorder import LeadTime
from oms.planning.demand import DemandHistory
from oms.planning.stock_plan import Stock, compute_plan, horizon_for

AS_OF = date(2026, 11, 23)
AT = datetime(2026, 11, 24, 7, tzinfo=UTC)
TYPED = LeadTime(10, 0, "typed on the SKU")
WEEK = [3.0, 4.0, 5.0, 6.0, 7.0, 9.0, 2.0]  # 36 a week


def _history(days: int, out: frozenset[int] = frozenset()) -> DemandHistory:
    start = AS_OF - timedelta(days=days - 1)
    units = [0.0 if k in out else WEEK[k % 7] for k in range(days)]
    return DemandHistory("MUG", start, units, [k in out for k in range(days)])


def _plan(
    demand: DemandHistory | None, stock: Stock, *, abc: AbcClass = AbcClass.B, on_order: int = 0
) -> dict:
    return compute_plan("MUG", demand, stock, abc, TYPED, on_order, as_of=AS_OF, planned_at=AT)


def test_a_weekly_pattern_gives_lead_time_demand_and_a_due_suggestion() -> None:
    plan = _plan(
        _history(112), Stock(on_hand=40, available=40, backordered=0, case_pack=12, minimum_order_quantity=24)
    )

    assert plan["forecast"]["start"] == "2026-11-24" and len(plan["forecast"]["units"]) == 28
    point = plan["reorderPoint"]
    assert point["inputs"]["dailyDemand"] == pytest.approx(36 / 7, abs=0.6)
    cover = point["inputs"]["demandOverLeadTime"] + point["inputs"]["demandOverReview"]
    assert point["inputs"]["reviewDays"] == 7 == plan["safetyStock"]["inputs"]["reviewDays"]
    assert point["value"] == math.ceil(cover + plan["safetyStock"]["value"] - 0.02)
    assert point["value"] > 40  # 40 available no longer covers ten days of about 5 a day plus safety
    assert plan["reorderDue"] and plan["orderQuantity"]["value"] % 12 == 0
    assert plan["serviceLevel"] == 0.95 and plan["history"]["outOfStockDays"] == 0


def test_stockout_days_are_left_out_not_counted_as_zero_demand() -> None:
    stock = Stock(on_hand=500, available=500, backordered=0, case_pack=None, minimum_order_quantity=None)
    whole = _plan(_history(112), stock)
    # two weeks out of stock: read as zeros they would pull demand down and blow up its spread
    gap = _plan(_history(112, out=frozenset(range(70, 84))), stock)

    assert gap["history"]["outOfStockDays"] == 14
    assert gap["reorderPoint"]["inputs"]["dailyDemand"] == pytest.approx(
        whole["reorderPoint"]["inputs"]["dailyDemand"], rel=0.15
    )
    assert gap["safetyStock"]["inputs"]["dailyDemandSd"] == pytest.approx(
        whole["safetyStock"]["inputs"]["dailyDemandSd"], rel=0.05
    )
    assert not gap["reorderDue"]  # 500 on hand covers it


def test_a_one_off_wholesale_spike_does_not_swell_the_safety_stock() -> None:
    stock = Stock(on_hand=0, available=0, backordered=0, case_pack=None, minimum_order_quantity=None)
    steady = _history(112)
    spiky = DemandHistory("MUG", steady.start, [*steady.units[:-20], 400.0, *steady.units[-19:]], steady.out)
    plain, spiked = _plan(steady, stock), _plan(spiky, stock)
    assert spiked["safetyStock"]["inputs"]["spikeCap"] == pytest.approx(9.0)  # the usual best day
    assert spiked["safetyStock"]["inputs"]["dailyDemandSd"] == pytest.approx(
        plain["safetyStock"]["inputs"]["dailyDemandSd"], rel=0.05
    )


def test_a_higher_class_holds_more_safety_stock() -> None:
    stock = Stock(on_hand=0, available=0, backordered=0, case_pack=None, minimum_order_quantity=None)
    safety = {c: _plan(_history(112), stock, abc=c)["safetyStock"]["value"] for c in AbcClass}
    assert safety[AbcClass.A] > safety[AbcClass.B] > safety[AbcClass.C] > 0


def test_units_on_order_and_backorders_move_the_quantity_and_the_due_flag() -> None:
    empty = Stock(on_hand=0, available=0, backordered=5, case_pack=None, minimum_order_quantity=None)
    plain = _plan(_history(112), empty)
    ordered = _plan(_history(112), empty, on_order=1000)
    assert plain["orderQuantity"]["inputs"]["backorders"] == 5 and plain["reorderDue"]
    assert ordered["orderQuantity"]["value"] == 0 and not ordered["reorderDue"]


def test_a_sku_never_ordered_gets_no_forecast_and_no_suggestion() -> None:
    plan = _plan(None, Stock(on_hand=0, available=0, backordered=0, case_pack=6, minimum_order_quantity=None))
    assert plan["method"] == "none" and "no orders yet" in plan["note"]
    assert plan["reorderPoint"]["value"] == 0 and plan["orderQuantity"]["value"] == 0
    assert plan["reorderDue"] is False


def test_the_horizon_covers_lead_time_review_and_target_within_bounds() -> None:
    assert horizon_for(LeadTime(10, 0, "")) == 28
    assert horizon_for(LeadTime(30, 0, "")) == 37
    assert horizon_for(LeadTime(365, 0, "")) == 182
