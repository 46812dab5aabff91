"""Reorder maths (oms.domain.reorder): figures checked against hand-worked values."""

from __future__ import annotations

import math
from functools import partial

import pytest

from oms.domain.audits import AbcClass
from oms.domain.reorder import (
    LeadTime,
    demand_over,
    demand_stats,
    order_quantity,
    reorder_due,
    reorder_point,
    round_up,
    safety_stock,
    service_level_of,
    spike_capped,
    z_score,
)

TYPED = LeadTime(9, 2, "typed on the SKU")


def test_service_levels_by_abc_class_and_their_z() -> None:
    assert [service_level_of(c) for c in AbcClass] == [0.98, 0.95, 0.90]
    assert z_score(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert z_score(0.98) == pytest.approx(2.0537, abs=1e-4)
    assert z_score(0.90) == pytest.approx(1.2816, abs=1e-4)
    with pytest.raises(ValueError):
        z_score(1.0)


def test_safety_stock_uses_demand_and_lead_time_spread() -> None:
    # z(95%) * sqrt(9 * 3^2 + 10^2 * 2^2) = 1.6449 * sqrt(481) = 36.07 -> 37 units
    figure = safety_stock(10, 3, TYPED, 0.95)
    assert figure.value == 37
    assert figure.inputs["z"] == pytest.approx(1.645)
    assert figure.inputs["leadTimeSource"] == "typed on the SKU"
    assert "sqrt" in figure.formula


def test_a_fixed_lead_time_leaves_only_demand_spread() -> None:
    # sd_L = 0: z * sd_d * sqrt(L) = 1.2816 * 3 * 3 = 11.53 -> 12
    assert safety_stock(10, 3, LeadTime(9, 0, "typed"), 0.90).value == 12
    assert safety_stock(0, 0, TYPED, 0.98).value == 0


def test_reorder_point_is_lead_time_demand_plus_safety_stock() -> None:
    safety = safety_stock(10, 3, TYPED, 0.95)
    point = reorder_point(10, TYPED, safety)
    assert point.value == 90 + 37
    assert point.inputs["demandOverLeadTime"] == 90


def test_order_quantity_rounds_up_to_case_pack_then_moq() -> None:
    safety = safety_stock(10, 3, TYPED, 0.95)
    quantity = partial(
        order_quantity, [10.0] * 60, TYPED, safety, on_hand=100, on_order=20, backorders=3, review_days=7
    )
    # 10/day over 9 + 7 days = 160, + 37 safety - 100 - 20 + 3 = 80
    plain = quantity()
    assert plain.value == 80 and plain.inputs["beforeRounding"] == 80
    assert quantity(case_pack=12).value == 84
    assert quantity(case_pack=12, minimum_order_quantity=100).value == 108  # the MOQ in whole cases of 12


def test_nothing_to_order_stays_nothing_whatever_the_moq() -> None:
    safety = safety_stock(1, 0, TYPED, 0.95)
    figure = order_quantity(
        [1.0] * 30, TYPED, safety, on_hand=500, on_order=0, backorders=0, minimum_order_quantity=50
    )
    assert figure.value == 0
    assert round_up(0, 6, 50) == 0 and round_up(1, 6, None) == 6


def test_demand_over_a_fraction_of_days_and_beyond_the_forecast() -> None:
    forecast = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert demand_over(forecast, 2.5) == pytest.approx(1 + 2 + 1.5)
    assert demand_over(forecast, 9) == pytest.approx(28 + 2 * 4.0)  # last week's average after the end


def test_demand_stats_and_reorder_due() -> None:
    mean, sd = demand_stats([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert mean == 5.0 and sd == pytest.approx(math.sqrt(32 / 7))
    assert demand_stats([]) == (0.0, 0.0)
    assert reorder_due(available=100, on_order=27, point=127)
    assert not reorder_due(available=100, on_order=28, point=127)


def test_the_review_period_widens_the_safety_stock_and_the_reorder_point() -> None:
    # reviewed weekly, an order must last L + R = 9 + 7 days:
    # z(95%) * sqrt(16 * 3^2 + 10^2 * 2^2) = 1.6449 * sqrt(544) = 38.37 -> 39 units
    safety = safety_stock(10, 3, TYPED, 0.95, review_days=7)
    assert safety.value == 39 and safety.inputs["reviewDays"] == 7
    assert "lead time + review period" in safety.formula
    point = reorder_point(10, TYPED, safety, review_days=7)
    assert point.value == 90 + 70 + 39
    assert (point.inputs["demandOverLeadTime"], point.inputs["demandOverReview"]) == (90, 70)


def test_one_off_spikes_are_capped_for_the_spread() -> None:
    days = [2.0] * 90 + [200.0]  # a wholesale order of a hundred days' sales, once
    capped, cap = spike_capped(days)
    assert cap == pytest.approx(2.0) and max(capped) == 2.0 and len(capped) == len(days)
    assert demand_stats(capped)[1] == 0.0 < demand_stats(days)[1]
    assert spike_capped([]) == ([], None)
    steady = [float(k % 5) for k in range(100)]  # ordinary ups and downs are kept
    assert spike_capped(steady)[1] == pytest.approx(4.0)
    figure = safety_stock(2, 0, TYPED, 0.95, review_days=7, spike_cap=cap)
    assert figure.inputs["spikeCap"] == 2.0 and "spike cap" in figure.formula
