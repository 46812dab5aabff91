"""Choosing a SKU's forecast method by a rolling-origin backtest on its own history.

At a few origins before the end of the history, each candidate forecasts the next `horizon` days from
what came before; WAPE (absolute error over units) and MASE (mean absolute error over the in-sample
error of last week's same weekday) are scored on the days whose demand is known. The method with the
lowest WAPE wins (MASE breaks ties); its errors at those origins give the 80% interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from oms.planning.history import SkuHistory
from oms.planning.methods import BASELINES, METHODS, WEEK, YEARLY_START, Forecasts, Series, moving_average

ORIGINS = 6
STEP = 14
MIN_TRAINING = 56
MIN_KNOWN = 28
LOW_Q, HIGH_Q = 0.05, 0.95


@dataclass(frozen=True)
class Accuracy:
    wape: float  # nan when no units were sold in the tested days
    mase: float  # nan when the history never changed week on week
    days: int


@dataclass
class Plan:
    sku: str
    method: str
    note: str
    forecast: list[float]
    low: list[float]
    high: list[float]
    accuracy: dict[str, Accuracy] = field(default_factory=dict)


def backtest_origins(n: int, horizon: int, count: int = ORIGINS, step: int = STEP) -> list[int]:
    """The last `count` origins `step` days apart whose whole horizon lies in the history, oldest first."""
    last = n - horizon
    return sorted(o for o in (last - step * k for k in range(count)) if o >= MIN_TRAINING)


def _scale(y: Series, end: int) -> float:
    pairs = [
        abs(a - b) for a, b in zip(y[7:end], y[: end - 7], strict=True) if a is not None and b is not None
    ]
    return sum(pairs) / len(pairs) if pairs else 0.0


def accuracy(y: Series, forecasts: Forecasts, origins: Sequence[int]) -> Accuracy:
    """WAPE over all tested days, MASE as the mean over origins of their scaled mean absolute error."""
    errors = actuals = 0.0
    days = 0
    scaled: list[float] = []
    for o in origins:
        absolute = [abs(a - f) for a, f in zip(y[o:], forecasts[o], strict=False) if a is not None]
        errors += sum(absolute)
        actuals += sum(a for a in y[o : o + len(forecasts[o])] if a is not None)
        days += len(absolute)
        scale = _scale(y, o)
        if absolute and scale > 0:
            scaled.append(sum(absolute) / len(absolute) / scale)
    wape = errors / actuals if actuals > 0 else math.nan
    mase = sum(scaled) / len(scaled) if scaled else math.nan
    return Accuracy(wape, mase, days)


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def interval(
    y: Series, forecasts: Forecasts, origins: Sequence[int], forecast: list[float]
) -> tuple[list[float], list[float]]:
    """80% band: the 5th and 95th percentile of the backtest's errors (decision 67: the 10th-90th held too few days), per week ahead, around the forecast."""
    by_week: dict[int, list[float]] = {}
    for o in origins:
        for k, f in enumerate(forecasts[o]):
            if o + k < len(y) and y[o + k] is not None:
                by_week.setdefault(k // 7, []).append(y[o + k] - f)  # type: ignore[operator]
    everything = [e for errors in by_week.values() for e in errors]
    low, high = [], []
    for k, f in enumerate(forecast):
        errors = by_week.get(k // 7, [])
        errors = errors if len(errors) >= 10 else everything
        low.append(max(0.0, min(f, f + quantile(errors, LOW_Q))))  # the band always holds the forecast
        high.append(max(f, f + quantile(errors, HIGH_Q)))
    return low, high


def candidates(origins: Sequence[int]) -> list[str]:
    """Every method; the yearly one only when each backtest origin has a year and a half plus four weeks before it."""
    names = [name for name in METHODS if name != "exponential smoothing, yearly"]
    if min(origins) >= YEARLY_START + 4 * WEEK:
        names.append("exponential smoothing, yearly")
    return names


def plan(history: SkuHistory, horizon: int) -> Plan:
    """The SKU's forecast for the `horizon` days after its history, by the method its own backtest chose."""
    y = history.units
    n = len(y)
    known = [v for v in y if v is not None]
    if len(known) < MIN_KNOWN:
        mean = sum(known) / len(known) if known else 0.0
        return Plan(
            history.sku,
            "average",
            f"only {len(known)} day(s) of known demand: their average, not backtested",
            [mean] * horizon,
            [quantile(known, LOW_Q)] * horizon,
            [max(mean, quantile(known, HIGH_Q))] * horizon,
        )
    origins = backtest_origins(n, horizon)
    if not origins:
        recent = [v for v in y[-28:] if v is not None]
        fc = moving_average(28)(y, [n], horizon)[n]
        return Plan(
            history.sku,
            "moving average 28 days",
            f"{n} days of history: too short to test a {horizon}-day forecast, so the last 28 days' average",
            fc,
            [min(fc[0], quantile(recent, LOW_Q))] * horizon,
            [max(fc[0], quantile(recent, HIGH_Q))] * horizon,
        )
    scored: dict[str, tuple[Accuracy, Forecasts]] = {}
    for name in candidates(origins):
        forecasts = METHODS[name](y, [*origins, n], horizon)
        scored[name] = (accuracy(y, forecasts, origins), forecasts)

    def rank(name: str) -> tuple[float, float]:
        a = scored[name][0]
        return (math.inf if math.isnan(a.wape) else a.wape, math.inf if math.isnan(a.mase) else a.mase)

    best = min(scored, key=rank)
    forecasts = scored[best][1]
    low, high = interval(y, forecasts, origins, forecasts[n])
    base = scored[BASELINES[0]][0].wape
    note = f"chosen by {len(origins)} backtests of {horizon} days"
    if not math.isnan(base) and base > 0 and not math.isnan(scored[best][0].wape):
        note += f"; error {scored[best][0].wape / base:.0%} of seasonal naive's"
    if history.stockout_days:
        note += f"; {history.stockout_days} out-of-stock day(s) left out"
    return Plan(history.sku, best, note, forecasts[n], low, high, {k: v[0] for k, v in scored.items()})
