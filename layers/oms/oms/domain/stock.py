"""Stock math, pure: how a SKU's units on hand serve its open orders.

A stock row: onHand (physically here), reserved (promised to open orders), backordered (promised
beyond what there is). available = onHand - reserved, never below 0. Units on hand serve open
orders oldest latest ship date first; an order is short of the units left unserved (allocate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_LOCATION = "default"  # the stock location of a seller with one (the API's `location` default)


@dataclass(frozen=True)
class StockLevel:
    on_hand: int = 0
    reserved: int = 0
    backordered: int = 0

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


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


@dataclass(frozen=True)
class Claim:
    """One open order's need of one SKU, and where it queues for units."""

    order_id: str
    ship_by: str  # the order's latest ship date ("9999" when it has none)
    purchased: str
    needed: int

    @property
    def queue_place(self) -> tuple[str, str, str]:
        return (self.ship_by, self.purchased, self.order_id)


def allocate(on_hand: int, claims: Iterable[Claim]) -> dict[str, int]:
    """Units short per order: units on hand serve the oldest latest ship date first (then purchase
    date, then order id); an order is short of whatever is left of its need when units run out.

    Depends only on (onHand, the open claims), never on the order the changes came in; the shorts
    add up to balanced(on_hand, demand).backordered.
    """
    left = max(on_hand, 0)
    short: dict[str, int] = {}
    for claim in sorted(claims, key=lambda c: c.queue_place):
        served = min(claim.needed, left)
        left -= served
        short[claim.order_id] = claim.needed - served
    return short
