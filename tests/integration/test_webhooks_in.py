"""Webhooks in, against moto in process: a seller creates an integration, the sender signs a webhook, the
receiver verifies and queues it, the processor applies it once (a carrier's delivered scan, a 3PL's receipt,
a generic event), and everything wrong is refused alike or kept with its reason."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oms.amazon.notifications import Notification
from oms.domain.types import iso_z
from oms.integrations.receiving import REFUSAL_FLOOR_SECONDS
from oms.integrations.signatures import Scheme, key_of_secret, sign
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.shipping.shipments import Recorded, ship
from oms.store import keys
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.conftest import load_event

SKU = "HOOK-MUG"
TRACKING = "1Z999AA10123456784"


class Sender:
    """A system outside calling POST /webhooks/{integrationId}, signing as its scheme says."""

    def __init__(self, stack, context, created: dict[str, Any]) -> None:
        self.stack, self.context = stack, context
        self.integration_id = created["integrationId"]
        self.scheme = Scheme(created["scheme"])
        self.key = key_of_secret(self.scheme, created["secret"])
        self.receiver = stack.handler("receive_webhook")
        self.took: list[float] = []  # seconds each request took to answer

    def headers(self, body: bytes, delivery_id: str | None = None, sent_at: datetime | None = None) -> dict:
        return sign(
            self.scheme,
            self.key,
            body,
            delivery_id=delivery_id or f"msg_{uuid.uuid4().hex}",
            sent_at=sent_at or datetime.now(UTC),
        )

    def post(
        self, body: bytes, headers: dict[str, str], integration_id: str | None = None
    ) -> tuple[int, dict]:
        return self.post_bytes(body, headers, integration_id, binary=False)

    def post_bytes(
        self, body: bytes, headers: dict[str, str], integration_id: str | None = None, *, binary: bool = True
    ) -> tuple[int, dict]:
        """As API Gateway hands a body on: text as is, anything else base64-encoded."""
        event = load_event("api/get_order.json")
        event.update(
            resource="/webhooks/{integrationId}",
            path=f"/webhooks/{integration_id or self.integration_id}",
            httpMethod="POST",
            pathParameters={"integrationId": integration_id or self.integration_id},
            headers={"Content-Type": "application/json", **headers},
            multiValueHeaders={k: [v] for k, v in {"Content-Type": "application/json", **headers}.items()},
            body=base64.b64encode(body).decode() if binary else body.decode(),
            isBase64Encoded=binary,
        )
        event["requestContext"].pop("authorizer", None)
        started = time.monotonic()
        answer = self.receiver.lambda_handler(event, self.context)
        self.took.append(time.monotonic() - started)
        return answer["statusCode"], json.loads(answer["body"])

    def send(self, payload: Any, delivery_id: str | None = None) -> tuple[int, dict]:
        body = json.dumps(payload).encode()
        return self.post(body, self.headers(body, delivery_id))


def _queued(stack) -> list[dict[str, Any]]:
    """The inbound queue's messages, taken off it, as the SQS trigger hands them to the processor."""
    sqs = stack.client("sqs")
    url = stack.resources.refs["InboundWebhooksQueue"]
    records = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages = answer.get("Messages", [])
        if not messages:
            return records
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            records.append(
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {
                        name: {"stringValue": v["StringValue"], "dataType": v["DataType"]}
                        for name, v in m.get("MessageAttributes", {}).items()
                    },
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inbound",
                    "awsRegion": "us-east-1",
                }
            )


def _process(stack, context) -> list[dict[str, Any]]:
    records = _queued(stack)
    answer = stack.handler("process_webhooks").lambda_handler({"Records": records}, context)
    assert answer["batchItemFailures"] == []
    return records


def _integration(stack, context, kind: str, scheme: str = "standard-webhooks") -> Sender:
    status, created = call_api(
        stack, context, "POST", "/integrations", {"name": f"{kind} feed", "kind": kind, "scheme": scheme}
    )
    assert status == 201, created
    return Sender(stack, context, created)


@pytest.fixture
def warehouse(stack, context):
    status, answer = call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)
    assert status == 200, answer
    set_policy(default_table(), SKU, StockPolicy())
    adjust_stock(default_table(), SKU, 10, reason="receipt", reference="po-1", actor="test")


