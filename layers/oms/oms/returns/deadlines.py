"""The returns' clocks, in the deadline guard (ship_guard, every 15 minutes, after the orders):
- the decision clock: every request waiting for the seller's decision weighed against decisionDueBy
  (requested + 24 hours, calendar time): decisionAtRisk / decisionLate;
- the refund clock: every return awaiting its refund weighed against refundDueBy in the warehouse's working
  time: refundAtRisk / refundLate (domain/returns.py: decision_flags, refund_flags, clock_flags).
The flags move on the return item; the stream then announces each once (ReturnDecisionAtRisk,
ReturnDecisionLate, RefundAtRisk, RefundLate) and the alerts rule mails the late ones.

Each clock reads only its sparse index (decision-due, refund-due), which holds exactly the returns on that
clock; each change is a versioned write of the return through the guard's shared loop (store/reflag.py), so
a receipt, an answer or a refund landing meanwhile is read again and weighed afresh, never overwritten.
"""

from __future__ import annotations

from datetime import datetime

from oms.domain.returns import clock_flags
from oms.observability import logger
from oms.returns.records import return_from_item, return_item
from oms.store import keys
from oms.store.reflag import Reflag, reflag, tally
from oms.store.table import Item, Table, Write
from oms.warehouse.settings import ShippingSettings, ShippingSettingsStore

# The clocks, each its index and the name its counts go under.
CLOCKS = (("decisions", keys.decisions_due), ("refunds", keys.refunds_due))


def flag_returns(table: Table, now: datetime) -> dict[str, int]:
    """Re-flag the returns on either clock as of `now`: per clock, those checked, those that gained a flag
    (flagged) and those whose flags only went away (cleared): refundsChecked, decisionsFlagged, ..."""
    settings = ShippingSettingsStore(table).get()
    counts = {f"{name}{what}": 0 for name, _ in CLOCKS for what in ("Checked", "Flagged", "Cleared")}
    for name, query in CLOCKS:
        for item in table.query_all(query()):
            tally(counts, name, reflag_return(table, item, settings, now))
    logger.info("returns' clocks done", extra=counts)
    return counts


def reflag_return(table: Table, item: Item, settings: ShippingSettings, now: datetime) -> bool | None:
    """Write the return's clock flags if they changed: True when one was raised, False when they were only
    cleared, None unchanged. Starts from the queried item; reads again (consistently) after a collision."""

    def weigh(current: Item) -> Reflag | None:
        ret = return_from_item(current)
        flagged = clock_flags(ret, now, settings.calendar, at_risk_share=settings.at_risk_share)
        if flagged.flags == ret.flags:
            return None
        write = Write.put_versioned(return_item(flagged), int(current.get("version", 0)))
        return Reflag([write], raised=bool(set(flagged.flags) - set(ret.flags)))

    return reflag(table, item, keys.return_key(str(item["returnId"])), weigh)
