"""Which open orders a SKU's units serve, and which are short: kept in step with every stock change.

Each open seller-fulfilled order's need of a SKU is a Demand item under the SKU, in serving order
(keys.demand_key: oldest latest ship date first), recording how many of those units the order shows
short. Every change of a SKU's onHand or demand reads the stock row and its demand consistently,
allocates again (domain.stock.allocate) and writes, in the change's own transaction: the stock row
(versioned: it serializes every change of the SKU's allocation), the demand items that changed,
and the orders whose units short changed (versioned), only those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from oms.domain.orders import Order, with_shortage
from oms.domain.stock import Claim, Movement, StockLevel, allocate, balanced, movement_between
from oms.domain.types import iso_z
from oms.store import keys
from oms.store.orders import order_from_item, order_item_over
from oms.store.table import Item, Table, Write

DEMAND_ENTITY = "Demand"
MAX_WRITES = 100  # DynamoDB's limit for one TransactWriteItems
NO_SHIP_BY = "9999"  # an order without a latest ship date is served last


@dataclass
class SkuBook:
    """A SKU's default-location stock row and its open demand (by order id), read consistently."""

    sku: str
    row: Item | None
    demand: dict[str, Item]
    location: str = keys.DEFAULT_LOCATION

    @property
    def level(self) -> StockLevel:
        row = self.row or {}
        return StockLevel(
            int(row.get("onHand", 0)), int(row.get("reserved", 0)), int(row.get("backordered", 0))
        )


def read_book(table: Table, sku: str, location: str = keys.DEFAULT_LOCATION) -> SkuBook:
    """Only the default location holds orders' demand (orders reserve there); other locations hold none."""
    row = table.get(keys.stock_key(sku, location), consistent=True)
    demand: dict[str, Item] = {}
    if location == keys.DEFAULT_LOCATION:
        demand = {i["orderId"]: i for i in table.query_all(keys.demand_of(sku), consistent=True)}
    return SkuBook(sku, row, demand, location)


def claim_of(order: Order, needed: int) -> Claim:
    ship_by = iso_z(order.latest_ship_date) if order.latest_ship_date else NO_SHIP_BY
    return Claim(order.order_id, ship_by, iso_z(order.purchase_date), needed)


def _claim(item: Item) -> Claim:
    return Claim(item["orderId"], item["shipBy"], item["purchaseDate"], int(item["needed"]))


@dataclass
class Reallocation:
    """What one change does to one SKU's allocation."""

    book: SkuBook
    after: StockLevel
    short: dict[str, int]  # every open order of the SKU: its units short now
    own: list[Write] = field(default_factory=list)  # demand items of the orders this change writes
    others: dict[str, Write] = field(default_factory=dict)  # other orders whose short changed: their demand

    @property
    def sku(self) -> str:
        return self.book.sku

    @property
    def movement(self) -> Movement:
        return movement_between(self.book.level, self.after)

    @property
    def changed(self) -> bool:
        return bool(self.movement or self.own or self.others or self.book.row is None)


def reallocate(book: SkuBook, *, on_hand: int, claims: Sequence[Claim] = ()) -> Reallocation:
    """Allocate `on_hand` units over the SKU's demand, with `claims` (the needs of the orders this
    change writes; needed 0: the order no longer waits) replacing what the demand items said."""
    mine = {c.order_id: c for c in claims}
    merged = {**{order_id: _claim(item) for order_id, item in book.demand.items()}, **mine}
    waiting = [c for c in merged.values() if c.needed > 0]
    short = allocate(on_hand, waiting)
    change = Reallocation(book, balanced(on_hand, sum(c.needed for c in waiting)), short)
    for order_id, claim in merged.items():
        before = book.demand.get(order_id)
        if order_id in mine:
            change.own += _demand_writes(book.sku, before, claim, short.get(order_id, 0))
        elif before is not None and int(before.get("short", 0)) != short[order_id]:
            change.others[order_id] = Write("Put", item={**before, "short": short[order_id]})
    return change


def _demand_writes(sku: str, before: Item | None, claim: Claim, short: int) -> list[Write]:
    key = keys.demand_key(sku, claim.ship_by, claim.purchased, claim.order_id)
    writes: list[Write] = []
    if before is not None and (claim.needed == 0 or before[keys.SK] != key[keys.SK]):
        writes.append(Write.delete({keys.PK: before[keys.PK], keys.SK: before[keys.SK]}))
        before = None
    if claim.needed > 0:
        item = {
            **key,
            "entity": DEMAND_ENTITY,
            "sku": sku,
            "orderId": claim.order_id,
            "shipBy": claim.ship_by,
            "purchaseDate": claim.purchased,
            "needed": claim.needed,
            "short": short,
        }
        if before is None or any(before.get(k) != item[k] for k in ("needed", "short")):
            writes.append(Write("Put", item=item))
    return writes


def other_order_writes(
    table: Table, changes: Sequence[Reallocation], *, writing: set[str], room: int
) -> tuple[list[Write], bool]:
    """The orders (besides `writing`) whose units short changed, each with its demand items, as many
    whole orders as fit in `room` writes (oldest ship-by first). True: some did not fit and wait for
    finish_allocation; their demand items still say what they show, so nothing is lost meanwhile."""
    shorts: dict[str, dict[str, int]] = {}
    demand: dict[str, list[Write]] = {}
    queue: dict[str, tuple[str, str, str]] = {}
    for change in changes:
        for order_id, write in change.others.items():
            if order_id in writing:
                continue
            shorts.setdefault(order_id, {})[change.sku] = change.short[order_id]
            demand.setdefault(order_id, []).append(write)
            claim = _claim(change.book.demand[order_id])
            queue[order_id] = min(queue.get(order_id, claim.queue_place), claim.queue_place)
    chosen: list[str] = []
    used = 0
    for order_id in sorted(shorts, key=lambda o: queue[o]):
        cost = 1 + len(demand[order_id])
        if used + cost > room:
            break
        chosen.append(order_id)
        used += cost
    items = {i["orderId"]: i for i in table.get_many([keys.order_key(o) for o in chosen])} if chosen else {}
    writes: list[Write] = []
    for order_id in chosen:
        writes += demand[order_id]
        if (item := items.get(order_id)) is not None:
            writes.append(shortage_write(item, shorts[order_id]))
    return writes, len(chosen) < len(shorts)


def shortage_write(item: Item, shorts: dict[str, int]) -> Write:
    """The stored order with its units short of these SKUs now (the other SKUs' as they were)."""
    held = {sku: dict(h) for sku, h in (item.get("stockHeld") or {}).items()}
    for sku, units in shorts.items():
        held.setdefault(sku, {"needed": 0, "shipped": 0})["short"] = units
    order = with_shortage(order_from_item(item), short_by_sku(held))
    return Write.put_versioned({**order_item_over(item, order), "stockHeld": held}, int(item["version"]))


def short_by_sku(held: dict[str, dict[str, int]]) -> dict[str, int]:
    return {sku: int(h.get("short", 0)) for sku, h in held.items() if int(h.get("short", 0))}
