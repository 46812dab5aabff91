"""The returns' figures in account health, beside Amazon's shipping targets:

- Refund on-time rate (30 days; target 98%, ours: Amazon refunds and charges the seller past the deadline):
  of the returns whose refundDueBy fell in the window, those refunded by it (the first `refunded` on the
  timeline); one closed without a refund owed nothing and leaves the count. Projected: each return due
  later in the window's future and flagged refundAtRisk/refundLate now counts as a miss.
- Return decision on-time rate (30 days; target 98%): of the requests whose decisionDueBy (requested + 24
  hours) fell in the window, those authorized or declined by it; projected with those decisionAtRisk/Late.

One Query of the returns requested in the last LOOKBACK days (the request index): a return is due for its
refund weeks after it was requested at most, and returns are a small share of the orders counted beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from oms.domain.returns import Return, ReturnFlag, ReturnStatus
from oms.domain.types import iso_z
from oms.returns.records import return_from_item
from oms.shipping.account_health import Count, Metric, metric
from oms.store import keys
from oms.store.table import Table

WINDOW_DAYS = 30
LOOKBACK = timedelta(days=90)
TARGET = 0.98


def _first(ret: Return, status: ReturnStatus) -> datetime | None:
    return next((t.at for t in ret.timeline if t.status is status), None)


def returns_health(returns: Iterable[Return], now: datetime) -> dict[str, Metric]:
    """The two figures, under AccountHealth's field names."""
    since = now - timedelta(days=WINDOW_DAYS)
    refunds, decisions = Count(), Count()
    for ret in returns:
        due = ret.refund_due_by
        refunded_at = _first(ret, ReturnStatus.REFUNDED)
        closed_unrefunded = refunded_at is None and ret.status is ReturnStatus.CLOSED
        if due is not None and not closed_unrefunded:
            if since <= due <= now:
                refunds.total += 1
                refunds.hit += refunded_at is not None and refunded_at <= due
            elif due > now and refunded_at is None and ReturnFlag.REFUND_AT_RISK in ret.flags:
                refunds.total_if_risky += 1  # if it misses, it counts against the rate
        decide_by = ret.decision_due_by
        if decide_by is not None:
            if since <= decide_by <= now:
                decisions.total += 1
                decisions.hit += ret.decided_at is not None and ret.decided_at <= decide_by
            elif decide_by > now and ret.decided_at is None and ReturnFlag.DECISION_AT_RISK in ret.flags:
                decisions.total_if_risky += 1
    return {
        "refund_on_time_rate": metric(refunds, target=TARGET, below=False, window=WINDOW_DAYS),
        "return_decision_on_time_rate": metric(decisions, target=TARGET, below=False, window=WINDOW_DAYS),
    }


def returns_health_now(table: Table, now: datetime) -> dict[str, Metric]:
    """Counted from the returns requested in the last LOOKBACK days (oms.shipping.account_health: more)."""
    query = keys.returns_by_time(iso_z(now - LOOKBACK), None)
    return returns_health((return_from_item(i) for i in table.query_all(query)), now)
