"""The 24-hour clock through the stack: a message left unanswered is flagged at risk, then late, as time
passes; "no response needed" closes a thread uncounted; account health shows the late response rate."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from oms.care.clock import flag_threads
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.buyer_mail import amazon_mail
from tests.conftest import TEST_CLOCK
from tests.integration.test_buyer_messages import deliver, order, threads

__all__ = ["order"]  # the fixture
SIX = timedelta(hours=6)


def test_an_unanswered_message_is_at_risk_then_late_and_counts_as_late(stack, context, order):
    deliver(stack, context, amazon_mail("Where is my order?"))
    (waiting,) = threads(stack, context)

    with time_machine.travel(TEST_CLOCK + timedelta(hours=17), tick=False):
        assert (
            flag_threads(default_table(), TEST_CLOCK + timedelta(hours=17), SIX) == {}
        )  # 7 hours left: none due
        assert threads(stack, context)[0]["flags"] == []
    at_risk_time = TEST_CLOCK + timedelta(hours=19)
    with time_machine.travel(at_risk_time, tick=False):
        counts = flag_threads(default_table(), at_risk_time, SIX)
        assert counts == {"messagesChecked": 1, "messagesFlagged": 1}
        assert threads(stack, context)[0]["flags"] == ["atRisk"]
        assert flag_threads(default_table(), at_risk_time, SIX) == {"messagesChecked": 1}  # once
    late_time = TEST_CLOCK + timedelta(hours=25)
    with time_machine.travel(late_time, tick=False):
        flag_threads(default_table(), late_time, SIX)
        (thread,) = threads(stack, context)
        assert thread["flags"] == ["late"] and thread["dueAt"] == waiting["dueAt"]
        status, health = call_api(stack, context, "GET", "/metrics/account-health")
    assert status == 200
    rate = health["lateResponseRate7d"]
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (1, 1, 1.0)
    assert health["lateResponseRate90d"]["denominator"] == 1


def test_no_response_needed_closes_the_clock_without_counting_it(stack, context, order):
    deliver(stack, context, amazon_mail("Thanks, all good!"))
    (thread,) = threads(stack, context)

    status, closed = call_api(stack, context, "POST", f"/messages/{thread['threadId']}/no-response-needed")

    assert status == 200
    assert (closed["status"], closed["dueAt"], closed["flags"]) == ("no-response-needed", None, [])
    assert threads(stack, context, status="awaiting") == []
    assert [t["threadId"] for t in threads(stack, context, status="no-response-needed")] == [
        thread["threadId"]
    ]
    later = TEST_CLOCK + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        assert flag_threads(default_table(), later, SIX) == {}
        health = call_api(stack, context, "GET", "/metrics/account-health")[1]
    assert health["lateResponseRate7d"]["denominator"] == 0
    again = call_api(stack, context, "POST", f"/messages/{thread['threadId']}/no-response-needed")
    assert again[0] == 200 and again[1]["status"] == "no-response-needed"  # a retry changes nothing


def test_the_inbox_lists_late_first_then_by_time_left(stack, context, order):
    deliver(stack, context, amazon_mail("first", message_id="<1@m>", sender="a1@marketplace.amazon.com"))
    with time_machine.travel(TEST_CLOCK + timedelta(hours=3), tick=False):
        deliver(stack, context, amazon_mail("second", message_id="<2@m>", sender="b2@marketplace.amazon.com"))
    with time_machine.travel(TEST_CLOCK + timedelta(hours=1), tick=False):
        deliver(stack, context, amazon_mail("third", message_id="<3@m>", sender="c3@marketplace.amazon.com"))
    later = TEST_CLOCK + timedelta(hours=24, minutes=30)
    with time_machine.travel(later, tick=False):
        flag_threads(default_table(), later, SIX)
        listed = threads(stack, context)
    assert [t["buyerAlias"][:2] for t in listed] == ["a1", "c3", "b2"]
    assert [t["flags"] for t in listed] == [["late"], ["atRisk"], ["atRisk"]]


def test_an_unknown_thread_cannot_be_closed(stack, context):
    status, answer = call_api(stack, context, "POST", "/messages/abc123/no-response-needed")
    assert status == 404 and answer["error"]["code"]


def test_the_guard_flags_a_waiting_message_and_the_bus_hears_at_risk_then_late_once_each(
    stack, context, order
):
    from tests.integration.test_returns import _guard_at, _published

    deliver(stack, context, amazon_mail("Where is my order?"))
    for hours in (17, 19, 20, 25, 26):
        _guard_at(stack, context, TEST_CLOCK + timedelta(hours=hours))

    heard = [e for e in _published(stack, context) if e["detail-type"].startswith("Message")]
    assert [e["detail-type"] for e in heard] == ["MessageAtRisk", "MessageLate"]
    assert heard[1]["detail"]["data"]["orderId"] == order


def test_the_inbox_pages_through_waiting_threads_then_the_closed_ones(stack, context, order):
    for n, alias in enumerate(("a1", "b2", "c3")):
        deliver(
            stack,
            context,
            amazon_mail(f"m{n}", message_id=f"<{n}@m>", sender=f"{alias}@marketplace.amazon.com"),
        )
    closed = next(t for t in threads(stack, context) if t["buyerAlias"].startswith("b2"))
    assert call_api(stack, context, "POST", f"/messages/{closed['threadId']}/no-response-needed")[0] == 200

    seen, token = [], None
    while True:
        query = {"limit": "1", **({"nextToken": token} if token else {})}
        status, page = call_api(stack, context, "GET", "/messages", query=query)
        assert status == 200, page
        seen += [(t["buyerAlias"][:2], t["status"]) for t in page["items"]]
        token = page["nextToken"]
        if not token:
            break
    assert [status for _, status in seen] == ["awaiting", "awaiting", "no-response-needed"]
    assert sorted(alias for alias, _ in seen) == ["a1", "b2", "c3"]
