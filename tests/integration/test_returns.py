"""Returns through the API on moto: a seller records a return of a shipped order, receives and grades its
units; sellable units are available again through the ledger, the rest written off, each receipt once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from oms.amazon.notifications import Notification
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change

SKU = "MUG-RED"


def _order(order_id: str, status: str, items: list[tuple[str, int, int]], channel: str = "MFN") -> None:
    document = order_change(order_id, status, items, channel=channel)
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


@pytest.fixture
def shipped(stack, context) -> str:
    """The warehouse set up, 10 mugs on hand, and order 111-1 for 3 mugs shipped: 7 left on hand."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), SKU, StockPolicy())
    adjust_stock(default_table(), SKU, 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(SKU, 3, 3)])
    assert StockRepository(default_table()).get(SKU).on_hand == 7
    return "111-1"


def _record(stack, context, order_id: str, quantity: int = 2, **headers: str) -> tuple[int, dict]:
    body = {"orderId": order_id, "items": [{"sku": SKU, "quantity": quantity, "reason": "NOT_AS_DESCRIBED"}]}
    return call_api(stack, context, "POST", "/returns", body, headers=headers or None)


def _receive(stack, context, return_id: str, *lines: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Idempotency-Key": key} if key else None
    return call_api(
        stack, context, "POST", f"/returns/{return_id}/receipts", {"items": list(lines)}, headers=headers
    )


def _ledger(stack, context) -> list[tuple[int, str, str | None]]:
    items = call_api(stack, context, "GET", f"/inventory/{SKU}/ledger")[1]["items"]
    return [(e["delta"], e["reason"], e["reference"]) for e in items]


def test_a_seller_records_a_return_of_a_shipped_order_and_finds_it(stack, context, shipped):
    status, ret = _record(stack, context, shipped)

    assert status == 201, ret
    assert (ret["orderId"], ret["source"], ret["status"]) == ("111-1", "seller", "authorized")
    assert ret["items"] == [{"sku": SKU, "quantity": 2, "reason": "NOT_AS_DESCRIBED"}]
    assert [e["status"] for e in ret["timeline"]] == ["requested", "authorized"]
    assert ret["receivedAt"] is None and ret["refundDueBy"] is None
    assert ret["requestedAt"].endswith("Z")

    status, one = call_api(stack, context, "GET", f"/returns/{ret['returnId']}")
    assert status == 200 and one == ret
    for query in ({}, {"status": "authorized"}, {"sku": SKU}, {"sku": SKU, "status": "authorized"}):
        listed = call_api(stack, context, "GET", "/returns", query=query)[1]["items"]
        assert [r["returnId"] for r in listed] == [ret["returnId"]], query
    for query in ({"status": "received"}, {"sku": "OTHER"}, {"sku": SKU, "status": "closed"}):
        assert call_api(stack, context, "GET", "/returns", query=query)[1]["items"] == [], query
    assert call_api(stack, context, "GET", "/returns", query={"to": "2020-01-01T00:00:00Z"})[1]["items"] == []


def test_a_return_takes_only_shipped_units_of_the_order_naming_the_field(stack, context, shipped):
    _order("111-2", "Unshipped", [(SKU, 1, 0)])
    _order("AFN-1", "Shipped", [("FBA-MUG", 1, 1)], channel="AFN")
    cases = [
        ({"orderId": "NOPE", "items": [{"sku": SKU, "quantity": 1}]}, 400, "orderId"),
        ({"orderId": shipped, "items": [{"sku": "TEAPOT", "quantity": 1}]}, 400, "items[0].sku"),
        ({"orderId": shipped, "items": [{"sku": SKU, "quantity": 0}]}, 400, "items[0].quantity"),
        ({"orderId": shipped, "items": []}, 400, "items"),
        ({"orderId": shipped, "items": [{"sku": SKU, "quantity": 4}]}, 409, "items[0].quantity"),
        ({"orderId": "111-2", "items": [{"sku": SKU, "quantity": 1}]}, 409, "items[0].quantity"),
        ({"orderId": "AFN-1", "items": [{"sku": "FBA-MUG", "quantity": 1}]}, 409, "orderId"),
    ]
    for body, expected, field in cases:
        status, answer = call_api(stack, context, "POST", "/returns", body)
        assert status == expected, (body, answer)
        assert answer["error"]["details"][0]["field"] == field, (body, answer)

    assert _record(stack, context, shipped, quantity=2)[0] == 201
    status, answer = _record(stack, context, shipped, quantity=2)  # 3 shipped, 2 already returned
    assert status == 409 and "not already returned" in answer["error"]["message"]
    assert answer["error"]["details"] == [{"field": "items[0].quantity", "message": "at most 1"}]
    assert len(call_api(stack, context, "GET", "/returns")[1]["items"]) == 1


def test_a_retried_return_with_the_same_idempotency_key_is_recorded_once(stack, context, shipped):
    first = _record(stack, context, shipped, quantity=1, **{"Idempotency-Key": "ret-1"})
    again = _record(stack, context, shipped, quantity=1, **{"Idempotency-Key": "ret-1"})

    assert first[0] == 201 and again == (200, first[1])
    assert len(call_api(stack, context, "GET", "/returns")[1]["items"]) == 1
    status, answer = _record(stack, context, shipped, quantity=2, **{"Idempotency-Key": "ret-1"})
    assert status == 409 and "different return" in answer["error"]["message"]


def test_a_sellable_unit_is_back_on_hand_with_a_return_ledger_entry_and_available_again(
    stack, context, shipped
):
    return_id = _record(stack, context, shipped)[1]["returnId"]

    status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})

    assert status == 201, ret
    assert ret["status"] == "graded"  # one of two units in: the other is still to come
    row = call_api(stack, context, "GET", f"/inventory/{SKU}")[1]
    assert (row["onHand"], row["available"]) == (8, 8)
    assert _ledger(stack, context)[0] == (1, "return", return_id)
    assert ret["receipts"][0]["items"] == [
        {"sku": SKU, "quantity": 1, "grade": "sellable", "location": "default", "disposition": "restocked"}
    ]


