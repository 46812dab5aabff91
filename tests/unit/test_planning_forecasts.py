"""Forecast methods on known series, the rolling-origin backtest, and the choice of method per SKU."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from oms.planning.backtest import accuracy, backtest_origins, candidates, plan, quantile
from oms.planning.history import SkuHistory
from oms.planning.methods import (
    YEARLY_START,
    average_over_days_in_stock,
    filled,
    holt_winters,
    holt_winters_yearly,
    moving_average,
    seasonal_naive,
    sell_through,
    tsb,
)

WEEK = [5.0, 8.0, 10.0, 12.0, 9.0, 3.0, 0.0]
START = date(2024, 1, 1)  # a Monday: the data's first day, never today's


def weekly(days: int) -> list[float | None]:
    return [WEEK[i % 7] for i in range(days)]


def test_seasonal_naive_repeats_the_last_week_on_its_weekdays() -> None:
    y = weekly(30)
    assert seasonal_naive(y, [30], 9)[30] == [WEEK[(30 + k) % 7] for k in range(9)]


def test_holt_winters_learns_a_pure_weekly_pattern() -> None:
    y = weekly(140)
    forecast = holt_winters(y, [140], 14)[140]
    assert forecast == pytest.approx([WEEK[(140 + k) % 7] for k in range(14)], abs=0.05)


def test_holt_winters_follows_a_trend_that_the_flat_methods_miss() -> None:
    y: list[float | None] = [20.0 + 0.5 * t for t in range(200)]
    forecast = holt_winters(y, [200], 28)[200]
    assert forecast[0] == pytest.approx(120.0, abs=1.0)
    assert forecast[27] > forecast[0] + 8  # still rising four weeks out
    assert moving_average(28)(y, [200], 28)[200][27] < 115


def test_tsb_forecasts_the_rate_of_an_intermittent_series_not_its_sizes() -> None:
    y: list[float | None] = [8.0 if t % 4 == 0 else 0.0 for t in range(200)]  # 2 a day on average
    forecast = tsb(y, [200], 7)[200]
    assert forecast == pytest.approx([2.0] * 7, abs=0.3)
    dying: list[float | None] = [*y[:100], *([0.0] * 100)]  # the demand stopped: TSB lets it fade
    assert tsb(dying, [200], 1)[200][0] < 0.2


def test_stockout_days_are_left_out_not_read_as_zero() -> None:
    y = weekly(84)
    with_stockouts: list[float | None] = list(y)
    for t in range(56, 84):
        if t % 7 in (2, 3):
            with_stockouts[t] = None  # two weekdays out of stock for four weeks
    # the busy Wednesdays and Thursdays estimated from earlier weeks: the average is the true one
    assert moving_average(28)(with_stockouts, [84], 1)[84][0] == pytest.approx(sum(WEEK) / 7)
    as_zero = [0.0 if v is None else v for v in with_stockouts]
    assert holt_winters(with_stockouts, [84], 7)[84] == pytest.approx(
        [WEEK[k % 7] for k in range(84, 91)], abs=0.1
    )
    assert holt_winters(as_zero, [84], 7)[84][2] < WEEK[2] - 2  # read as zero, Wednesday's demand would sink
    assert filled(with_stockouts)[59] == WEEK[59 % 7]  # estimated from the same weekday before
    assert (
        average_over_days_in_stock(90)(with_stockouts, [84], 1)[84][0]
        > sell_through(30)(with_stockouts, [84], 1)[84][0]
    )


def test_yearly_smoothing_carries_last_years_season_where_weekly_cannot() -> None:
    # two and a half years: a quiet spring and a busy autumn, on a weekly pattern
    days = 900
    y: list[float | None] = [WEEK[t % 7] * (1.0 + 0.8 * math.sin(2 * math.pi * t / 365)) for t in range(days)]
    origin = days - 120  # before the peak turns
    season = holt_winters_yearly(y, [origin], 56)[origin]
    plain = holt_winters(y, [origin], 56)[origin]
    actual = y[origin : origin + 56]
    err = lambda f: sum(abs(a - b) for a, b in zip(actual, f, strict=True))  # noqa: E731
    assert err(season) < 0.6 * err(plain)


def test_a_forecast_reads_nothing_after_its_origin() -> None:
    y = weekly(200)
    later = [*y[:150], *([99.0] * 50)]
    for method in (seasonal_naive, holt_winters, tsb, holt_winters_yearly, moving_average(28)):
        assert method(y, [150], 28)[150] == method(later, [150], 28)[150]


def test_backtest_origins_end_a_horizon_before_the_last_day_and_need_eight_weeks_before() -> None:
    assert backtest_origins(200, 28) == [102, 116, 130, 144, 158, 172]
    assert backtest_origins(100, 28) == [58, 72]
    assert backtest_origins(80, 28) == []


def test_accuracy_scores_only_known_days() -> None:
    y: list[float | None] = [*weekly(14), 10.0, None, 10.0]
    a = accuracy(y, {14: [8.0, 0.0, 12.0]}, [14])
    assert a.days == 2
    assert a.wape == pytest.approx(4 / 20)
    scale = sum(abs(y[t] - y[t - 7]) for t in range(7, 14)) / 7  # type: ignore[operator]
    assert scale == 0 and math.isnan(a.mase)  # a pure weekly history: last week was never wrong
    noisy = [v + (t % 3) for t, v in enumerate(weekly(14))]
    assert accuracy([*noisy, 10.0, None, 10.0], {14: [8.0, 0.0, 12.0]}, [14]).mase > 0


def test_the_backtest_chooses_a_seasonal_method_for_a_weekly_sku_and_reports_the_baselines() -> None:
    random.seed(7)
    y: list[float | None] = [max(0.0, v + random.gauss(0, 1)) for v in weekly(300)]  # type: ignore[operator]
    p = plan(SkuHistory("WEEKLY", START, y), 28)
    assert p.method in ("seasonal naive", "exponential smoothing")
    assert {"seasonal naive", "moving average 28 days"} <= set(p.accuracy)
    assert p.accuracy[p.method].wape < p.accuracy["moving average 28 days"].wape
    assert len(p.forecast) == len(p.low) == len(p.high) == 28
    assert all(lo <= f <= hi for lo, f, hi in zip(p.low, p.forecast, p.high, strict=True))
    assert p.high[3] - p.low[3] > 0.5  # noise gives the band a width
    assert "backtests of 28 days" in p.note


def test_the_backtest_chooses_exponential_smoothing_for_a_trend() -> None:
    y: list[float | None] = [20.0 + 0.5 * t + (t % 3) for t in range(300)]
    p = plan(SkuHistory("TREND", START, y), 28)
    assert p.method == "exponential smoothing"
    assert p.accuracy[p.method].wape < 0.5 * p.accuracy["seasonal naive"].wape


def test_a_short_history_gets_the_simplest_honest_method_and_says_so() -> None:
    few = plan(SkuHistory("NEW", START, [3.0, None, 5.0]), 7)
    assert few.method == "average"
    assert few.forecast == [4.0] * 7
    assert "only 2 day(s) of known demand" in few.note and not few.accuracy
    short = plan(SkuHistory("YOUNG", START, weekly(60)), 28)
    assert short.method == "moving average 28 days"
    assert "too short to test a 28-day forecast" in short.note


def test_the_yearly_method_is_a_candidate_only_with_enough_history_before_every_origin() -> None:
    assert "exponential smoothing, yearly" not in candidates([YEARLY_START, YEARLY_START + 14])
    assert "exponential smoothing, yearly" in candidates([YEARLY_START + 28])


def test_quantile_interpolates() -> None:
    assert quantile([0, 10], 0.1) == pytest.approx(1.0)
    assert quantile([], 0.9) == 0.0


def test_the_80_percent_band_holds_about_eight_days_in_ten_of_what_follows() -> None:
    random.seed(11)
    inside = days = 0
    for sku in range(20):
        y: list[float | None] = [max(0.0, WEEK[t % 7] * 3 + random.gauss(0, 4)) for t in range(330)]
        p = plan(SkuHistory(f"S{sku}", START, y[:302]), 28)
        for actual, lo, hi in zip(y[302:], p.low, p.high, strict=True):
            days += 1
            inside += lo <= actual <= hi  # type: ignore[operator]
    assert 0.7 <= inside / days <= 0.92


def test_the_note_says_how_many_out_of_stock_days_were_left_out() -> None:
    y: list[float | None] = weekly(200)
    y[150] = y[151] = None
    assert "2 out-of-stock day(s) left out" in plan(SkuHistory("A", START, y), 28).note
