"""Pick lists, pure: which units to take from which bin, in the order a picker walks the aisles.

The units to pick for an order item are those not shipped yet (quantity - quantity_shipped). A batch's
units are summed per SKU and taken greedily from that SKU's locations in walking order: the first bin
gives all it holds before the next is visited. Units that no location holds are still listed, with
location None ("not on hand"), at the end, so a short pick is visible on paper.

Walking order is the natural order of location codes: "A-2-10" before "A-10-1" (digit runs compare as
numbers, letters without regard to case), and the catch-all "default" location after every real bin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from oms.domain.orders import Order
from oms.domain.stock import DEFAULT_LOCATION

_RUNS = re.compile(r"\d+|[^\W\d_]+")

# One run of a location code: (0, number, "") for digits, (1, 0, text) for letters, so any two compare.
_Run = tuple[int, int, str]
WalkingKey = tuple[int, tuple[_Run, ...], str, str]


@dataclass(frozen=True)
class PickLine:
    """Units of one SKU to take from one location (None: not on hand anywhere), and the orders they serve."""

    location: str | None
    sku: str
    title: str | None
    units: int
    order_ids: tuple[str, ...]


def walking_key(location: str | None) -> WalkingKey:
    """Sort key of a location in walking order: real bins naturally sorted, then "default", then None."""
    if location is None:
        return (2, (), "", "")
    folded = location.casefold()
    group = 1 if folded == DEFAULT_LOCATION else 0
    runs = tuple((0, int(run), "") if run.isdigit() else (1, 0, run) for run in _RUNS.findall(folded))
    # The folded and raw codes break ties ("A-01" and "a-1") so the order is total and repeatable.
    return (group, runs, folded, location)


@dataclass
class _Demand:
    title: str | None
    by_order: dict[str, int]  # order id -> units still to pick, in the orders' given sequence


def _demand_by_sku(orders: Iterable[Order]) -> dict[str, _Demand]:
    demand: dict[str, _Demand] = {}
    for order in orders:
        for item in order.items:
            units = item.quantity - item.quantity_shipped
            if units <= 0:
                continue
            entry = demand.setdefault(item.sku, _Demand(title=None, by_order={}))
            if entry.title is None and item.title:
                entry.title = item.title
            entry.by_order[order.order_id] = entry.by_order.get(order.order_id, 0) + units
    return demand


def pick_lines(orders: Iterable[Order], stock_by_sku: Mapping[str, Mapping[str, int]]) -> list[PickLine]:
    """One line per (location, SKU) to visit, in walking order; units not on hand last, location None.

    stock_by_sku maps SKU -> {location: onHand}; locations holding nothing (or less) are passed by.
    Orders take units in the sequence given (put the most urgent first): the first order's units come
    from the first bin, so each line names the orders its units serve.
    """
    lines: list[PickLine] = []
    for sku, demand in _demand_by_sku(orders).items():
        # Each order's remaining units, consumed bin by bin.
        queue: list[tuple[str, int]] = list(demand.by_order.items())
        locations = sorted(stock_by_sku.get(sku, {}).items(), key=lambda entry: walking_key(entry[0]))
        bins: list[tuple[str | None, int]] = [*locations, (None, sum(demand.by_order.values()))]
        for location, on_hand in bins:
            if not queue:
                break
            capacity, taken, served = on_hand, 0, []
            while queue and capacity > 0:
                order_id, wanted = queue[0]
                take = min(wanted, capacity)
                taken, capacity = taken + take, capacity - take
                served.append(order_id)
                if take == wanted:
                    queue.pop(0)
                else:
                    queue[0] = (order_id, wanted - take)
            if taken:
                lines.append(PickLine(location, sku, demand.title, taken, tuple(served)))
    lines.sort(key=lambda line: (walking_key(line.location), line.sku))
    return lines
