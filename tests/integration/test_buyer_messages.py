"""Buyers' messages in: SES stores the mail in the bucket, the bucket tells the queue, ingest_messages threads
it on its order (or quarantines it), once per delivery however often it is delivered."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from oms.amazon.notifications import Notification
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_buyer_table, default_table
from tests.api_calls import call_api
from tests.builders import order_change, sqs_event
from tests.buyer_mail import ALIAS, ORDER_ID, amazon_mail
from tests.conftest import TEST_CLOCK, load_event

INBOUND = "buyer/messages/inbound/"


@pytest.fixture
def order(stack) -> str:
    document = order_change(ORDER_ID, "Unshipped", [("MUG-RED", 1, 0)])
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    return ORDER_ID


def deliver(stack, context, *raws: bytes, key: str | None = None) -> dict:
    """SES stores each mail under the receipt rule's prefix; the queue's messages go to the function."""
    s3, sqs = stack.client("s3"), stack.client("sqs")
    bucket, queue = stack.environment["DOCUMENTS_BUCKET"], stack.resources.refs["BuyerMessagesQueue"]
    for raw in raws:
        s3.put_object(Bucket=bucket, Key=key or f"{INBOUND}{uuid.uuid4().hex}", Body=raw)
    bodies = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return stack.handler("ingest_messages").lambda_handler(sqs_event(*bodies), context)


def threads(stack, context, **query: str) -> list[dict]:
    status, page = call_api(stack, context, "GET", "/messages", query=query or None)
    assert status == 200, page
    return page["items"]


def test_a_buyer_s_message_appears_threaded_on_its_order_with_a_24_hour_clock(stack, context, order):
    answer = deliver(stack, context, amazon_mail("Where is my order?", photo=b"\xff\xd8photo\xff\xd9"))

    assert answer == {"batchItemFailures": []}
    (thread,) = threads(stack, context)
    assert thread["orderId"] == ORDER_ID
    assert thread["buyerAlias"] == ALIAS
    assert thread["status"] == "awaiting"
    received = thread["waitingSince"]
    assert abs(TEST_CLOCK - _at(received)) < timedelta(minutes=1)
    assert _at(thread["dueAt"]) - _at(received) == timedelta(hours=24)  # calendar time, weekends included
    status, full = call_api(stack, context, "GET", f"/messages/{thread['threadId']}")
    assert status == 200
    (message,) = full["messages"]
    assert (message["direction"], message["text"], message["from"]) == ("in", "Where is my order?", ALIAS)
    (photo,) = message["attachments"]
    assert photo["key"].startswith("buyer/messages/attachments/")  # expires with the buyer's documents
    stored = stack.client("s3").get_object(Bucket=stack.environment["DOCUMENTS_BUCKET"], Key=photo["key"])
    assert stored["Body"].read() == b"\xff\xd8photo\xff\xd9"
    assert threads(stack, context, orderId=ORDER_ID)[0]["threadId"] == thread["threadId"]
    assert threads(stack, context, orderId="112-0000000-0000000") == []


def test_a_mail_delivered_twice_is_applied_once(stack, context, order):
    raw = amazon_mail("Please cancel")
    deliver(stack, context, raw)
    deliver(stack, context, raw, raw)  # SES delivers at least once: the same Message-ID in new objects

    (thread,) = threads(stack, context)
    assert thread["messagesIn"] == 1
    assert len(call_api(stack, context, "GET", f"/messages/{thread['threadId']}")[1]["messages"]) == 1


def test_later_messages_of_the_same_buyer_join_the_thread_and_keep_the_oldest_unanswered_due_time(
    stack, context, order
):
    deliver(stack, context, amazon_mail("First", message_id="<1@marketplace.amazon.com>", sent=TEST_CLOCK))
    (first,) = threads(stack, context)
    second = amazon_mail(
        "Second",
        message_id="<2@marketplace.amazon.com>",
        quoted="First",
        sent=TEST_CLOCK + timedelta(seconds=1),
    )
    deliver(stack, context, second)
    deliver(
        stack,
        context,
        amazon_mail(
            "Another buyer", message_id="<3@marketplace.amazon.com>", sender="zz9@marketplace.amazon.com"
        ),
    )

    mine, other = sorted(threads(stack, context), key=lambda t: t["buyerAlias"] != ALIAS)
    assert mine["threadId"] == first["threadId"] and mine["messagesIn"] == 2
    assert mine["dueAt"] == first["dueAt"]  # the clock runs from the first message not yet answered
    assert other["buyerAlias"] == "zz9@marketplace.amazon.com" and other["threadId"] != mine["threadId"]
    texts = [
        m["text"] for m in call_api(stack, context, "GET", f"/messages/{mine['threadId']}")[1]["messages"]
    ]
    assert texts == ["First", "Second"]


def test_bad_mail_is_quarantined_with_its_reason_and_never_shown_as_a_buyer_s_message(stack, context, order):
    deliver(
        stack,
        context,
        amazon_mail(sender="spammer@example.com", message_id="<a@x>"),
        amazon_mail(order_id="999-9999999-9999999", message_id="<b@x>"),
        amazon_mail("no order", subject="Hi", order_id="none", message_id="<c@x>"),
        b"\x00\x01 not a mail",
    )
    deliver(stack, context, amazon_mail(sender="spammer@example.com", message_id="<a@x>"))  # again: once

    assert threads(stack, context) == []
    status, page = call_api(stack, context, "GET", "/messages/quarantine")
    assert status == 200
    reasons = sorted(item["reason"] for item in page["items"])
    assert reasons == ["malformed", "no-order-id", "not-from-amazon", "not-from-amazon", "unknown-order"]
    unknown = next(i for i in page["items"] if i["reason"] == "unknown-order")
    assert "999-9999999-9999999" in unknown["detail"] and unknown["mailKey"].startswith(INBOUND)


def test_an_oversized_mail_is_quarantined_unread(stack, context, order, monkeypatch):
    raw = amazon_mail("big")
    monkeypatch.setattr("oms.care.inbox.MAX_MAIL_BYTES", len(raw) - 1)
    deliver(stack, context, raw)

    (item,) = call_api(stack, context, "GET", "/messages/quarantine")[1]["items"]
    assert item["reason"] == "oversized"
    assert threads(stack, context) == []


def test_an_unknown_thread_is_a_404(stack, context):
    status, answer = call_api(stack, context, "GET", "/messages/0123abcd")
    assert status == 404 and answer["error"]["code"]


def test_the_daily_purge_takes_buyers_messages_with_the_rest_of_their_data(stack, context, order):
    deliver(stack, context, amazon_mail("Where is it?"))
    (thread,) = threads(stack, context)
    purge = stack.handler("purge_buyer_data")

    assert purge.lambda_handler(load_event("purge_buyer_data/schedule.json"), context) == {"purged": 0}
    later = TEST_CLOCK + timedelta(days=60)
    event = {**load_event("purge_buyer_data/schedule.json"), "scheduledTime": later.isoformat()}
    # the message, the alias, the delivery marker and the buyer's thread marker
    assert purge.lambda_handler(event, context)["purged"] == 4

    buyer_table = default_buyer_table()
    assert list(buyer_table.query_all(keys.thread_messages(thread["threadId"]), include_expired=True)) == []
    assert buyer_table.get(keys.thread_buyer_key(thread["threadId"])) is None
    (left,) = threads(stack, context)  # the thread's clock (no PII) stays for the response-time figures
    assert left["threadId"] == thread["threadId"] and left["buyerAlias"] is None
    assert call_api(stack, context, "GET", f"/messages/buyers/{thread['buyerId']}")[0] == 404  # no buyer left


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_mail_quarantined_for_an_order_not_yet_known_is_taken_once_the_order_arrives(stack, context):
    deliver(
        stack,
        context,
        amazon_mail("Where is my order?"),
        amazon_mail(sender="x@example.com", message_id="<s@x>"),
    )
    page = call_api(stack, context, "GET", "/messages/quarantine")[1]["items"]
    early = next(i for i in page if i["reason"] == "unknown-order")
    spam = next(i for i in page if i["reason"] == "not-from-amazon")
    document = order_change(ORDER_ID, "Unshipped", [("MUG-RED", 1, 0)])  # the order's notification, late
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))

    status, answer = call_api(stack, context, "POST", f"/messages/quarantine/{early['quarantineId']}/retry")

    assert status == 200 and answer["outcome"] == "stored"
    (thread,) = threads(stack, context)
    assert thread["threadId"] == answer["threadId"] and thread["orderId"] == ORDER_ID
    status, refused = call_api(stack, context, "POST", f"/messages/quarantine/{spam['quarantineId']}/retry")
    assert status == 409 and "not-from-amazon" in refused["error"]["message"]
    left = call_api(stack, context, "GET", "/messages/quarantine")[1]["items"]
    assert [i["quarantineId"] for i in left] == [spam["quarantineId"]]  # the spam stays, with its reason
    assert call_api(stack, context, "POST", f"/messages/quarantine/{early['quarantineId']}/retry")[0] == 404
    assert call_api(stack, context, "POST", "/messages/quarantine/nonsense/retry")[0] == 404
