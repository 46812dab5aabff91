"""Too much, too little (GET /planning/stock-health): from last night's plans, the SKUs whose stock lasts far
beyond what an order is meant to cover (aged stock) and those whose stock runs out before a new order could
arrive (stockout risk), each with what to do: reorder now, expedite an open purchase order that arrives too
late, or a price or promotion hint (a hint only: nothing here changes a price).

Days of cover are read off the plan's own forecast (its seasons and trend included): the days until the
forecast units add up to what is available. Dates are the warehouse's days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from oms.amazon.client import SpApiError
from oms.amazon.pricing_api import PriceContext
from oms.amazon.rate_budget import BudgetExhausted
from oms.domain.reorder import REVIEW_DAYS, TARGET_DAYS
from oms.domain.supply import PoStatus, PurchaseOrder
from oms.domain.types import ApiModel
from oms.errors import NotFound
from oms.observability import logger
from oms.planning.lines import read_settings
from oms.store import keys
from oms.store.table import Item, Table
from oms.warehouse.settings import ShippingSettingsStore

AGED_MULTIPLE = (
    3  # aged: cover more than 3 times what an order is meant to cover (lead time + review + target)
)
MAX_ROWS_READ = 2000  # stock rows one request reads at most while looking for SKUs with a problem
ROWS_PER_READ = 200  # stock rows per Query while looking (the page's limit when it is larger)
SCOPE = "stock-health"
MAX_COVER_DAYS = 3650  # cover past ten years (or no demand at all) is reported as this
OPEN_STATUSES = (PoStatus.SENT, PoStatus.PARTIALLY_RECEIVED)
MAX_OPEN_POS = 2000  # open purchase orders read per answer (the oldest beyond this are not looked at)


class Problem(StrEnum):
    AGED = "aged-stock"
    STOCKOUT_RISK = "stockout-risk"


class Action(StrEnum):
    REORDER_NOW = "reorder-now"
    EXPEDITE = "expedite"
    PRICE_HINT = "price-or-promotion-hint"


class OpenPoLine(ApiModel):
    po_id: str
    supplier_name: str
    open_units: int
    expected_by: date | None = Field(description="the warehouse day the PO line is due (sent + lead time)")


class Advice(ApiModel):
    action: Action
    text: str = Field(description="what to do, in words")
    po_id: str | None = Field(default=None, description="the purchase order to expedite")
    units: int | None = Field(
        default=None, description="units to order (reorder now) or beyond the target (aged)"
    )


class PriceSummary(ApiModel):
    """Amazon's competitive summary of the SKU's ASIN, asked only where the seller allows it."""

    asin: str
    featured_price: float | None = Field(description="the featured (Buy Box) offer's price")
    featured_is_yours: bool | None = Field(description="whether the featured offer is the seller's own")
    lowest_price: float | None = Field(description="the lowest new offer's price")
    competitive_price: float | None = Field(description="Amazon's CompetitivePrice reference")
    currency_code: str | None


class SkuHealth(ApiModel):
    sku: str
    problem: Problem
    available: int
    on_order: int
    daily_demand: float = Field(description="the forecast's units a day over the lead time")
    cover_days: int = Field(
        description=f"days the available units last on the forecast ({MAX_COVER_DAYS}: no end)"
    )
    target_cover_days: float = Field(description="lead time + review period + days-of-stock target")
    lead_time_days: float
    runs_out_on: date | None = Field(
        description="the warehouse day the available units are forecast to run out"
    )
    open_purchase_orders: list[OpenPoLine] = Field(default_factory=list)
    advice: list[Advice]
    price_summary: PriceSummary | None = Field(
        default=None, description="Amazon's prices for the SKU, when the planning settings allow asking"
    )
    planned_at: str


class StockHealth(ApiModel):
    items: list[SkuHealth] = Field(description="the SKUs of this page with a problem (a page may be short)")
    time_zone: str = Field(description="the warehouse's zone, whose days the dates are")
    prices_unavailable: bool = Field(
        default=False,
        description="Amazon's prices were allowed but could not be read now (the hints are in words)",
    )
    next_token: str | None = None


def cover_days(forecast: Sequence[float], available: int) -> int:
    """Whole days the available units last on the forecast; past its end, its last week's average a day."""
    if available <= 0:
        return 0
    tail = list(forecast[-7:]) or [0.0]
    after = sum(tail) / len(tail)
    left = float(available)
    for day, units in enumerate(forecast):
        if units > left:
            return day
        left -= units
    if after <= 0:
        return MAX_COVER_DAYS
    return min(MAX_COVER_DAYS, len(forecast) + math.floor(left / after))


def _open_lines(pos: Iterable[PurchaseOrder], zone: ZoneInfo) -> dict[str, list[OpenPoLine]]:
    by_sku: dict[str, list[OpenPoLine]] = {}
    for po in pos:
        for line in po.lines:
            if line.open_units <= 0:
                continue
            expected = line.expected_by.astimezone(zone).date() if line.expected_by else None
            by_sku.setdefault(line.sku, []).append(
                OpenPoLine(
                    po_id=po.po_id,
                    supplier_name=po.supplier_name,
                    open_units=line.open_units,
                    expected_by=expected,
                )
            )
    for lines in by_sku.values():
        lines.sort(key=lambda o: (o.expected_by or date.max, o.po_id))
    return by_sku


