"""Webhooks out through the local stack (issue 14's "done when"): a subscriber on loopback receives signed
OrderReceived and ShipmentConfirmed deliveries; a failing subscriber is retried on the schedule and can be
redelivered.

A stack of its own (`oms local --no-simulator`, which allows loopback subscribers). Orders are placed with
`oms simulate order`; the table's stream, publish_events, the bus, the stack's webhooks rule, the deliveries
queue and deliver_webhooks carry them to an HTTP server this test runs on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from standardwebhooks import Webhook

from tests.builders import WAREHOUSE_SETTINGS
from tests.e2e.support import Api, RunningStack, oms, wait_for
from tests.loopback_receiver import Receiver

pytestmark = pytest.mark.e2e

SKU = f"HOOK-MUG-{uuid.uuid4().hex[:6].upper()}"
UPS_TRACKING = "1Z999AA10123456784"
DELIVERY_TIMEOUT = 60  # the queue, the stream, the bus and the deliveries queue are polled


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def _place_order(stack: RunningStack) -> str:
    placed = oms(
        "simulate",
        "order",
        "--sku",
        SKU,
        "--quantity",
        "1",
        "--port",
        str(stack.port),
        "--state-dir",
        str(stack.state_dir),
    )
    assert placed.returncode == 0, placed.stderr
    return placed.stdout.strip()


def _received(receiver: Receiver, order_id: str) -> list[dict[str, Any]]:
    return [r for r in receiver.requests if order_id.encode() in r["body"]]


def test_a_loopback_subscriber_gets_signed_orders_and_a_failing_one_is_retried_and_redelivered(
    stack: RunningStack, receiver: Receiver
) -> None:
    api = Api(stack.outputs)
    subscribed = api.request(
        "POST", "/webhooks/subscriptions", json={"url": receiver.url, "events": ["OrderReceived"]}
    )
    assert subscribed.status_code == 201, subscribed.text
    subscription = subscribed.json()

    order_id = _place_order(stack)
    assert wait_for(lambda: _received(receiver, order_id), DELIVERY_TIMEOUT, 0.5), receiver.requests
    (first,) = _received(receiver, order_id)
    payload = Webhook(subscription["secret"]).verify(first["body"], first["headers"])
    assert payload["type"] == "OrderReceived" and payload["data"]["orderId"] == order_id

    # the receiver fails twice: the delivery is tried again after about 5 seconds, then 5 minutes
    receiver.answers = [503, 503, 200]
    failing_order = _place_order(stack)
    assert wait_for(lambda: len(_received(receiver, failing_order)) >= 2, DELIVERY_TIMEOUT, 0.5)
    tries = _received(receiver, failing_order)
    assert tries[0]["headers"]["webhook-id"] == tries[1]["headers"]["webhook-id"]
    wait = int(tries[1]["headers"]["webhook-timestamp"]) - int(tries[0]["headers"]["webhook-timestamp"])
    assert 5 <= wait <= 15, wait

    deliveries = api.get(f"/webhooks/subscriptions/{subscription['subscriptionId']}/deliveries").json()[
        "items"
    ]
    delivery = next(d for d in deliveries if d["deliveryId"] == tries[0]["headers"]["webhook-id"])
    assert delivery["status"] == "pending" and [a["statusCode"] for a in delivery["attempts"]] == [503, 503]

    # the seller does not wait 5 minutes: redelivered now from the API
    retried = api.request(
        "POST",
        f"/webhooks/subscriptions/{subscription['subscriptionId']}/deliveries/{delivery['deliveryId']}/retry",
    )
    assert retried.status_code == 202, retried.text
    assert wait_for(lambda: len(_received(receiver, failing_order)) >= 3, DELIVERY_TIMEOUT, 0.5)
    last = _received(receiver, failing_order)[2]
    assert (
        Webhook(subscription["secret"]).verify(last["body"], last["headers"])["data"]["orderId"]
        == failing_order
    )

    def delivered() -> dict[str, Any] | None:
        items = api.get(f"/webhooks/subscriptions/{subscription['subscriptionId']}/deliveries").json()[
            "items"
        ]
        found = next(d for d in items if d["deliveryId"] == delivery["deliveryId"])
        return found if found["status"] == "delivered" else None

    done = wait_for(delivered, 10, 0.5)
    assert done and done["attempts"][-1]["statusCode"] == 200 and done["attemptCount"] == 3


def test_a_subscriber_hears_when_a_package_is_confirmed_to_amazon(
    stack: RunningStack, receiver: Receiver
) -> None:
    api = Api(stack.outputs)
    assert api.request("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS).status_code == 200
    path = f"/inventory/{quote(SKU, safe='')}"
    assert api.request("PUT", path, json={"channel": "MFN"}).status_code == 200
    stocked = api.request(
        "POST",
        f"{path}/adjustments",
        json={"delta": 5, "reason": "receipt", "reference": "PO-HOOKS"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert stocked.status_code in (200, 201), stocked.text
    subscribed = api.request(
        "POST", "/webhooks/subscriptions", json={"url": receiver.url, "events": ["ShipmentConfirmed"]}
    )
    assert subscribed.status_code == 201, subscribed.text
    secret = subscribed.json()["secret"]
    order_id = _place_order(stack)
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, DELIVERY_TIMEOUT, 0.5)

    shipped = api.request(
        "POST",
        f"/orders/{order_id}/shipments",
        json={"carrier": "UPS", "trackingNumber": UPS_TRACKING, "multiOrderPackage": True},
    )
    assert shipped.status_code == 201, shipped.text
    if not wait_for(
        lambda: _received(receiver, order_id), 20, 0.5
    ):  # not confirmed at once: the schedule's run
        ran = oms(
            "invoke", "confirm_shipments", "--port", str(stack.port), "--state-dir", str(stack.state_dir)
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
    assert wait_for(lambda: _received(receiver, order_id), DELIVERY_TIMEOUT, 0.5), receiver.requests
    (delivery,) = _received(receiver, order_id)
    payload = Webhook(secret).verify(delivery["body"], delivery["headers"])
    assert payload["type"] == "ShipmentConfirmed"
    assert payload["data"]["trackingNumber"] == UPS_TRACKING and payload["data"]["carrier"] == "UPS"
