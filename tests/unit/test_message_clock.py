"""Amazon's 24-hour clock on buyers' messages: the flags a waiting thread carries, the late response rate as
Amazon counts it (hand counts), and the events the stream announces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms.care.clock import clock_flags, late_response_health
from oms.domain.types import iso_z
from oms.events import events_from_change

NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # a Saturday night: Amazon's clock runs on weekends
SIX = timedelta(hours=6)


def thread(due_in: timedelta, status: str = "awaiting", flags: list[str] | None = None) -> dict:
    return {
        "entity": "MessageThread",
        "threadId": "t1",
        "orderId": "112-1234567-7654321",
        "status": status,
        "waitingSince": iso_z(NOW + due_in - timedelta(hours=24)),
        "dueAt": iso_z(NOW + due_in),
        "flags": flags or [],
    }


@pytest.mark.parametrize(
    "due_in, flags",
    [
        (timedelta(hours=7), []),
        (timedelta(hours=6, seconds=1), []),
        (timedelta(hours=6), ["atRisk"]),
        (timedelta(minutes=1), ["atRisk"]),
        (timedelta(0), ["late"]),
        (timedelta(hours=-30), ["late"]),
    ],
)
def test_a_waiting_thread_is_at_risk_with_six_hours_left_and_late_once_due(due_in, flags):
    assert clock_flags(thread(due_in), NOW, SIX) == flags


def test_an_answered_or_closed_thread_carries_no_flag():
    assert clock_flags(thread(timedelta(hours=-1), status="answered"), NOW, SIX) == []
    assert clock_flags(thread(timedelta(hours=-1), status="no-response-needed"), NOW, SIX) == []


def test_the_at_risk_hours_are_a_setting():
    assert clock_flags(thread(timedelta(hours=5)), NOW, timedelta(hours=2)) == []
    assert clock_flags(thread(timedelta(hours=1)), NOW, timedelta(hours=2)) == ["atRisk"]


def clock(
    received_ago: timedelta, answered_after: timedelta | None = None, *, not_needed: bool = False
) -> dict:
    received = NOW - received_ago
    item = {"receivedAt": iso_z(received), "dueAt": iso_z(received + timedelta(hours=24))}
    if answered_after is not None:
        item["answeredAt"] = iso_z(received + answered_after)
    if not_needed:
        item["noResponseNeeded"] = True
    return item


def test_the_late_response_rate_counts_as_amazon_does():
    clocks = [
        clock(timedelta(days=1), timedelta(hours=2)),  # on time
        clock(timedelta(days=2), timedelta(hours=25)),  # answered late
        clock(timedelta(days=3)),  # never answered, 24 hours gone: late
        clock(timedelta(days=4), timedelta(hours=24)),  # answered at the 24th hour: on time
        clock(timedelta(days=5), not_needed=True),  # no response needed: not counted
        clock(timedelta(hours=3)),  # still within its 24 hours: not counted yet
        clock(timedelta(days=20), timedelta(hours=30)),  # late, in the 30 and 90 days only
        clock(timedelta(days=60), timedelta(hours=1)),  # on time, in the 90 days only
        clock(timedelta(days=100)),  # outside every window
    ]
    health = late_response_health(clocks, NOW)

    seven, thirty, ninety = (health[f"late_response_rate{d}d"] for d in (7, 30, 90))
    assert (seven.numerator, seven.denominator, seven.value) == (2, 4, 0.5)
    assert (thirty.numerator, thirty.denominator, thirty.value) == (3, 5, 0.6)
    assert (ninety.numerator, ninety.denominator, ninety.value) == (3, 6, 0.5)
    assert seven.target == 0.10 and seven.comparison == "below" and seven.meets_target is False
    assert (seven.projected_numerator, seven.projected_denominator) == (3, 5)  # the running one, if missed


def test_no_message_no_rate():
    assert late_response_health([], NOW)["late_response_rate30d"].value is None


def test_the_stream_announces_a_thread_at_risk_and_late_once_each():
    waiting = thread(timedelta(hours=5))
    at_risk = {**waiting, "flags": ["atRisk"]}
    late = {**waiting, "flags": ["late"]}

    def types(old, new):
        return [e.detail_type for e in events_from_change(old, new, event_id="e", occurred_at=NOW)]

    assert types(waiting, at_risk) == ["MessageAtRisk"]
    assert types(at_risk, at_risk) == []
    assert types(at_risk, late) == ["MessageLate"]
    (event,) = events_from_change(at_risk, late, event_id="e", occurred_at=NOW)
    assert event.data["dueAt"] == waiting["dueAt"] and event.data["orderId"] == "112-1234567-7654321"
    assert "buyerAlias" not in event.data  # no buyer data on the bus
