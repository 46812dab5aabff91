"""The API function, invoked with API Gateway events from events/api against the stack's table in moto."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.api_calls import call_api
from tests.conftest import load_event


def _order(
    order_id: str,
    *,
    purchased: datetime,
    status: OrderStatus = OrderStatus.UNSHIPPED,
    channel: FulfillmentChannel = FulfillmentChannel.MFN,
    ship_by: datetime | None = None,
) -> Order:
    return Order(
        order_id=order_id,
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=purchased,
        last_update_date=purchased,
        latest_ship_date=ship_by or purchased + timedelta(days=2),
        is_prime=True,
        items=[OrderItem(order_item_id="1", sku="MUG-RED", quantity=2)],
    )


def _call(stack: Any, context: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = stack.handler("api").lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else {}


def _list_event(**query: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("api/list_orders.json"))
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return event


def test_health_answers_without_touching_anything(stack, context):
    assert _call(stack, context, load_event("api/get_health.json")) == (200, {"status": "ok"})


def test_a_seller_with_no_orders_gets_an_empty_list(stack, context):
    assert _call(stack, context, load_event("api/list_orders.json")) == (
        200,
        {"items": [], "nextToken": None},
    )


def test_an_order_is_shown_with_the_contract_fields(stack, context):
    purchased = datetime(2026, 11, 26, 9, 58, tzinfo=UTC)
    OrderRepository(default_table()).add(_order("903-8868176-2219830", purchased=purchased))

    status, body = _call(stack, context, load_event("api/get_order.json"))

    assert status == 200
    assert body["orderId"] == "903-8868176-2219830"
    assert body["purchaseDate"] == "2026-11-26T09:58:00Z"
    assert body["fulfillmentChannel"] == "MFN"
    assert body["items"][0] | {"unitPrice": None} == {
        "orderItemId": "1",
        "sku": "MUG-RED",
        "quantity": 2,
        "quantityShipped": 0,
        "quantityShort": 0,
        "title": None,
        "asin": None,
        "unitPrice": None,
        "imageUrl": None,  # the catalogue has not read MUG-RED
    }
    assert {"status", "latestShipDate", "isPrime", "shipments", "flags", "marketplaceId"} <= body.keys()
    assert not {"pk", "sk", "gsi1pk", "version"} & body.keys()


def test_an_unknown_order_is_404_in_the_error_format(stack, context):
    status, body = _call(stack, context, load_event("api/get_order.json"))
    assert status == 404
    assert body["error"]["code"] == "NotFound"


def test_pages_follow_each_other_newest_first_and_tokens_cannot_be_tampered_with(stack, context):
    orders = OrderRepository(default_table())
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for day in range(3):
        orders.add(_order(f"111-000000{day}-0000000", purchased=start + timedelta(days=day)))

    status, first = _call(stack, context, _list_event(limit="2"))
    assert status == 200
    assert [o["orderId"] for o in first["items"]] == ["111-0000002-0000000", "111-0000001-0000000"]
    status, second = _call(stack, context, _list_event(limit="2", nextToken=first["nextToken"]))
    assert [o["orderId"] for o in second["items"]] == ["111-0000000-0000000"]
    assert second["nextToken"] is None

    payload, signature = first["nextToken"].split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    status, body = _call(stack, context, _list_event(limit="2", nextToken=forged))
    assert status == 400
    assert body["error"]["details"][0]["field"] == "nextToken"

    status, body = _call(
        stack, context, _list_event(limit="2", status="Unshipped", nextToken=first["nextToken"])
    )
    assert status == 400, "a token from one query must not resume another"


def test_the_work_queue_lists_unshipped_mfn_orders_by_latest_ship_date(stack, context):
    orders = OrderRepository(default_table())
    now = datetime(2026, 11, 26, 8, tzinfo=UTC)
    orders.add(_order("A", purchased=now, ship_by=now + timedelta(days=3)))
    orders.add(_order("B", purchased=now, ship_by=now + timedelta(hours=5)))
    orders.add(_order("C", purchased=now, channel=FulfillmentChannel.AFN, ship_by=now + timedelta(hours=1)))
    orders.add(_order("D", purchased=now, status=OrderStatus.SHIPPED, ship_by=now + timedelta(hours=2)))

    status, body = _call(stack, context, _list_event(status="Unshipped", fulfillmentChannel="MFN"))
    assert status == 200
    assert [o["orderId"] for o in body["items"]] == ["B", "A"]

    status, body = _call(stack, context, _list_event(status="Unshipped", shipBy="2026-11-27T00:00:00Z"))
    assert [o["orderId"] for o in body["items"]] == ["C", "B"]


def test_purchase_date_range_is_inclusive_and_checked(stack, context):
    orders = OrderRepository(default_table())
    for hour in (8, 9, 10):
        orders.add(_order(f"H{hour}", purchased=datetime(2026, 11, 26, hour, tzinfo=UTC)))

    status, body = _call(
        stack, context, _list_event(**{"from": "2026-11-26T09:00:00Z", "to": "2026-11-26T10:00:00Z"})
    )
    assert status == 200
    assert [o["orderId"] for o in body["items"]] == ["H10", "H9"]

    status, body = _call(
        stack, context, _list_event(**{"from": "2026-11-27T00:00:00Z", "to": "2026-11-26T00:00:00Z"})
    )
    assert status == 400
    assert body["error"]["details"][0]["field"] == "from"


def test_bad_query_values_are_400_naming_the_field(stack, context):
    status, body = _call(stack, context, _list_event(limit="abc", status="Lost"))
    assert status == 400
    assert body["error"]["code"] == "ValidationError"
    assert {d["field"] for d in body["error"]["details"]} == {"limit", "status"}

    status, body = _call(stack, context, _list_event(purchaseDate="x", **{"from": "yesterday"}))
    assert status == 400
    assert "from" in {d["field"] for d in body["error"]["details"]}


def test_unknown_routes_are_404_and_wrong_methods_405(stack, context):
    event = load_event("api/list_orders.json")
    event["path"] = "/nothing-here"
    status, body = _call(stack, context, event)
    assert (status, body["error"]["code"]) == (404, "NotFound")

    event = load_event("api/list_orders.json")
    event["httpMethod"] = "DELETE"
    answer = stack.handler("api").lambda_handler(event, context)
    assert answer["statusCode"] == 405
    allow = (answer.get("multiValueHeaders") or {}).get("Allow") or [answer.get("headers", {}).get("Allow")]
    assert allow == ["GET"]


def test_amazon_refusing_answers_its_code_and_never_its_message(stack, context, monkeypatch):
    """Amazon's message can echo what was sent (a buyer's address): the answer names the operation and
    Amazon's code; the message goes to the log only."""
    from oms.amazon.client import SpApiError
    from oms.api import shipping

    def refuse(*_args, **_kwargs):
        raise SpApiError(
            "getEligibleShipmentServices", 400, "InvalidInput", "Ship to 12 Elm St, Jane Roe: no"
        )

    monkeypatch.setattr(shipping, "shipping_rates", refuse)
    status, answer = call_api(stack, context, "GET", "/orders/111-0000000-0000001/rates")
    assert status == 422
    assert answer["error"]["code"] == "AmazonRefused"
    assert answer["error"]["details"] == [{"field": "getEligibleShipmentServices", "message": "InvalidInput"}]
    assert "Elm" not in json.dumps(answer) and "Jane" not in json.dumps(answer)