def _shipped_order(now: datetime) -> str:
    """An order promised for delivery yesterday, shipped 8 days ago with UPS (estimate: on time)."""
    order_id = "113-0000000-1400001"
    document = order_change(
        order_id,
        "Unshipped",
        [(SKU, 1, 0)],
        at=now - timedelta(days=10),
        purchased=now - timedelta(days=10),
        ship_by=now - timedelta(days=8),
        deliver_by=now - timedelta(days=1),
    )
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    ship(default_table(), order_id, Recorded("UPS", TRACKING), ship_date=now - timedelta(days=8))
    return order_id


def _on_time(stack, context) -> dict[str, Any]:
    status, health = call_api(stack, context, "GET", "/metrics/account-health")
    assert status == 200
    return health["onTimeDeliveryRate"]


def test_a_signed_delivered_scan_marks_the_shipment_delivered_and_the_on_time_rate_moves(
    stack, warehouse, context
):
    now = datetime.now(UTC)
    order_id = _shipped_order(now)
    assert _on_time(stack, context)["value"] == 1.0  # by the estimate: 3 business days after shipping
    carrier = _integration(stack, context, "tracking")
    delivered_at = now - timedelta(hours=12)  # after the promised day: late in fact
    scan = {
        "trackingNumber": TRACKING,
        "carrier": "UPS",
        "status": "delivered",
        "at": delivered_at.isoformat(),
    }

    status, answer = carrier.send(scan, delivery_id="msg_delivered_1")
    assert (status, answer) == (202, {"received": True, "deliveryId": "msg_delivered_1"})
    _process(stack, context)

    status, order = call_api(stack, context, "GET", f"/orders/{order_id}")
    shipment = order["shipments"][0]
    assert shipment["deliveredAt"] == iso_z(delivered_at)
    assert [s["status"] for s in shipment["scans"]] == ["delivered"]
    assert shipment["scans"][0]["source"] == carrier.integration_id
    stored = default_table().get(keys.shipment_key(order_id, shipment["shipmentId"]))
    assert stored and stored["scans"][0]["status"] == "delivered" and stored["deliveredAt"]
    rate = _on_time(stack, context)
    assert (rate["value"], rate["numerator"], rate["denominator"]) == (0.0, 0, 1)
    status, timeline = call_api(stack, context, "GET", f"/orders/{order_id}/timeline")
    assert status == 200
    assert "package 1 delivered (UPS)" in [e["text"] for e in timeline["items"]]

    # the same delivery again (a sender's retry): acknowledged, nothing queued, nothing changes
    status, answer = carrier.send(scan, delivery_id="msg_delivered_1")
    assert (status, answer["duplicate"]) == (200, True)
    assert _queued(stack) == []
    # the same scan under another delivery id: applied as a no-op (the scan is there already)
    assert carrier.send(scan)[0] == 202
    _process(stack, context)
    order = call_api(stack, context, "GET", f"/orders/{order_id}")[1]
    assert len(order["shipments"][0]["scans"]) == 1


def test_tampered_stale_unknown_and_foreign_deliveries_get_the_same_401_and_change_nothing(
    stack, warehouse, context
):
    now = datetime.now(UTC)
    order_id = _shipped_order(now)
    carrier = _integration(stack, context, "tracking")
    other = _integration(stack, context, "tracking")
    body = json.dumps(
        {"trackingNumber": TRACKING, "carrier": "UPS", "status": "delivered", "at": now.isoformat()}
    ).encode()
    signed = carrier.headers(body)
    tampered = body.replace(b"delivered", b"exception")
    answers = [
        carrier.post(tampered, signed),  # body changed after signing
        carrier.post(body, carrier.headers(body, sent_at=now - timedelta(minutes=6))),  # stale
        carrier.post(body, signed, integration_id="int_ffffffffffffffff"),  # unknown integration
        carrier.post(body, signed, integration_id="no-such-thing"),  # not even an id
        other.post(body, signed),  # signed with another integration's secret
        carrier.post(body, {}),  # not signed at all
    ]
    assert {status for status, _ in answers} == {401}
    assert min(carrier.took + other.took) >= REFUSAL_FLOOR_SECONDS  # none answered sooner than the others
    assert len({json.dumps(answer, sort_keys=True) for _, answer in answers}) == 1
    assert _queued(stack) == []
    order = call_api(stack, context, "GET", f"/orders/{order_id}")[1]
    assert order["shipments"][0]["scans"] == []
    # the genuine one still passes afterwards (the refusals remembered nothing)
    assert carrier.post(body, signed)[0] == 202


