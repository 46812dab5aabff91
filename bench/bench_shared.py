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
import random
from collections.abc import Callable
from typing import Any, Protocol

PENDING_LOOKS = 20  # a pending order is looked at again this many times at the most (15 minutes apart)


def write_units(size: int) -> int:
    """Write units of one item (or index entry) of `size` bytes: 1 KB each, at least one."""
    return max(1, math.ceil(size / 1024))


class Seller(Protocol):
    """The bench's simulation as the shipping steps use it (bench/intake_sim.py's SimulatedIntake)."""

    marketplace: Any  # oms_local.simulator's Marketplace
    rng: random.Random

    def later(self, seconds: float, task: Callable[[], None]) -> None: ...

    def ship(self, order_id: str, packages: int, attempt: int = 1) -> None: ...


def order_to_ship(sim: Seller, order_id: str, packages: int, attempt: int) -> Any:
    """The order as the marketplace has it now, if the seller can ship it; None while it is still pending
    (the seller looks again in 15 minutes, PENDING_LOOKS times at the most) or once it is canceled."""
    from oms_local.simulator.entities import PARTIALLY_SHIPPED, PENDING, PENDING_AVAILABILITY, UNSHIPPED

    order = sim.marketplace.snapshot(order_id)
    if order.status in (PENDING, PENDING_AVAILABILITY) and attempt < PENDING_LOOKS:
        sim.later(900, lambda: sim.ship(order_id, packages, attempt + 1))
        return None
    if order.status not in (UNSHIPPED, PARTIALLY_SHIPPED):
        return None  # canceled meanwhile
    return order


def package_to_ship(sim: Seller, order: Any, packages: int) -> tuple[list[tuple[str, int]], bool]:
    """(order item id, units) of what ships now, and whether that is only the first of two packages: every
    unit not shipped yet, or for a two-package order with two units or more one unit less of its first line
    (its first line only, when it has more than one), the rest shipped 10 to 60 minutes later."""
    lines = [
        (line.order_item_id, line.quantity - line.shipped)
        for line in order.lines
        if line.quantity > line.shipped
    ]
    if packages == 2 and sum(units for _, units in lines) >= 2:
        item, units = lines[0]
        sim.later(sim.rng.uniform(600, 3600), lambda: sim.ship(order.order_id, 1))
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
