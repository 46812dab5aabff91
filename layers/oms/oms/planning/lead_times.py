"""Where the plan reads a SKU's lead time and its units on order: the one place to swap in the suppliers'
terms and the open purchase orders (issue 13, parts 3 and 4) when they land.

Until then the lead time is the one typed on the SKU's stock policy (PUT /inventory/{sku}: leadTimeDays,
leadTimeStdDays; a typed lead time is taken as fixed, sd 0, unless its spread is typed too), and nothing
is on order.
"""

from __future__ import annotations

from oms.domain.reorder import LeadTime
from oms.store import keys
from oms.store.table import Table

DEFAULT_LEAD_TIME_DAYS = 14.0  # assumed when the seller has typed none; the answer says so


def lead_time_for(table: Table, sku: str) -> LeadTime:
    row = table.get(keys.stock_key(sku)) or {}
    typed = row.get("leadTimeDays")
    if typed is None:
        return LeadTime(
            DEFAULT_LEAD_TIME_DAYS, 0.0, f"assumed {DEFAULT_LEAD_TIME_DAYS:g} days: no lead time set"
        )
    spread = row.get("leadTimeStdDays")
    return LeadTime(float(typed), float(spread or 0), "typed on the SKU")


def units_on_order(table: Table, sku: str) -> int:
    """Units ordered from suppliers and not yet received: none until purchase orders exist."""
    return 0