def test_an_oversized_body_is_refused_with_413_before_anything_is_read(stack, context):
    sender = _integration(stack, context, "generic", "github")
    body = b'{"pad": "' + b"x" * (180 * 1024) + b'"}'
    status, answer = sender.post(body, sender.headers(body))
    assert (status, answer["error"]["code"]) == (413, "PayloadTooLarge")
    assert _queued(stack) == []


def test_a_3pl_receipt_moves_stock_through_the_ledger_once_per_delivery(stack, warehouse, context):
    threepl = _integration(stack, context, "stock", "shopify")
    receipt = {"type": "receipt", "sku": SKU, "quantity": 12, "reference": "ASN-77"}
    assert threepl.send(receipt, delivery_id="wh-1")[0] == 202
    _process(stack, context)
    assert StockRepository(default_table()).get(SKU).on_hand == 22
    status, ledger = call_api(stack, context, "GET", f"/inventory/{SKU}/ledger")
    assert status == 200
    newest = ledger["items"][0]
    assert (newest["delta"], newest["reason"], newest["reference"], newest["actor"]) == (
        12,
        "receipt",
        "ASN-77",
        f"integration:{threepl.integration_id}",
    )
    # the same message delivered twice by SQS (at least once): applied once
    threepl_body = json.dumps(receipt).encode()
    assert threepl.post(threepl_body, threepl.headers(threepl_body, "wh-2"))[0] == 202
    records = _queued(stack)
    processor = stack.handler("process_webhooks")
    assert processor.lambda_handler({"Records": records + records}, context)["batchItemFailures"] == []
    assert StockRepository(default_table()).get(SKU).on_hand == 34

    # a count sets onHand; an adjustment moves it by its delta
    threepl.send({"type": "count", "sku": SKU, "counted": 30})
    threepl.send({"type": "adjustment", "sku": SKU, "delta": -2, "note": "2 crushed in the dock"})
    _process(stack, context)
    assert StockRepository(default_table()).get(SKU).on_hand == 28
    # a SKU the 3PL receives before the seller set it up here gets its stock row
    threepl.send({"type": "receipt", "sku": "HOOK-NEW", "quantity": 5, "location": "A-01"})
    _process(stack, context)
    assert StockRepository(default_table()).get("HOOK-NEW", "A-01").on_hand == 5


def test_bad_payloads_are_kept_with_their_reason_and_move_nothing(stack, warehouse, context):
    threepl = _integration(stack, context, "stock")
    carrier = _integration(stack, context, "tracking", "github")
    threepl.send({"type": "receipt", "sku": SKU, "quantity": "twelve"})
    threepl.send({"type": "adjustment", "sku": SKU, "delta": -50})
    threepl.post(b"not json", threepl.headers(b"not json"))
    carrier.send(
        {
            "trackingNumber": "1Z999AA10000000000",
            "carrier": "UPS",
            "status": "delivered",
            "at": datetime.now(UTC).isoformat(),
        }
    )
    _process(stack, context)
    assert StockRepository(default_table()).get(SKU).on_hand == 10
    status, problems = call_api(stack, context, "GET", f"/integrations/{threepl.integration_id}/problems")
    assert status == 200
    reasons = sorted(p["reason"] for p in problems["items"])
    assert len(reasons) == 3
    assert any(r.startswith("quantity") for r in reasons)
    assert any("has only 10 on hand" in r for r in reasons)
    assert any(r.startswith("the body is not JSON") for r in reasons)
    assert "not json" in {p["body"] for p in problems["items"]}
    _, problems = call_api(stack, context, "GET", f"/integrations/{carrier.integration_id}/problems")
    assert "no shipment here carries UPS tracking number" in problems["items"][0]["reason"]


def test_a_generic_event_is_stored_and_becomes_an_integration_event_received(stack, context):
    from oms.events import events_from_change

    sender = _integration(stack, context, "generic")
    assert sender.send({"hello": "world", "n": 1.5}, delivery_id="g-1")[0] == 202
    _process(stack, context)
    (stored,) = default_table().query_all(keys.integration_records(sender.integration_id, "EVENT"))
    (event,) = events_from_change(None, stored, event_id="e1", occurred_at=datetime.now(UTC))
    assert event.detail_type == "IntegrationEventReceived"
    assert event.data["payload"] == {"hello": "world", "n": 1.5} or event.data["payload"]["hello"] == "world"
    assert event.data["deliveryId"] == "g-1"


