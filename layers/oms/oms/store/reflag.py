"""The deadline guard's write loop, one for every clock: orders against their latest ship date, returns
against decisionDueBy and refundDueBy. Each flag change is one transaction of versioned writes built from
the item the guard's query found; when someone changed the item meanwhile (the transaction is refused) the
item is read again, consistently, and weighed afresh, so a receipt, a shipment or an answer landing during
the guard's run is never overwritten by a stale copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from oms.errors import AlreadyExists, Conflict
from oms.observability import logger
from oms.store.table import Item, Table, Write, back_off

ATTEMPTS = 10


@dataclass(frozen=True)
class Reflag:
    """What weighing one item found changed: the writes that move its flags, and whether a flag was raised
    (else they were only cleared)."""

    writes: list[Write]
    raised: bool


def reflag(
    table: Table,
    item: Item,
    key: Mapping[str, str],
    weigh: Callable[[Item], Reflag | None],
    *,
    after: Callable[[list[Write]], None] | None = None,
) -> bool | None:
    """Write the item's flags if `weigh` finds them changed: True when one was raised, False when they were
    only cleared, None when unchanged (or gone, or still contended after ATTEMPTS reads). `after` runs once
    the writes are committed (e.g. finishing pending allocations)."""
    current: Item | None = item
    for attempt in range(ATTEMPTS):
        if current is None:
            return None
        change = weigh(current)
        if change is None:
            return None
        try:
            table.transact(change.writes)
        except (Conflict, AlreadyExists):
            back_off(attempt)
            current = table.get(dict(key), consistent=True)
            continue
        if after is not None:
            after(change.writes)
        return change.raised
    logger.warning("flags not moved: the item kept changing", extra={"key": dict(key)})
    return None


def tally(counts: dict[str, int], prefix: str, changed: bool | None) -> None:
    """Count one weighed item under `prefix`: Checked, and Flagged or Cleared when its flags moved."""
    counts[f"{prefix}Checked"] = counts.get(f"{prefix}Checked", 0) + 1
    if changed is not None:
        name = f"{prefix}Flagged" if changed else f"{prefix}Cleared"
        counts[name] = counts.get(name, 0) + 1
