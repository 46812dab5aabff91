"""Orders listed by status and channel read the same whether or not the pair has its own index (gsi3 holds
the work queue only: tests/unit/test_sparse_work_queue_keys.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from oms.domain.orders import FulfillmentChannel, OrderStatus
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.integration.test_api import _list_event, _order

NOW = datetime(2026, 11, 26, 8, tzinfo=UTC)


def _list(stack: Any, context: Any, **query: str) -> list[str]:
    answer = stack.handler("api").lambda_handler(_list_event(**query), context)
    assert answer["statusCode"] == 200, answer
    return [o["orderId"] for o in json.loads(answer["body"])["items"]]


def test_every_status_and_channel_lists_its_own_orders_soonest_ship_by_first(stack, context):
    orders = OrderRepository(default_table())
    unshipped, shipped = OrderStatus.UNSHIPPED, OrderStatus.SHIPPED
    mfn, afn = FulfillmentChannel.MFN, FulfillmentChannel.AFN
    for order_id, status, channel, hours in (
        ("Q2", unshipped, mfn, 5),
        ("Q1", unshipped, mfn, 3),
        ("F1", unshipped, afn, 1),
        ("S2", shipped, mfn, 4),
        ("S1", shipped, mfn, 2),
        ("F2", shipped, afn, 6),
    ):
        ship_by = NOW + timedelta(hours=hours)
        orders.add(_order(order_id, purchased=NOW, status=status, channel=channel, ship_by=ship_by))

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
