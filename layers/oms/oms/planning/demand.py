"""A SKU's demand history from the orders kept here: the daily counters the intake transaction writes
(oms.inventory.demand_days), read in one query under the SKU. Days without a counter sold nothing; days
marked out (available hit 0, an order was short, or the night's plan found the SKU out) are unknown demand
in the cleaned history, never zero."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from oms.planning.history import SkuHistory
from oms.store import keys
from oms.store.conditional import CHANNEL_ATTRIBUTE, MARKETPLACE_ATTRIBUTE
from oms.store.table import Item, Table

HISTORY_DAYS = 730  # two years: enough for the yearly season, bounded for the nightly run


@dataclass
class DemandHistory:
    """Units ordered per day from the SKU's first order (within the window) to `end`, with the out days."""

    sku: str
    start: date
    units: list[float]
    out: list[bool]
    by_channel: dict[str, int] = field(default_factory=dict)
    by_marketplace: dict[str, int] = field(default_factory=dict)
    days: dict[date, Item] = field(default_factory=dict)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=len(self.units) - 1)

    def cleaned(self) -> SkuHistory:
        """The history the forecast learns from: out-of-stock days unknown (None)."""
        return SkuHistory(
            self.sku, self.start, [None if out else u for u, out in zip(self.units, self.out, strict=True)]
        )

    def mark_out(self, day: date) -> None:
        if self.start <= day <= self.end:
            self.out[(day - self.start).days] = True


def read_demand(table: Table, sku: str, end: date, *, days: int = HISTORY_DAYS) -> DemandHistory | None:
    """The SKU's last `days` days up to `end` (inclusive), from its first counted day; None: never ordered."""
    first = end - timedelta(days=days - 1)
    by_day: dict[date, Item] = {}
    for item in table.query_all(
        keys.sku_ordered_between(sku, first.isoformat(), end.isoformat()), page_size=1000
    ):
        by_day[date.fromisoformat(str(item["day"]))] = item
    ordered = [day for day, item in by_day.items() if int(item.get("units", 0)) > 0]
    if not ordered:
        return None
    start = min(ordered)
    span = (end - start).days + 1
    units: list[float] = []
    out: list[bool] = []
    by_channel: dict[str, int] = {}
    by_marketplace: dict[str, int] = {}
    for k in range(span):
        item = by_day.get(start + timedelta(days=k), {})
        units.append(float(item.get("units", 0)))
        out.append(bool(item.get("out", False)))
        for name, value in item.items():
            if name.startswith(CHANNEL_ATTRIBUTE):
                channel = name[len(CHANNEL_ATTRIBUTE) :]
                by_channel[channel] = by_channel.get(channel, 0) + int(value)
            elif name.startswith(MARKETPLACE_ATTRIBUTE):
                marketplace = name[len(MARKETPLACE_ATTRIBUTE) :]
                by_marketplace[marketplace] = by_marketplace.get(marketplace, 0) + int(value)
    kept = {day: item for day, item in by_day.items() if day >= start}
    return DemandHistory(sku, start, units, out, by_channel, by_marketplace, kept)


def channel_split(item: Item) -> dict[str, dict[str, int]]:
    """One counter's units per channel and per marketplace (for the API's raw history)."""
    channels = {
        name[len(CHANNEL_ATTRIBUTE) :]: int(v)
        for name, v in item.items()
        if name.startswith(CHANNEL_ATTRIBUTE)
    }
    markets = {
        name[len(MARKETPLACE_ATTRIBUTE) :]: int(v)
        for name, v in item.items()
        if name.startswith(MARKETPLACE_ATTRIBUTE)
    }
    return {"byChannel": channels, "byMarketplace": markets}