def test_integrations_are_listed_without_secrets_rotated_with_overlap_and_deleted(stack, context):
    sender = _integration(stack, context, "generic")
    status, listed = call_api(stack, context, "GET", "/integrations")
    assert status == 200 and [i["integrationId"] for i in listed["items"]] == [sender.integration_id]
    assert "secret" not in json.dumps(listed).lower().replace("previoussecretvaliduntil", "")

    status, rotated = call_api(stack, context, "POST", f"/integrations/{sender.integration_id}/rotate")
    assert status == 200 and rotated["secret"] and rotated["previousSecretValidUntil"]
    new = Sender(stack, context, {**rotated, "scheme": "standard-webhooks"})
    assert sender.send({"old": True})[0] == 202  # the old secret still works for 24 hours
    assert new.send({"new": True})[0] == 202

    status, _ = call_api(stack, context, "DELETE", f"/integrations/{sender.integration_id}")
    assert status == 200
    assert new.send({"after": "delete"})[0] == 401
    assert call_api(stack, context, "GET", f"/integrations/{sender.integration_id}")[0] == 404


def test_bad_integration_requests_are_400_naming_the_field(stack, context):
    status, answer = call_api(
        stack,
        context,
        "POST",
        "/integrations",
        {"name": "x", "kind": "carrier", "scheme": "standard-webhooks"},
    )
    assert status == 400 and "kind" in json.dumps(answer["error"]["details"])
    status, answer = call_api(
        stack, context, "POST", "/integrations", {"name": "x", "kind": "stock", "scheme": "svix"}
    )
    assert status == 400 and "scheme" in json.dumps(answer["error"]["details"])
    assert call_api(stack, context, "GET", "/integrations")[1]["items"] == []


def test_the_sample_event_applies_a_receipt_once_however_often_sqs_delivers_it(stack, warehouse, context):
    event = load_event("process_webhooks/stock_receipt.json")
    for record in event["Records"]:
        record["body"] = record["body"].replace("MUG-RED", SKU)
    processor = stack.handler("process_webhooks")
    assert processor.lambda_handler(event, context)["batchItemFailures"] == []
    assert processor.lambda_handler(event, context)["batchItemFailures"] == []
    assert StockRepository(default_table()).get(SKU).on_hand == 10 + 24


def test_a_receiver_that_fails_to_queue_leaves_the_delivery_to_the_senders_retry(stack, warehouse, context):
    from oms.integrations.receiving import receive
    from oms.integrations.records import master_key

    threepl = _integration(stack, context, "stock")
    body = json.dumps({"type": "receipt", "sku": SKU, "quantity": 3}).encode()
    headers = threepl.headers(body, "wh-crash")

    def unavailable(*_: Any) -> None:
        raise ConnectionError("SQS unavailable")

    with pytest.raises(ConnectionError):  # the sender sees a 5xx and retries
        receive(default_table(), master_key, unavailable, threepl.integration_id, headers, body)
    assert _queued(stack) == []
    assert threepl.post(body, headers)[0] == 202  # the retry is queued, not taken for a replay
    _process(stack, context)
    assert StockRepository(default_table()).get(SKU).on_hand == 13


def test_a_body_that_is_not_text_travels_base64_and_is_kept_as_a_problem(stack, context):
    sender = _integration(stack, context, "generic")
    body = b"\x00\xff\xfe binary"
    assert sender.post_bytes(body, sender.headers(body))[0] == 202
    (record,) = _queued(stack)
    assert record["messageAttributes"]["encoding"]["stringValue"] == "base64"
    processor = stack.handler("process_webhooks")
    assert processor.lambda_handler({"Records": [record]}, context)["batchItemFailures"] == []
    _, problems = call_api(stack, context, "GET", f"/integrations/{sender.integration_id}/problems")
    (problem,) = problems["items"]
    assert problem["reason"].startswith("the body is not UTF-8 text")
    assert (base64.b64decode(problem["body"]), problem["bodyEncoding"]) == (body, "base64")  # kept as sent


def test_a_very_long_delivery_id_is_known_by_its_hash_and_still_caught_when_replayed(stack, context):
    sender = _integration(stack, context, "generic", "github")
    body = b'{"long": true}'
    headers = sender.headers(body, "d" * 5000)
    status, answer = sender.post(body, headers)
    assert status == 202 and answer["deliveryId"].startswith("sha256:")
    assert sender.post(body, headers)[1]["duplicate"] is True
