"""Committed table changes become domain events on the bus (stream -> publish_events -> EventBridge)."""

from __future__ import annotations

import json

from tests.conftest import load_event


def _capture_bus(stack) -> str:
    """An SQS queue subscribed to everything on the stack's bus, to see what was published."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="captured-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.environment["EVENT_BUS_NAME"]
    events.put_rule(Name="capture", EventBusName=bus, EventPattern=json.dumps({"source": ["oms"]}))
    events.put_targets(Rule="capture", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def _received(stack, url: str) -> list[dict]:
    messages = stack.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_new_order_and_its_cancellation_are_announced_in_order(stack, context):
    url = _capture_bus(stack)

    answer = stack.handler("publish_events").lambda_handler(
        load_event("publish_events/order_changes.json"), context
    )

    assert answer == {"batchItemFailures": []}
    published = _received(stack, url)
    assert [e["detail-type"] for e in published] == ["OrderReceived", "OrderStatusChanged", "OrderCanceled"]
    canceled = published[2]["detail"]
    assert canceled["data"]["orderId"] == "903-8868176-2219830"
    assert canceled["metadata"]["eventId"].startswith("c81e728d9d4c2f636f067f89cc14862c")
    assert published[1]["detail"]["data"]["previousStatus"] == "Unshipped"


def test_a_refused_event_retries_from_its_own_record(stack, context, monkeypatch):
    module = stack.handler("publish_events")
    calls = []

    def refuse_second(Entries):
        calls.append(Entries)
        return {
            "FailedEntryCount": 1,
            "Entries": [{"EventId": "1"}, {"ErrorCode": "InternalFailure"}, {"EventId": "3"}],
        }

    monkeypatch.setattr(module.publisher.client, "put_events", refuse_second)
    answer = module.lambda_handler(load_event("publish_events/order_changes.json"), context)

    # The second event (OrderStatusChanged) belongs to the second record: retry from there.
    assert answer == {"batchItemFailures": [{"itemIdentifier": "222"}]}
