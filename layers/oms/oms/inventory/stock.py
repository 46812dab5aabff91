"""Stock rows and their ledger: how they are stored, read and changed (one transaction per change)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from oms.domain import cover
from oms.domain.stock import Movement, StockLevel
from oms.domain.types import ApiModel, Money, UtcDateTime, iso_z, utc_now
from oms.errors import Conflict, FieldProblem, NotFound, VersionConflict
from oms.inventory.allocation import (
    MAX_WRITES,
    Reallocation,
    SkuBook,
    other_order_writes,
    read_book,
    reallocate,
)
from oms.observability import logger
from oms.store import conditional, keys, once
from oms.store.table import Item, Page, Table, Write, back_off

STOCK_ENTITY = "Stock"
SALES_WINDOW_DAYS = 30
_COVER_READERS = 8  # concurrent ledger Queries when a page of rows gets its days of cover
LEDGER_ENTITY = "LedgerEntry"


class FbaFigures(ApiModel):
    fulfillable: int = 0
    inbound: int = 0
    reserved: int = 0
    unfulfillable: int = 0


class Channel(StrEnum):
    FBA = "FBA"
    MFN = "MFN"
    BOTH = "BOTH"


class StockPolicy(ApiModel):
    """How the seller runs a SKU (PUT /inventory/{sku}); every field optional, unknown ones refused."""

    channel: Channel | None = None
    reorder_point: int | None = Field(default=None, ge=0)
    safety_stock: int | None = Field(default=None, ge=0)
    lead_time_days: float | None = Field(default=None, ge=0, le=365)
    lead_time_std_days: float | None = Field(default=None, ge=0, le=365, description="lead time variability")
    minimum_order_quantity: int | None = Field(default=None, ge=1)
    case_pack: int | None = Field(default=None, ge=1)
    product_line: str | None = Field(default=None, max_length=100)
    amazon_buffer: int | None = Field(default=None, ge=0, description="units held back from Amazon")
    unit_cost: Money | None = None


POLICY_FIELDS = tuple(field.alias or name for name, field in StockPolicy.model_fields.items())


class StockRow(StockPolicy):
    """A SKU's stock at one location (docs/openapi.json: StockRow)."""

    sku: str
    location: str = keys.DEFAULT_LOCATION
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    backordered: int = 0
    inbound: int = 0
    fba: FbaFigures | None = None
    updated_at: UtcDateTime | None = None
    days_of_cover: float | None = None
    on_order: int | None = Field(
        default=None, description="units on sent purchase orders, not yet received (all locations)"
    )


class LedgerEntry(ApiModel):
    sku: str
    location: str
    delta: int = Field(description="signed change of onHand")
    reserved_delta: int = 0
    backordered_delta: int = 0
    reason: str
    reference: str | None = None
    note: str | None = None
    actor: str
    at: UtcDateTime


def level_of(item: Item | None) -> StockLevel:
    if item is None:
        return StockLevel()
    return StockLevel(
        int(item.get("onHand", 0)), int(item.get("reserved", 0)), int(item.get("backordered", 0))
    )


def row_from_item(item: Item) -> StockRow:
    level = level_of(item)
    fields = {k: item[k] for k in (*POLICY_FIELDS, "updatedAt", "fba", "inbound") if item.get(k) is not None}
    return StockRow.model_validate(
        {
            "sku": item["sku"],
            "location": item.get("location", keys.DEFAULT_LOCATION),
            "onHand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available,
            "backordered": level.backordered,
            **fields,
        }
    )


def row_item(
    current: Item | None,
    sku: str,
    level: StockLevel,
    *,
    location: str,
    at: str,
    changes: dict[str, Any] | None = None,
) -> Item:
    """The stock row as stored: figures, policy, and the low-stock index while available <= reorder point."""
    row: dict[str, Any] = {
        **(current or {}),
        **(changes or {}),
        **keys.stock_key(sku, location),
        **keys.stock_index_keys(sku, location),
        **keys.stock_changed_index_keys(sku, location, at),
        "entity": STOCK_ENTITY,
        "sku": sku,
        "location": location,
        "onHand": level.on_hand,
        "reserved": level.reserved,
        "backordered": level.backordered,
        "available": level.available,  # stored too, so a withdrawal can be one conditional update
        "updatedAt": at,
    }
    row = keys.without_low_stock_index(row)
    reorder_point = row.get("reorderPoint")
    if reorder_point is not None and level.available <= int(reorder_point):
        row |= keys.low_stock_index_keys(sku, location)
    return row


