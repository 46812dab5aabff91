"""The local stack as a seller meets it: `oms local --no-simulator` in a subprocess, over HTTP and boto3.

One stack serves the whole module (it takes a few seconds to start); each test reads like a step
of the seller's day. The order tests write orders straight into the table with the product's own
code (oms.store.orders), so they do not depend on the notification intake.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from oms.domain.orders import Order
from oms.store.orders import order_to_item
from oms.store.table import to_dynamo
from oms_local import harness
from oms_local.template import Template
from tests.e2e.support import Api, RunningStack, addressed_to, oms, start_stack, wait_for

pytestmark = pytest.mark.e2e

DLQ_TIMEOUT = 60

OUTPUT_NAMES = (
    "ApiUrl",
    "DashboardUrl",
    "AwsEndpointUrl",
    "Region",
    "ApiToken",
    "TableName",
    "OrderNotificationsQueueUrl",
    "OrderNotificationsDlqUrl",
    "EventBusName",
    "SellerId",
    "SpApiApplicationId",
    "SpApiSubscriptionIds",
)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def outputs(stack: RunningStack) -> dict[str, Any]:
    return stack.outputs


@pytest.fixture(scope="module")
def api(outputs: dict[str, Any]) -> Iterator[Api]:
    client = Api(outputs)
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def aws(outputs: dict[str, Any]) -> Callable[[str], Any]:
    return lambda service: harness.aws_client(outputs, service)


def assert_error(response: requests.Response, status: int) -> dict[str, Any]:
    """The API's error format (`ErrorAnswer` in docs/openapi.json): {"error": {"code", "message", "details"}} with the expected status."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    assert isinstance(error.get("details"), list), body
    return error


def put_order(aws: Callable[[str], Any], outputs: dict[str, Any], *, purchased: datetime) -> Order:
    """An Unshipped MFN order, stored the way the product stores it (oms.store.orders.order_to_item)."""
    n = uuid.uuid4().int
    order_id = f"{n % 1000:03d}-{(n >> 10) % 10**7:07d}-{(n >> 40) % 10**7:07d}"  # Amazon's 3-7-7 shape
    order = Order(
        order_id=order_id,
        marketplace_id="ATVPDKIKX0DER",
        status="Unshipped",
        fulfillment_channel="MFN",
        purchase_date=purchased,
        last_update_date=purchased,
        earliest_ship_date=purchased,
        latest_ship_date=purchased + timedelta(days=2),
        latest_delivery_date=purchased + timedelta(days=7),
        is_prime=True,
        items=[{"order_item_id": f"OI-{order_id}", "sku": "MUG-BLUE", "quantity": 2}],
    )
    aws("dynamodb").put_item(TableName=outputs["TableName"], Item=to_dynamo(order_to_item(order, version=1)))
    return order


def purchase_window(start: datetime, hours: int = 1) -> dict[str, str]:
    """Query parameters that select only the orders a test placed inside its own window."""
    end = start + timedelta(hours=hours)
    return {"from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ")}


def queue_depth(aws: Callable[[str], Any], url: str) -> int:
    return harness.queue_depth(aws("sqs"), url)


# An SP-API ORDER_CHANGE notification, as in Amazon's OrderChangeNotification schema example
# (contracts/sp-api-models/schemas/notifications/OrderChangeNotification.json).
ORDER_CHANGE_NOTIFICATION: dict[str, Any] = {
    "NotificationVersion": "1.0",
    "NotificationType": "ORDER_CHANGE",
    "PayloadVersion": "1.0",
    "EventTime": "2020-01-11T00:09:53.109Z",
    "Payload": {
        "OrderChangeNotification": {
            "NotificationLevel": "OrderLevel",
            "SellerId": "A3TH9S8BH6GOGM",
            "AmazonOrderId": "903-8868176-2219830",
            "OrderChangeType": "BuyerRequestedChange",
            "OrderChangeTrigger": {
                "TimeOfOrderChange": "2022-11-29T19:42:04.284Z",
                "ChangeReason": "Buyer Requested Cancel",
            },
            "Summary": {
                "MarketplaceId": "ATVPDKIKX0DER",
                "OrderStatus": "Unshipped",
                "PurchaseDate": "2022-07-13T19:42:04.284Z",
                "DestinationPostalCode": "48110",
                "FulfillmentType": "MFN",
                "OrderType": "StandardOrder",
                "NumberOfItemsShipped": 0,
                "NumberOfItemsUnshipped": 10,
                "EarliestDeliveryDate": "2022-11-07T19:42:04.284Z",
                "LatestDeliveryDate": "2022-12-07T19:42:04.284Z",
                "EarliestShipDate": "2022-11-07T19:42:04.284Z",
                "LatestShipDate": "2022-12-07T19:42:04.284Z",
                "CancelNotifyDate": "2022-12-07T19:42:04.284Z",
                "OrderPrograms": ["Business"],
                "ShippingPrograms": ["EasyShip"],
                "EasyShipShipmentStatus": "Delivered",
                "ElectronicInvoiceStatus": "NotFound",
                "OrderItems": [
                    {
                        "OrderItemId": "OIID34853450",
                        "SellerSKU": "SellerSKUID1",
                        "SupplySourceId": "d7679e14-031b-4ab3-a81b-ec4fc7a460b3",
                        "OrderItemStatus": "Unshipped",
                        "Quantity": 10,
                        "QuantityShipped": 0,
                        "IsBuyerRequestedCancel": True,
                        "ItemEarliestDeliveryDate": "2022-11-07T19:42:04.284Z",
                        "ItemLatestDeliveryDate": "2022-12-07T19:42:04.284Z",
                    }
                ],
            },
        }
    },
    "NotificationMetadata": {
        "ApplicationId": "app-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746",
        "SubscriptionId": "subscription-id-d0e9e693-c3ad-4373-979f-ed4ec98dd746",
        "PublishTime": "2020-07-13T19:42:04.284Z",
        "NotificationId": "d0e9e693-c3ad-4373-979f-ed4ec98dd746",
    },
}


