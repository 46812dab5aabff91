"""One-off spikes capped before the nightly plan forecasts: a wholesale order many times the usual day is
real demand, but not a level to plan on (a mean-based forecast carried it into every coming day).

A day above the 98th percentile of the last year's known days counts as that percentile; a SKU with fewer
than 13 weeks of known days is left as it is (too few days to tell a spike from its normal). The cap is
stored on the plan (`history.spikeCap`), so the cleaned history the API shows is the one the forecast
learned from (decision 86).
"""

from __future__ import annotations

from oms.domain.reorder import spike_capped
from oms.planning.history import SkuHistory

SPIKE_DAYS_QUANTILE = 0.98
SPIKE_WINDOW = 365
MIN_KNOWN_DAYS = 91


def cap_spikes(history: SkuHistory) -> tuple[SkuHistory, float | None, int]:
    """The history with one-off spikes capped, the cap (None: not capped) and how many days it lowered."""
    known = [u for u in history.units[-SPIKE_WINDOW:] if u is not None]
    if len(known) < MIN_KNOWN_DAYS:
        return history, None, 0
    _, cap = spike_capped(known, SPIKE_DAYS_QUANTILE)
    if cap is None:
        return history, None, 0
    lowered = sum(1 for u in history.units if u is not None and u > cap)
    units = [None if u is None else min(u, cap) for u in history.units]
    return SkuHistory(history.sku, history.start, units), cap, lowered
