"""Reorder maths, pure: safety stock from demand and lead-time spread, the reorder point, the order quantity.

Every figure carries its inputs and its formula in words a seller reads, so an answer explains itself:

    safety stock  = z(service level) * sqrt((L + R) * sd_d^2 + d^2 * sd_L^2)
    reorder point = d * (L + R) + safety stock
    order quantity = forecast demand over (L + review period + days-of-stock target) + safety stock
                     - on hand - on order + backorders, rounded up to the case pack, at least the MOQ

d and sd_d are units a day (mean and standard deviation), L and sd_L days (mean and standard deviation),
R the review period (suggestions are read weekly). Stock is only looked at every R days, so an order
placed now must last until the one after the next review lands: the demand it is exposed to spans L + R
days, not L (the periodic-review policy; R = 0 gives the continuous-review figures). sd_d is read from days
with one-off spikes capped (`spike_capped`): a wholesale order many times the usual day would otherwise
swell the spread, and the safety stock, of exactly the SKUs whose next spike exceeds it anyway (decisions).
The service level comes from the SKU's ABC class (A 98%, B 95%, C 90%). Safety stock is in the order
quantity too (an order-up-to level): without it an order placed at the reorder point would only bring
stock back to the expected demand, and a SKU with a large safety stock would order nothing (decisions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from oms.domain.audits import AbcClass

SERVICE_LEVELS: dict[AbcClass, float] = {AbcClass.A: 0.98, AbcClass.B: 0.95, AbcClass.C: 0.90}
REVIEW_DAYS = 7  # suggestions are read and ordered weekly
TARGET_DAYS = 0  # extra days of stock beyond the review period (none by default)
SPIKE_QUANTILE = 0.97  # a day above this share of the recent days is a one-off spike, capped for the spread

Number = float | int


@dataclass(frozen=True)
class LeadTime:
    """Days from ordering to units on the shelf: the mean and its standard deviation, and where they come from."""

    mean_days: float
    sd_days: float
    source: str  # e.g. "typed on the SKU", "assumed: no lead time set"


@dataclass(frozen=True)
class Figure:
    """One number with what it was made from and how."""

    value: int
    formula: str
    inputs: dict[str, Number | str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"value": self.value, "formula": self.formula, "inputs": dict(self.inputs)}


def z_score(service_level: float) -> float:
    """The standard normal quantile: the share of replenishment cycles that end without running out."""
    if not 0 < service_level < 1:
        raise ValueError(f"a service level is between 0 and 1, not {service_level}")
    return NormalDist().inv_cdf(service_level)


def service_level_of(abc_class: AbcClass, levels: dict[AbcClass, float] | None = None) -> float:
    return (levels or SERVICE_LEVELS)[abc_class]


def demand_stats(known: Sequence[float]) -> tuple[float, float]:
    """Mean and (sample) standard deviation of daily demand over days with known demand; (0, 0) for none."""
    if not known:
        return 0.0, 0.0
    mean = sum(known) / len(known)
    if len(known) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in known) / (len(known) - 1)
    return mean, math.sqrt(variance)


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def spike_capped(known: Sequence[float], q: float = SPIKE_QUANTILE) -> tuple[list[float], float | None]:
    """The days with one-off spikes capped at the `q` quantile of the days (the cap; None for no days)."""
    if not known:
        return [], None
    cap = _quantile(sorted(known), q)
    return [min(v, cap) for v in known], cap


def safety_stock(
    d: float,
    sd_d: float,
    lead: LeadTime,
    service_level: float,
    *,
    review_days: float = 0,
    spike_cap: float | None = None,
) -> Figure:
    z = z_score(service_level)
    exposed = lead.mean_days + review_days
    spread = math.sqrt(exposed * sd_d**2 + d**2 * lead.sd_days**2)
    value = max(0, math.ceil(z * spread - 1e-9))
    inputs: dict[str, Number | str | None] = {
        "serviceLevel": service_level,
        "z": round(z, 3),
        "dailyDemand": round(d, 3),
        "dailyDemandSd": round(sd_d, 3),
        "leadTimeDays": round(lead.mean_days, 2),
        "leadTimeSdDays": round(lead.sd_days, 2),
        "leadTimeSource": lead.source,
        "reviewDays": review_days,
    }
    formula = "z(service level) x sqrt((lead time + review period) x demand sd^2 + demand^2 x lead time sd^2), rounded up"
    if spike_cap is not None:
        inputs["spikeCap"] = round(spike_cap, 2)
        formula += "; the demand sd from days capped at the spike cap (one-off spikes)"
    return Figure(value, formula, inputs)


def reorder_point(d: float, lead: LeadTime, safety: Figure, *, review_days: float = 0) -> Figure:
    value = math.ceil(d * (lead.mean_days + review_days) + safety.value - 1e-9)
    return Figure(
        value,
        "daily demand x (lead time + review period) + safety stock, rounded up",
        {
            "dailyDemand": round(d, 3),
            "leadTimeDays": round(lead.mean_days, 2),
            "reviewDays": review_days,
            "demandOverLeadTime": round(d * lead.mean_days, 2),
            "demandOverReview": round(d * review_days, 2),
            "safetyStock": safety.value,
        },
    )


def demand_over(forecast: Sequence[float], days: float) -> float:
    """Units forecast over the next `days` (a fraction of the last day counted in part); beyond the
    forecast, its last week's average per day."""
    whole = int(days)
    tail = forecast[-7:] or [0.0]
    per_day_after = sum(tail) / len(tail)
    units = [forecast[k] if k < len(forecast) else per_day_after for k in range(math.ceil(days))]
    total = sum(units[:whole])
    if days > whole:
        total += units[whole] * (days - whole)
    return total


def round_up(units: int, case_pack: int | None, moq: int | None) -> int:
    """Up to whole cases, then at least the minimum order quantity (itself in whole cases); 0 stays 0."""
    if units <= 0:
        return 0
    pack = case_pack or 1
    rounded = math.ceil(units / pack) * pack
    if moq:
        rounded = max(rounded, math.ceil(moq / pack) * pack)
    return rounded


def order_quantity(
    forecast: Sequence[float],
    lead: LeadTime,
    safety: Figure,
    *,
    on_hand: int,
    on_order: int,
    backorders: int,
    review_days: float = REVIEW_DAYS,
    target_days: float = TARGET_DAYS,
    case_pack: int | None = None,
    minimum_order_quantity: int | None = None,
) -> Figure:
    cover_days = lead.mean_days + review_days + target_days
    demand = demand_over(forecast, cover_days)
    need = demand + safety.value - on_hand - on_order + backorders
    raw = max(0, math.ceil(need - 1e-9))
    value = round_up(raw, case_pack, minimum_order_quantity)
    return Figure(
        value,
        "forecast demand over (lead time + review period + days-of-stock target) + safety stock"
        " - on hand - on order + backorders, rounded up to the case pack, at least the MOQ",
        {
            "coverDays": round(cover_days, 2),
            "leadTimeDays": round(lead.mean_days, 2),
            "reviewDays": review_days,
            "targetDays": target_days,
            "forecastDemand": round(demand, 2),
            "safetyStock": safety.value,
            "onHand": on_hand,
            "onOrder": on_order,
            "backorders": backorders,
            "beforeRounding": raw,
            "casePack": case_pack,
            "minimumOrderQuantity": minimum_order_quantity,
        },
    )


def reorder_due(available: int, on_order: int, point: int) -> bool:
    """Time to order: what is available plus what is on its way no longer covers the reorder point."""
    return available + on_order <= point
