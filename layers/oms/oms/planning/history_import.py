"""Demand history imported from another tool (`oms planning import --history FILE.csv`): each SKU's days
written as the daily counters the intake keeps, so the nightly plan forecasts from them as from orders
counted here. A day already counted here is kept, never overwritten or added to, so an import run again
(or after a crash) writes only the days still missing, and orders counted here always win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from oms.errors import AlreadyExists
from oms.planning.history import SkuHistory
from oms.store import keys
from oms.store.conditional import ORDERED_ENTITY
from oms.store.table import Table, Write


@dataclass
class Imported:
    written: int = 0
    kept: int = 0  # days already counted here (by the intake or an earlier import)
    skus: list[str] = field(default_factory=list)


def day_item(sku: str, day: str, units: float | None) -> dict[str, object]:
    """One day's counter: units ordered, or a stockout day (units unknown: 0 and `out`)."""
    item: dict[str, object] = {
        **keys.sku_ordered_key(sku, day),
        "entity": ORDERED_ENTITY,
        "sku": sku,
        "day": day,
        "units": 0 if units is None else round(units),
        "imported": True,
    }
    if units is None:
        item["out"] = True
    return item


def import_history(
    table: Table, histories: Iterable[SkuHistory], progress: Callable[[int], None] = lambda days: None
) -> Imported:
    result = Imported()
    for history in histories:
        result.skus.append(history.sku)
        for k, units in enumerate(history.units):
            day = (history.start + timedelta(days=k)).isoformat()
            try:
                table.transact([Write.put_new(day_item(history.sku, day, units))])
                result.written += 1
            except AlreadyExists:
                result.kept += 1
            progress(1)
    return result
