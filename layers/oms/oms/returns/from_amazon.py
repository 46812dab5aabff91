"""Returns found in Amazon's returns reports, applied exactly once (domain/returns_reports.py reads them).

Each return is one transaction: a new one is written with its order's OrderReturns item (versioned) and
its SKU markers, as POST /returns writes one; a known one is a versioned put when the report adds
something (a fact it lacked, a status further along), else nothing is written. The return's id is derived
from Amazon's key (the RMA id; for FBA the order, SKU and licence plate), so a row seen again, in this
report or a later overlapping one, finds its return and changes nothing twice.

A row for an order not known here is counted and logged, not fetched (docs/decisions.md): the order
backstop brings every order within 15 minutes and the next report's window overlaps this one's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from oms.domain.orders import FulfillmentChannel, Order
from oms.domain.returns import Return
from oms.domain.returns_reports import (
    BadRow,
    FbaReturn,
    MfnReturn,
    Parsed,
    amazon_return_id,
    fba_return,
    fba_return_id,
    mfn_return,
    updated_from_mfn,
)
from oms.errors import Conflict, InvalidInput, NotFound
from oms.observability import logger
from oms.returns.records import ReturnRecords, lookup_writes, return_from_item, return_item
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Table, Write, back_off

_ATTEMPTS = 20


@dataclass
class Applied:
    """What applying a report did: returns created, updated, unchanged; rows bad or for unknown orders."""

    counts: Counter[str] = field(default_factory=Counter)
    bad: list[BadRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {**{k: self.counts[k] for k in sorted(self.counts)}, "badRows": len(self.bad)}


def apply_parsed(table: Table, parsed: Parsed, *, now: datetime, report_id: str = "") -> Applied:
    """Every good return of the report applied (each in its own transaction); every bad row counted and
    logged with its line number and problem."""
    applied = Applied(bad=list(parsed.bad))
    applied.counts["rows"] = parsed.rows
    applied.counts["duplicateRows"] = parsed.duplicates
    for found in parsed.mfn:
        _count(applied, found.lines[0], lambda f=found: apply_mfn(table, f, now=now))  # type: ignore[misc]
    for one in parsed.fba:
        _count(applied, one.line, lambda f=one: apply_fba(table, f))  # type: ignore[misc]
    for bad in applied.bad:
        logger.warning(
            "returns report row not applied",
            extra={"reportId": report_id, "line": bad.line, "problem": bad.problem},
        )
    return applied


def _count(applied: Applied, line: int, apply: Callable[[], str]) -> None:
    try:
        outcome = apply()
    except (InvalidInput, Conflict) as refused:  # units not shipped here, an SKU not in the order...
        applied.bad.append(BadRow(line, str(refused)))
        return
    if outcome == "unknownOrder":
        applied.bad.append(BadRow(line, "the order is not known here (yet)"))
    applied.counts[outcome] += 1


def apply_mfn(table: Table, found: MfnReturn, *, now: datetime) -> str:
    """created / updated / unchanged / unknownOrder (InvalidInput or Conflict: refused by the order)."""
    return_id = amazon_return_id(found.rma_id)
    return _apply(
        table,
        return_id,
        found.order_id,
        update=lambda ret: updated_from_mfn(ret, found, now=now),
        create=lambda order, earlier: mfn_return(order, found, earlier=earlier, now=now),
    )


def apply_fba(table: Table, found: FbaReturn) -> str:
    """created / unchanged / unknownOrder: an FBA return is complete when first seen (Amazon graded it)."""

    def create(order: Order, earlier: list[Return]) -> Return:
        if order.fulfillment_channel is not FulfillmentChannel.AFN:
            raise Conflict(f"order {order.order_id} is seller-fulfilled: it has no FBA returns")
        return fba_return(order, found, earlier=earlier)

    return_id = fba_return_id(found.order_id, found.sku, found.license_plate)
    return _apply(table, return_id, found.order_id, update=lambda ret: ret, create=create)


def _apply(
    table: Table,
    return_id: str,
    order_id: str,
    *,
    update: Callable[[Return], Return],
    create: Callable[[Order, list[Return]], Return],
) -> str:
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        existing = table.get(keys.return_key(return_id), consistent=True)
        if existing is not None:
            ret = return_from_item(existing)
            after = update(ret)
            if after == ret:
                return "unchanged"
            # a tracking number the report brings later finds the return too (the receiving screen's scan)
            writes = [
                Write.put_versioned(return_item(after), int(existing.get("version", 0))),
                *lookup_writes(after, ret),
            ]
            outcome = "updated"
        else:
            try:
                order = OrderRepository(table).get(order_id)
            except NotFound:
                return "unknownOrder"
            marker = table.get(keys.order_returns_key(order_id), consistent=True)
            writes = records.new_return_writes(
                create(order, records.of_order(order_id, marker or {})), marker
            )
            outcome = "created"
        try:
            table.transact(writes)
        except Conflict:  # the return or its order's returns changed meanwhile: read again
            back_off(attempt)
            continue
        return outcome
    raise Conflict(f"return {return_id} is changing too fast; it is applied on the next read")
