"""Answers out: a reply checked against Amazon's content rules goes through SES (moto records it) from the
seller's registered address to the buyer's alias, threaded, and stops the clock; templates fill the order's
facts per language."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine

from oms.care.clock import flag_threads
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.buyer_mail import ALIAS, ORDER_ID, amazon_mail
from tests.conftest import TEST_CLOCK
from tests.integration.test_buyer_messages import deliver, order, threads

__all__ = ["order"]
SELLER = "support@seller.example"


@pytest.fixture
def seller(stack, monkeypatch) -> str:
    """The stack deployed with SupportEmailAddress, its identity verified in SES."""
    stack.environment["SUPPORT_EMAIL_ADDRESS"] = SELLER
    monkeypatch.setenv("SUPPORT_EMAIL_ADDRESS", SELLER)
    stack.client("ses").verify_email_identity(EmailAddress=SELLER)
    return SELLER


@pytest.fixture
def waiting(stack, context, order, seller) -> dict:
    deliver(stack, context, amazon_mail("Where is my order?", message_id="<q1@marketplace.amazon.com>"))
    deliver(stack, context, amazon_mail("Hello?", message_id="<q2@marketplace.amazon.com>"))
    (thread,) = threads(stack, context)
    return thread


def sent_mail() -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [message_from_bytes(m.raw_data.encode(), policy=policy.default) for m in backend.sent_messages]


def test_a_reply_goes_to_the_buyer_s_alias_threaded_and_stops_the_clock(stack, context, waiting):
    at = TEST_CLOCK + timedelta(hours=2)
    with time_machine.travel(at, tick=False):
        status, reply = call_api(
            stack, context, "POST", f"/messages/{waiting['threadId']}/replies", {"body": "It ships today."}
        )

    assert status == 201, reply
    (mail,) = sent_mail()
    assert (str(mail["From"]), str(mail["To"])) == (SELLER, ALIAS)
    assert str(mail["In-Reply-To"]) == "<q2@marketplace.amazon.com>"
    assert str(mail["References"]) == "<q1@marketplace.amazon.com> <q2@marketplace.amazon.com>"
    assert str(mail["Subject"]).startswith("Re: Inquiry from Amazon customer")
    assert mail.get_content().strip() == "It ships today."
    thread = call_api(stack, context, "GET", f"/messages/{waiting['threadId']}")[1]
    assert (thread["status"], thread["dueAt"], thread["messagesOut"]) == ("answered", None, 1)
    assert [m["direction"] for m in thread["messages"]] == ["in", "in", "out"]
    later = TEST_CLOCK + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        assert flag_threads(default_table(), later, timedelta(hours=6)) == {}  # nothing waits: no flag
        health = call_api(stack, context, "GET", "/metrics/account-health")[1]
    rate = health["lateResponseRate7d"]
    assert (rate["numerator"], rate["denominator"]) == (0, 2)  # both messages answered within 24 hours


def test_a_reply_after_24_hours_counts_both_waiting_messages_late(stack, context, waiting):
    with time_machine.travel(TEST_CLOCK + timedelta(hours=30), tick=False):
        assert (
            call_api(stack, context, "POST", f"/messages/{waiting['threadId']}/replies", {"body": "Sorry!"})[
                0
            ]
            == 201
        )
        health = call_api(stack, context, "GET", "/metrics/account-health")[1]
    assert (health["lateResponseRate7d"]["numerator"], health["lateResponseRate7d"]["denominator"]) == (2, 2)


@pytest.mark.parametrize(
    "body, rule",
    [
        ("Track it at https://track.example.com/1Z", "no-links"),
        ("See www.example.com for more", "no-links"),
        ("Write to me at jane@seller.example", "no-email-addresses"),
        ("Here is a coupon for your next order", "no-marketing"),
        ("Please leave a positive review!", "no-marketing"),
        ("   ", "not-empty"),
        ("x" * 4001, "size-limit"),
    ],
)
def test_a_reply_breaking_a_content_rule_is_a_422_naming_it_and_nothing_is_sent(
    stack, context, waiting, body, rule
):
    status, answer = call_api(
        stack, context, "POST", f"/messages/{waiting['threadId']}/replies", {"body": body}
    )

    assert status == 422
    assert answer["error"]["code"] == "ContentRuleBroken"
    assert answer["error"]["details"] == [{"field": "body", "message": rule}]
    assert sent_mail() == []
    assert threads(stack, context)[0]["status"] == "awaiting"


def test_a_reply_needs_a_body_or_a_template_and_a_known_thread(stack, context, waiting):
    url = f"/messages/{waiting['threadId']}/replies"
    assert call_api(stack, context, "POST", url, {})[0] == 400
    assert call_api(stack, context, "POST", url, {"body": "x", "templateId": "t"})[0] == 400
    assert call_api(stack, context, "POST", "/messages/00ff/replies", {"body": "Hello"})[0] == 404
    assert sent_mail() == []


def test_templates_fill_the_order_s_facts_in_the_buyer_s_language(stack, context, waiting):
    template = {
        "name": "Where is my order",
        "intent": "where-is-my-order",
        "bodies": {
            "en": "Order {{orderId}} ({{items}}): {{returnInstructions}}",
            "de": "Bestellung {{orderId}}: {{returnInstructions}}",
        },
    }
    status, saved = call_api(stack, context, "PUT", "/messages/templates/wismo", template)
    assert status == 200 and saved["templateId"] == "wismo"
    assert [t["templateId"] for t in call_api(stack, context, "GET", "/messages/templates")[1]["items"]] == [
        "wismo"
    ]

    url = f"/messages/{waiting['threadId']}/replies"
    assert call_api(stack, context, "POST", url, {"templateId": "wismo", "language": "de"})[0] == 201
    (mail,) = sent_mail()
    assert mail.get_content().startswith(f"Bestellung {ORDER_ID}: Sie können den Artikel")


def test_a_template_variable_the_order_cannot_fill_yet_is_a_400_and_nothing_is_sent(stack, context, waiting):
    template = {"name": "Tracking", "bodies": {"en": "Your tracking number is {{trackingNumber}}."}}
    assert call_api(stack, context, "PUT", "/messages/templates/tracking", template)[0] == 200

    status, answer = call_api(
        stack, context, "POST", f"/messages/{waiting['threadId']}/replies", {"templateId": "tracking"}
    )

    assert status == 400 and "trackingNumber" in answer["error"]["message"]
    assert sent_mail() == []


def test_a_template_with_an_unknown_variable_is_refused_and_one_can_be_deleted(stack, context):
    bad = {"name": "Bad", "bodies": {"en": "Hi {{buyerPhone}}"}}
    status, answer = call_api(stack, context, "PUT", "/messages/templates/bad", bad)
    assert status == 400 and "buyerPhone" in str(answer)
    good = {"name": "Thanks", "bodies": {"en": "Thank you for order {{orderId}}."}}
    assert call_api(stack, context, "PUT", "/messages/templates/thanks", good)[0] == 200
    assert call_api(stack, context, "DELETE", "/messages/templates/thanks")[0] == 200
    assert call_api(stack, context, "GET", "/messages/templates/thanks")[0] == 404


def test_a_retried_reply_with_its_idempotency_key_is_sent_once(stack, context, waiting):
    url = f"/messages/{waiting['threadId']}/replies"
    headers = {"Idempotency-Key": "reply-1"}
    first = call_api(stack, context, "POST", url, {"body": "On its way."}, headers=headers)
    again = call_api(stack, context, "POST", url, {"body": "On its way."}, headers=headers)

    assert first[0] == again[0] == 201
    assert again[1]["messageId"] == first[1]["messageId"]
    assert len(sent_mail()) == 1
    assert call_api(stack, context, "POST", url, {"body": "Something else"}, headers=headers)[0] == 409
    assert len(sent_mail()) == 1


def test_a_reply_in_the_second_a_message_arrived_comes_after_it_whatever_the_buyer_s_clock(
    stack, context, order, seller
):
    # the buyer's clock runs an hour ahead (their Date header), and the seller answers in the same second
    # as the mail is stored (S3 dates it to the second): the reply still follows the message it answers
    now = TEST_CLOCK + timedelta(minutes=5)
    with time_machine.travel(now, tick=False):
        sent = now + timedelta(hours=1)
        deliver(
            stack, context, amazon_mail("Where is it?", message_id="<q9@marketplace.amazon.com>", sent=sent)
        )
        (thread,) = threads(stack, context)
        path = f"/messages/{thread['threadId']}/replies"
        assert call_api(stack, context, "POST", path, {"body": "Today."})[0] == 201
    messages = call_api(stack, context, "GET", f"/messages/{thread['threadId']}")[1]["messages"]
    assert messages[0]["receivedAt"] == messages[1]["sentAt"]  # the same second
    assert [m["direction"] for m in messages] == ["in", "out"]
