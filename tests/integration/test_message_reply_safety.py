"""A reply is recorded as sending before SES gets it, so a function that dies after SES accepted the mail
loses nothing and a retry never sends it twice: the thread shows the reply "may have been sent" until the
seller settles it, and the 24-hour clock then stops at the moment the reply was handed to SES."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from botocore.exceptions import ClientError

from oms.care.replies import send_reply
from oms.store.default import default_buyer_table, default_table
from tests.api_calls import call_api
from tests.buyer_mail import amazon_mail
from tests.conftest import TEST_CLOCK
from tests.integration.test_buyer_messages import deliver, order
from tests.integration.test_message_replies import SELLER, seller, sent_mail, waiting

__all__ = ["order", "seller", "waiting"]
KEY = "reply-7"
KEYED = {"Idempotency-Key": KEY}
BODY = {"body": "It ships today."}


class FunctionDied(Exception):
    """The Lambda timed out or crashed."""


class DiesAfterSesAccepts:
    """The stack's SES client, with the function dying just after SES accepted the mail."""

    def __init__(self, ses: Any) -> None:
        self.ses = ses

    def send_raw_email(self, **request: Any) -> dict[str, Any]:
        self.ses.send_raw_email(**request)
        raise FunctionDied()


def _interrupted_reply(stack, context, monkeypatch, thread_id: str) -> None:
    """The seller's reply through the API, the function dying once SES accepted it."""
    import oms.api.messages

    with monkeypatch.context() as patched:
        patched.setattr(oms.api.messages, "_ses", lambda: DiesAfterSesAccepts(stack.client("ses")))
        status, _ = call_api(stack, context, "POST", f"/messages/{thread_id}/replies", BODY, headers=KEYED)
    assert status == 500  # the caller saw a failure, and may retry


def _thread(stack, context, thread_id: str) -> dict[str, Any]:
    status, thread = call_api(stack, context, "GET", f"/messages/{thread_id}")
    assert status == 200, thread
    return thread


def test_a_reply_ses_accepted_before_the_function_died_shows_as_may_have_been_sent_and_is_never_sent_again(
    stack, context, waiting, monkeypatch
):
    thread_id = waiting["threadId"]
    with time_machine.travel(TEST_CLOCK + timedelta(hours=2), tick=False):
        _interrupted_reply(stack, context, monkeypatch, thread_id)

    assert len(sent_mail()) == 1  # the buyer got it
    thread = _thread(stack, context, thread_id)
    assert thread["replyInDoubt"] is True and thread["status"] == "awaiting"
    assert [(m["direction"], m.get("status")) for m in thread["messages"]] == [
        ("in", None),
        ("in", None),
        ("out", "sending"),
    ]
    listed = call_api(stack, context, "GET", "/messages")[1]["items"]
    assert [t["replyInDoubt"] for t in listed] == [True]

    url = f"/messages/{thread_id}/replies"
    with time_machine.travel(TEST_CLOCK + timedelta(hours=2, seconds=20), tick=False):
        status, answer = call_api(stack, context, "POST", url, BODY, headers=KEYED)
    assert status == 409 and "still being sent" in answer["error"]["message"]
    with time_machine.travel(TEST_CLOCK + timedelta(hours=3), tick=False):
        status, answer = call_api(stack, context, "POST", url, BODY, headers=KEYED)
    assert status == 409 and answer["error"]["code"] == "ReplyInDoubt", answer
    assert "Seller Central" in answer["error"]["message"]
    assert len(sent_mail()) == 1  # never a second mail


def test_settled_as_sent_the_clock_stops_when_the_reply_went_to_ses_however_late_the_seller_looks(
    stack, context, waiting, monkeypatch
):
    thread_id = waiting["threadId"]
    with time_machine.travel(TEST_CLOCK + timedelta(hours=2), tick=False):
        _interrupted_reply(stack, context, monkeypatch, thread_id)
    sending = _thread(stack, context, thread_id)["messages"][-1]

    # the seller looks the next day, 30 hours after the buyer wrote, and finds it in Seller Central
    with time_machine.travel(TEST_CLOCK + timedelta(hours=30), tick=False):
        path = f"/messages/{thread_id}/replies/{sending['messageId']}/outcome"
        status, thread = call_api(stack, context, "POST", path, {"sent": True})
        assert status == 200, thread
        assert call_api(stack, context, "POST", path, {"sent": False})[0] == 200  # settled already: no change
        health = call_api(stack, context, "GET", "/metrics/account-health")[1]

    assert (thread["status"], thread["replyInDoubt"], thread["messagesOut"]) == ("answered", False, 1)
    assert thread["answeredAt"].startswith((TEST_CLOCK + timedelta(hours=2)).strftime("%Y-%m-%dT%H"))
    assert thread["messages"][-1]["status"] == "sent"
    rate = health["lateResponseRate7d"]
    assert (rate["numerator"], rate["denominator"]) == (0, 2)  # answered in time, not late
    assert len(sent_mail()) == 1


