"""Days of cover, one definition everywhere: available units / units ordered a day over a window.

Demand is what buyers ordered, not only what left the shelf: a backordered or not-yet-shipped order is
demand too. It is read from the ledger's order-intake entries of the stock row: a `reservation` adds
the units an order newly needs (reserved + backordered); a `shipment` adds the units it shipped beyond
what it held (an order first seen already shipped). Units move reserved -> shipped without counting
twice. Cancelled orders still count (a buyer wanted them); receipts, adjustments and counts never do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ORDER_INTAKE_REASONS = frozenset({"reservation", "shipment"})


def units_ordered(entry: Mapping[str, Any]) -> int:
    """Units one ledger entry adds to demand: the order's new need plus units it shipped unheld."""
    if entry.get("reason") not in ORDER_INTAKE_REASONS:
        return 0
    need = int(entry.get("reservedDelta") or 0) + int(entry.get("backorderedDelta") or 0)
    shipped = -int(entry.get("delta") or 0)
    return max(need + shipped, 0)


def days_of_cover(available: int, entries: Iterable[Mapping[str, Any]], window_days: int) -> float | None:
    """Days the available units last at the window's demand rate (one decimal); None: nothing ordered."""
    ordered = sum(units_ordered(entry) for entry in entries)
    if ordered <= 0:
        return None
    return round(max(available, 0) / (ordered / window_days), 1)
