"""Receiving a return: the receipt, the stock it moves and its ledger entries in ONE transaction, once.

Sellable units go back on hand at the given location (the default one unless named) through the same
stock change as an adjustment (oms.inventory.stock.stock_change_writes): a ledger entry with reason
`return` referencing the return, and the open orders short of the SKU served again in the same
transaction. Units of any other grade are written off: a ledger entry with reason `return-write-off`
that moves nothing, since a unit counted on hand anywhere would be offered on Amazon (docs/decisions.md).
The receipt id (the request's Idempotency-Key) is kept on the versioned return, so a retried receipt is
found there and applied once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from oms.domain.calendar import BusinessCalendar
from oms.domain.returns import Disposition, Receipt, ReceivedUnits, Return, receipt_lines, received
from oms.domain.stock import DEFAULT_LOCATION
from oms.domain.types import utc_now
from oms.errors import Busy, Conflict, InvalidInput
from oms.inventory.allocation import MAX_WRITES, read_book
from oms.inventory.stock import finish_pending, ledger_only_write, stock_change_writes
from oms.returns.records import ReturnRecords, return_item
from oms.store.table import Table, Write, back_off

RESTOCK_REASON = "return"
WRITE_OFF_REASON = "return-write-off"
MAX_RECEIPT_LINES = 20  # so the stock changes and their orders fit one transaction (100 writes)
_ATTEMPTS = 30


def _asked(units: Sequence[ReceivedUnits]) -> list[tuple[str, int, str, str]]:
    return [(u.sku, u.quantity, u.grade.value, u.location or DEFAULT_LOCATION) for u in units]


def receive(
    table: Table,
    return_id: str,
    units: Sequence[ReceivedUnits],
    *,
    actor: str,
    calendar: BusinessCalendar,
    receipt_id: str | None = None,
) -> tuple[Return, bool]:
    """Apply a receipt to the return once. (the return, True) when applied now; (the return, False) when
    this receipt id was applied before with the same lines (a retry): nothing is written again."""
    if len(units) > MAX_RECEIPT_LINES:
        raise InvalidInput.for_field("items", f"at most {MAX_RECEIPT_LINES} lines in one receipt")
    receipt_id = receipt_id or uuid.uuid4().hex[:12]
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        ret, version = records.read(return_id)
        done = ret.receipt(receipt_id)
        if done is not None:
            if [(line.sku, line.quantity, line.grade.value, line.location) for line in done.items] != _asked(
                units
            ):
                raise Conflict("this Idempotency-Key was used for a different receipt")
            return ret, False
        receipt = Receipt(receipt_id=receipt_id, at=utc_now(), actor=actor, items=receipt_lines(ret, units))
        after = received(ret, receipt, calendar)
        writes = [Write.put_versioned(return_item(after), version), *_write_offs(receipt, return_id, actor)]
        writes += _restocks(table, receipt, return_id, actor, room=MAX_WRITES - len(writes))
        try:
            table.transact(writes)
        except Conflict:  # the return or a stock row changed since it was read: read again
            back_off(attempt)
            continue
        finish_pending(table, writes, actor=actor)
        return after, True
    raise Busy(f"return {return_id} is changing too fast; try again")


def _write_offs(receipt: Receipt, return_id: str, actor: str) -> list[Write]:
    return [
        ledger_only_write(
            line.sku,
            location=line.location,
            reason=WRITE_OFF_REASON,
            reference=return_id,
            actor=actor,
            note=f"{line.quantity} unit(s) returned {line.grade.value}: written off, not back on hand",
        )
        for line in receipt.items
        if line.disposition is Disposition.WRITTEN_OFF
    ]


def _restocks(table: Table, receipt: Receipt, return_id: str, actor: str, *, room: int) -> list[Write]:
    """Each SKU and location's sellable units back on hand: its row, ledger entry and the orders served."""
    units: dict[tuple[str, str], int] = {}
    for line in receipt.items:
        if line.disposition is Disposition.RESTOCKED:
            units[(line.sku, line.location)] = units.get((line.sku, line.location), 0) + line.quantity
    writes: list[Write] = []
    share = room // max(len(units), 1)
    for (sku, location), count in units.items():
        book = read_book(table, sku, location)
        if book.row is None and location != DEFAULT_LOCATION:
            index = next(
                i for i, line in enumerate(receipt.items) if (line.sku, line.location) == (sku, location)
            )
            raise InvalidInput.for_field(
                f"items[{index}].location",
                f"SKU {sku} has no stock row at {location}: create it with "
                f"PUT /inventory/{sku}?location={location}, or leave location out",
            )
        change, _ = stock_change_writes(
            table,
            book,
            book.level.on_hand + count,
            reason=RESTOCK_REASON,
            reference=return_id,
            actor=actor,
            note=f"{count} unit(s) returned sellable",
            room=share,
        )
        writes += change
    return writes