def test_a_damaged_unit_is_written_off_never_available_and_the_ledger_shows_it(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]

    status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "damaged"})

    assert status == 201, ret
    assert ret["status"] == "written-off"
    assert [e["status"] for e in ret["timeline"]][-3:] == ["received", "graded", "written-off"]
    row = call_api(stack, context, "GET", f"/inventory/{SKU}")[1]
    assert (row["onHand"], row["available"]) == (7, 7)
    entry = call_api(stack, context, "GET", f"/inventory/{SKU}/ledger")[1]["items"][0]
    assert (entry["delta"], entry["reason"], entry["reference"]) == (0, "return-write-off", return_id)
    assert "1 unit(s) returned damaged" in entry["note"]


def test_receiving_more_than_returned_is_refused_and_writes_nothing(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=2)[1]["returnId"]
    assert _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})[0] == 201
    before = (_ledger(stack, context), call_api(stack, context, "GET", f"/returns/{return_id}")[1])

    status, answer = _receive(
        stack,
        context,
        return_id,
        {"sku": SKU, "quantity": 1, "grade": "sellable"},
        {"sku": SKU, "quantity": 1, "grade": "damaged"},
    )

    assert status == 409, answer
    assert "2 unit(s) of MUG-RED, 1 received already and 1 in this receipt" in answer["error"]["message"]
    assert answer["error"]["details"] == [{"field": "items[1].quantity", "message": "at most 0"}]
    assert (_ledger(stack, context), call_api(stack, context, "GET", f"/returns/{return_id}")[1]) == before
    assert StockRepository(default_table()).get(SKU).on_hand == 8
    status, answer = _receive(
        stack, context, return_id, {"sku": "TEAPOT", "quantity": 1, "grade": "sellable"}
    )
    assert status == 409 and answer["error"]["details"][0]["field"] == "items[0].sku"


