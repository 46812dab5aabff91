"""What the benches' meters and drivers share (bench/intake_sim.py, bench/cost.py, bench/cost_meter.py,
bench/intake_meter.py import it):

- `write_units`: DynamoDB's write units for an item of that many bytes (1 KB each, at least one);
- the seller's shipping steps: the order as the seller finds it when coming to ship it (still pending:
  looked at again later; canceled meanwhile: nothing to ship) and the units of the package shipped now (a
  two-package order ships some units first, the rest later);
- `wrong_orders`: the end-of-run check, every order as the marketplace has it against the product's table.

The benches put bench/ on the import path and import it by name, as they do each other."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

PENDING_LOOKS = 20  # a pending order is looked at again this many times at the most (15 minutes apart)


def write_units(size: int) -> int:
    """Write units of one item (or index entry) of `size` bytes: 1 KB each, at least one."""
    return max(1, math.ceil(size / 1024))


def order_to_ship(marketplace: Any, order_id: str, attempt: int, look_again: Callable[[], None]) -> Any:
    """The order as the marketplace has it now, if the seller can ship it; None while it is still pending
    (after `look_again()` has scheduled the next look) or once it is canceled."""
    from oms_local.simulator.entities import PARTIALLY_SHIPPED, PENDING, PENDING_AVAILABILITY, UNSHIPPED

    order = marketplace.snapshot(order_id)
    if order.status in (PENDING, PENDING_AVAILABILITY) and attempt < PENDING_LOOKS:
        look_again()
        return None
    if order.status not in (UNSHIPPED, PARTIALLY_SHIPPED):
        return None  # canceled meanwhile
    return order


def package_to_ship(
    order: Any, packages: int, ship_the_rest: Callable[[], None]
) -> tuple[list[tuple[str, int]], bool]:
    """(order item id, units) of what ships now, and whether that is only the first of two packages: every
    unit not shipped yet, or for a two-package order with two units or more one unit less of its first line
    (its first line only, when it has more than one), after `ship_the_rest()` has scheduled the rest."""
    lines = [
        (line.order_item_id, line.quantity - line.shipped)
        for line in order.lines
        if line.quantity > line.shipped
    ]
    if packages == 2 and sum(units for _, units in lines) >= 2:
        item, units = lines[0]
        ship_the_rest()
        return ([(item, units - 1)] if len(lines) == 1 else lines[:1]), True
    return lines, False


def wrong_orders(table: Any, marketplace: Any) -> list[dict[str, Any]]:
    """Every order as the marketplace has it (status, units shipped per item) that the product's table
    (an oms.store.table.Table) has otherwise, or not at all."""
    from oms.store import keys

    wrong = []
    for order_id, order in marketplace.orders.items():
        item = table.get(keys.order_key(order_id))
        expected = (order.status, sorted((line.order_item_id, line.shipped) for line in order.lines))
        got = None
        if item is not None:
            got = (
                item["status"],
                sorted((i["orderItemId"], i.get("quantityShipped", 0)) for i in item["items"]),
            )
        if got != expected:
            wrong.append({"orderId": order_id, "expected": expected, "got": got})
    return wrong
