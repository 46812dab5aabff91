"""The nightly plan: every SKU's forecast, safety stock, reorder point and order quantity, once per warehouse
day, in bounded time and memory.

A run belongs to the warehouse's day (its time zone): the first invocation after midnight starts it, and
each plans SKUs in name order, one at a time (one SKU's history in memory), saving how far it got after
every page, until its time is nearly up; the next invocation (the schedule is hourly) goes on from there,
and once the day's run is done the others return at once. A crash loses at most a page: planning a SKU
again writes the same plan (a ReorderDue is published only when a plan becomes due, oms.events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial

from oms.domain.types import iso_z
from oms.inventory.unit_values import SkuSales, sales_classes
from oms.observability import logger
from oms.planning.backfill import count_stored_orders
from oms.planning.borrowed_season import Profile, profile_of
from oms.planning.demand import read_demand
from oms.planning.lead_times import lead_time_for, supply_terms, units_on_order
from oms.planning.lines import ProductLine, ProductLines, line_of, read_settings
from oms.planning.stock_plan import Stock, compute_plan, store_plan
from oms.store import keys
from oms.store.table import Item, Table, again_if_transient
from oms.warehouse.settings import ShippingSettingsStore

PAGE = 25  # SKUs planned between two saves of the run's progress
MARGIN_SECONDS = 60.0  # stop with this much of the invocation's time left
TRIES = 3  # a plan's write the table refused for a moment, tried again within the run
RUN_RECORD_DAYS = 30


@dataclass
class RunResult:
    day: str
    planned: int
    due: int
    done: bool
    already_done: bool = False


def _amazon_only(rows: Sequence[Item]) -> bool:
    """The SKU's stock policy says Amazon fulfils it (channel FBA)."""
    return any(
        r.get("channel") == "FBA"
        for r in rows
        if r.get("location", keys.DEFAULT_LOCATION) == keys.DEFAULT_LOCATION
    )


class Seasons:
    """The profiles lines borrow their seasonality from, each summed once per invocation from its SKUs' histories."""

    def __init__(
        self, table: Table, settings: ProductLines, everyone: Sequence[SkuSales], as_of: date
    ) -> None:
        self._table, self._settings, self._everyone, self._as_of = table, settings, everyone, as_of
        self._profiles: dict[str, Profile | None] = {}

    def for_line(self, line: ProductLine | None) -> Profile | None:
        if line is None or not line.seasonality_from:
            return None
        name = line.seasonality_from
        if name not in self._profiles:
            members = [
                s
                for s in self._everyone
                if (of := line_of(self._settings, s.sku, s.rows)) and of.name == name
            ]
            histories = (read_demand(self._table, s.sku, self._as_of) for s in members)
            self._profiles[name] = profile_of(name, (h for h in histories if h is not None))
        return self._profiles[name]


def _plan_one(
    table: Table,
    sales: SkuSales,
    *,
    as_of_day: str,
    now: datetime,
    settings: ProductLines,
    seasons: Seasons | None = None,
) -> bool:
    """Plan one SKU and store it; True when it is due for reordering."""
    as_of = datetime.fromisoformat(as_of_day).date()
    line = line_of(settings, sales.sku, sales.rows)
    demand = read_demand(table, sales.sku, as_of)
    stock = Stock.of(sales.rows)
    terms = supply_terms(table, sales.sku)
    if terms is not None:  # the supplier's rounding wins over any typed on the SKU
        stock = replace(stock, case_pack=terms.casePack, minimum_order_quantity=terms.moq)
    out = stock.available <= 0 or stock.backordered > 0
    if _amazon_only(sales.rows):  # Amazon fulfils it: out when Amazon has none to sell, not the shelf here
        out = stock.fba is not None and int(stock.fba.get("fulfillable", 0)) <= 0
    mark_out = None
    if out and demand is not None:  # the day just ended with nothing to sell: its demand is unknown
        demand.mark_out(as_of)
        mark_out = as_of_day
    body = compute_plan(
        sales.sku,
        demand,
        stock,
        sales.abc_class,
        lead_time_for(table, sales.sku, terms),
        units_on_order(table, sales.sku),
        as_of=as_of,
        planned_at=now,
        line=line,
        season=seasons.for_line(line) if seasons else None,
    )
    body["supplier"] = terms.supplierId if terms else None
    store_plan(table, body, mark_out=mark_out)
    return bool(body["reorderDue"])


def run_nightly(
    table: Table, now: datetime, time_left: Callable[[], float], *, again: bool = False
) -> RunResult:
    """Plan every SKU not yet planned in this warehouse day's run, while time is left; `again`: start the
    day's run over (after a lead time or a product line changed, `oms invoke plan_stock` with
    `{"again": true}`)."""
    calendar = ShippingSettingsStore(table).get().calendar
    today = calendar.local(now).date()
    day, as_of_day = today.isoformat(), (today - timedelta(days=1)).isoformat()
    record = {} if again else table.get(keys.plan_run_key(day), consistent=True) or {}
    if record.get("done"):
        return RunResult(
            day, int(record.get("planned", 0)), int(record.get("due", 0)), True, already_done=True
        )
    stored, counted_all = count_stored_orders(table, now, time_left)  # once, the first night(s) after install
    if stored:
        logger.info("stored orders counted into the demand history", extra={"orders": stored})
    if not counted_all:
        return RunResult(day, int(record.get("planned", 0)), int(record.get("due", 0)), False)
    cursor = record.get("cursor")
    planned, due = int(record.get("planned", 0)), int(record.get("due", 0))
    settings = read_settings(table)
    everyone = sales_classes(table, now)
    todo = [s for s in everyone if cursor is None or s.sku > cursor]
    seasons = Seasons(table, settings, everyone, date.fromisoformat(as_of_day))
    done = True
    for start in range(0, len(todo), PAGE):
        if time_left() < MARGIN_SECONDS:
            done = False
            break
        for sales in todo[start : start + PAGE]:
            # a plan is stored whole, so one tried again after the table refused its write is harmless (its
            # reads the table asks again itself; decision 108)
            plan = partial(
                _plan_one, table, sales, as_of_day=as_of_day, now=now, settings=settings, seasons=seasons
            )
            due += again_if_transient(plan, tries=TRIES, what="planning a SKU")
            planned += 1
            cursor = sales.sku
        _save(table, day, cursor, planned, due, done=False, now=now)
    _save(table, day, cursor, planned, due, done=done, now=now)
    logger.info("stock plans", extra={"day": day, "planned": planned, "due": due, "done": done})
    return RunResult(day, planned, due, done)


def _save(
    table: Table, day: str, cursor: str | None, planned: int, due: int, *, done: bool, now: datetime
) -> None:
    table.put(
        {
            **keys.plan_run_key(day),
            "entity": "PlanRun",
            "cursor": cursor,
            "planned": planned,
            "due": due,
            "done": done,
            "updatedAt": iso_z(now),
            keys.TTL_ATTRIBUTE: int((now + timedelta(days=RUN_RECORD_DAYS)).timestamp()),
        }
    )
