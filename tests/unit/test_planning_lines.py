"""Product lines (oms.planning.lines): which SKUs a line holds, and what it does to a forecast."""

from __future__ import annotations

import typing
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from oms.planning.backtest import plan
from oms.planning.history import SkuHistory
from oms.planning.lines import LineEvent, MethodName, ProductLine, ProductLines, line_of, with_line
from oms.planning.methods import METHODS

START = date(2026, 6, 1)
WEEK = [3.0, 4.0, 5.0, 6.0, 7.0, 9.0, 2.0]
HISTORY = SkuHistory("MUG-RED", START, [WEEK[k % 7] for k in range(140)])
FIRST = HISTORY.end + timedelta(days=1)


def test_every_method_a_line_can_fix_is_a_method() -> None:
    assert set(typing.get_args(MethodName)) == set(METHODS)


def test_a_sku_s_line_is_its_policy_s_else_the_longest_prefix() -> None:
    settings = ProductLines(
        lines=[
            ProductLine(name="Mugs", sku_prefix="MUG-"),
            ProductLine(name="Red mugs", sku_prefix="MUG-RED"),
            ProductLine(name="Gifts"),
        ]
    )
    assert line_of(settings, "MUG-RED-1", []).name == "Red mugs"  # type: ignore[union-attr]
    assert line_of(settings, "MUG-BLUE", []).name == "Mugs"  # type: ignore[union-attr]
    assert line_of(settings, "MUG-RED-1", [{"productLine": "Gifts"}]).name == "Gifts"  # type: ignore[union-attr]
    assert line_of(settings, "PLATE", []) is None


def test_growth_and_an_event_multiply_their_days_and_say_so() -> None:
    chosen = plan(HISTORY, 28)
    event = LineEvent(
        name="Promotion week", start=FIRST + timedelta(days=7), end=FIRST + timedelta(days=13), factor=2
    )
    line = ProductLine(name="Mugs", growth_factor=1.1, events=[event])

    shaped = with_line(chosen, HISTORY, 28, line, FIRST)

    assert shaped.forecast[0] == pytest.approx(chosen.forecast[0] * 1.1)
    assert shaped.forecast[7] == pytest.approx(chosen.forecast[7] * 2.2)
    assert shaped.high[13] == pytest.approx(chosen.high[13] * 2.2) and shaped.forecast[14] == pytest.approx(
        chosen.forecast[14] * 1.1
    )
    assert "growth x1.1" in shaped.note and "Promotion week x2 on 7 day(s)" in shaped.note


def test_a_fixed_method_replaces_the_backtest_s_choice_and_keeps_its_accuracy_beside() -> None:
    chosen = plan(HISTORY, 28)
    fixed = "moving average 28 days" if chosen.method != "moving average 28 days" else "seasonal naive"

    shaped = with_line(chosen, HISTORY, 28, ProductLine(name="Mugs", method=fixed), FIRST)  # type: ignore[arg-type]

    assert shaped.method == fixed and f"the backtest chose {chosen.method}" in shaped.note
    assert shaped.accuracy == chosen.accuracy
    assert shaped.forecast != chosen.forecast


def test_bad_settings_are_refused_naming_the_problem() -> None:
    with pytest.raises(ValidationError, match="ends before it starts"):
        LineEvent(name="Sale", start=date(2026, 12, 2), end=date(2026, 12, 1), factor=2)
    with pytest.raises(ValidationError, match="same name"):
        ProductLines(lines=[ProductLine(name="Mugs"), ProductLine(name="Mugs")])
    with pytest.raises(ValidationError):
        ProductLine(name="Mugs", method="prophet")  # type: ignore[arg-type]