def health_of(plan: Mapping[str, Any], open_lines: Sequence[OpenPoLine]) -> SkuHealth | None:
    """The SKU's problem and what to do about it, or None when its stock is neither aged nor at risk."""
    forecast = [float(v) for v in plan.get("forecast", {}).get("units", [])]
    first_day = date.fromisoformat(str(plan["forecast"]["start"])) if forecast else None
    available = int(plan.get("available", 0))
    on_order = int(plan.get("onOrder", 0))
    lead = float(plan.get("leadTime", {}).get("days", 0))
    inputs = plan.get("reorderPoint", {}).get("inputs", {})
    d = float(inputs.get("dailyDemand") or 0)
    target = lead + REVIEW_DAYS + TARGET_DAYS
    cover = cover_days(forecast, available)
    runs_out = first_day + timedelta(days=cover) if first_day and cover < MAX_COVER_DAYS else None
    common = {
        "sku": str(plan["sku"]),
        "available": available,
        "on_order": on_order,
        "daily_demand": round(d, 3),
        "cover_days": cover,
        "target_cover_days": target,
        "lead_time_days": lead,
        "runs_out_on": runs_out,
        "open_purchase_orders": list(open_lines),
        "planned_at": str(plan.get("plannedAt", "")),
    }
    if available > 0 and cover > AGED_MULTIPLE * target:
        needed = math.ceil(sum(forecast[: math.ceil(target)]) - 1e-9) if forecast else 0
        excess = max(0, available - needed)
        why = (
            "no demand is forecast"
            if cover >= MAX_COVER_DAYS
            else f"{available} available last about {cover} days, more than {AGED_MULTIPLE} times the {target:g} days an order is meant to cover"
        )
        advice = [
            Advice(
                action=Action.PRICE_HINT,
                units=excess,
                text=f"{why}: about {excess} units beyond that target tie up cash and storage; a promotion or a lower "
                "price would sell them down (a hint: no price is changed here)",
            )
        ]
        return SkuHealth(problem=Problem.AGED, advice=advice, **common)
    if d > 0 and cover < lead:
        return SkuHealth(
            problem=Problem.STOCKOUT_RISK, advice=_risk_advice(plan, runs_out, open_lines, lead), **common
        )
    return None


def _risk_advice(
    plan: Mapping[str, Any], runs_out: date | None, open_lines: Sequence[OpenPoLine], lead: float
) -> list[Advice]:
    advice: list[Advice] = []
    out = runs_out.isoformat() if runs_out else "soon"
    late = [
        o for o in open_lines if runs_out is not None and (o.expected_by is None or o.expected_by > runs_out)
    ]
    for line in late:
        due = line.expected_by.isoformat() if line.expected_by else "an unknown day"
        advice.append(
            Advice(
                action=Action.EXPEDITE,
                po_id=line.po_id,
                text=f"expedite {line.po_id} from {line.supplier_name}: its {line.open_units} units are due {due}, "
                f"after the stock runs out around {out}",
            )
        )
    quantity = int(plan.get("orderQuantity", {}).get("value", 0))
    if quantity > 0:
        advice.append(
            Advice(
                action=Action.REORDER_NOW,
                units=quantity,
                text=f"reorder now: {quantity} units (what is available lasts until about {out}, "
                f"less than the {lead:g}-day lead time)",
            )
        )
    if not open_lines or late:
        advice.append(
            Advice(
                action=Action.PRICE_HINT,
                text=f"no order can arrive before about {out}: a higher price or pausing promotions would slow "
                "sales until stock arrives (a hint: no price is changed here)",
            )
        )
    return advice


def _zone(table: Table) -> ZoneInfo:
    try:
        return ZoneInfo(ShippingSettingsStore(table).get().warehouse.time_zone)
    except NotFound:
        return ZoneInfo("UTC")


def _open_pos(table: Table) -> list[PurchaseOrder]:
    fields = {f.alias for f in PurchaseOrder.model_fields.values() if f.alias}
    pos: list[PurchaseOrder] = []
    for status in OPEN_STATUSES:
        token: str | None = None
        while len(pos) < MAX_OPEN_POS:
            page = table.query_page(keys.purchase_orders(status.value), limit=100, next_token=token)
            pos += [
                PurchaseOrder.model_validate({k: v for k, v in i.items() if k in fields}) for i in page.items
            ]
            token = page.next_token
            if not token:
                break
    return pos


Prices = Callable[[Sequence[str]], Mapping[str, PriceContext]]


