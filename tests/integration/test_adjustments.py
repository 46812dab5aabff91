"""Stock adjustments, policies and low stock through the API, and concurrent withdrawals on moto server."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote

import time_machine

from oms.amazon.notifications import Notification
from oms.errors import Conflict
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.builders import T0, order_change
from tests.conftest import load_event


def _call(
    stack,
    context,
    method: str,
    path: str,
    body: Any = None,
    headers: dict | None = None,
    query: dict | None = None,
) -> tuple[int, dict]:
    event = load_event("api/get_order.json")
    event.update(
        httpMethod=method,
        path=path,
        body=body if isinstance(body, str) or body is None else json.dumps(body),
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/json", **(headers or {})}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    answer = stack.handler("api").lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else {}


def test_a_seller_creates_a_sku_receives_stock_and_sees_it_in_the_ledger(stack, context):
    status, row = _call(
        stack, context, "PUT", "/inventory/MUG-RED", {"reorderPoint": 5, "channel": "MFN", "leadTimeDays": 7}
    )
    assert status == 200 and (row["onHand"], row["reorderPoint"], row["channel"]) == (0, 5, "MFN")

    status, answer = _call(
        stack,
        context,
        "POST",
        "/inventory/MUG-RED/adjustments",
        {"delta": 12, "reason": "receipt", "reference": "PO-7"},
    )
    assert status == 201
    assert (answer["stock"]["onHand"], answer["stock"]["available"]) == (12, 12)

    status, ledger = _call(stack, context, "GET", "/inventory/MUG-RED/ledger")
    assert [(e["delta"], e["reason"], e["reference"], e["actor"]) for e in ledger["items"]] == [
        (12, "receipt", "PO-7", "user:seller@example.com")
    ]


def test_bad_adjustments_are_refused_naming_the_field_and_change_nothing(stack, context):
    _call(stack, context, "PUT", "/inventory/MUG-RED", {"reorderPoint": 1})
    _call(stack, context, "POST", "/inventory/MUG-RED/adjustments", {"delta": 3, "reason": "receipt"})
    for body, field in [
        ({"delta": 0, "reason": "receipt"}, "delta"),
        ({"delta": 2.5, "reason": "receipt"}, "delta"),
        ({"delta": "3", "reason": "receipt"}, "delta"),
        ({"delta": 1, "reason": "gift"}, "reason"),
        ({"reason": "receipt"}, "delta"),
        ("{oops", "body"),
    ]:
        status, answer = _call(stack, context, "POST", "/inventory/MUG-RED/adjustments", body)
        assert status == 400, body
        assert answer["error"]["details"][0]["field"] == field, (body, answer)

    status, answer = _call(
        stack, context, "POST", "/inventory/MUG-RED/adjustments", {"delta": -4, "reason": "damaged"}
    )
    assert status == 409 and "only 3" in answer["error"]["message"]
    status, answer = _call(
        stack, context, "POST", "/inventory/NOPE/adjustments", {"delta": 1, "reason": "receipt"}
    )
    assert status == 404
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 3
    assert len(StockRepository(default_table()).ledger("MUG-RED", limit=10, next_token=None).items) == 1


def test_a_retried_request_with_the_same_idempotency_key_has_one_effect(stack, context):
    _call(stack, context, "PUT", "/inventory/MUG-RED", {})
    headers = {"Idempotency-Key": "4d1c1c1e-retry-me"}
    first = _call(
        stack, context, "POST", "/inventory/MUG-RED/adjustments", {"delta": 5, "reason": "receipt"}, headers
    )
    again = _call(
        stack, context, "POST", "/inventory/MUG-RED/adjustments", {"delta": 5, "reason": "receipt"}, headers
    )
    assert first == again and first[0] == 201
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 5

    status, answer = _call(
        stack, context, "POST", "/inventory/MUG-RED/adjustments", {"delta": 6, "reason": "receipt"}, headers
    )
    assert status == 409 and "different request" in answer["error"]["message"]


def test_a_receipt_turns_backorders_into_reservations(stack, context):
    apply_change(
        default_table(),
        change_from_notification(
            Notification.model_validate(order_change("111-1", "Unshipped", [("MUG-RED", 3, 0)]))
        ),
    )
    status, answer = _call(
        stack, context, "POST", "/inventory/MUG-RED/adjustments", {"delta": 2, "reason": "receipt"}
    )
    assert status == 201
    stock = answer["stock"]
    assert (stock["onHand"], stock["reserved"], stock["backordered"], stock["available"]) == (2, 2, 1, 0)


def test_low_stock_lists_only_rows_at_or_below_their_reorder_point_with_days_of_cover(stack, context):
    table = default_table()
    # the orders are bought at T0 (a minute before): the clock stands there, as it would when they arrive
    with time_machine.travel(T0, tick=False):
        for sku, on_hand in [("LOW", 4), ("FINE", 50)]:
            set_policy(table, sku, StockPolicy(reorder_point=5))
            adjust_stock(table, sku, on_hand + 3, reason="receipt", reference=None, actor="test")
        apply_change(
            table,
            change_from_notification(
                Notification.model_validate(order_change("111-1", "Shipped", [("LOW", 3, 3)]))
            ),
        )
        apply_change(
            table,
            change_from_notification(
                Notification.model_validate(order_change("111-2", "Shipped", [("FINE", 3, 3)]))
            ),
        )

        status, page = _call(stack, context, "GET", "/inventory", query={"belowReorderPoint": "true"})

    assert status == 200
    assert [(r["sku"], r["available"]) for r in page["items"]] == [("LOW", 4)]
    assert page["items"][0]["daysOfCover"] == 40.0  # 4 available / (3 shipped / 30 days)
    assert [r["sku"] for r in _call(stack, context, "GET", "/inventory")[1]["items"]] == ["FINE", "LOW"]


def test_a_sku_with_spaces_and_unicode_is_adjusted_by_its_encoded_path(stack, context):
    sku = "Tasse bleue 250 ml ☕"
    _call(stack, context, "PUT", "/inventory/" + quote(sku, safe=""), {})
    status, answer = _call(
        stack,
        context,
        "POST",
        "/inventory/" + quote(sku, safe="") + "/adjustments",
        {"delta": 1, "reason": "found"},
    )
    assert status == 201 and answer["stock"]["sku"] == sku


def test_200_concurrent_withdrawals_of_100_units_never_oversell(served_stack):
    table = default_table()
    set_policy(table, "HOT", StockPolicy())
    adjust_stock(table, "HOT", 100, reason="receipt", reference=None, actor="test")
    outcomes: list[str] = []
    lock = threading.Lock()

    def withdraw(count: int) -> None:
        for _ in range(count):
            try:
                adjust_stock(table, "HOT", -1, reason="adjustment", reference=None, actor="test")
                result = "ok"
            except Conflict as refused:
                result = "refused" if "only 0 on hand" in refused.message else f"other: {refused.message}"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=withdraw, args=(10,)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 100
    assert outcomes.count("refused") == 100
    row = StockRepository(table).get("HOT")
    assert (row.on_hand, row.available) == (0, 0)
    ledger = list(table.query_all(__import__("oms.store.keys", fromlist=["ledger_of"]).ledger_of("HOT")))
    assert sum(int(e["delta"]) for e in ledger) == 0 == row.on_hand


def test_withdrawals_and_new_orders_racing_for_one_sku_keep_the_books_straight(served_stack):
    table = default_table()
    set_policy(table, "RACE", StockPolicy())
    adjust_stock(table, "RACE", 30, reason="receipt", reference=None, actor="test")
    outcomes: list[str] = []
    lock = threading.Lock()

    def withdraw() -> None:
        for _ in range(4):
            try:
                adjust_stock(table, "RACE", -1, reason="adjustment", reference=None, actor="test")
                result = "ok"
            except Conflict as refused:  # only an empty shelf may refuse a withdrawal; anything else is shown
                result = "refused" if "only 0 on hand" in refused.message else f"other: {refused.message}"
            with lock:
                outcomes.append(result)

    def order(n: int) -> None:
        document = order_change(f"111-{n}", "Unshipped", [("RACE", 2, 0)])
        apply_change(table, change_from_notification(Notification.model_validate(document)))

    threads = [threading.Thread(target=withdraw) for _ in range(8)]
    threads += [threading.Thread(target=order, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 32 withdrawals of 1 from 30 on hand: the shelf empties, and the last 2 are refused for that reason
    assert sorted(outcomes) == ["ok"] * 30 + ["refused"] * 2
    row = StockRepository(table).get("RACE")
    ledger = list(table.query_all(__import__("oms.store.keys", fromlist=["ledger_of"]).ledger_of("RACE")))
    assert row.on_hand == 30 - outcomes.count("ok") == sum(int(e["delta"]) for e in ledger), "no update lost"
    assert row.reserved + row.backordered == 16, "every order's 2 units are held"
    assert row.reserved == min(16, row.on_hand)
    stored = StockRepository(table).raw(["RACE"])["RACE"]
    assert int(stored["available"]) == row.on_hand - row.reserved, "the figure a withdrawal's condition reads"
