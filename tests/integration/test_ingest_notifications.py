"""The notification intake, fed SQS events from events/ingest_notifications."""

from __future__ import annotations

from tests.conftest import load_event


def test_amazons_own_order_change_example_is_accepted(stack, context):
    answer = stack.handler("ingest_notifications").lambda_handler(
        load_event("ingest_notifications/order_change.json"), context
    )
    assert answer == {"batchItemFailures": []}


def test_a_poison_message_fails_alone_and_its_healthy_batch_mate_is_applied(stack, context):
    event = load_event("ingest_notifications/poison_with_healthy.json")
    poison_id = event["Records"][0]["messageId"]

    answer = stack.handler("ingest_notifications").lambda_handler(event, context)

    assert answer == {"batchItemFailures": [{"itemIdentifier": poison_id}]}


def test_a_notification_missing_its_metadata_is_refused(stack, context):
    event = load_event("ingest_notifications/order_change.json")
    record = event["Records"][0]
    record["body"] = record["body"].replace('"NotificationMetadata"', '"SomethingElse"')
    answer = stack.handler("ingest_notifications").lambda_handler(event, context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}


def test_a_type_nobody_owns_is_acknowledged_not_dead_lettered(stack, context):
    event = load_event("ingest_notifications/order_change.json")
    record = event["Records"][0]
    record["body"] = record["body"].replace('"ORDER_CHANGE"', '"ACCOUNT_STATUS_CHANGED"')
    answer = stack.handler("ingest_notifications").lambda_handler(event, context)
    assert answer == {"batchItemFailures": []}