def stock_writes(
    current: Item | None,
    sku: str,
    movement: Movement,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    location: str = keys.DEFAULT_LOCATION,
    at: str | None = None,
    note: str | None = None,
) -> list[Write]:
    """The stock row's new version and its ledger entry, for one transaction (a new SKU starts at 0)."""
    now = utc_now()
    at = at or iso_z(now)
    row = row_item(current, sku, movement.applied_to(level_of(current)), location=location, at=at)
    entry = _ledger_entry(
        sku,
        location,
        movement,
        reason=reason,
        reference=reference,
        actor=actor,
        at=at,
        now=now,
        entry_id=uuid.uuid4().hex[:12],
        note=note,
    )
    expected = int(current["version"]) if current else None
    return [Write.put_versioned(row, expected), Write.put_new(entry)]


def _ledger_entry(
    sku: str,
    location: str,
    movement: Movement,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    at: str,
    now: datetime,
    entry_id: str,
    note: str | None = None,
) -> Item:
    return {
        # microseconds in the key keep a SKU's entries in the order they were written
        **keys.ledger_key(sku, now.isoformat(timespec="microseconds"), entry_id),
        "entity": LEDGER_ENTITY,
        "id": entry_id,
        "sku": sku,
        "location": location,
        "delta": movement.on_hand,
        "reservedDelta": movement.reserved,
        "backorderedDelta": movement.backordered,
        "reason": reason,
        "reference": reference,
        "note": note,
        "actor": actor,
        "at": at,
    }


def ledger_only_write(
    sku: str, *, location: str, reason: str, reference: str | None, actor: str, note: str | None = None
) -> Write:
    """A ledger entry that moves no stock, for a transaction (e.g. returned units written off on arrival:
    they were never counted on hand again, and the ledger still shows what came back and why)."""
    now = utc_now()
    entry = _ledger_entry(
        sku,
        location,
        Movement(),
        reason=reason,
        reference=reference,
        actor=actor,
        at=iso_z(now),
        now=now,
        entry_id=uuid.uuid4().hex[:12],
        note=note,
    )
    return Write.put_new(entry)


_ATTEMPTS = 30
# (the new row, the ledger entry's id) -> a write for the change's own transaction (an Idempotency-Key's record)
Recorder = Callable[[StockRow, str], Write]


def adjust_stock(
    table: Table,
    sku: str,
    delta: int,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    location: str = keys.DEFAULT_LOCATION,
    note: str | None = None,
    record: Recorder | None = None,
) -> tuple[StockRow, str]:
    """Change onHand by `delta` with its ledger entry, as the shelf is: open orders' demand is allocated
    again over the new figure, so a decrease may take reserved units (the orders that lose them turn
    short, in the same transaction), never below 0 on hand (409, nothing written). A concurrent change
    makes this read again and retry, so no update is lost. Returns the new row and the entry id.
    `record`: a write made of that answer (an Idempotency-Key's record, oms.store.once) that goes in the
    change's transaction; refused, `once.KeyUsed` is raised and nothing is written.
    """
    if delta < 0:
        done = _withdraw_at_once(
            table,
            sku,
            -delta,
            reason=reason,
            reference=reference,
            actor=actor,
            location=location,
            note=note,
            record=record,
        )
        if done is not None:
            return done
    for attempt in range(_ATTEMPTS):
        book = read_book(table, sku, location)
        if book.row is None:
            raise NotFound(f"SKU {sku} has no stock row at {location}: create it with PUT /inventory/{{sku}}")
        level = book.level
        if level.on_hand + delta < 0:
            raise Conflict(
                f"SKU {sku} has only {level.on_hand} on hand at {location}; cannot take out {-delta}",
                [FieldProblem("delta", f"at least -{level.on_hand}")],
            )
        writes, pending = stock_change_writes(
            table,
            book,
            level.on_hand + delta,
            reason=reason,
            reference=reference,
            actor=actor,
            note=note,
            room=MAX_WRITES - 1 if record is not None else MAX_WRITES,
        )
        assert writes[0].item is not None and writes[1].item is not None
        row, entry_id = row_from_item(writes[0].item), str(writes[1].item["id"])
        if record is not None:
            writes.append(record(row, entry_id))
        try:
            table.transact(writes)
        except Conflict as error:
            once.refused(error, writes)
            back_off(attempt)
            continue
        if pending:
            finish_allocation(table, sku, actor=actor)
        return row, entry_id
    raise Conflict(f"SKU {sku} is changing too fast; try again")