def _price_text(context: PriceContext, yours: bool | None) -> str:
    def money(amount: Any) -> str:
        return f"{amount} {context.currency_code or ''}".strip()

    parts = []
    if context.featured_price is not None:
        who = "your offer" if yours else "another seller's offer"
        parts.append(f"the featured offer is {who} at {money(context.featured_price)}")
    if context.lowest_price is not None:
        parts.append(f"the lowest offer is {money(context.lowest_price)}")
    return "; on Amazon now " + ", ".join(parts) if parts else ""


def with_prices(found: list[SkuHealth], asins: Mapping[str, str], prices: Prices, seller_id: str) -> bool:
    """Add Amazon's competitive summary to the SKUs with a price hint (one batch per 20 ASINs); False when
    Amazon could not be asked now (busy, or the rate budget spent): the hints stay in words."""
    hinted = {
        h.sku: asins[h.sku]
        for h in found
        if h.sku in asins and any(a.action == Action.PRICE_HINT for a in h.advice)
    }
    if not hinted:
        return True
    try:
        contexts = prices(list(hinted.values()))
    except (SpApiError, BudgetExhausted) as error:
        logger.warning("competitive summaries not read", extra={"error": str(error)})
        return False
    for health in found:
        context = contexts.get(hinted.get(health.sku, ""))
        if context is None:
            continue
        yours = None if context.featured_seller_id is None else context.featured_seller_id == seller_id
        health.price_summary = PriceSummary(
            asin=context.asin,
            featured_price=float(context.featured_price) if context.featured_price is not None else None,
            featured_is_yours=yours,
            lowest_price=float(context.lowest_price) if context.lowest_price is not None else None,
            competitive_price=float(context.competitive_price)
            if context.competitive_price is not None
            else None,
            currency_code=context.currency_code,
        )
        for advice in health.advice:
            if advice.action == Action.PRICE_HINT:
                advice.text += _price_text(context, yours)
    return True


def stock_health(
    table: Table,
    *,
    limit: int,
    next_token: str | None,
    prices: Prices | None = None,
    seller_id: str = "",
) -> StockHealth:
    """Up to `limit` SKUs with a problem, at risk first: stock rows read by SKU a page at a time, each page's
    plans read together, until `limit` are found or the rows end, reading at most MAX_ROWS_READ rows (then
    fewer come back, with a nextToken to go on). The token resumes right after the last row looked at.
    `prices`: Amazon's competitive summaries by ASIN, asked only when the planning settings allow it."""
    query = keys.KeyQuery(keys.ALL_STOCK, "gsi1")
    zone = _zone(table)
    lines: dict[str, list[OpenPoLine]] | None = None
    found: list[SkuHealth] = []
    looked_at: set[str] = set()  # a SKU with rows at two locations has one plan
    asins: dict[str, str] = {}
    token, read_rows = next_token, 0
    while token is not None or read_rows == 0:
        size = min(max(limit, ROWS_PER_READ), MAX_ROWS_READ - read_rows)
        page = table.query_page(query, limit=size, next_token=token, scope=SCOPE)
        token, read_rows = page.next_token, read_rows + size
        rows = [row for row in page.items if row.get("sku")]
        skus = [sku for sku in dict.fromkeys(str(row["sku"]) for row in rows) if sku not in looked_at]
        plans: dict[str, Item] = {}
        for start in range(0, len(skus), 100):
            for plan in table.get_many(
                [keys.plan_key(s) for s in skus[start : start + 100]], consistent=False
            ):
                plans[str(plan["sku"])] = plan
        if plans and lines is None:
            lines = _open_lines(_open_pos(table), zone)
        for row in rows:
            sku = str(row["sku"])
            if sku in looked_at:
                continue
            looked_at.add(sku)
            if row.get("asin"):
                asins[sku] = str(row["asin"])
            planned = plans.get(sku)
            health = health_of(planned, (lines or {}).get(sku, [])) if planned else None
            if health is not None:
                found.append(health)
            if len(found) >= limit:
                # stop at this row: the next page starts after it, whatever else this page held
                token = (
                    table.token_after(query, row, scope=SCOPE) if row is not page.items[-1] or token else None
                )
                break
        if len(found) >= limit or read_rows >= MAX_ROWS_READ:
            break
    found.sort(
        key=lambda h: (
            h.problem != Problem.STOCKOUT_RISK,
            h.cover_days if h.problem == Problem.STOCKOUT_RISK else -h.cover_days,
            h.sku,
        )
    )
    asked = prices is not None and read_settings(table).price_hints
    if asked and found:  # the ASIN from the catalogue (Amazon's answer kept per SKU), else the FBA identity
        hinted = [h.sku for h in found if any(a.action == Action.PRICE_HINT for a in h.advice)]
        for start in range(0, len(hinted), 100):
            for product in table.get_many(
                [keys.product_key(s) for s in hinted[start : start + 100]], consistent=False
            ):
                asin = (product.get("amazon") or {}).get("asin")
                if asin:
                    asins[str(product["sku"])] = str(asin)
    read = with_prices(found, asins, prices, seller_id) if asked and prices is not None else True
    return StockHealth(items=found, time_zone=zone.key, prices_unavailable=not read, next_token=token)
