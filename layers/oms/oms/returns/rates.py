"""Return rates over the last 30 or 90 warehouse days, read from the per-SKU daily counters that the
shipments and the returns add to in their own transactions (never from orders or returns: one query per
month touched, whatever the number of orders)."""

from __future__ import annotations

from datetime import date, timedelta

from oms.domain.return_rates import WINDOWS, DayUnits, ReturnRates, return_rates
from oms.domain.types import utc_now
from oms.errors import InvalidInput
from oms.store import keys
from oms.store.conditional import REASON_ATTRIBUTE
from oms.store.table import Item, Table
from oms.warehouse.settings import ShippingSettingsStore


def rates_now(table: Table, days: int, sku: str | None = None, *, today: date | None = None) -> ReturnRates:
    """The window ending today (the warehouse's day) and starting `days` - 1 days before."""
    if days not in WINDOWS:
        raise InvalidInput.for_field("days", f"one of {', '.join(map(str, WINDOWS))}")
    today = today or ShippingSettingsStore(table).get().calendar.local(utc_now()).date()
    first = today - timedelta(days=days - 1)
    counters = [
        _day_units(item)
        for query in keys.sku_units_between(first.isoformat(), today.isoformat())
        for item in table.query_all(query, page_size=1000)
    ]
    return return_rates(counters, window=days, first_day=first, last_day=today, sku=sku)


def _day_units(item: Item) -> DayUnits:
    return DayUnits(
        sku=str(item["sku"]),
        shipped=int(item.get("shipped", 0)),
        returned=int(item.get("returned", 0)),
        reasons={
            name[len(REASON_ATTRIBUTE) :]: int(units)
            for name, units in item.items()
            if name.startswith(REASON_ATTRIBUTE)
        },
    )
