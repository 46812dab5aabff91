"""Stock-short is a state: an order is flagged exactly while some of its units are backordered.

Units on hand serve open orders soonest latest ship date first; every receipt, adjustment, order
change, shipment and count correction re-allocates and writes the orders whose shortness changed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.amazon.notifications import Notification
from oms.domain.stock import Claim, allocate
from oms.errors import Conflict
from oms.events import events_from_change
from oms.inventory.allocation import read_book
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.builders import T0, order_change
from tests.conftest import load_event

SOON, LATER = T0 + timedelta(days=1), T0 + timedelta(days=3)


def _apply(document: dict[str, Any]) -> None:
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _order(order_id: str):
    return OrderRepository(default_table()).get(order_id)


def _short(order_id: str) -> list[int]:
    return [item.quantity_short for item in _order(order_id).items]


def _flagged(order_id: str) -> bool:
    return "stockShortage" in _order(order_id).flags


def _stock(sku: str):
    return StockRepository(default_table()).get(sku)


def _call(stack, context, method: str, path: str, body: Any = None) -> tuple[int, dict]:
    event = load_event("api/get_order.json")
    event.update(httpMethod=method, path=path, body=None if body is None else json.dumps(body))
    event["headers"] = {**event["headers"], "Content-Type": "application/json"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    answer = stack.handler("api").lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else {}


def _announced(before: dict[str, Any], detail_type: str) -> list[dict[str, Any]]:
    """What publish_events makes of each order's committed change (old and new image, as the stream has
    them) since the `before` images were taken."""
    found = []
    for order_id, old in before.items():
        new = default_table().get(keys.order_key(order_id), consistent=True)
        events = events_from_change(old, new, event_id=order_id, occurred_at=T0)
        found += [e.data for e in events if e.detail_type == detail_type]
    return found


def _images(*order_ids: str) -> dict[str, Any]:
    return {o: default_table().get(keys.order_key(o), consistent=True) for o in order_ids}


def _sku(name: str, on_hand: int) -> None:
    set_policy(default_table(), name, StockPolicy())
    if on_hand:
        adjust_stock(default_table(), name, on_hand, reason="receipt", reference="PO-1", actor="test")


def test_a_short_order_clears_its_flag_when_stock_is_received(stack, context):
    _sku("MUG", 1)
    _apply(order_change("111-1", "Unshipped", [("MUG", 3, 0)]))
    assert _flagged("111-1") and _short("111-1") == [2]

    status, _ = _call(stack, context, "POST", "/inventory/MUG/adjustments", {"delta": 2, "reason": "receipt"})

    assert status == 201
    status, order = _call(stack, context, "GET", "/orders/111-1")
    assert status == 200
    assert "stockShortage" not in order["flags"]
    assert [i["quantityShort"] for i in order["items"]] == [0]
    assert (_stock("MUG").reserved, _stock("MUG").backordered) == (3, 0)


def test_a_fully_reserved_order_stays_unflagged_when_a_later_order_of_the_sku_is_backordered(stack):
    _sku("MUG", 2)
    _apply(order_change("111-1", "Unshipped", [("MUG", 2, 0)], ship_by=SOON))

    _apply(order_change("111-2", "Unshipped", [("MUG", 1, 0)], ship_by=LATER))

    assert not _flagged("111-1") and _short("111-1") == [0]
    assert _flagged("111-2") and _short("111-2") == [1]


def test_an_order_due_sooner_takes_the_units_of_one_due_later_and_gives_them_back_when_canceled(stack):
    _sku("MUG", 2)
    _apply(order_change("111-LATE", "Unshipped", [("MUG", 2, 0)], ship_by=LATER))
    assert not _flagged("111-LATE")

    _apply(order_change("111-SOON", "Unshipped", [("MUG", 1, 0)], ship_by=SOON))

    assert not _flagged("111-SOON")
    assert _flagged("111-LATE") and _short("111-LATE") == [1]

    _apply(order_change("111-SOON", "Canceled", [("MUG", 1, 0)], ship_by=SOON, at=T0 + timedelta(minutes=1)))

    assert not _flagged("111-LATE") and _short("111-LATE") == [0]
    assert (_stock("MUG").reserved, _stock("MUG").backordered) == (2, 0)


def test_shipping_a_short_order_frees_nothing_but_shipping_another_lets_the_short_one_wait_for_less(stack):
    _sku("MUG", 3)
    _apply(order_change("111-1", "Unshipped", [("MUG", 3, 0)], ship_by=SOON))
    _apply(order_change("111-2", "Unshipped", [("MUG", 2, 0)], ship_by=LATER))
    assert _short("111-2") == [2]

    _apply(order_change("111-1", "Shipped", [("MUG", 3, 3)], ship_by=SOON, at=T0 + timedelta(minutes=1)))

    assert (_stock("MUG").on_hand, _stock("MUG").backordered) == (0, 2)
    assert _flagged("111-2") and _short("111-2") == [2]


def test_damaged_reserved_units_are_recorded_and_the_order_that_loses_them_is_short_and_announced(
    stack, context
):
    _sku("MUG", 3)
    _apply(order_change("111-1", "Unshipped", [("MUG", 2, 0)], ship_by=SOON))
    _apply(order_change("111-2", "Unshipped", [("MUG", 1, 0)], ship_by=LATER))
    assert _stock("MUG").available == 0
    before = _images("111-1", "111-2")

    status, answer = _call(
        stack,
        context,
        "POST",
        "/inventory/MUG/adjustments",
        {"delta": -2, "reason": "damaged", "note": "dropped a carton"},
    )

    assert status == 201
    assert (answer["stock"]["onHand"], answer["stock"]["reserved"], answer["stock"]["backordered"]) == (
        1,
        1,
        2,
    )
    assert _short("111-1") == [1] and _short("111-2") == [1]  # the sooner order keeps the 1 unit left
    assert _flagged("111-1") and _flagged("111-2")
    _, ledger = _call(stack, context, "GET", "/inventory/MUG/ledger")
    assert (ledger["items"][0]["delta"], ledger["items"][0]["reason"], ledger["items"][0]["note"]) == (
        -2,
        "damaged",
        "dropped a carton",
    )
    shortages = _announced(before, "StockShortage")
    assert sorted((e["orderId"], e["skus"]) for e in shortages) == [
        ("111-1", {"MUG": 1}),
        ("111-2", {"MUG": 1}),
    ]


def test_taking_out_more_than_is_on_hand_is_refused_naming_the_sku_and_writes_nothing(stack, context):
    _sku("MUG", 2)
    _apply(order_change("111-1", "Unshipped", [("MUG", 2, 0)]))

    status, answer = _call(
        stack, context, "POST", "/inventory/MUG/adjustments", {"delta": -3, "reason": "lost", "note": "gone"}
    )

    assert status == 409
    assert "MUG" in answer["error"]["message"] and "only 2 on hand" in answer["error"]["message"]
    assert answer["error"]["details"][0]["field"] == "delta"
    assert (_stock("MUG").on_hand, _stock("MUG").reserved) == (2, 2)
    assert not _flagged("111-1")
    ledger = StockRepository(default_table()).ledger("MUG", limit=10, next_token=None).items
    assert [e["reason"] for e in ledger] == ["reservation", "receipt"]


def test_a_note_too_long_or_a_made_up_reason_is_refused_naming_the_field(stack, context):
    _sku("MUG", 2)
    for body, field in [
        ({"delta": -1, "reason": "damaged", "note": "x" * 501}, "note"),
        ({"delta": -1, "reason": "stolen"}, "reason"),
    ]:
        status, answer = _call(stack, context, "POST", "/inventory/MUG/adjustments", body)
        assert status == 400 and answer["error"]["details"][0]["field"] == field, answer
    assert _stock("MUG").on_hand == 2


def test_a_receipt_that_clears_more_orders_than_one_transaction_holds_clears_every_one(stack):
    _sku("MUG", 0)
    orders = [f"111-{n:03d}" for n in range(60)]
    for order_id in orders:
        _apply(order_change(order_id, "Unshipped", [("MUG", 1, 0)]))
    assert all(_flagged(o) for o in orders[:3])

    adjust_stock(default_table(), "MUG", 60, reason="receipt", reference="PO-9", actor="test")

    assert not [o for o in orders if _flagged(o)]  # 60 orders + 60 demand items: two transactions
    book = read_book(default_table(), "MUG")
    assert not book.row.get("allocationPending")
    assert {int(d["short"]) for d in book.demand.values()} == {0}


def test_a_receipt_whose_caller_dies_after_the_first_transaction_is_finished_by_the_ship_guard(
    stack, monkeypatch
):
    import oms.inventory.stock
    from oms.shipping.guard import guard

    _sku("MUG", 0)
    orders = [f"111-{n:03d}" for n in range(55)]
    for order_id in orders:
        _apply(order_change(order_id, "Unshipped", [("MUG", 1, 0)]))
    finish = oms.inventory.stock.finish_allocation

    def crash(*args, **kwargs):
        raise TimeoutError("the Lambda timed out after its first transaction")

    monkeypatch.setattr(oms.inventory.stock, "finish_allocation", crash)
    with pytest.raises(TimeoutError):
        adjust_stock(default_table(), "MUG", 55, reason="receipt", reference="PO-9", actor="test")
    still_short = [o for o in orders if _flagged(o)]
    assert 0 < len(still_short) < 55, "the first transaction cleared what fit, and no more"
    assert _stock("MUG").on_hand == 55 and _stock("MUG").backordered == 0  # the receipt itself is whole
    monkeypatch.setattr(oms.inventory.stock, "finish_allocation", finish)

    counts = guard(default_table(), None, now=T0 + timedelta(hours=1))

    assert counts["allocationsFinished"] == 1
    assert not [o for o in orders if _flagged(o)]
    assert not list(default_table().query_all(keys.allocations_pending()))


def test_concurrent_orders_receipts_and_damage_on_one_sku_leave_exactly_the_backordered_orders_flagged(
    served_stack,
):
    import threading

    table = default_table()
    _sku("RACE", 6)
    ship_by = [T0 + timedelta(days=d) for d in (3, 1, 2, 4)]

    def order(n: int) -> None:
        _apply(order_change(f"111-{n}", "Unshipped", [("RACE", 2, 0)], ship_by=ship_by[n % 4]))

    def shelf(delta: int) -> None:
        reason = "receipt" if delta > 0 else "damaged"
        adjust_stock(table, "RACE", delta, reason=reason, reference=None, actor="test")

    threads = [threading.Thread(target=order, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=shelf, args=(d,)) for d in (3, -2, 4, -1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    row = _stock("RACE")
    assert row.on_hand == 6 + 3 - 2 + 4 - 1 == 10
    orders = [_order(f"111-{n}") for n in range(8)]
    claims = [
        Claim(o.order_id, o.latest_ship_date.isoformat(), o.purchase_date.isoformat(), 2) for o in orders
    ]
    expected = allocate(row.on_hand, claims)
    assert {o.order_id: o.items[0].quantity_short for o in orders} == expected
    assert {o.order_id for o in orders if "stockShortage" in o.flags} == {o for o, n in expected.items() if n}
    assert (row.reserved, row.backordered) == (10, 6)


# --- after any interleaving of changes: flags == orders with backordered units -------------------

_ORDERS = ["111-A", "111-B", "111-C", "111-D"]
_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"), st.sampled_from(_ORDERS), st.integers(1, 3), st.sampled_from([SOON, LATER])
        ),
        st.tuples(st.just("cancel"), st.sampled_from(_ORDERS)),
        st.tuples(st.just("ship"), st.sampled_from(_ORDERS)),
        st.tuples(st.just("receive"), st.integers(1, 4)),
        st.tuples(st.just("damage"), st.integers(1, 4)),
    ),
    min_size=1,
    max_size=8,
)


def _run(step: tuple, at) -> None:
    kind = step[0]
    existing = {o: _order_or_none(o) for o in _ORDERS}
    if kind == "order" and existing[step[1]] is None:
        _apply(
            order_change(step[1], "Unshipped", [("MUG", step[2], 0), ("CUP", 1, 0)], ship_by=step[3], at=at)
        )
    elif kind in ("cancel", "ship") and (order := existing[step[1]]) is not None:
        items = [(i.sku, i.quantity, i.quantity if kind == "ship" else 0) for i in order.items]
        status = "Shipped" if kind == "ship" else "Canceled"
        if order.status == "Unshipped":
            _apply(order_change(step[1], status, items, ship_by=order.latest_ship_date, at=at))
    elif kind == "receive":
        adjust_stock(default_table(), "MUG", step[1], reason="receipt", reference=None, actor="test")
    elif kind == "damage":
        try:
            adjust_stock(default_table(), "MUG", -step[1], reason="damaged", reference=None, actor="test")
        except Conflict:
            assert _stock("MUG").on_hand < step[1]  # only ever refused below 0 on hand


def _order_or_none(order_id: str):
    item = default_table().get(keys.order_key(order_id), consistent=True)
    return None if item is None else _order(order_id)


def _reset(stack) -> None:
    raw = stack.client("dynamodb")
    for page in raw.get_paginator("scan").paginate(TableName=stack.table_name, ProjectionExpression="pk, sk"):
        for item in page["Items"]:
            raw.delete_item(TableName=stack.table_name, Key=item)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=_steps)
def test_after_any_sequence_of_changes_exactly_the_orders_with_backordered_units_are_flagged(stack, steps):
    _reset(stack)
    _sku("MUG", 2)
    _sku("CUP", 1)
    with time_machine.travel(T0, tick=False):
        for minute, step in enumerate(steps):
            _run(step, T0 + timedelta(minutes=minute + 1))

    orders = [o for o in map(_order_or_none, _ORDERS) if o is not None]
    for sku in ("MUG", "CUP"):
        row = _stock(sku)
        claims = [
            Claim(o.order_id, o.latest_ship_date.isoformat(), o.purchase_date.isoformat(), i.quantity)
            for o in orders
            for i in o.items
            if i.sku == sku and o.status == "Unshipped"
        ]
        expected = allocate(row.on_hand, claims)
        for order in orders:
            shown = sum(i.quantity_short for i in order.items if i.sku == sku)
            assert shown == expected.get(order.order_id, 0), (sku, order.order_id, steps)
        assert row.backordered == sum(expected.values())
    for order in orders:
        assert ("stockShortage" in order.flags) == any(i.quantity_short for i in order.items), steps


def test_the_account_health_projection_counts_only_orders_short_now(stack):
    from oms.shipping.account_health import current_account_health

    _sku("MUG", 0)
    _apply(order_change("111-1", "Unshipped", [("MUG", 2, 0)]))
    _apply(order_change("111-2", "Unshipped", [("MUG", 1, 0)], ship_by=LATER))
    now = T0 + timedelta(hours=1)
    short = current_account_health(default_table(), now).pre_fulfillment_cancel_rate
    assert (short.projected_numerator, short.projected_denominator) == (2, 2)  # both wait for stock

    adjust_stock(default_table(), "MUG", 2, reason="receipt", reference="PO-2", actor="test")

    after = current_account_health(default_table(), now).pre_fulfillment_cancel_rate
    assert (after.projected_numerator, after.projected_denominator) == (1, 2)  # only 111-2 is short now


def test_a_cycle_count_that_finds_units_clears_the_orders_waiting_for_them(stack, context):
    from tests.api_calls import call_api

    _sku("MUG", 0)
    _apply(order_change("111-1", "Unshipped", [("MUG", 2, 0)]))
    assert _flagged("111-1")  # nothing on hand: backordered, so no reserved units block the count
    _, audit = call_api(stack, context, "POST", "/audits", {"skus": ["MUG"]})
    call_api(
        stack,
        context,
        "PUT",
        f"/audits/{audit['auditId']}/counts",
        {"counts": [{"sku": "MUG", "counted": 3}]},
    )

    status, report = call_api(stack, context, "POST", f"/audits/{audit['auditId']}/approve")

    assert status == 200 and report["lines"][0]["correctionUnits"] == 3, report
    assert not _flagged("111-1") and _short("111-1") == [0]
    assert (_stock("MUG").on_hand, _stock("MUG").reserved, _stock("MUG").available) == (3, 2, 1)
