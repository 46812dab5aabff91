"""The quantity Amazon should offer of a merchant-fulfilled (MFN) SKU, pure: no I/O.

A SKU's stock rows (one per location) hold its units and its policy. Amazon is told the units
available over every location minus the seller's buffer, never below 0. Whether a SKU is ours to
push: channel MFN or BOTH, yes; FBA, no; unset, yes unless Amazon reports FBA figures for it
(pushing a DEFAULT quantity onto an FBA offer would turn it into a merchant-fulfilled one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oms.domain.stock import DEFAULT_LOCATION, StockLevel

Row = Mapping[str, Any]


def _available(row: Row) -> int:
    return StockLevel(int(row.get("onHand", 0)), int(row.get("reserved", 0))).available


def policy_value(rows: Sequence[Row], name: str) -> Any:
    """A SKU-wide policy field: the default location's (PUT /inventory/{sku}), else any location's."""
    ordered = sorted(rows, key=lambda row: row.get("location", DEFAULT_LOCATION) != DEFAULT_LOCATION)
    return next((row[name] for row in ordered if row.get(name) is not None), None)


def is_merchant_fulfilled(rows: Sequence[Row]) -> bool:
    channel = policy_value(rows, "channel")
    if channel is not None:
        return str(channel) in ("MFN", "BOTH")
    return not any(row.get("fba") for row in rows)


def merchant_quantity(rows: Sequence[Row]) -> int | None:
    """What Amazon should show as the SKU's merchant-fulfilled quantity; None: not ours to push."""
    if not rows or not is_merchant_fulfilled(rows):
        return None
    buffer = int(policy_value(rows, "amazonBuffer") or 0)
    return max(sum(_available(row) for row in rows) - buffer, 0)


def moves_merchant_quantity(old: Row | None, new: Row) -> bool:
    """Whether a committed change of one stock row may change what Amazon should show."""
    if not old:
        return True
    return (
        _available(old) != _available(new)
        or old.get("amazonBuffer") != new.get("amazonBuffer")
        or old.get("channel") != new.get("channel")
        or bool(old.get("fba")) != bool(new.get("fba"))
    )