def _withdraw_at_once(
    table: Table,
    sku: str,
    units: int,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    location: str,
    note: str | None,
    record: Recorder | None = None,
) -> tuple[StockRow, str] | None:
    """The contended path: a withdrawal that leaves the row above its reorder point is one conditional
    update (no read-modify-write race to lose); taking only available units, it changes no order's
    allocation. None: it would take reserved units or cross the reorder point, or the row lacks a stored
    `available`: the caller takes the versioned path, which also reallocates and moves the low-stock index.
    """
    for attempt in range(_ATTEMPTS):
        current = table.get(keys.stock_key(sku, location), consistent=True)
        if current is None:
            raise NotFound(f"SKU {sku} has no stock row at {location}: create it with PUT /inventory/{{sku}}")
        if "available" not in current:
            return None
        reorder_point = current.get("reorderPoint")
        now = utc_now()
        at = iso_z(now)
        entry_id = uuid.uuid4().hex[:12]
        above = int(reorder_point) if reorder_point is not None else -1
        update = conditional.withdraw_available(sku, location, units, above=above, at=at)
        entry = Write.put_new(
            _ledger_entry(
                sku,
                location,
                Movement(on_hand=-units),
                reason=reason,
                reference=reference,
                actor=actor,
                at=at,
                now=now,
                entry_id=entry_id,
                note=note,
            )
        )
        # the row as this update leaves it (the answer, known before the write for the key's record)
        units_left = {
            "onHand": int(current["onHand"]) - units,
            "available": int(current["available"]) - units,
        }
        row = row_from_item({**current, **units_left, "updatedAt": at})
        writes = [update, entry, *([record(row, entry_id)] if record is not None else [])]
        try:
            table.transact(writes)
        except VersionConflict:  # the condition failed: not enough, or the reorder point would be crossed
            return None
        except Conflict as error:  # a concurrent transaction on the row (TransactionConflict): retry
            once.refused(error, writes)  # unless it was refused on its key's record
            back_off(attempt)
            continue
        return row, entry_id
    return None


def row_writes(
    change: Reallocation,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    note: str | None = None,
    pending: bool = False,
    recorded: bool = False,
) -> list[Write]:
    """The stock row's next version (always: it serializes the SKU's allocation), with a ledger entry
    when its figures move or the change is `recorded` (a seller's adjustment is, even of 0 units).
    `pending`: some orders' units short are still to be written."""
    book = change.book
    if change.movement or book.row is None or recorded:
        writes = stock_writes(
            book.row,
            book.sku,
            change.movement,
            reason=reason,
            reference=reference,
            actor=actor,
            note=note,
            location=book.location,
        )
    else:
        row = row_item(book.row, book.sku, change.after, location=book.location, at=iso_z(utc_now()))
        writes = [Write.put_versioned(row, int(book.row["version"]))]
    row_write = writes[0]
    assert row_write.item is not None
    row_write.item.pop("allocationPending", None)
    if pending:
        row_write.item["allocationPending"] = True
        writes.append(pending_marker(book.sku))
    return writes


def pending_marker(sku: str) -> Write:
    """Found by the ship_guard schedule if the caller stops before writing the rest (a crash, a timeout)."""
    return Write("Put", item={**keys.allocation_pending_key(sku), "entity": "AllocationPending", "sku": sku})


def stock_change_writes(
    table: Table,
    book: SkuBook,
    on_hand: int,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    note: str | None = None,
    room: int = MAX_WRITES,
) -> tuple[list[Write], bool]:
    """A change of a SKU's onHand (an adjustment, a count correction): the row, its ledger entry and
    the orders it makes short or whole, for one transaction. True: more orders to write afterwards."""
    change = reallocate(book, on_hand=on_hand)
    others, pending = other_order_writes(table, [change], writing=set(), room=room - 3)
    row = row_writes(
        change, reason=reason, reference=reference, actor=actor, note=note, pending=pending, recorded=True
    )
    return [*row, *others], pending


