"""The plans as the seller reads them: one SKU's plan with its history (GET /planning/skus/{sku}) and the
reorder suggestions (GET /planning/reorder). Dates are the warehouse's days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field

from oms.domain.types import ApiModel, UtcDateTime
from oms.errors import NotFound
from oms.planning.demand import HISTORY_DAYS, channel_split, read_demand
from oms.planning.methods import BASELINES
from oms.store import keys
from oms.store.table import Item, Table

NO_SUPPLIER = "No supplier set"
MAX_SEND_LISTED = 500


class Figure(ApiModel):
    value: int
    formula: str = Field(description="how the value is made, in words")
    inputs: dict[str, float | int | str | None] = Field(description="every number the formula used")


class LeadTimeUsed(ApiModel):
    days: float
    sd_days: float = Field(description="the lead time's standard deviation in days (0: taken as fixed)")
    source: str = Field(description="where the lead time comes from")


class HistoryDay(ApiModel):
    date: date
    units: float = Field(description="units ordered that day, over every channel and marketplace")
    out_of_stock: bool = Field(description="the SKU ran out or was short that day: its demand is unknown")
    by_channel: dict[str, int] = Field(default_factory=dict, description="units per MFN/AFN")
    by_marketplace: dict[str, int] = Field(default_factory=dict, description="units per marketplace id")


class CleanedDay(ApiModel):
    date: date
    units: float | None = Field(
        description="the demand the forecast learns from; null: unknown (out of stock)"
    )


class History(ApiModel):
    raw: list[HistoryDay]
    cleaned: list[CleanedDay]


class ForecastDay(ApiModel):
    date: date
    units: float
    low: float = Field(description="the 80% interval's low end")
    high: float = Field(description="the 80% interval's high end")


class MethodAccuracy(ApiModel):
    method: str
    wape: float | None = Field(description="absolute error over units sold in the backtest (lower is better)")
    mase: float | None = Field(description="mean absolute error over last week's same-weekday error")
    days: int
    chosen: bool
    baseline: bool


class SkuPlan(ApiModel):
    sku: str
    planned_at: UtcDateTime
    as_of: date = Field(description="the last day of history the plan read (warehouse day)")
    abc_class: str
    product_line: str | None = Field(default=None, description="the product line whose settings applied")
    service_level: float = Field(
        description="the share of replenishment cycles meant to end without running out"
    )
    method: str
    note: str = Field(description="why this method, in words")
    accuracy: list[MethodAccuracy] = Field(
        description="every candidate's backtest, the chosen one and the baselines"
    )
    history: History
    forecast: list[ForecastDay]
    lead_time: LeadTimeUsed
    safety_stock: Figure
    reorder_point: Figure
    order_quantity: Figure
    on_hand: int
    available: int
    backordered: int
    on_order: int
    reorder_due: bool = Field(
        description="available + on order at or below the reorder point, something to order"
    )


class Suggestion(ApiModel):
    sku: str
    order_quantity: int
    available: int
    on_order: int
    backordered: int
    reorder_point: int
    safety_stock: int
    lead_time_days: float
    abc_class: str
    method: str
    planned_at: UtcDateTime
    why: str = Field(description="the suggestion in words")


class SupplierGroup(ApiModel):
    supplier_id: str | None = Field(description="null: the SKUs without a supplier's terms")
    supplier_name: str
    items: list[Suggestion]


class SendToAmazon(ApiModel):
    sku: str
    units: int = Field(description="units to send to Amazon's fulfilment network")
    fulfillable: int
    inbound: int
    reserved: int
    formula: str
    inputs: dict[str, float | int | str | None] = Field(description="every number the formula used")
    planned_at: UtcDateTime


class ReorderList(ApiModel):
    groups: list[SupplierGroup]
    send_to_amazon: list[SendToAmazon] = Field(
        default_factory=list,
        description="FBA SKUs with units to send from your shelf to Amazon, apart from the purchase suggestions "
        f"(on the first page, at most {MAX_SEND_LISTED})",
    )
    next_token: str | None = None


def _plan_item(table: Table, sku: str) -> Item:
    item = table.get(keys.plan_key(sku))
    if item is None:
        raise NotFound(f"SKU {sku} has no plan yet: plans are made each night for every SKU with a stock row")
    return item


def _capped(units: float, cap: object) -> float:
    return units if cap is None else min(units, float(str(cap)))


def sku_plan(table: Table, sku: str, *, days: int = HISTORY_DAYS) -> SkuPlan:
    item = _plan_item(table, sku)
    as_of = date.fromisoformat(str(item["asOf"]))
    demand = read_demand(table, sku, as_of, days=days)
    raw: list[HistoryDay] = []
    cleaned: list[CleanedDay] = []
    cap = (item.get("history") or {}).get("spikeCap")  # one-off spikes the plan capped (oms.planning.spikes)
    if demand is not None:
        for k, (units, out) in enumerate(zip(demand.units, demand.out, strict=True)):
            day = demand.start + timedelta(days=k)
            split = channel_split(demand.days.get(day, {}))
            raw.append(HistoryDay(date=day, units=units, out_of_stock=out, **split))
            cleaned.append(CleanedDay(date=day, units=None if out else _capped(units, cap)))
    fc = item["forecast"]
    start = date.fromisoformat(str(fc["start"]))
    forecast = [
        ForecastDay(date=start + timedelta(days=k), units=float(u), low=float(lo), high=float(hi))
        for k, (u, lo, hi) in enumerate(zip(fc["units"], fc["low"], fc["high"], strict=True))
    ]
    accuracy = [
        MethodAccuracy(
            method=name,
            wape=_float(a.get("wape")),
            mase=_float(a.get("mase")),
            days=int(a.get("days", 0)),
            chosen=name == item["method"],
            baseline=name in BASELINES,
        )
        for name, a in sorted((item.get("accuracy") or {}).items())
    ]
    lead = item["leadTime"]
    return SkuPlan(
        sku=sku,
        planned_at=item["plannedAt"],
        as_of=as_of,
        abc_class=str(item["abcClass"]),
        product_line=item.get("productLine"),
        service_level=float(item["serviceLevel"]),
        method=str(item["method"]),
        note=str(item["note"]),
        accuracy=accuracy,
        history=History(raw=raw, cleaned=cleaned),
        forecast=forecast,
        lead_time=LeadTimeUsed(
            days=float(lead["days"]), sd_days=float(lead["sdDays"]), source=str(lead["source"])
        ),
        safety_stock=_figure(item["safetyStock"]),
        reorder_point=_figure(item["reorderPoint"]),
        order_quantity=_figure(item["orderQuantity"]),
        on_hand=int(item["onHand"]),
        available=int(item["available"]),
        backordered=int(item["backordered"]),
        on_order=int(item["onOrder"]),
        reorder_due=bool(item["reorderDue"]),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _figure(stored: Item) -> Figure:
    inputs = {
        k: (float(v) if not isinstance(v, str | int) else v) for k, v in (stored.get("inputs") or {}).items()
    }
    return Figure(value=int(stored["value"]), formula=str(stored["formula"]), inputs=inputs)


def _suggestion(item: Item) -> Suggestion:
    quantity = int(item["orderQuantity"]["value"])
    point = int(item["reorderPoint"]["value"])
    available, on_order = int(item["available"]), int(item["onOrder"])
    return Suggestion(
        sku=str(item["sku"]),
        order_quantity=quantity,
        available=available,
        on_order=on_order,
        backordered=int(item["backordered"]),
        reorder_point=point,
        safety_stock=int(item["safetyStock"]["value"]),
        lead_time_days=float(item["leadTime"]["days"]),
        abc_class=str(item["abcClass"]),
        method=str(item["method"]),
        planned_at=item["plannedAt"],
        why=f"{available} available + {on_order} on order is at or below the reorder point of {point}: "
        f"order {quantity} to cover the lead time and the review period",
    )


def reorder_list(table: Table, *, limit: int, next_token: str | None) -> ReorderList:
    """The SKUs due for reordering by SKU, one group per supplier (the one whose terms the plan used; a group
    of SKUs without a supplier last), each group ready to become a draft purchase order."""
    page = table.query_page(keys.reorder_due(), limit=limit, next_token=next_token)
    by_supplier: dict[str | None, list[Suggestion]] = {}
    for item in page.items:
        if item.get("reorderDue"):
            by_supplier.setdefault(item.get("supplier"), []).append(_suggestion(item))
    names = {
        i["supplierId"]: str(i.get("name") or i["supplierId"])
        for i in table.get_many([keys.supplier_key(s) for s in by_supplier if s], consistent=False)
    }
    groups = [
        SupplierGroup(supplier_id=s, supplier_name=names.get(s, s) if s else NO_SUPPLIER, items=items)
        for s, items in sorted(by_supplier.items(), key=lambda e: (e[0] is None, names.get(e[0] or "", "")))
    ]
    send = _send_to_amazon(table) if next_token is None else []
    return ReorderList(groups=groups, send_to_amazon=send, next_token=page.next_token)


def _send_to_amazon(table: Table) -> list[SendToAmazon]:
    found: list[SendToAmazon] = []
    for item in table.query_page(keys.send_to_amazon(), limit=MAX_SEND_LISTED).items:
        figure = item.get("sendToAmazon") or {}
        inputs = dict(figure.get("inputs") or {})
        if not figure.get("value"):
            continue
        found.append(
            SendToAmazon(
                sku=str(item["sku"]),
                units=int(figure["value"]),
                fulfillable=int(inputs.get("fulfillable", 0)),
                inbound=int(inputs.get("inbound", 0)),
                reserved=int(inputs.get("reserved", 0)),
                formula=str(figure.get("formula", "")),
                inputs=inputs,
                planned_at=item["plannedAt"],
            )
        )
    return found
