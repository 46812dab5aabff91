"""The notification intake, fed SQS events from events/ingest_notifications."""

from __future__ import annotations

from oms.store.keys import order_key
from tests.builders import order_change, sqs_event
from tests.conftest import LambdaContext, Stack, load_event


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


def test_a_notification_for_another_application_is_dropped_not_applied_and_not_poison(
    stack: Stack, context: LambdaContext
) -> None:
    """Amazon's notification account serves every developer: a stranger's subscription aimed at our queue
    is acknowledged (not retried, not dead-lettered) and changes nothing."""
    ingest = stack.handler("ingest_notifications")
    foreign = order_change("111-0000000-0000099", "Unshipped", [("MUG-RED", 1, 0)])
    foreign["NotificationMetadata"]["ApplicationId"] = "amzn1.sellerapps.app.someone-else"
    other_seller = order_change("111-0000000-0000098", "Unshipped", [("MUG-RED", 1, 0)])
    other_seller["Payload"]["OrderChangeNotification"]["SellerId"] = "A0THERSELLER"
    ours = order_change("111-0000000-0000097", "Unshipped", [("MUG-RED", 1, 0)])

    result = ingest.lambda_handler(sqs_event(foreign, other_seller, ours), context)

    assert result == {"batchItemFailures": []}
    table = stack.client("dynamodb")
    orders = {
        order_id: "Item"
        in table.get_item(
            TableName=stack.table_name, Key={k: {"S": v} for k, v in order_key(order_id).items()}
        )
        for order_id in ("111-0000000-0000099", "111-0000000-0000098", "111-0000000-0000097")
    }
    assert orders == {"111-0000000-0000099": False, "111-0000000-0000098": False, "111-0000000-0000097": True}
