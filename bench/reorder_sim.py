"""The reorder policy simulated on real daily demand: the product's beside Veeqo's 30-day sell-through.

Both policies review stock once a week and their orders arrive after a fixed lead time. Sales a day can
serve come from the shelf; demand beyond it is lost (a marketplace buyer goes elsewhere), so fill rate =
units served / units demanded, and average stock = units on the shelf at the end of each day, averaged.

- The product's policy (oms.planning + oms.domain.reorder, as the nightly plan computes it): the SKU's
  forecast by the method its own backtest chose (from the history with one-off spikes capped,
  oms.planning.spikes), d = its daily average over lead time + review, safety
  stock over lead time + review from the last 13 weeks' spread (one-off spikes capped) and the ABC class's
  service level, reorder point d x (L + review) + safety stock; when available + on order is at or below
  it, order up to the forecast over L + review + safety stock.
- Veeqo's: order up to 30-day sell-through x days of cover (lead time + review), no safety stock.

Each policy starts the window with its own order-up-to level on the shelf and nothing on order.
Simplifications, said so in the output: the history fed to the forecasts is the true demand (the product
would see lost days as out of stock and leave them out), the lead time is known and fixed (sd 0), no case
packs or minimum orders.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from oms.domain.audits import AbcClass
from oms.domain.reorder import (
    LeadTime,
    demand_stats,
    order_quantity,
    reorder_point,
    safety_stock,
    service_level_of,
    spike_capped,
)
from oms.planning.backtest import plan
from oms.planning.history import SkuHistory
from oms.planning.spikes import cap_spikes
from oms.planning.stock_plan import SPREAD_DAYS, horizon_for

LEAD_DAYS = 14
REVIEW_DAYS = 7
SELL_THROUGH_DAYS = 30

# At a review day t (demand known up to t-1): the units to order, given available and on order.
Policy = Callable[[int, int, int], int]


@dataclass
class Outcome:
    demanded: float = 0.0
    served: float = 0.0
    stock_days: float = 0.0
    days: int = 0
    orders: int = 0

    def add(self, other: Outcome) -> None:
        self.demanded += other.demanded
        self.served += other.served
        self.stock_days += other.stock_days
        self.days += other.days
        self.orders += other.orders

    @property
    def fill_rate(self) -> float:
        return self.served / self.demanded if self.demanded else math.nan

    @property
    def average_stock(self) -> float:
        return self.stock_days / self.days if self.days else math.nan


def simulate(y: Sequence[float], start: int, policy: Policy, opening: int) -> Outcome:
    """Days start..end of y, reviewing on start, start+7, ...; orders land LEAD_DAYS later, before the day's sales."""
    on_hand = opening
    arriving: dict[int, int] = {}
    out = Outcome()
    for t in range(start, len(y)):
        on_hand += arriving.pop(t, 0)
        if (t - start) % REVIEW_DAYS == 0:
            units = policy(t, on_hand, sum(arriving.values()))
            if units > 0:
                arriving[t + LEAD_DAYS] = arriving.get(t + LEAD_DAYS, 0) + units
                out.orders += 1
        demand = int(y[t])
        served = min(on_hand, demand)
        on_hand -= served
        out.demanded += demand
        out.served += served
        out.stock_days += on_hand
        out.days += 1
    return out


def product_policy(
    code: str, first: date, y: Sequence[float], abc: AbcClass, *, gate: bool = True
) -> tuple[Policy, Callable[[int], int]]:
    """The nightly plan's decision at day t, and its order-up-to level at t (the opening stock). gate=False:
    the same figures, but topping up to the order-up-to level at every review (no reorder-point gate)."""
    lead = LeadTime(float(LEAD_DAYS), 0.0, "fixed in the simulation")
    level = service_level_of(abc)
    horizon = horizon_for(lead)

    def figures(t: int) -> tuple[int, int, int]:
        """(reorder point, order-up-to level, safety stock) from the history before day t."""
        history, _, _ = cap_spikes(SkuHistory(code, first, list(y[:t])))  # as the nightly plan does
        chosen = plan(history, horizon)
        d = sum(chosen.forecast[: LEAD_DAYS + REVIEW_DAYS]) / (LEAD_DAYS + REVIEW_DAYS)
        recent = [u for u in history.units[max(0, t - SPREAD_DAYS) : t] if u is not None]
        capped, cap = spike_capped(recent)
        _, sd_d = demand_stats(capped)
        safety = safety_stock(d, sd_d, lead, level, review_days=REVIEW_DAYS, spike_cap=cap)
        point = reorder_point(d, lead, safety, review_days=REVIEW_DAYS)
        up_to = order_quantity(chosen.forecast, lead, safety, on_hand=0, on_order=0, backorders=0)
        return point.value, up_to.value, safety.value

    def decide(t: int, on_hand: int, on_order: int) -> int:
        point, up_to, _ = figures(t)
        if gate and on_hand + on_order > point:
            return 0
        return max(0, up_to - on_hand - on_order)

    return decide, lambda t: figures(t)[1]


def stock_at(fill_rate: float, curve: Sequence[Outcome]) -> float | None:
    """The average stock a policy family (ordered by growing cover) would hold at this fill rate, read
    linearly between the two covers around it; None when no cover reaches it."""
    for lower, upper in itertools.pairwise(curve):
        if lower.fill_rate < fill_rate <= upper.fill_rate:
            share = (fill_rate - lower.fill_rate) / (upper.fill_rate - lower.fill_rate)
            return lower.average_stock + share * (upper.average_stock - lower.average_stock)
    if curve and curve[0].fill_rate >= fill_rate:
        return curve[0].average_stock
    return None


def sell_through_policy(y: Sequence[float], cover_days: float) -> tuple[Policy, Callable[[int], int]]:
    def up_to(t: int) -> int:
        rate = sum(y[max(0, t - SELL_THROUGH_DAYS) : t]) / SELL_THROUGH_DAYS
        return math.ceil(rate * cover_days - 1e-9)

    def decide(t: int, on_hand: int, on_order: int) -> int:
        return max(0, up_to(t) - on_hand - on_order)

    return decide, up_to