# ------------------------------------------------------------------------------ the seller's day


def test_outputs_json_tells_the_seller_where_everything_is(
    stack: RunningStack, outputs: dict[str, Any]
) -> None:
    missing = [name for name in OUTPUT_NAMES if not outputs.get(name)]
    assert not missing, f"outputs.json lacks {missing}: {outputs}"
    assert outputs["ApiUrl"].rstrip("/").endswith(f":{stack.port}")
    assert outputs["AwsEndpointUrl"].startswith("http")
    assert outputs["Region"] == "us-east-1"  # `oms local`'s default
    mode = (stack.state_dir / "outputs.json").stat().st_mode & 0o777
    assert mode == 0o600, f"outputs.json holds the API token but is mode {mode:o}"


def test_health_answers_without_a_token(api: Api) -> None:
    response = api.get("/health", token=None)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_orders_need_the_api_token(api: Api) -> None:
    # Runs before any test writes an order, so the list is still empty.
    assert_error(api.get("/orders", token=None), 401)
    assert_error(api.get("/orders", token="not-the-token"), 401)

    response = api.get("/orders")
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "nextToken": None}


def test_an_unknown_route_is_404(api: Api) -> None:
    assert_error(api.get("/no-such-thing"), 404)


def test_a_wrong_method_is_405(api: Api) -> None:
    assert_error(api.request("DELETE", "/orders"), 405)


def test_a_malformed_query_is_400_naming_the_field(api: Api) -> None:
    error = assert_error(api.get("/orders", params={"limit": "abc"}), 400)
    assert "limit" in [detail.get("field") for detail in error["details"]], error


