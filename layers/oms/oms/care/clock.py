"""Amazon's 24-hour clock on buyers' messages: flags while a thread waits, the clock stopped by an answer or
"no response needed", and the late response rate as Amazon counts it.

- A waiting thread is `atRisk` when less than the at-risk hours (default 6) are left before its due time
  (24 hours, calendar time, after its oldest unanswered message) and `late` once it has passed; the flags
  move in the thread item, so the stream announces MessageAtRisk and MessageLate (alerts for late).
- Every buyer message has its own clock item (no PII, kept after the purge). Amazon's response-time
  metric counts each message that needed an answer: late when answered after 24 hours, or not answered
  and 24 hours gone; "no response needed" takes it out of the count; one not yet due is not counted yet.
  The late response rate over 7, 30 and 90 days counts the messages received in the window.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from oms.care.threads import RESPONSE_HOURS, ThreadStatus, thread_item
from oms.domain.types import iso_z
from oms.errors import Busy, Conflict, NotFound
from oms.shipping.account_health import Count, Metric, metric
from oms.store import keys
from oms.store.conditional import close_response_clock
from oms.store.reflag import Reflag, reflag, tally
from oms.store.table import Item, Table, Write, back_off, transact_tables

AT_RISK, LATE = "atRisk", "late"
WINDOWS = (7, 30, 90)
# Amazon's target: at least 90% of buyer messages answered within 24 hours, so under 10% late.
LATE_TARGET = 0.10
ATTEMPTS = 8


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def clock_flags(thread: Item, now: datetime, at_risk: timedelta) -> list[str]:
    """The flags a thread should carry now."""
    if thread.get("status") != ThreadStatus.AWAITING.value or not thread.get("dueAt"):
        return []
    left = _at(str(thread["dueAt"])) - now
    if left <= timedelta(0):
        return [LATE]
    return [AT_RISK] if left <= at_risk else []


def flag_threads(table: Table, now: datetime, at_risk: timedelta) -> dict[str, int]:
    """Weigh every waiting thread due within the at-risk horizon (the inbox index, least time left first)."""
    counts: dict[str, int] = {}

    def weigh(item: Item) -> Reflag | None:
        flags = clock_flags(item, now, at_risk)
        if sorted(flags) == sorted(item.get("flags") or []):
            return None
        changed = thread_item({**item, "flags": flags})
        return Reflag([Write.put_versioned(changed, int(item.get("version", 0)))], raised=bool(flags))

    for item in table.query_all(keys.threads_due_before(iso_z(now + at_risk) + "~")):
        tally(counts, "messages", reflag(table, item, keys.thread_key(item["threadId"]), weigh))
    return counts


def _received(clock_sk: str) -> datetime:
    """When the message of a clock (its sort key: received#thread#hash) arrived."""
    return _at(clock_sk.split("#", 1)[0])


def answered_thread(
    current: Item, at: datetime, *, answers: Collection[str] | None = None, **changes: Any
) -> tuple[Item, list[Write]]:
    """(the thread, its clocks' writes) once answered at `at`: the clocks `answers` names that still run
    (None: every waiting one) are stopped; messages the answer did not cover (they came after it) keep the
    thread waiting, due 24 hours after the oldest of them. `changes` are more fields of the thread."""
    pending = list(current.get("pendingClocks") or [])
    stopped = pending if answers is None else [sk for sk in pending if sk in set(answers)]
    left = [sk for sk in pending if sk not in set(stopped)]
    fields: dict[str, Any] = {
        **current,
        "status": ThreadStatus.ANSWERED.value,
        "flags": [],
        "pendingClocks": [],
        "dueAt": None,
        "answeredAt": iso_z(at),
        "messagesOut": int(current.get("messagesOut") or 0) + 1,
        **changes,
    }
    if left:
        since = min(_received(sk) for sk in left)
        fields |= {
            "status": ThreadStatus.AWAITING.value,
            "pendingClocks": left,
            "waitingSince": iso_z(since),
            "dueAt": iso_z(since + timedelta(hours=RESPONSE_HOURS)),
            "flags": list(current.get("flags") or []),  # the guard weighs them again on its next run
        }
    writes = [
        close_response_clock({keys.PK: f"MSGCLOCK#{sk[:7]}", keys.SK: sk}, answered_at=iso_z(at))
        for sk in stopped
    ]
    return thread_item(fields), writes


def stop_clock(
    table: Table,
    thread_id: str,
    now: datetime,
    *,
    answered: bool,
    more: Sequence[tuple[Table, Sequence[Write]]] = (),
) -> Item:
    """Answer the thread (or mark it as needing no response) now: every waiting message's clock stopped and
    the thread's flags cleared, in one transaction with `more` (e.g. the reply in the buyer-data table).
    Returns the thread as stored; a thread not waiting is returned as it is (an answer still records)."""
    for attempt in range(ATTEMPTS):
        current = table.get(keys.thread_key(thread_id), consistent=True)
        if current is None:
            raise NotFound(f"thread {thread_id} is not known here")
        if current.get("status") != ThreadStatus.AWAITING.value and not answered:
            return current
        if answered:
            updated, clock_writes = answered_thread(current, now)
        else:
            updated = thread_item(
                {
                    **current,
                    "status": ThreadStatus.NO_RESPONSE_NEEDED.value,
                    "flags": [],
                    "pendingClocks": [],
                    "dueAt": None,
                }
            )
            clock_writes = [
                close_response_clock({keys.PK: f"MSGCLOCK#{sk[:7]}", keys.SK: sk}, answered_at=None)
                for sk in current.get("pendingClocks") or []
            ]
        writes = [Write.put_versioned(updated, int(current.get("version", 0))), *clock_writes]
        try:
            transact_tables([(table, writes), *more])
        except Conflict:
            back_off(attempt)
            continue
        return {**updated, "version": int(current.get("version", 0)) + 1}
    raise Busy(f"thread {thread_id} kept changing; try again")


def late_response_health(clocks: Iterable[Item], now: datetime) -> dict[str, Metric]:
    """The late response rate over 7, 30 and 90 days, under AccountHealth's field names. Projected: each
    message still running and flagged-close (due within a day) counts as late if it stays unanswered."""
    counts = {days: Count() for days in WINDOWS}
    for clock in clocks:
        if clock.get("noResponseNeeded"):
            continue
        received, due = _at(str(clock["receivedAt"])), _at(str(clock["dueAt"]))
        answered = _at(str(clock["answeredAt"])) if clock.get("answeredAt") else None
        for days, count in counts.items():
            if received < now - timedelta(days=days):
                continue
            if answered is not None:
                count.total += 1
                count.hit += answered > due
            elif now >= due:
                count.total += 1
                count.hit += 1
            else:  # still within its 24 hours: not counted yet; if it misses, it is late
                count.hit_if_risky += 1
                count.total_if_risky += 1
    return {
        f"late_response_rate{days}d": metric(counts[days], target=LATE_TARGET, below=True, window=days)
        for days in WINDOWS
    }


def message_health_now(table: Table, now: datetime) -> dict[str, Metric]:
    """Counted from the message clocks of the last 90 days (one query per month touched)."""
    since = now - timedelta(days=max(WINDOWS))
    months: list[str] = []
    month = since.replace(day=1)
    while month <= now:
        months.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    clocks = (clock for m in months for clock in table.query_all(keys.response_clocks(m, iso_z(since))))
    return late_response_health(clocks, now)
