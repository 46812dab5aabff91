"""One order, one pick: an order in a batch is not batched again without force; a tracking number is one
order's unless the request says the package holds several orders."""

from __future__ import annotations

import pytest

from oms.store import keys
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.integration.amazon_side import amazon_fixture, simulator_fixture
from tests.integration.test_shipping import _place, _ship, _stock

__all__ = ["amazon_fixture", "simulator_fixture"]

SKU = "SHIP-MUG"
UPS = "1Z999AA10123456784"


@pytest.fixture
def shop(stack, amazon, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    _stock(SKU, 20)
    return amazon


def test_an_order_already_in_a_batch_is_refused_naming_the_batch_and_no_batch_is_made(stack, shop, context):
    first, second = _place(shop, 1), _place(shop, 1)
    status, batch = call_api(stack, context, "POST", "/batches", {"orderIds": [first]})
    assert status == 201, batch

    status, answer = call_api(stack, context, "POST", "/batches", {"orderIds": [second, first]})

    assert status == 409
    assert answer["error"]["code"] == "Conflict"
    assert batch["batchId"] in answer["error"]["message"]
    assert answer["error"]["details"] == [
        {"field": "orderIds", "message": f"{first} is in batch {batch['batchId']}"}
    ]
    listed = call_api(stack, context, "GET", "/batches")[1]["items"]
    assert [b["batchId"] for b in listed] == [batch["batchId"]]  # nothing half-written
    assert default_table().get(keys.pick_batch_key(second)) is None


def test_force_moves_the_order_to_the_new_batch(stack, shop, context):
    order_id = _place(shop, 1)
    first = call_api(stack, context, "POST", "/batches", {"orderIds": [order_id]})[1]

    status, again = call_api(stack, context, "POST", "/batches", {"orderIds": [order_id], "force": True})

    assert status == 201, again
    assert again["movedFrom"] == {order_id: first["batchId"]}
    shown = call_api(stack, context, "GET", f"/orders/{order_id}")[1]
    assert shown["batch"]["batchId"] == again["batchId"]
    listed = call_api(stack, context, "GET", "/batches")[1]["items"]
    assert {b["batchId"] for b in listed} == {again["batchId"], first["batchId"]}
    assert all(b["pickListUrl"] and b["packingSlipsUrl"] for b in listed)  # to reprint from the list


def test_the_queue_and_the_order_show_the_batch(stack, shop, context):
    batched, loose = _place(shop, 1), _place(shop, 1)
    batch = call_api(stack, context, "POST", "/batches", {"orderIds": [batched]})[1]

    queue = call_api(
        stack, context, "GET", "/orders", query={"status": "Unshipped", "fulfillmentChannel": "MFN"}
    )[1]["items"]
    one = call_api(stack, context, "GET", f"/orders/{batched}")[1]

    by_id = {o["orderId"]: o for o in queue}
    assert by_id[batched]["batch"] == {"batchId": batch["batchId"], "createdAt": batch["createdAt"]}
    assert by_id[loose]["batch"] is None
    assert one["batch"]["batchId"] == batch["batchId"]


def test_a_tracking_number_already_on_another_order_is_refused_and_nothing_ships(stack, shop, context):
    first, second = _place(shop, 1), _place(shop, 1)
    assert _ship(stack, context, first, trackingNumber=UPS)[0] == 201

    status, answer = _ship(stack, context, second, trackingNumber=UPS)

    assert status == 409
    assert first in answer["error"]["message"]
    assert answer["error"]["details"] == [
        {"field": "trackingNumber", "message": f"already used on order {first}"}
    ]
    order = call_api(stack, context, "GET", f"/orders/{second}")[1]
    assert order["status"] == "Unshipped" and order["shipments"] == []


def test_a_package_holding_two_orders_shares_its_tracking_number_when_the_request_says_so(
    stack, shop, context
):
    first, second = _place(shop, 1), _place(shop, 1)
    assert _ship(stack, context, first, trackingNumber=UPS)[0] == 201

    status, answer = _ship(stack, context, second, trackingNumber=UPS, multiOrderPackage=True)

    assert status == 201, answer
    assert answer["shipment"]["trackingNumber"] == UPS
    claim = default_table().get(keys.tracking_key("UPS", UPS))
    assert claim["orderIds"] == {first, second}


def test_the_same_number_at_another_carrier_is_another_package(stack, shop, context):
    first, second = _place(shop, 1), _place(shop, 1)
    number = "JD014600006281234567"
    assert (
        _ship(stack, context, first, carrier="Other", carrierName="Royal Mail", trackingNumber=number)[0]
        == 201
    )

    status, _ = _ship(stack, context, second, carrier="Other", carrierName="Evri", trackingNumber=number)
    refused, _ = _ship(
        stack, context, _place(shop, 1), carrier="Other", carrierName="royal mail", trackingNumber=number
    )

    assert status == 201
    assert refused == 409
