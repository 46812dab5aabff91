"""Days of cover is one figure: available units at the demand of the last 30 days (units ordered, not only
shipped), the same on the stock list, the low-stock list and the SKU's own page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import time_machine

from oms.amazon.notifications import Notification
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.builders import T0, order_change
from tests.conftest import load_event


def _get(stack, context, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    event = load_event("api/get_order.json")
    event.update(
        httpMethod="GET",
        path=path,
        body=None,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
    )
    answer = stack.handler("api").lambda_handler(event, context)
    assert answer["statusCode"] == 200, answer["body"]
    return json.loads(answer["body"])


def _order(order_id: str, status: str, items: list[tuple[str, int, int]], at=T0) -> None:
    note = Notification.model_validate(order_change(order_id, status, items, at=at))
    apply_change(default_table(), change_from_notification(note))


def _cover_everywhere(stack, context, sku: str) -> tuple[Any, Any, Any]:
    every_row = {r["sku"]: r for r in _get(stack, context, "/inventory")["items"]}
    low = {r["sku"]: r for r in _get(stack, context, "/inventory", {"belowReorderPoint": "true"})["items"]}
    one = _get(stack, context, f"/inventory/{sku}")
    return every_row[sku]["daysOfCover"], low.get(sku, {}).get("daysOfCover"), one["daysOfCover"]


def test_orders_waiting_to_ship_are_demand_and_every_page_shows_the_same_cover(stack, context):
    table = default_table()
    with time_machine.travel(T0, tick=False):
        set_policy(table, "MUG", StockPolicy(reorder_point=20))
        adjust_stock(table, "MUG", 12, reason="receipt", reference="PO-1", actor="test")
        # 6 units ordered, none shipped yet: the old "units shipped" rate saw no sales at all
        _order("111-0000001-0000001", "Unshipped", [("MUG", 4, 0)])
        _order("111-0000002-0000002", "Unshipped", [("MUG", 2, 0)])

        covers = _cover_everywhere(stack, context, "MUG")

    # 6 available / (6 ordered / 30 days) = 30 days, on the list, the low-stock list and the SKU page
    assert covers == (30.0, 30.0, 30.0)


def test_units_reserved_then_shipped_count_once_and_an_order_first_seen_shipped_counts(stack, context):
    table = default_table()
    with time_machine.travel(T0, tick=False):
        set_policy(table, "MUG", StockPolicy())
        adjust_stock(table, "MUG", 20, reason="receipt", reference="PO-1", actor="test")
        _order("111-0000001-0000001", "Unshipped", [("MUG", 4, 0)])
        _order("111-0000001-0000001", "Shipped", [("MUG", 4, 4)], at=T0 + timedelta(minutes=5))
        _order("111-0000002-0000002", "Shipped", [("MUG", 2, 2)])  # shipped before we heard of it
        adjust_stock(table, "MUG", -1, reason="damaged", reference=None, actor="test")  # not demand

        one = _get(stack, context, "/inventory/MUG")

    assert (one["available"], one["daysOfCover"]) == (13, 65.0)  # 13 / (6 ordered / 30 days)


def test_a_backordered_sku_has_no_days_left_and_orders_older_than_30_days_stop_counting(stack, context):
    table = default_table()
    with time_machine.travel(T0, tick=False):
        set_policy(table, "MUG", StockPolicy(reorder_point=5))
        _order("111-0000001-0000001", "Unshipped", [("MUG", 3, 0)])  # nothing on hand: backordered

        assert _cover_everywhere(stack, context, "MUG") == (0.0, 0.0, 0.0)

    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        adjust_stock(table, "MUG", 10, reason="receipt", reference="PO-2", actor="test")

        assert _cover_everywhere(stack, context, "MUG") == (None, None, None)  # nothing ordered lately


def test_a_page_of_stock_rows_reads_its_demand_in_batches_not_one_query_per_row(stack, context):
    table = default_table()
    queries: list[str] = []
    table.client.meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append("Query"))
    with time_machine.travel(T0, tick=False):
        for n in range(60):
            sku = f"SKU-{n:03d}"
            set_policy(table, sku, StockPolicy())
            adjust_stock(table, sku, 30, reason="receipt", reference="PO-1", actor="test")
            _order(f"111-0000000-{n:07d}", "Unshipped", [(sku, 1 + n % 3, 0)])
        queries.clear()

        page = _get(stack, context, "/inventory", {"limit": "60"})

    rows = {r["sku"]: r for r in page["items"]}
    assert len(rows) == 60
    # SKU-001 ordered 2: 28 available / (2 / 30 days); SKU-002 ordered 3: 27 / (3 / 30)
    assert (rows["SKU-001"]["daysOfCover"], rows["SKU-002"]["daysOfCover"]) == (420.0, 270.0)
    assert len(queries) == 1, "the page's own Query only: demand is read by key, in batches"
