"""Where the plan reads a SKU's lead time and its units on order.

The lead time is its supplier's (the preferred one's terms: observed from received purchase orders once
there are enough, else the typed legs summed; planning/suppliers.py), else the one typed on the SKU's stock
policy (PUT /inventory/{sku}: leadTimeDays, leadTimeStdDays; a typed lead time is taken as fixed, sd 0,
unless its spread is typed too), else an assumed 14 days, and the answer says which. Units on order are
those of sent purchase orders not yet received nor cancelled.
"""

from __future__ import annotations

from oms.domain.reorder import LeadTime
from oms.domain.supply import SupplyTerms
from oms.planning import suppliers
from oms.store import keys
from oms.store.table import Table

DEFAULT_LEAD_TIME_DAYS = 14.0  # assumed when the seller has typed none; the answer says so


def lead_time_for(table: Table, sku: str, terms: SupplyTerms | None = None) -> LeadTime:
    if terms is not None:
        how = "observed on received purchase orders" if terms.source == "observed" else "typed in its terms"
        return LeadTime(
            float(terms.leadTimeDays), float(terms.leadTimeSd), f"supplier {terms.supplierId}: {how}"
        )
    row = table.get(keys.stock_key(sku)) or {}
    typed = row.get("leadTimeDays")
    if typed is None:
        return LeadTime(
            DEFAULT_LEAD_TIME_DAYS, 0.0, f"assumed {DEFAULT_LEAD_TIME_DAYS:g} days: no lead time set"
        )
    spread = row.get("leadTimeStdDays")
    return LeadTime(float(typed), float(spread or 0), "typed on the SKU")


def supply_terms(table: Table, sku: str) -> SupplyTerms | None:
    return suppliers.supply_terms(table, sku)


def units_on_order(table: Table, sku: str) -> int:
    """Units on sent purchase orders, not yet received nor cancelled."""
    return suppliers.units_on_order(table, sku)
