"""Orders listed by status and channel read the same whether or not the pair has its own index (gsi3 holds
the work queue only), and a shipped order leaves the work queue's index."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.conftest import load_event

NOW = datetime(2026, 11, 26, 8, tzinfo=UTC)


def _order(order_id: str, status: OrderStatus, channel: FulfillmentChannel, hours: int) -> Order:
    return Order(
        order_id=order_id,
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=NOW,
        last_update_date=NOW,
        latest_ship_date=NOW + timedelta(hours=hours),
        items=[OrderItem(order_item_id="1", sku="MUG-RED", quantity=1)],
    )


def _list(stack: Any, context: Any, **query: str) -> list[str]:
    event = copy.deepcopy(load_event("api/list_orders.json"))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    answer = stack.handler("api").lambda_handler(event, context)
    assert answer["statusCode"] == 200, answer
    return [o["orderId"] for o in json.loads(answer["body"])["items"]]


def test_every_status_and_channel_lists_its_own_orders_soonest_ship_by_first(stack, context):
    orders = OrderRepository(default_table())
    mfn, afn = FulfillmentChannel.MFN, FulfillmentChannel.AFN
    orders.add(_order("Q2", OrderStatus.UNSHIPPED, mfn, 5))
    orders.add(_order("Q1", OrderStatus.UNSHIPPED, mfn, 3))
    orders.add(_order("F1", OrderStatus.UNSHIPPED, afn, 1))
    orders.add(_order("S2", OrderStatus.SHIPPED, mfn, 4))
    orders.add(_order("S1", OrderStatus.SHIPPED, mfn, 2))
    orders.add(_order("F2", OrderStatus.SHIPPED, afn, 6))

    assert _list(stack, context, status="Unshipped", fulfillmentChannel="MFN") == ["Q1", "Q2"]
    assert _list(stack, context, status="Unshipped", fulfillmentChannel="AFN") == ["F1"]
    assert _list(stack, context, status="Shipped", fulfillmentChannel="MFN") == ["S1", "S2"]
    assert _list(stack, context, status="Shipped", fulfillmentChannel="AFN") == ["F2"]
    assert _list(stack, context, status="Shipped") == ["S1", "S2", "F2"]
    assert _list(stack, context, status="Shipped", fulfillmentChannel="MFN", limit="1")[:1] in (["S1"], [])

    in_gsi3 = {
        item["orderId"] for item in default_table().query_all(keys.orders_by_status("Unshipped", "MFN", None))
    }
    assert in_gsi3 == {"Q1", "Q2"}
