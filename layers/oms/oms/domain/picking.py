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
    An order a rule assigned to a location (its handling's `location`) takes its units from that bin first,
    as far as it holds them. Then orders take units in the sequence given (put the most urgent first): the
    first order's units come from the first bin, so each line names the orders its units serve.
    """
    orders = list(orders)
    assigned = {o.order_id: o.handling.location for o in orders if o.handling and o.handling.location}
    taken: dict[tuple[str | None, str], tuple[int, list[str]]] = {}
    titles: dict[str, str | None] = {}

    def take(location: str | None, sku: str, order_id: str, units: int) -> None:
        before, served = taken.get((location, sku), (0, []))
        taken[(location, sku)] = (before + units, served if order_id in served else [*served, order_id])

    for sku, demand in _demand_by_sku(orders).items():
        titles[sku] = demand.title
        capacity = dict(stock_by_sku.get(sku, {}))
        queue: list[tuple[str, int]] = []
        for order_id, wanted in demand.by_order.items():
            own = assigned.get(order_id)
            first = min(wanted, capacity.get(own, 0)) if own else 0
            if first > 0 and own is not None:
                take(own, sku, order_id, first)
                capacity[own] -= first
            if wanted > first:
                queue.append((order_id, wanted - first))
        # Each order's remaining units, consumed bin by bin.
        locations = sorted(capacity.items(), key=lambda entry: walking_key(entry[0]))
        bins: list[tuple[str | None, int]] = [*locations, (None, sum(units for _, units in queue))]
        for location, on_hand in bins:
            room = on_hand
            while queue and room > 0:
                order_id, wanted = queue[0]
                units = min(wanted, room)
                room -= units
                take(location, sku, order_id, units)
                if units == wanted:
                    queue.pop(0)
                else:
                    queue[0] = (order_id, wanted - units)
    lines = [
        PickLine(location, sku, titles[sku], units, tuple(served))
        for (location, sku), (units, served) in taken.items()
        if units
    ]
    lines.sort(key=lambda line: (walking_key(line.location), line.sku))
    return lines
