"""Product lines: what a seller fixes for a group of SKUs (GET/PUT /planning/settings).

A line is named; a SKU belongs to the line named by its stock policy's productLine, else to the line
with the longest skuPrefix it starts with. A line can fix the forecast method (backtested all the same:
its accuracy still shows beside the one the backtest would have chosen), multiply the forecast by a
growth factor, and name events (a promotion week) whose days' forecast is multiplied by their factor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

from pydantic import Field, model_validator

from oms.domain.types import ApiModel
from oms.errors import Busy, Conflict
from oms.planning.backtest import Plan, backtest_origins, candidates, interval
from oms.planning.history import SkuHistory
from oms.planning.methods import METHODS
from oms.store import keys
from oms.store.table import Item, Table, Write, back_off

MethodName = Literal[
    "seasonal naive",
    "moving average 28 days",
    "exponential smoothing",
    "exponential smoothing, yearly",
    "intermittent (TSB)",
]


class LineEvent(ApiModel):
    name: str = Field(min_length=1, max_length=100, examples=["Black Friday week"])
    start: date = Field(description="the first day (warehouse day)")
    end: date = Field(description="the last day, inclusive")
    factor: float = Field(gt=0, le=20, description="the forecast of those days is multiplied by this")

    @model_validator(mode="after")
    def _in_order(self) -> LineEvent:
        if self.end < self.start:
            raise ValueError(f"event {self.name!r} ends before it starts")
        if (self.end - self.start).days > 366:
            raise ValueError(f"event {self.name!r} lasts more than a year")
        return self


class ProductLine(ApiModel):
    name: str = Field(min_length=1, max_length=100, description="matches a stock policy's productLine")
    sku_prefix: str | None = Field(
        default=None, min_length=1, max_length=100, description="or SKUs starting so"
    )
    method: MethodName | None = Field(
        default=None, description="a fixed forecast method (none: the backtest's)"
    )
    growth_factor: float = Field(
        default=1.0, gt=0, le=10, description="every forecast day multiplied by this"
    )
    events: list[LineEvent] = Field(default_factory=list, max_length=50)
    seasonality_from: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="another line whose SKUs' summed history gives the yearly seasonal index, for this line's "
        "SKUs too young to have a year and a half of their own",
    )


class ProductLines(ApiModel):
    lines: list[ProductLine] = Field(default_factory=list, max_length=200)
    price_hints: bool = Field(
        default=False,
        description="let GET /planning/stock-health ask Amazon's competitive price summary (getCompetitiveSummary) "
        "for its price hints; off: the hints are in words only. Hints never change a price",
    )

    @model_validator(mode="after")
    def _distinct(self) -> ProductLines:
        names = [line.name for line in self.lines]
        if len(set(names)) != len(names):
            raise ValueError("two product lines have the same name")
        for line in self.lines:
            if line.seasonality_from == line.name:
                raise ValueError(f"product line {line.name!r} cannot borrow its seasonality from itself")
            if line.seasonality_from and line.seasonality_from not in names:
                raise ValueError(
                    f"product line {line.name!r} borrows its seasonality from {line.seasonality_from!r}, "
                    "which is not a product line"
                )
        prefixes = [line.sku_prefix for line in self.lines if line.sku_prefix]
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("two product lines have the same skuPrefix")
        return self


def read_settings(table: Table) -> ProductLines:
    item = table.get(keys.config_key("planning"), consistent=True)
    return ProductLines.model_validate(item["settings"]) if item else ProductLines()


def save_settings(table: Table, settings: ProductLines) -> ProductLines:
    """Replace the whole settings (versioned: two saves at once cannot lose one silently)."""
    for attempt in range(10):
        current = table.get(keys.config_key("planning"), consistent=True)
        item = {
            **keys.config_key("planning"),
            "entity": "Config",
            "settings": settings.model_dump(mode="json", by_alias=True),
        }
        try:
            table.transact([Write.put_versioned(item, int(current.get("version", 0)) if current else None)])
        except Conflict:
            back_off(attempt)
            continue
        return settings
    raise Busy("the planning settings kept changing; try again")


def line_of(settings: ProductLines, sku: str, rows: Sequence[Item]) -> ProductLine | None:
    """The SKU's line: by its policy's productLine, else by the longest matching skuPrefix."""
    named = {str(r["productLine"]) for r in rows if r.get("productLine")}
    for line in settings.lines:
        if line.name in named:
            return line
    matching = [line for line in settings.lines if line.sku_prefix and sku.startswith(line.sku_prefix)]
    return max(matching, key=lambda line: len(line.sku_prefix or ""), default=None)


def with_line(chosen: Plan, history: SkuHistory, horizon: int, line: ProductLine, first_day: date) -> Plan:
    """The plan as the line wants it: its fixed method's forecast and band (when the history can test it),
    then the growth factor and the events' factors on their days. The note says what changed."""
    notes: list[str] = []
    forecast, low, high, method = chosen.forecast, chosen.low, chosen.high, chosen.method
    if line.method and line.method != chosen.method:
        y = history.units
        origins = backtest_origins(len(y), horizon)
        if origins and line.method in candidates(origins):
            forecasts = METHODS[line.method](y, [*origins, len(y)], horizon)
            forecast = forecasts[len(y)]
            low, high = interval(y, forecasts, origins, forecast)
            notes.append(f"method fixed by product line {line.name} (the backtest chose {chosen.method})")
            method = line.method
        else:
            notes.append(
                f"product line {line.name} fixes {line.method}, but the history is too short to use it"
            )
    factors = [line.growth_factor] * len(forecast)
    if line.growth_factor != 1:
        notes.append(f"growth x{line.growth_factor:g} (product line {line.name})")
    for event in line.events:
        days = [k for k in range(len(forecast)) if event.start <= first_day + timedelta(days=k) <= event.end]
        for k in days:
            factors[k] *= event.factor
        if days:
            notes.append(f"{event.name} x{event.factor:g} on {len(days)} day(s)")
    note = "; ".join([chosen.note, *notes])
    return Plan(
        chosen.sku,
        method,
        note,
        [f * v for f, v in zip(factors, forecast, strict=True)],
        [f * v for f, v in zip(factors, low, strict=True)],
        [f * v for f, v in zip(factors, high, strict=True)],
        chosen.accuracy,
    )
