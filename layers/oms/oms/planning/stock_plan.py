"""A SKU's stock plan: its forecast (the method its own backtest chose), safety stock, reorder point and
order quantity, each with its inputs (oms.domain.reorder), stored as one compact item per SKU and written
onto the stock row's reorder point and safety stock unless the seller fixed them.

The plan item is the state ReorderDue is published from (oms.events): once per time the SKU becomes due
(available + on order at or below the reorder point, with something to order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from oms.domain.audits import AbcClass
from oms.domain.reorder import (
    REVIEW_DAYS,
    TARGET_DAYS,
    LeadTime,
    demand_stats,
    order_quantity,
    reorder_due,
    reorder_point,
    safety_stock,
    service_level_of,
    spike_capped,
)
from oms.domain.types import iso_z
from oms.errors import Conflict
from oms.inventory.stock import level_of, row_item
from oms.planning.backtest import Accuracy, plan
from oms.planning.borrowed_season import Profile, deseasonalised, indices, too_young, with_season
from oms.planning.demand import DemandHistory
from oms.planning.fba_send import send_to_amazon
from oms.planning.lines import ProductLine, with_line
from oms.planning.spikes import cap_spikes
from oms.store import keys
from oms.store.conditional import add_ordered
from oms.store.table import Item, Table, Write, back_off

PLAN_ENTITY = "StockPlan"
MIN_HORIZON, MAX_HORIZON = 28, 182
SPREAD_DAYS = 91  # the demand spread (sd_d) is read over the last 13 weeks of known days
PLANNED_POINT = (
    "plannedReorderPoint"  # what the plan last wrote on the stock row: still the plan's while equal
)
PLANNED_SAFETY = "plannedSafetyStock"
_ATTEMPTS = 10


@dataclass(frozen=True)
class Stock:
    """A SKU's figures summed over its locations."""

    on_hand: int
    available: int
    backordered: int
    case_pack: int | None
    minimum_order_quantity: int | None
    fba: dict[str, Any] | None = None  # Amazon's FBA figures (fulfillable, inbound, reserved) for an FBA SKU

    @classmethod
    def of(cls, rows: Sequence[Item]) -> Stock:
        levels = [level_of(row) for row in rows]
        policy = next(
            (r for r in rows if r.get("location", keys.DEFAULT_LOCATION) == keys.DEFAULT_LOCATION), {}
        )
        return cls(
            sum(level.on_hand for level in levels),
            sum(level.available for level in levels),
            sum(level.backordered for level in levels),
            _int_or_none(policy.get("casePack")),
            _int_or_none(policy.get("minimumOrderQuantity")),
            next((dict(r["fba"]) for r in rows if r.get("fba")), None),
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _number(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 4)


def _accuracy(accuracy: Accuracy) -> dict[str, Any]:
    return {"wape": _number(accuracy.wape), "mase": _number(accuracy.mase), "days": accuracy.days}


def horizon_for(lead: LeadTime, review_days: float = REVIEW_DAYS, target_days: float = TARGET_DAYS) -> int:
    """Days to forecast: the whole cover an order must last (lead time + review + target), 4 weeks at least."""
    return max(MIN_HORIZON, min(MAX_HORIZON, math.ceil(lead.mean_days + review_days + target_days)))


def compute_plan(
    sku: str,
    demand: DemandHistory | None,
    stock: Stock,
    abc_class: AbcClass,
    lead: LeadTime,
    on_order: int,
    *,
    as_of: date,
    planned_at: datetime,
    line: ProductLine | None = None,
    season: Profile | None = None,
) -> Item:
    """The plan item's body (no keys): what the SKU will sell, and when and how much to reorder, explained.
    `season`: the profile of the line the SKU's line borrows its seasonality from (oms.planning.borrowed_season)."""
    horizon = horizon_for(lead)
    level = service_level_of(abc_class)
    first_day = as_of + timedelta(days=1)
    if demand is None:
        method, note = "none", "no orders yet: nothing to forecast"
        forecast, low, high = [0.0] * horizon, [0.0] * horizon, [0.0] * horizon
        accuracy: dict[str, Any] = {}
        recent: list[float] = []
        history = {"days": 0, "outOfStockDays": 0, "byChannel": {}, "byMarketplace": {}}
    else:
        cleaned, spike_cap, spiked = cap_spikes(demand.cleaned())
        learn_from, factors, unused = cleaned, None, None
        if season is not None and too_young(cleaned, horizon):
            flat, factors = deseasonalised(cleaned, season), indices(season, first_day, horizon)
            if flat is None or factors is None:
                factors = None
                unused = f"product line {season.line}'s seasonality has no whole year around these days yet: not borrowed"
            else:
                learn_from = flat
        chosen = plan(learn_from, horizon)
        if line is not None:
            chosen = with_line(chosen, learn_from, horizon, line, first_day)
        if factors is not None and season is not None:
            chosen = with_season(chosen, factors, season)
        elif unused:
            chosen = replace(chosen, note=f"{chosen.note}; {unused}")
        method, note = chosen.method, chosen.note
        if spiked and spike_cap is not None:
            note += f"; {spiked} day(s) above {spike_cap:g} units counted as {spike_cap:g} (one-off spikes)"
        forecast, low, high = chosen.forecast, chosen.low, chosen.high
        accuracy = {name: _accuracy(a) for name, a in chosen.accuracy.items()}
        recent = [u for u in cleaned.units[-SPREAD_DAYS:] if u is not None]
        history = {
            "start": demand.start.isoformat(),
            "days": len(demand.units),
            "outOfStockDays": sum(demand.out),
            "spikeCap": None if spike_cap is None else round(spike_cap, 2),
            "byChannel": demand.by_channel,
            "byMarketplace": demand.by_marketplace,
        }
    cover_days = max(1, math.ceil(lead.mean_days + REVIEW_DAYS))
    d = sum(forecast[:cover_days]) / cover_days  # the forecast's daily demand over lead time + review
    capped, cap = spike_capped(recent)
    _, sd_d = demand_stats(capped)
    safety = safety_stock(d, sd_d, lead, level, review_days=REVIEW_DAYS, spike_cap=cap)
    point = reorder_point(d, lead, safety, review_days=REVIEW_DAYS)
    quantity = order_quantity(
        forecast,
        lead,
        safety,
        on_hand=stock.on_hand,
        on_order=on_order,
        backorders=stock.backordered,
        case_pack=stock.case_pack,
        minimum_order_quantity=stock.minimum_order_quantity,
    )
    due = reorder_due(stock.available, on_order, point.value) and quantity.value > 0
    by_channel = demand.by_channel if demand is not None else {}
    send = send_to_amazon(forecast, stock.fba, by_channel, case_pack=stock.case_pack)
    return {
        "entity": PLAN_ENTITY,
        "sku": sku,
        "plannedAt": iso_z(planned_at),
        "asOf": as_of.isoformat(),
        "abcClass": abc_class.value,
        "productLine": line.name if line else None,
        "serviceLevel": level,
        "method": method,
        "note": note,
        "accuracy": accuracy,
        "history": history,
        "forecast": {
            "start": first_day.isoformat(),
            "units": [round(v, 2) for v in forecast],
            "low": [round(v, 2) for v in low],
            "high": [round(v, 2) for v in high],
        },
        "leadTime": {"days": lead.mean_days, "sdDays": lead.sd_days, "source": lead.source},
        "safetyStock": safety.as_dict(),
        "reorderPoint": point.as_dict(),
        "orderQuantity": quantity.as_dict(),
        "onHand": stock.on_hand,
        "available": stock.available,
        "backordered": stock.backordered,
        "onOrder": on_order,
        "reorderDue": due,
        "sendToAmazon": send,
        "supplier": None,  # the SKU's supplier, set by the nightly run from its terms
    }


def _owned(row: Item, field: str, planned: str) -> bool:
    """The plan may write `field`: the seller never set it, or it still holds what the plan last wrote."""
    return row.get(field) is None or (row.get(planned) is not None and row[field] == row[planned])


def _row_write(row: Item | None, sku: str, body: Item, at: str) -> Write | None:
    """The stock row with the plan's reorder point and safety stock, where the seller has not fixed them."""
    if row is None:
        return None
    changes: dict[str, Any] = {}
    point, safety = body["reorderPoint"]["value"], body["safetyStock"]["value"]
    if _owned(row, "reorderPoint", PLANNED_POINT) and row.get("reorderPoint") != point:
        changes |= {"reorderPoint": point, PLANNED_POINT: point}
    if _owned(row, "safetyStock", PLANNED_SAFETY) and row.get("safetyStock") != safety:
        changes |= {"safetyStock": safety, PLANNED_SAFETY: safety}
    if not changes:
        return None
    item = row_item(row, sku, level_of(row), location=keys.DEFAULT_LOCATION, at=at, changes=changes)
    return Write.put_versioned(item, int(row.get("version", 0)))


def store_plan(table: Table, body: Item, *, mark_out: str | None = None) -> Item:
    """Write the plan, and onto the stock row its figures, in one transaction (retried when the row moves);
    `mark_out`: a day to mark out of stock in the SKU's demand history, in the same transaction."""
    sku = str(body["sku"])
    item = {**keys.plan_key(sku), **body}
    if body["reorderDue"]:
        item |= keys.reorder_due_index_keys(sku)
    if (body.get("sendToAmazon") or {}).get("value"):
        item |= keys.send_to_amazon_index_keys(sku)
    for attempt in range(_ATTEMPTS):
        row = table.get(keys.stock_key(sku), consistent=True)
        writes = [Write("Put", item=item)]
        row_write = _row_write(row, sku, body, str(body["plannedAt"]))
        if row_write is not None:
            writes.append(row_write)
        if mark_out:
            writes.append(add_ordered(mark_out, sku, out=True))
        try:
            table.transact(writes)
        except Conflict:
            back_off(attempt)
            continue
        return item
    raise Conflict(f"SKU {sku}'s stock kept changing while its plan was written; the next run tries again")
