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


def test_a_table_that_refuses_a_moment_is_tried_again_before_the_message_goes_back_to_the_queue(
    stack: Stack, context: LambdaContext, monkeypatch
) -> None:
    """A throttle or a server error past the SDK's retries is tried again within the receive (the fault bench
    at 1,000 orders and 15% faults dead-lettered 6 good notifications after five failed receives in a row);
    three tries in all, and an error that is not the table's moment is not tried again."""
    from botocore.exceptions import ClientError

    from oms.orders import intake

    real = intake.apply_order_change
    refusals: list[str] = []
    tries: list[str] = []

    def refused(notification):
        tries.append(notification.notification_id)
        if refusals:
            code = refusals.pop(0)
            if code == "bug":
                raise KeyError("a bug, not the table")
            raise ClientError({"Error": {"Code": code, "Message": "a moment"}}, "TransactWriteItems")
        return real(notification)

    monkeypatch.setattr(intake, "apply_order_change", refused)
    ingest = stack.handler("ingest_notifications")

    def deliver(order_id: str, *codes: str) -> dict:
        refusals[:] = codes
        tries.clear()
        return ingest.lambda_handler(
            sqs_event(order_change(order_id, "Unshipped", [("MUG-RED", 1, 0)])), context
        )

    assert deliver(
        "111-0000000-0000061", "ProvisionedThroughputExceededException", "InternalServerError"
    ) == {"batchItemFailures": []}
    assert len(tries) == 3
    key = {k: {"S": v} for k, v in order_key("111-0000000-0000061").items()}
    assert "Item" in stack.client("dynamodb").get_item(TableName=stack.table_name, Key=key)

    failed = deliver("111-0000000-0000062", *["ThrottlingException"] * 3)
    assert len(failed["batchItemFailures"]) == 1 and len(tries) == 3  # back to the queue, for a later receive

    failed = deliver("111-0000000-0000063", "bug")
    assert len(failed["batchItemFailures"]) == 1 and len(tries) == 1
