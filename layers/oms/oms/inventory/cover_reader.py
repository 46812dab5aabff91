"""Days of cover for a page of stock rows in one batched read: the daily demand counters the intake writes
(oms.inventory.demand_days: units ordered per SKU and warehouse day, in the order's own transaction), read
by key for the window's days, never the ledger row by row. A page of 50 rows is 1,500 keys: 15 BatchGetItem
requests, side by side, however busy the SKUs are (a ledger Query per row read every movement of the window).

Demand is what buyers ordered on the window's warehouse days (today included), whatever became of the order
(backordered, shipped, cancelled); it is the SKU's, so a second location's row divides its own available
units by the SKU's demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from oms.domain.cover import days_of_cover
from oms.domain.types import utc_now
from oms.store import keys
from oms.store.table import Item, Table
from oms.warehouse.settings import ShippingSettingsStore

WINDOW_DAYS = 30
_KEYS_PER_READ = 100  # BatchGetItem's own limit
_READERS = 4  # BatchGetItem requests in flight at once for one page


def window_days(table: Table, *, days: int = WINDOW_DAYS) -> list[str]:
    """The window's warehouse days (`YYYY-MM-DD`), today last."""
    today = ShippingSettingsStore(table).get().calendar.local(utc_now()).date()
    return [(today - timedelta(days=k)).isoformat() for k in range(days - 1, -1, -1)]


def units_ordered_in_window(table: Table, skus: Sequence[str], *, days: int = WINDOW_DAYS) -> dict[str, int]:
    """Units ordered per SKU over the window's warehouse days (0: none), in batched reads by key."""
    unique = sorted(set(skus))
    if not unique:
        return {}
    wanted = [keys.sku_ordered_key(sku, day) for sku in unique for day in window_days(table, days=days)]
    chunks = [wanted[i : i + _KEYS_PER_READ] for i in range(0, len(wanted), _KEYS_PER_READ)]
    _ = table.client  # made once, before the threads share it (boto3 clients are thread-safe)
    with ThreadPoolExecutor(max_workers=min(_READERS, len(chunks))) as readers:
        found: list[list[Item]] = list(
            readers.map(lambda chunk: table.get_many(chunk, consistent=False), chunks)
        )
    totals = dict.fromkeys(unique, 0)
    for items in found:
        for item in items:
            sku = str(item.get("sku", ""))
            if sku in totals:
                totals[sku] += int(item.get("units", 0))
    return totals


def covers(table: Table, rows: Sequence[tuple[str, int]], *, days: int = WINDOW_DAYS) -> list[float | None]:
    """Days of cover of each (sku, available) row, in order (oms.domain.cover); None: nothing ordered."""
    ordered = units_ordered_in_window(table, [sku for sku, _ in rows], days=days)
    return [days_of_cover(available, ordered[sku], days) for sku, available in rows]
