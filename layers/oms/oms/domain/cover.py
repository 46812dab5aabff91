"""Days of cover, one definition everywhere: available units / units ordered a day over a window.

Demand is what buyers ordered, not only what left the shelf: a backordered or not-yet-shipped order is
demand too, and a cancelled one still counts (a buyer wanted it); receipts, adjustments and counts never do.
The units come from the daily demand counters the intake keeps (oms.inventory.demand_days), read a page at
a time (oms.inventory.cover_reader).
"""

from __future__ import annotations


def days_of_cover(available: int, ordered: int, window_days: int) -> float | None:
    """Days `available` units last when `ordered` units were ordered over `window_days` (one decimal); None:
    nothing ordered in the window."""
    if ordered <= 0:
        return None
    return round(max(available, 0) / (ordered / window_days), 1)
