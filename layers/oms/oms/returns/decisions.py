"""The seller's answer to a return: authorize a request (requested -> authorized), or close a return with the
reason (a request declined, a return that never came back). One versioned write of the return each: the
answer takes the return off the decision clock's index in the same write (records.return_item), and a
retried answer changes nothing (the return as it is, 200)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from oms.domain.returns import Return, ReturnStatus, authorize, close
from oms.domain.types import utc_now
from oms.errors import Busy, Conflict
from oms.returns.records import ReturnRecords, return_item
from oms.store.table import Table, Write, back_off

_ATTEMPTS = 30


def authorize_return(table: Table, return_id: str, *, actor: str) -> Return:
    """The request authorized: the buyer may send it back. Already authorized: the return as it is."""
    return _answer(
        table,
        return_id,
        lambda ret, at: authorize(ret, at, f"authorized by {actor}"),
        done=lambda ret: ret.status is ReturnStatus.AUTHORIZED,
    )


def close_return(table: Table, return_id: str, reason: str, *, actor: str) -> Return:
    """The return closed with the reason; a return closed already with the same reason: as it is (a retry)."""
    reason = reason.strip()

    def done(ret: Return) -> bool:
        last = ret.timeline[-1] if ret.timeline else None
        return ret.status is ReturnStatus.CLOSED and last is not None and last.note == reason

    return _answer(table, return_id, lambda ret, at: close(ret, at, reason), done=done)


def _answer(
    table: Table,
    return_id: str,
    change: Callable[[Return, datetime], Return],
    *,
    done: Callable[[Return], bool],
) -> Return:
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        ret, version = records.read(return_id)
        if done(ret):
            return ret
        after = change(ret, utc_now())  # a move the state machine refuses is a 409 here, nothing written
        try:
            table.transact([Write.put_versioned(return_item(after), version)])
        except Conflict:  # received, flagged or answered since it was read: read again
            back_off(attempt)
            continue
        return after
    raise Busy(f"return {return_id} is changing too fast; try again")