def test_a_repeated_receipt_with_the_same_idempotency_key_is_applied_once(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=2)[1]["returnId"]
    line = {"sku": SKU, "quantity": 1, "grade": "sellable"}

    first = _receive(stack, context, return_id, line, key="scan-7")
    again = _receive(stack, context, return_id, line, key="scan-7")

    assert first[0] == 201 and again == (200, first[1])
    assert len(first[1]["receipts"]) == 1
    assert StockRepository(default_table()).get(SKU).on_hand == 8
    assert [e for e in _ledger(stack, context) if e[1] == "return"] == [(1, "return", return_id)]
    status, answer = _receive(stack, context, return_id, {**line, "grade": "damaged"}, key="scan-7")
    assert status == 409 and "different receipt" in answer["error"]["message"]


def test_units_back_on_hand_serve_a_backordered_order_in_the_same_receipt(stack, context, shipped):
    _order("111-9", "Unshipped", [(SKU, 8, 0)])  # 7 on hand: one unit short
    assert "stockShortage" in call_api(stack, context, "GET", "/orders/111-9")[1]["flags"]
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]

    assert _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})[0] == 201

    order = call_api(stack, context, "GET", "/orders/111-9")[1]
    assert "stockShortage" not in order["flags"] and order["items"][0]["quantityShort"] == 0
    row = StockRepository(default_table()).get(SKU)
    assert (row.on_hand, row.reserved, row.backordered, row.available) == (8, 8, 0, 0)


def test_the_refund_is_due_two_business_days_after_a_friday_receipt_skipping_the_weekend(
    stack, context, shipped
):
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 10:00 in Albany (America/New_York)

    with time_machine.travel(friday, tick=False):
        status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})

    assert status == 201, ret
    assert ret["receivedAt"] == "2026-12-04T15:00:00Z"
    assert ret["refundDueBy"] == "2026-12-08T23:00:00Z"  # Tuesday 18:00 in Albany, the warehouse's close
    assert ret["status"] == "restocked"


def test_receiving_a_sellable_unit_into_an_unknown_location_is_refused(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]
    status, answer = _receive(
        stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable", "location": "shelf-Z"}
    )
    assert status == 400 and answer["error"]["details"][0]["field"] == "items[0].location"
    assert call_api(stack, context, "GET", f"/returns/{return_id}")[1]["receipts"] == []
    assert default_table().get(keys.stock_key(SKU, "shelf-Z")) is None


def test_receipts_racing_for_the_last_units_of_a_return_take_each_unit_once(served_stack):
    import threading

    from oms.domain.returns import Grade, ReceivedUnits, ReturnItem
    from oms.errors import Conflict
    from oms.returns.receiving import receive
    from oms.returns.records import ReturnRecords
    from oms.warehouse.settings import ShippingSettingsStore

    table = default_table()
    set_policy(table, SKU, StockPolicy())
    adjust_stock(table, SKU, 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(SKU, 3, 3)])
    ret, _ = ReturnRecords(table).record("111-1", [ReturnItem(sku=SKU, quantity=3)], return_id="RET-RACE")
    calendar = ShippingSettingsStore(table).get().calendar
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan(n: int) -> None:
        try:
            receive(
                table,
                ret.return_id,
                [ReceivedUnits(sku=SKU, quantity=1, grade=Grade.SELLABLE)],
                actor="test",
                calendar=calendar,
                receipt_id=f"scan-{n}",
            )
            result = "ok"
        except Conflict as refused:
            result = "refused" if "cannot receive" in refused.message else refused.message
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 3
    assert StockRepository(table).get(SKU).on_hand == 10
    restocked = [e for e in table.query_all(keys.ledger_of(SKU)) if e["reason"] == "return"]
    assert len(restocked) == 3
    assert ReturnRecords(table).get(ret.return_id).status.value == "restocked"
