"""The refund clock: every return awaiting its refund weighed against refundDueBy in the warehouse's working
time (domain/returns.py: refund_flags), its refundAtRisk/refundLate flags moved on the return item. The
stream then announces RefundAtRisk / RefundLate once each, and the alerts rule mails RefundLate.

Runs in the deadline guard (ship_guard, every 15 minutes) after the orders. It reads only the refund-due
index, which holds exactly the received, unrefunded returns; each change is a versioned write of the return,
so a receipt or refund landing meanwhile is read again and weighed afresh, never overwritten.
"""

from __future__ import annotations

from datetime import datetime

from oms.domain.returns import Return, refund_flags, with_refund_flags
from oms.errors import Conflict
from oms.observability import logger
from oms.returns.records import return_from_item, return_item
from oms.store import keys
from oms.store.table import Item, Table, Write, back_off
from oms.warehouse.settings import ShippingSettings, ShippingSettingsStore

_ATTEMPTS = 10


def flag_refunds(table: Table, now: datetime) -> dict[str, int]:
    """Re-flag the returns awaiting a refund as of `now`: counts of those checked, those that gained a flag
    (flagged), those whose flags only went away (cleared)."""
    settings = ShippingSettingsStore(table).get()
    counts = {"refundsChecked": 0, "refundsFlagged": 0, "refundsCleared": 0}
    for item in table.query_all(keys.refunds_due()):
        counts["refundsChecked"] += 1
        changed = _reflag(table, item, settings, now)
        if changed is not None:
            counts["refundsFlagged" if changed else "refundsCleared"] += 1
    logger.info("refund clock done", extra=counts)
    return counts


def _flagged(ret: Return, settings: ShippingSettings, now: datetime) -> Return:
    raised = refund_flags(ret, now, settings.calendar, at_risk_share=settings.at_risk_share)
    return with_refund_flags(ret, raised)


def _reflag(table: Table, item: Item, settings: ShippingSettings, now: datetime) -> bool | None:
    """Write the return's refund flags if they changed: True when one was raised, False when they were only
    cleared, None unchanged. Starts from the queried item; reads again (consistently) after a collision."""
    current: Item | None = item
    for attempt in range(_ATTEMPTS):
        if current is None:
            return None
        ret = return_from_item(current)
        flagged = _flagged(ret, settings, now)
        if flagged.flags == ret.flags:
            return None
        try:
            table.transact([Write.put_versioned(return_item(flagged), int(current.get("version", 0)))])
        except Conflict:  # received again, refunded or closed since it was read: weigh it afresh
            back_off(attempt)
            current = table.get(keys.return_key(ret.return_id), consistent=True)
            continue
        return bool(set(flagged.flags) - set(ret.flags))
    logger.warning(
        "refund flags not moved: the return kept changing", extra={"returnId": item.get("returnId")}
    )
    return None
