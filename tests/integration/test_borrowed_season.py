"""A product line borrowing another line's seasonality, through the API and the nightly run (moto in process).

The clock is the suite's TEST_CLOCK (2026-11-24 in the warehouse), so the run plans from history up to the
23rd and forecasts from the 24th: into December, the old mugs' season.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from oms.store.conditional import add_ordered
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.conftest import load_event
from tests.integration.test_stock_plans import TODAY, US, FifteenMinutes, _setup


def _seed(sku: str, days: int, per_day) -> None:
    table = default_table()
    for back in range(days, 0, -1):
        day = TODAY - timedelta(days=back)
        table.transact([add_ordered(day.isoformat(), sku, units=per_day(day), channel="MFN", marketplace=US)])


def _december(day: date) -> int:
    """The old mugs sell 2 a day, 10 a day in December."""
    return 10 if day.month == 12 else 2


def _plan(stack, context, sku: str) -> dict:
    status, plan = call_api(stack, context, "GET", f"/planning/skus/{sku}")
    assert status == 200
    return plan


def test_a_young_sku_forecasts_the_season_of_the_line_it_borrows_from(stack, context):
    _setup(stack, context, "OLD-MUG", {"leadTimeDays": 10}, 40)
    _setup(stack, context, "NEW-MUG", {"leadTimeDays": 10}, 40)
    _seed("OLD-MUG", 730, _december)  # two Decembers
    _seed("NEW-MUG", 54, lambda day: 1)  # since October: no December of its own
    run = stack.handler("plan_stock")
    run.lambda_handler(load_event("plan_stock/schedule.json"), FifteenMinutes())
    own = {f["date"]: f["units"] for f in _plan(stack, context, "NEW-MUG")["forecast"]}

    lines = {
        "lines": [
            {"name": "Mugs", "skuPrefix": "OLD-"},
            {"name": "New mugs", "skuPrefix": "NEW-", "seasonalityFrom": "Mugs"},
        ]
    }
    bad = {"lines": [{"name": "New mugs", "seasonalityFrom": "Cups"}]}
    status, refused = call_api(stack, context, "PUT", "/planning/settings", bad)
    assert status == 400 and "not a product line" in str(refused)
    status, saved = call_api(stack, context, "PUT", "/planning/settings", lines)
    assert status == 200 and saved["lines"][1]["seasonalityFrom"] == "Mugs"
    run.lambda_handler(load_event("plan_stock/again.json"), FifteenMinutes())

    young, old = _plan(stack, context, "NEW-MUG"), _plan(stack, context, "OLD-MUG")
    borrowed = {f["date"]: f["units"] for f in young["forecast"]}
    assert (
        young["productLine"] == "New mugs" and "seasonality borrowed from product line Mugs" in young["note"]
    )
    assert own["2026-12-10"] == pytest.approx(1, abs=0.2)  # alone it knows no December
    assert borrowed["2026-12-10"] == pytest.approx(5, rel=0.15)  # December sells 5 times an autumn day
    assert borrowed["2026-11-24"] < 2  # late November: the fortnight around it only starts to rise
    assert old["productLine"] == "Mugs" and "borrowed" not in old["note"]  # its own years