def finish_allocation(table: Table, sku: str, *, actor: str) -> None:
    """Write the units short of the orders a large change could not fit in its transaction, 100 writes
    a transaction, each versioned on the stock row (so it never writes a stale allocation)."""
    collisions = 0
    while collisions < _ATTEMPTS:
        book = read_book(table, sku)
        if book.row is None:
            return
        change = reallocate(book, on_hand=book.level.on_hand)
        if not change.others and not change.movement and not book.row.get("allocationPending"):
            table.delete(keys.allocation_pending_key(sku))
            return
        others, pending = other_order_writes(table, [change], writing=set(), room=MAX_WRITES - 3)
        row = row_writes(change, reason="reallocation", reference=None, actor=actor, pending=pending)
        done = [] if pending else [Write.delete(keys.allocation_pending_key(sku))]
        try:
            table.transact([*row, *others, *done])
        except Conflict:
            back_off(collisions)
            collisions += 1
            continue
        if not pending:
            return
    logger.warning("allocation left pending", extra={"sku": sku})


def finish_pending_allocations(table: Table, *, actor: str) -> int:
    """Every SKU a change left pending (its caller stopped before finishing): finished now."""
    skus = [str(item["sku"]) for item in table.query_all(keys.allocations_pending(), consistent=True)]
    for sku in skus:
        finish_allocation(table, sku, actor=actor)
    return len(skus)


def finish_pending(table: Table, writes: Sequence[Write], *, actor: str) -> None:
    """After a committed change: finish the allocation of every SKU it left pending (too many orders)."""
    for write in writes:
        item = write.item or {}
        if item.get("entity") == STOCK_ENTITY and item.get("allocationPending"):
            finish_allocation(table, str(item["sku"]), actor=actor)


def set_policy(
    table: Table, sku: str, policy: StockPolicy, *, location: str = keys.DEFAULT_LOCATION
) -> StockRow:
    """Create or update a SKU's policy (the given fields only); a new SKU starts with nothing on hand."""
    changes = policy.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for attempt in range(_ATTEMPTS):
        current = table.get(keys.stock_key(sku, location), consistent=True)
        row = row_item(
            current, sku, level_of(current), location=location, at=iso_z(utc_now()), changes=changes
        )
        try:
            table.transact([Write.put_versioned(row, int(current["version"]) if current else None)])
        except Conflict:
            back_off(attempt)
            continue
        return row_from_item(row)
    raise Conflict(f"SKU {sku} is changing too fast; try again")


class StockRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, sku: str, location: str = keys.DEFAULT_LOCATION) -> StockRow:
        item = self._table.get(keys.stock_key(sku, location))
        if item is None:
            raise NotFound(f"SKU {sku} has no stock row at {location}")
        return row_from_item(item)

    def raw(self, skus: list[str], location: str = keys.DEFAULT_LOCATION) -> dict[str, Item]:
        """Current stock items by SKU, read consistently (for a change that will write them)."""
        items = self._table.get_many([keys.stock_key(sku, location) for sku in skus])
        return {item["sku"]: item for item in items}

    def list(self, *, limit: int, next_token: str | None, below_reorder_point: bool = False) -> Page:
        """Every row by SKU, or only those at or below their reorder point; each with its days of cover."""
        query = keys.low_stock() if below_reorder_point else keys.KeyQuery(keys.ALL_STOCK, "gsi1")
        page = self._table.query_page(query, limit=limit, next_token=next_token)
        rows = [row_from_item(i) for i in page.items]
        _ = self._table.client  # made once, before the threads share it (boto3 clients are thread-safe)
        with ThreadPoolExecutor(max_workers=_COVER_READERS) as readers:  # one ledger Query per row
            covers = list(readers.map(self.days_of_cover, rows))
        rows = [
            row.model_copy(update={"days_of_cover": cover}) for row, cover in zip(rows, covers, strict=True)
        ]
        page.items = [row.model_dump(mode="json", by_alias=True) for row in rows]
        return page

    def days_of_cover(self, row: StockRow, *, days: int = SALES_WINDOW_DAYS) -> float | None:
        """Available units at the window's demand (oms.domain.cover); None: nothing ordered in the window."""
        since = (utc_now() - timedelta(days=days)).isoformat(timespec="microseconds")
        entries = (
            entry
            for entry in self._table.query_all(keys.ledger_since(row.sku, since))
            if entry.get("location", keys.DEFAULT_LOCATION) == row.location
        )
        return cover.days_of_cover(row.available, entries, days)

    def ledger(self, sku: str, *, limit: int, next_token: str | None) -> Page:
        page = self._table.query_page(keys.ledger_of(sku), limit=limit, next_token=next_token)
        page.items = [
            LedgerEntry.model_validate({k: v for k, v in i.items() if k in _LEDGER_FIELDS}).model_dump(
                mode="json", by_alias=True
            )
            for i in page.items
        ]
        return page


_LEDGER_FIELDS = {f.alias for f in LedgerEntry.model_fields.values()}
