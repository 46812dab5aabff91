"""Cycle-count rules, pure: ABC classes, the count schedule, what a counted line corrects."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from oms.domain.audits import AbcClass, Flag, add_months, classify, next_count_due, plan_correction
from oms.domain.stock import StockLevel

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_the_skus_making_80_percent_of_sales_value_are_a_the_next_15_b_the_rest_c():
    values = {"s1": Decimal(50), "s2": Decimal(25), "s3": Decimal(10), "s4": Decimal(8), "s5": Decimal(4)}
    values |= {"s6": Decimal(3), "idle": Decimal(0)}

    classes = classify(values)

    # above s3: 75% (A); above s4: 85% (B); above s5: 93% (B); above s6: 97% (C)
    assert classes == {
        "s1": AbcClass.A,
        "s2": AbcClass.A,
        "s3": AbcClass.A,
        "s4": AbcClass.B,
        "s5": AbcClass.B,
        "s6": AbcClass.C,
        "idle": AbcClass.C,
    }


def test_without_any_sales_every_sku_is_c_and_ties_break_by_sku():
    assert classify({"b": Decimal(0), "a": Decimal(0)}) == {"a": AbcClass.C, "b": AbcClass.C}
    tied = classify({"c": Decimal(1), "b": Decimal(1), "a": Decimal(18)})
    assert tied == {"a": AbcClass.A, "b": AbcClass.B, "c": AbcClass.C}


def test_a_is_counted_monthly_b_quarterly_c_yearly_and_a_never_counted_sku_now():
    last = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    assert next_count_due(last, AbcClass.A, NOW) == datetime(2026, 2, 28, 10, 0, tzinfo=UTC)
    assert next_count_due(last, AbcClass.B, NOW) == datetime(2026, 4, 30, 10, 0, tzinfo=UTC)
    assert next_count_due(last, AbcClass.C, NOW) == datetime(2027, 1, 31, 10, 0, tzinfo=UTC)
    assert next_count_due(None, AbcClass.C, NOW) == NOW
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)


def test_a_correction_is_the_variance_at_count_time_unless_open_picks_or_empty_shelves_say_otherwise():
    plain = plan_correction(expected=10, counted=7, reserved_at_count=0, now=StockLevel(on_hand=12))
    assert (plain.variance, plain.units, plain.flag) == (-3, -3, None)
    assert plan_correction(expected=10, counted=10, reserved_at_count=2, now=StockLevel(10, 2)).flag is None

    picked_then = plan_correction(expected=10, counted=7, reserved_at_count=3, now=StockLevel(on_hand=7))
    picked_now = plan_correction(expected=10, counted=12, reserved_at_count=0, now=StockLevel(10, 1))
    assert (picked_then.units, picked_then.flag) == (0, Flag.OPEN_PICKS)
    assert (picked_now.units, picked_now.flag) == (0, Flag.OPEN_PICKS)

    sold_out = plan_correction(expected=5, counted=1, reserved_at_count=0, now=StockLevel(on_hand=2))
    assert (sold_out.units, sold_out.flag) == (0, Flag.EXCEEDS_ON_HAND)
    gone = plan_correction(expected=5, counted=1, reserved_at_count=0, now=None)
    assert gone.flag == Flag.NO_STOCK_ROW
    backorders = plan_correction(expected=0, counted=4, reserved_at_count=0, now=StockLevel(0, 0, 2))
    assert (backorders.units, backorders.flag) == (4, None)
