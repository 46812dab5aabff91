"""Stock math, pure: what an order's need does to a SKU's on-hand, reserved and backordered units.

A stock row: onHand (physically here), reserved (promised to open orders), backordered (promised
beyond what there is). available = onHand - reserved, never below 0. An order holds, per SKU,
some reserved and some backordered units, and remembers how many it has already taken out of
onHand (shipped), so a shipment lowers onHand once however often it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StockLevel:
    on_hand: int = 0
    reserved: int = 0
    backordered: int = 0

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


@dataclass(frozen=True)
class Holding:
    """What one order holds of one SKU: units it still needs, and units it already took out."""

    needed: int = 0
    shipped: int = 0  # units this order has already taken out of onHand


@dataclass(frozen=True)
class Movement:
    """The change to a stock row, as the ledger records it."""

    on_hand: int = 0
    reserved: int = 0
    backordered: int = 0

    def __bool__(self) -> bool:
        return bool(self.on_hand or self.reserved or self.backordered)

    def applied_to(self, level: StockLevel) -> StockLevel:
        return StockLevel(
            level.on_hand + self.on_hand, level.reserved + self.reserved, level.backordered + self.backordered
        )


def balanced(on_hand: int, demand: int) -> StockLevel:
    """Open orders' demand is reserved as far as units are on hand; the rest is backordered.

    The split depends only on (onHand, demand), never on the order changes arrived in, so any
    interleaving of the same changes ends with the same stock row.
    """
    reserved = min(demand, max(on_hand, 0))
    return StockLevel(on_hand=on_hand, reserved=reserved, backordered=demand - reserved)


def movement_between(before: StockLevel, after: StockLevel) -> Movement:
    return Movement(
        after.on_hand - before.on_hand,
        after.reserved - before.reserved,
        after.backordered - before.backordered,
    )


def settle(
    level: StockLevel, holding: Holding, *, shipped_total: int, still_needed: int
) -> tuple[Holding, Movement]:
    """Bring an order's holding of a SKU to what the order now says.

    shipped_total: units of this SKU the order has shipped so far (as Amazon or this product knows);
    a shipment never un-happens, and its units leave onHand once.
    still_needed: units still to ship that should hold stock (0 once canceled or fully shipped).
    """
    shipped_total = max(shipped_total, holding.shipped)
    still_needed = max(still_needed, 0)
    demand = level.reserved + level.backordered - holding.needed + still_needed
    after = balanced(level.on_hand - (shipped_total - holding.shipped), demand)
    return Holding(needed=still_needed, shipped=shipped_total), movement_between(level, after)
