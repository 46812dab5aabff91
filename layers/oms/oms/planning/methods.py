"""Forecast methods, each small enough for the Lambda layer (plain Python, one pass over the history).

Every method answers `forecasts(y, origins, horizon)`: for each origin o, the next `horizon` days
forecast from y[:o] alone. Asking for many origins at once costs one pass, which is what makes a
rolling-origin backtest per SKU cheap. `y` holds units per day, None where demand is unknown (a
stockout): methods skip those days when they learn and never read them as zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product

Series = Sequence[float | None]
Forecasts = dict[int, list[float]]
Method = Callable[[Series, Sequence[int], int], Forecasts]

WEEK = 7
YEAR = 365


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def filled(y: Series) -> list[float]:
    """The series with each unknown day estimated from earlier days only: the same weekday of the four weeks
    before (themselves estimated where unknown), or the days before it in its first week."""
    out: list[float] = []
    for t, value in enumerate(y):
        if value is not None:
            out.append(value)
            continue
        same_weekday = [out[t - k] for k in (7, 14, 21, 28) if t - k >= 0]
        out.append(_mean(same_weekday) if same_weekday else _mean(out[max(0, t - 28) : t]))
    return out


def seasonal_naive(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
    """Each day as the same weekday of the last week before the origin."""
    f = filled(y)
    return {
        o: [f[o - WEEK + (k % WEEK)] if o >= WEEK else _mean(f[:o]) for k in range(horizon)] for o in origins
    }


def moving_average(window: int) -> Method:
    """The mean of the last `window` days, flat (a stockout day counted as its estimate, never as zero)."""

    def forecasts(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
        f = filled(y)
        return {o: [_mean(f[max(0, o - window) : o])] * horizon for o in origins}

    return forecasts


def sell_through(window: int) -> Method:
    """A reorder tool's velocity: units sold in the last `window` days over `window` days (stockouts as 0)."""

    def forecasts(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
        return {o: [sum(v or 0.0 for v in y[max(0, o - window) : o]) / window] * horizon for o in origins}

    return forecasts


def average_over_days_in_stock(window: int) -> Method:
    """Linnworks's rule: units sold in the last `window` days over the days in stock among them."""

    def forecasts(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
        out = {}
        for o in origins:
            days = y[max(0, o - window) : o]
            in_stock = [v for v in days if v is not None]
            out[o] = [sum(in_stock) / len(in_stock) if in_stock else 0.0] * horizon
        return out

    return forecasts


def _best_by_sse(runs: list[dict[int, tuple[float, list[float]]]], origins: Sequence[int]) -> Forecasts:
    """Per origin, the forecast of the parameter set whose one-step errors before that origin were smallest."""
    return {o: min((run[o] for run in runs), key=lambda r: r[0])[1] for o in origins}


def _tsb_pass(
    y: Series, origins: Sequence[int], horizon: int, alpha: float, beta: float
) -> dict[int, tuple[float, list[float]]]:
    wanted = set(origins)
    out: dict[int, tuple[float, list[float]]] = {}
    known = [v for v in y[:28] if v is not None]
    nonzero = [v for v in known if v > 0]
    p = len(nonzero) / len(known) if known else 0.0
    z = _mean(nonzero)
    sse = 0.0
    for t in range(len(y) + 1):
        if t in wanted:
            out[t] = (sse, [max(0.0, p * z)] * horizon)
        if t == len(y):
            break
        value = y[t]
        if value is None:
            continue
        sse += (value - p * z) ** 2
        if value > 0:
            p += beta * (1 - p)
            z += alpha * (value - z)
        else:
            p -= beta * p
    return out


def tsb(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
    """Teunter-Syntetos-Babai (Croston's method with a decaying chance of demand) for intermittent demand."""
    runs = [_tsb_pass(y, origins, horizon, a, b) for a, b in ((0.1, 0.05), (0.2, 0.1), (0.1, 0.2))]
    return _best_by_sse(runs, origins)


# (alpha, (beta, phi), gamma): level, trend with its damping (phi 1 = none, beta 0 = no trend), season
HW_GRID = list(product((0.01, 0.03, 0.1, 0.3), ((0.0, 1.0), (0.02, 0.9), (0.05, 0.98)), (0.05, 0.2)))


def _hw_pass(
    x: Series,
    start: int,
    origins: Sequence[int],
    horizon: int,
    alpha: float,
    trend_: tuple[float, float],
    gamma: float,
) -> dict[int, tuple[float, list[float]]]:
    """Additive damped-trend Holt-Winters (weekly season) from day `start`, state read at each origin."""
    beta, phi = trend_
    first = filled(x[start : start + 2 * WEEK])
    level = _mean(first)
    season = [0.0] * WEEK
    for d in range(WEEK):
        days = [first[i] for i in range(len(first)) if (start + i) % WEEK == d]
        season[d] = _mean(days) - level
    trend = 0.0
    sse = 0.0
    wanted = set(origins)
    out: dict[int, tuple[float, list[float]]] = {}
    for t in range(start + 2 * WEEK, len(x) + 1):
        if t in wanted:
            forecast, damp, cumulated = [], 1.0, 0.0
            for k in range(horizon):
                damp *= phi
                cumulated += damp * trend
                forecast.append(max(0.0, level + cumulated + season[(t + k) % WEEK]))
            out[t] = (sse, forecast)
        if t == len(x):
            break
        value = x[t]
        d = t % WEEK
        if value is None:
            level += phi * trend
            trend *= phi
            continue
        error = value - (level + phi * trend + season[d])
        sse += error * error
        level += phi * trend + alpha * error
        trend = phi * trend + beta * error
        season[d] += gamma * error
    return out


def holt_winters(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
    """Exponential smoothing with a damped trend and weekly seasonality (parameters chosen per origin)."""
    usable = [o for o in origins if o >= 4 * WEEK]
    runs = [_hw_pass(y, 0, usable, horizon, a, b, g) for a, b, g in HW_GRID]
    out = _best_by_sse(runs, usable)
    for o in origins:
        out.setdefault(o, seasonal_naive(y, [o], horizon)[o])
    return out


YEARLY_START = (
    YEAR + YEAR // 2 + 1
)  # the first day whose yearly index reads half a year each side of last year


def yearly_index(f: Sequence[float], t: int) -> float:
    """How day t's season compares with its year: the fortnight around it last year over that whole year."""
    centre = t - YEAR
    window = f[centre - 7 : centre + 8]
    year = f[centre - YEAR // 2 : centre + YEAR // 2 + 1]
    base = _mean(year)
    if base <= 0 or len(window) < 15:
        return 1.0
    return min(4.0, max(0.25, _mean(window) / base))


def holt_winters_yearly(y: Series, origins: Sequence[int], horizon: int) -> Forecasts:
    """Holt-Winters on demand divided by last year's seasonal index, multiplied back (>= 2 years of history)."""
    f = filled(y)
    total = len(y) + horizon
    index = [1.0] * total
    extended = f + [0.0] * horizon
    for t in range(YEARLY_START, total):
        index[t] = yearly_index(extended, t)  # reads only days at least half a year before t
    x: list[float | None] = [None if v is None else v / index[t] for t, v in enumerate(y)]
    usable = [o for o in origins if o >= YEARLY_START + 4 * WEEK]
    runs = [_hw_pass(x, YEARLY_START, usable, horizon, a, b, g) for a, b, g in HW_GRID]
    out = {o: [v * index[o + k] for k, v in enumerate(fc)] for o, fc in _best_by_sse(runs, usable).items()}
    for o in origins:
        out.setdefault(o, holt_winters(y, [o], horizon)[o])
    return out


METHODS: dict[str, Method] = {
    "seasonal naive": seasonal_naive,
    "moving average 28 days": moving_average(28),
    "exponential smoothing": holt_winters,
    "exponential smoothing, yearly": holt_winters_yearly,
    "intermittent (TSB)": tsb,
}
BASELINES = ("seasonal naive", "moving average 28 days")