def test_settled_as_not_sent_the_clock_runs_on_and_the_seller_writes_again(
    stack, context, waiting, monkeypatch
):
    thread_id = waiting["threadId"]
    with time_machine.travel(TEST_CLOCK + timedelta(hours=2), tick=False):
        _interrupted_reply(stack, context, monkeypatch, thread_id)
        message_id = _thread(stack, context, thread_id)["messages"][-1]["messageId"]
        path = f"/messages/{thread_id}/replies/{message_id}/outcome"
        status, answer = call_api(stack, context, "POST", path, {"sent": False})
    assert status == 409 and "still being sent" in answer["error"]["message"]  # it may yet be recorded

    with time_machine.travel(TEST_CLOCK + timedelta(hours=3), tick=False):
        status, thread = call_api(stack, context, "POST", path, {"sent": False})
        assert status == 200, thread
        assert (thread["status"], thread["replyInDoubt"]) == ("awaiting", False)
        assert thread["messages"][-1]["status"] == "not-sent"
        assert thread["dueAt"] == waiting["dueAt"]  # the clock runs on from the buyer's first message
        status, answer = call_api(
            stack, context, "POST", f"/messages/{thread_id}/replies", BODY, headers=KEYED
        )
        assert status == 409 and "not sent" in answer["error"]["message"]  # a retry still sends nothing
        status, reply = call_api(
            stack, context, "POST", f"/messages/{thread_id}/replies", {"body": "It ships today, sorry."}
        )
        assert status == 201 and reply["status"] == "sent"
        assert _thread(stack, context, thread_id)["status"] == "answered"


def test_a_message_arriving_while_a_reply_is_in_doubt_keeps_the_thread_waiting_once_it_is_settled(
    stack, context, waiting, monkeypatch
):
    thread_id = waiting["threadId"]
    with time_machine.travel(TEST_CLOCK + timedelta(hours=2), tick=False):
        _interrupted_reply(stack, context, monkeypatch, thread_id)
    later = TEST_CLOCK + timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        deliver(stack, context, amazon_mail("And a gift note?", message_id="<q3@marketplace.amazon.com>"))
        (reply,) = [m for m in _thread(stack, context, thread_id)["messages"] if m["direction"] == "out"]
        message_id = reply["messageId"]
        path = f"/messages/{thread_id}/replies/{message_id}/outcome"
        status, thread = call_api(stack, context, "POST", path, {"sent": True})

    assert status == 200, thread
    assert thread["status"] == "awaiting"  # the gift note still waits for its answer
    assert thread["dueAt"].startswith((later + timedelta(hours=24)).strftime("%Y-%m-%dT%H"))


def test_a_reply_ses_refuses_shows_as_not_sent_and_its_key_may_be_used_again(stack, context, waiting):
    thread_id = waiting["threadId"]
    ses = stack.client("ses")
    with pytest.raises(ClientError):  # moto, like SES, refuses a sender it has not verified
        send_reply(
            default_table(),
            default_buyer_table(),
            ses,
            thread_id,
            "It ships today.",
            sender="unverified@seller.example",
            now=TEST_CLOCK + timedelta(hours=1),
            key="a caller's key",
            request_hash="h",
        )
    thread = _thread(stack, context, thread_id)
    assert thread["replyInDoubt"] is False and thread["status"] == "awaiting"
    assert [(m["direction"], m.get("status")) for m in thread["messages"]] == [
        ("in", None),
        ("in", None),
        ("out", "not-sent"),
    ]
    assert sent_mail() == []
    answer = send_reply(
        default_table(),
        default_buyer_table(),
        ses,
        thread_id,
        "It ships today.",
        sender=SELLER,
        now=TEST_CLOCK + timedelta(hours=1),
        key="a caller's key",
        request_hash="h",
    )
    assert answer["status"] == "sent" and len(sent_mail()) == 1