def test_the_dashboard_may_call_the_api_from_another_origin(api: Api) -> None:
    response = api.request(
        "OPTIONS",
        "/orders",
        token=None,
        headers={
            "Origin": "http://dashboard.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert response.status_code in (200, 204), response.text
    assert response.headers.get("Access-Control-Allow-Origin") in ("*", "http://dashboard.example")


def test_an_order_in_the_table_is_served_by_the_api(
    api: Api, aws: Callable[[str], Any], outputs: dict[str, Any]
) -> None:
    purchased = datetime(2021, 3, 1, 9, 30, tzinfo=UTC)
    order = put_order(aws, outputs, purchased=purchased)
    expected = order.model_dump(mode="json", by_alias=True)

    response = api.get(f"/orders/{order.order_id}")
    assert response.status_code == 200, response.text
    served = response.json()
    assert {k: served.get(k) for k in expected} == expected
    assert served["purchaseDate"] == "2021-03-01T09:30:00Z"

    listed = api.get("/orders")
    assert listed.status_code == 200, listed.text
    assert order.order_id in [item["orderId"] for item in listed.json()["items"]]


def test_orders_come_in_pages_whose_tokens_cannot_be_forged(
    api: Api, aws: Callable[[str], Any], outputs: dict[str, Any]
) -> None:
    start = datetime(2021, 4, 1, 8, 0, tzinfo=UTC)
    older = put_order(aws, outputs, purchased=start + timedelta(minutes=10))
    newer = put_order(aws, outputs, purchased=start + timedelta(minutes=20))
    window = purchase_window(start)

    first = api.get("/orders", params={**window, "limit": "1"})
    assert first.status_code == 200, first.text
    assert [o["orderId"] for o in first.json()["items"]] == [newer.order_id]  # newest purchase first
    token = first.json()["nextToken"]
    assert token

    second = api.get("/orders", params={**window, "limit": "1", "nextToken": token})
    assert second.status_code == 200, second.text
    assert [o["orderId"] for o in second.json()["items"]] == [older.order_id]

    seen = [newer.order_id, older.order_id]
    following = second.json()["nextToken"]
    while following:  # DynamoDB may hand out one more token for an empty last page
        page = api.get("/orders", params={**window, "limit": "1", "nextToken": following})
        assert page.status_code == 200, page.text
        seen += [o["orderId"] for o in page.json()["items"]]
        following = page.json()["nextToken"]
    assert seen == [newer.order_id, older.order_id]

    # Point the token at another key (the older order) but keep the signature: refused, not followed.
    payload, signature = token.split(".")
    key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    key_text = json.dumps(key).replace(newer.order_id, older.order_id)
    forged_payload = base64.urlsafe_b64encode(key_text.encode()).rstrip(b"=").decode()
    assert forged_payload != payload
    forged = api.get("/orders", params={**window, "limit": "1", "nextToken": f"{forged_payload}.{signature}"})
    error = assert_error(forged, 400)
    assert "nextToken" in [detail.get("field") for detail in error["details"]], error

    assert_error(api.get("/orders", params={**window, "nextToken": "garbage"}), 400)


def test_table_changes_are_published_without_failures(
    stack: RunningStack, aws: Callable[[str], Any], outputs: dict[str, Any]
) -> None:
    log = stack.state_dir / "logs" / "publish_events.log"
    size_before = log.stat().st_size if log.exists() else 0
    put_order(aws, outputs, purchased=datetime(2021, 5, 1, 12, 0, tzinfo=UTC))

    ran = wait_for(lambda: log.exists() and log.stat().st_size > size_before, timeout=30, interval=0.5)
    assert ran, f"publish_events wrote nothing within 30s of a table change; {log}:\n{harness.tail(log)}"

    text = log.read_text(errors="replace")
    for sign_of_trouble in ("Traceback", "EventBridge refused"):
        assert sign_of_trouble not in text, f"{log}:\n{harness.tail(log)}"
    failed = [
        line
        for line in harness.tail(stack.console_log, 10_000).splitlines()
        if "PublishEventsFunction" in line
    ]
    assert not failed, failed
    assert queue_depth(aws, outputs["FailedInvocationsDlqUrl"]) == 0


def test_a_poison_notification_ends_in_the_dlq_and_a_healthy_one_does_not(
    aws: Callable[[str], Any], outputs: dict[str, Any]
) -> None:
    sqs = aws("sqs")
    poison = "this is not json"
    healthy = addressed_to(json.loads(json.dumps(ORDER_CHANGE_NOTIFICATION)), outputs)  # applied, not dropped
    healthy["NotificationMetadata"]["NotificationId"] = str(uuid.uuid4())
    healthy_body = json.dumps(healthy)
    sqs.send_message(QueueUrl=outputs["OrderNotificationsQueueUrl"], MessageBody=poison)
    sqs.send_message(QueueUrl=outputs["OrderNotificationsQueueUrl"], MessageBody=healthy_body)

    dead: dict[str, str] = {}  # message id -> body

    def poison_is_dead() -> bool:
        answer = sqs.receive_message(
            QueueUrl=outputs["OrderNotificationsDlqUrl"],
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,  # only looking: leave them for the next poll (and the operator)
            WaitTimeSeconds=0,
        )
        dead.update((m["MessageId"], m["Body"]) for m in answer.get("Messages", []))
        return poison in dead.values()

    assert wait_for(poison_is_dead, timeout=DLQ_TIMEOUT), (
        f"the poison message is not in the DLQ after {DLQ_TIMEOUT}s"
    )
    assert wait_for(lambda: queue_depth(aws, outputs["OrderNotificationsQueueUrl"]) == 0, timeout=30), (
        "the notifications queue did not drain"
    )
    poison_is_dead()
    assert healthy_body not in dead.values(), "a valid ORDER_CHANGE notification was dead-lettered"
    assert list(dead.values()).count(poison) == 1, (
        f"the poison message was dead-lettered more than once: {dead}"
    )


def _order_change_for(outputs: dict[str, Any], order_id: str, **metadata: str) -> str:
    """Amazon's example ORDER_CHANGE for `order_id`, sent by this stack's application and seller (as
    outputs.json names them) unless `metadata` says otherwise."""
    notification = addressed_to(json.loads(json.dumps(ORDER_CHANGE_NOTIFICATION)), outputs)
    notification["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = order_id
    notification["NotificationMetadata"].update({"NotificationId": str(uuid.uuid4()), **metadata})
    return json.dumps(notification)


def test_only_this_sellers_notifications_are_applied(
    api: Api, aws: Callable[[str], Any], outputs: dict[str, Any]
) -> None:
    """Amazon's notification account sends for every developer: a subscription of another application
    pointed at our queue must not create orders here, nor end in the DLQ."""
    sqs, queue = aws("sqs"), outputs["OrderNotificationsQueueUrl"]
    suffix = uuid.uuid4().int % 10_000_000
    ours, strangers = f"903-{suffix:07d}-0000001", f"903-{suffix:07d}-0000002"
    stranger = "amzn1.sellerapps.app.00000000-0000-0000-0000-000000000000"
    sqs.send_message(
        QueueUrl=queue, MessageBody=_order_change_for(outputs, strangers, ApplicationId=stranger)
    )
    sqs.send_message(QueueUrl=queue, MessageBody=_order_change_for(outputs, ours))

    assert wait_for(lambda: api.get(f"/orders/{ours}").status_code == 200, timeout=30), (
        "this stack's own notification was not applied"
    )
    assert wait_for(lambda: queue_depth(aws, queue) == 0, timeout=30), "the notifications queue did not drain"
    assert api.get(f"/orders/{strangers}").status_code == 404, (
        "another application's notification was applied"
    )
    dead = sqs.receive_message(
        QueueUrl=outputs["OrderNotificationsDlqUrl"], MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    assert not [m for m in dead if strangers in m["Body"]], "a foreign notification is not poison"


def test_an_operator_sees_why_a_message_is_dead_and_replays_it(
    stack: RunningStack, aws: Callable[[str], Any], outputs: dict[str, Any]
) -> None:
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    # the poison of the test above waits in the DLQ
    shown = oms("dlq", "show", "--json", *where)
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines() if line.strip()]
    poison = [row for row in rows if row["body"] == "this is not json"]
    assert poison and poison[0]["what"] == "not a notification"
    assert "json" in poison[0]["reason"].lower()

    dry = oms("dlq", "redrive", "--dry-run", *where)
    assert dry.returncode == 0 and "nothing moved" in dry.stdout
    moved = oms("dlq", "redrive", *where)
    assert moved.returncode == 0, moved.stderr
    assert f"moved {len(rows)} message(s)" in moved.stdout
    # after the replay it is back in the queue (and, still poison, will return to the DLQ later)
    assert wait_for(lambda: queue_depth(aws, outputs["OrderNotificationsQueueUrl"]) >= 0, timeout=5)


def test_a_simulated_order_arrives_and_backfill_imports_history(stack: RunningStack, api: Api) -> None:
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    placed = oms("simulate", "order", "--sku", "BACKFILL-1", "--quantity", "2", "--prime", *where)
    assert placed.returncode == 0, placed.stderr
    order_id = placed.stdout.strip()
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, timeout=30), (
        "the simulated order's notification was not applied"
    )
    marketplace = stack.outputs["SpApiEndpoint"]
    no_lag = api.session.post(f"{marketplace}/_simulator/config", json={"searchLagSeconds": 0}, timeout=10)
    assert no_lag.status_code == 200, no_lag.text
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    imported = oms("backfill", "--since", yesterday, *where)
    assert imported.returncode == 0, imported.stderr
    assert "backfill complete" in imported.stdout and " 0 orders" not in imported.stdout, imported.stdout
    order = api.get(f"/orders/{order_id}").json()
    assert order["isPrime"] is True and order["items"][0]["sku"] == "BACKFILL-1"
    assert order["enriched"] and order["orderTotal"] is not None, "the Orders API's prices came with it"


def test_oms_invoke_runs_a_function_now(stack: RunningStack) -> None:
    result = oms("invoke", "purge_buyer_data", "--port", str(stack.port), "--state-dir", str(stack.state_dir))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert isinstance(answer.get("purged"), int), answer


def test_oms_invoke_names_the_functions_it_knows(stack: RunningStack) -> None:
    result = oms("invoke", "NoSuchFunction", "--port", str(stack.port), "--state-dir", str(stack.state_dir))
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "NoSuchFunction" in message, message
    for function in Template().functions():
        assert function.folder in message, message


def test_a_second_stack_runs_alongside_the_first(
    tmp_path: Path, stack: RunningStack, api: Api, outputs: dict[str, Any]
) -> None:
    second = start_stack(tmp_path / "second")
    try:
        assert second.port != stack.port
        assert second.outputs["ApiUrl"] != outputs["ApiUrl"]
        assert second.outputs["AwsEndpointUrl"] != outputs["AwsEndpointUrl"]
        second_api = Api(second.outputs)
        response = second_api.get("/health", token=None)
        second_api.session.close()
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok"}
        assert api.get("/health", token=None).status_code == 200  # the first one is undisturbed
    finally:
        second.stop()
    assert not (second.state_dir / "outputs.json").exists(), "a stopped stack left outputs.json behind"
    assert api.get("/health", token=None).status_code == 200
