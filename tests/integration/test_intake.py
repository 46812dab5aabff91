"""Order intake: notifications applied exactly once, in order, with their stock effect."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import jsonschema
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.amazon.notifications import Notification
from oms.domain.stock import Movement
from oms.inventory.stock import StockRepository, stock_writes
from oms.orders.intake import Outcome, apply_change, change_from_notification
from oms.shipping.shipments import Recorded, ship
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from oms_local.simulator.contract import MODELS_DIR
from tests.builders import T0, _z, order_change, sqs_event

ORDER_CHANGE_SCHEMA = json.loads(
    (MODELS_DIR / "schemas" / "notifications" / "OrderChangeNotification.json").read_text()
)
ORDER_CHANGE_SCHEMA.pop("$id", None)


def _apply(document) -> Outcome:
    return apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _receive(sku: str, units: int) -> None:
    table = default_table()
    current = StockRepository(table).raw([sku]).get(sku)
    table.transact(
        stock_writes(current, sku, Movement(on_hand=units), reason="receipt", reference="PO-1", actor="test")
    )


def _stock(sku: str):
    return StockRepository(default_table()).get(sku)


def _order(order_id: str):
    return OrderRepository(default_table()).get(order_id)


def test_given_2_on_hand_when_an_order_for_3_arrives_then_2_are_reserved_and_1_backordered(stack):
    _receive("SKU-1", 2)

    assert _apply(order_change("111-1", "Unshipped", [("SKU-1", 3, 0)])) is Outcome.APPLIED

    stock = _stock("SKU-1")
    assert (stock.on_hand, stock.reserved, stock.available, stock.backordered) == (2, 2, 0, 1)
    assert "stockShortage" in _order("111-1").flags


def test_a_resent_notification_changes_nothing(stack):
    _receive("SKU-1", 5)
    document = order_change("111-1", "Unshipped", [("SKU-1", 2, 0)])
    assert _apply(document) is Outcome.APPLIED
    assert _apply(document) is Outcome.DUPLICATE
    assert _stock("SKU-1").reserved == 2


def test_a_late_older_notification_never_rolls_back_a_newer_state(stack):
    _receive("SKU-1", 5)
    _apply(order_change("111-1", "Shipped", [("SKU-1", 2, 2)], at=T0 + timedelta(minutes=5)))

    assert _apply(order_change("111-1", "Unshipped", [("SKU-1", 2, 0)], at=T0)) is Outcome.STALE

    assert _order("111-1").status == "Shipped"
    stock = _stock("SKU-1")
    assert (stock.on_hand, stock.reserved) == (3, 0)


def test_shipping_lowers_on_hand_once_and_cancelling_releases(stack):
    _receive("SKU-1", 10)
    _apply(order_change("111-1", "Unshipped", [("SKU-1", 4, 0)], at=T0))
    _apply(order_change("111-1", "PartiallyShipped", [("SKU-1", 4, 1)], at=T0 + timedelta(minutes=1)))
    stock = _stock("SKU-1")
    assert (stock.on_hand, stock.reserved) == (9, 3)

    _apply(order_change("111-1", "Canceled", [("SKU-1", 4, 1)], at=T0 + timedelta(minutes=2)))
    stock = _stock("SKU-1")
    assert (stock.on_hand, stock.reserved, stock.available) == (9, 0, 9)
    ledger = StockRepository(default_table()).ledger("SKU-1", limit=10, next_token=None).items
    assert sum(entry["delta"] for entry in ledger) == 9, "onHand is the sum of its ledger"
    assert [e["reason"] for e in ledger] == ["release", "shipment", "reservation", "receipt"]


def test_amazon_fulfilled_orders_never_touch_local_stock(stack):
    _receive("SKU-1", 3)
    _apply(order_change("111-1", "Unshipped", [("SKU-1", 2, 0)], channel="AFN"))
    assert _stock("SKU-1").reserved == 0
    assert _order("111-1").fulfillment_channel == "AFN"


def test_a_sku_never_seen_before_gets_a_stock_row_at_zero(stack):
    _apply(order_change("111-1", "Pending", [("Tasse bleue 250 ml ☕", 1, 0)], programs=("Prime",)))
    stock = _stock("Tasse bleue 250 ml ☕")
    assert (stock.on_hand, stock.reserved, stock.backordered) == (0, 0, 1)
    assert _order("111-1").is_prime


def test_the_order_reflects_the_summary(stack):
    _apply(
        order_change("111-1", "Unshipped", [("A", 1, 0), ("B", 2, 0), ("A", 1, 0)], programs=("Business",))
    )
    order = _order("111-1")
    assert order.is_business_order and not order.is_prime
    assert [(i.sku, i.quantity) for i in order.items] == [("A", 1), ("B", 2), ("A", 1)]
    assert order.latest_ship_date == T0 + timedelta(days=2)
    assert _stock("A").backordered == 2


def test_the_handler_applies_healthy_messages_and_fails_only_the_bad_one(stack, context):
    event = sqs_event(
        order_change("111-1", "Unshipped", [("SKU-1", 1, 0)]),
        "not json",
        order_change("111-2", "Pending", [("SKU-1", 1, 0)]),
    )
    answer = stack.handler("ingest_notifications").lambda_handler(event, context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert _stock("SKU-1").backordered == 2


def test_an_unknown_order_status_is_refused_not_guessed(stack, context):
    document = order_change("111-1", "Unshipped", [("SKU-1", 1, 0)])
    document["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = "Teleported"
    answer = stack.handler("ingest_notifications").lambda_handler(sqs_event(document), context)
    assert len(answer["batchItemFailures"]) == 1


# --- a later notification says less than an earlier one: what it omits stays known --------------


def _summary(document):
    return document["Payload"]["OrderChangeNotification"]["Summary"]


def _as_amazon_sends(document):
    jsonschema.validate(document, ORDER_CHANGE_SCHEMA)  # still a document Amazon could send
    return document


@time_machine.travel(T0 + timedelta(minutes=30), tick=False)
def test_amazons_lagging_notification_keeps_the_package_the_seller_recorded_here(stack):
    _receive("SKU-1", 5)
    _apply(order_change("111-1", "Unshipped", [("SKU-1", 2, 0)], at=T0))
    ship(default_table(), "111-1", Recorded(carrier="UPS", tracking_number="1Z999AA10123456784"))

    # Amazon's next word on the order predates the confirmation: nothing shipped, and no packages
    lagging = order_change("111-1", "Unshipped", [("SKU-1", 2, 0)], at=T0 + timedelta(minutes=10))
    assert _apply(_as_amazon_sends(lagging)) is Outcome.APPLIED

    order = _order("111-1")
    assert [(p.carrier, p.tracking_number) for p in order.shipments] == [("UPS", "1Z999AA10123456784")]
    assert [(i.sku, i.quantity) for p in order.shipments for i in p.items] == [("SKU-1", 2)]
    assert (order.status, order.items[0].quantity_shipped) == ("Shipped", 2)
    stock = _stock("SKU-1")
    assert (stock.on_hand, stock.reserved) == (3, 0), "the 2 units left the shelf once and are not held again"


def test_the_buyers_cancel_request_stays_on_the_order_when_a_later_notification_does_not_repeat_it(stack):
    _receive("SKU-1", 5)
    asked = order_change(
        "111-1", "Unshipped", [("SKU-1", 1, 0)], at=T0, change_type="BuyerRequestedChange", buyer_cancel=True
    )
    _apply(asked)
    assert "buyerRequestedCancel" in _order("111-1").flags

    later = order_change("111-1", "Unshipped", [("SKU-1", 1, 0)], at=T0 + timedelta(minutes=5))
    assert _apply(_as_amazon_sends(later)) is Outcome.APPLIED
    assert "buyerRequestedCancel" in _order("111-1").flags, "the seller still has to answer the buyer"

    asked_again = order_change(
        "111-1",
        "Unshipped",
        [("SKU-1", 1, 0)],
        at=T0 + timedelta(minutes=9),
        change_type="BuyerRequestedChange",
        buyer_cancel=True,
    )
    _apply(asked_again)
    assert _order("111-1").flags.count("buyerRequestedCancel") == 1


def test_the_purchase_date_stays_when_a_later_summary_has_none(stack):
    _apply(order_change("111-1", "Pending", [("SKU-1", 1, 0)], at=T0))
    bought = T0 - timedelta(minutes=1)
    assert _order("111-1").purchase_date == bought

    later = order_change("111-1", "Unshipped", [("SKU-1", 1, 0)], at=T0 + timedelta(hours=1))
    _summary(later)["PurchaseDate"] = None  # "null when there is no related information"
    assert _apply(_as_amazon_sends(later)) is Outcome.APPLIED

    order = _order("111-1")
    assert (order.status, order.purchase_date) == ("Unshipped", bought)


def test_an_order_item_level_notification_changes_only_the_item_it_names(stack):
    _receive("MUG", 5)
    _receive("CUP", 5)
    _apply(order_change("111-1", "Unshipped", [("MUG", 2, 0), ("CUP", 1, 0)], at=T0))

    # one payload per item: the cup shipped; the mug is not in this notification at all
    cup_shipped = order_change(
        "111-1", "PartiallyShipped", [("CUP", 1, 1)], at=T0 + timedelta(minutes=5), level="OrderItemLevel"
    )
    _summary(cup_shipped)["OrderItems"][0]["OrderItemId"] = "111-1-1"
    assert _apply(_as_amazon_sends(cup_shipped)) is Outcome.APPLIED

    order = _order("111-1")
    assert order.status == "PartiallyShipped"
    assert sorted((i.order_item_id, i.sku, i.quantity, i.quantity_shipped) for i in order.items) == [
        ("111-1-0", "MUG", 2, 0),
        ("111-1-1", "CUP", 1, 1),
    ]
    mug, cup = _stock("MUG"), _stock("CUP")
    assert (mug.on_hand, mug.reserved) == (5, 2), "the mug is still held for the order"
    assert (cup.on_hand, cup.reserved) == (4, 0)


def _published(document, at):
    document["NotificationMetadata"]["PublishTime"] = _z(at)
    return document


@pytest.mark.parametrize("arrival", ["as published", "reversed"])
def test_two_changes_at_the_same_event_time_are_ordered_by_publish_time(stack, arrival):
    _receive("SKU-1", 5)
    placed = _published(
        order_change("111-1", "Unshipped", [("SKU-1", 2, 0)], at=T0), T0 + timedelta(seconds=1)
    )
    canceled = _published(
        order_change("111-1", "Canceled", [("SKU-1", 2, 0)], at=T0), T0 + timedelta(seconds=2)
    )

    if arrival == "as published":
        assert [_apply(placed), _apply(canceled)] == [Outcome.APPLIED, Outcome.APPLIED]
    else:
        assert [_apply(canceled), _apply(placed)] == [Outcome.APPLIED, Outcome.STALE]

    assert _order("111-1").status == "Canceled"
    assert _stock("SKU-1").reserved == 0


def test_another_change_with_the_same_event_and_publish_time_is_stale(stack):
    _receive("SKU-1", 5)
    _apply(order_change("111-1", "Unshipped", [("SKU-1", 2, 0)], at=T0))

    same_instant = order_change("111-1", "Canceled", [("SKU-1", 2, 0)], at=T0)  # a new NotificationId
    assert _apply(same_instant) is Outcome.STALE

    assert _order("111-1").status == "Unshipped"
    assert _stock("SKU-1").reserved == 2


# --- any interleaving, duplication and delay converges ------------------------------------------


def _history():
    """One order's life: placed, partly shipped, shipped; and another order canceled."""
    return [
        order_change("A", "Pending", [("S1", 3, 0), ("S2", 1, 0)], at=T0),
        order_change("A", "Unshipped", [("S1", 3, 0), ("S2", 1, 0)], at=T0 + timedelta(minutes=1)),
        order_change("A", "PartiallyShipped", [("S1", 3, 2), ("S2", 1, 0)], at=T0 + timedelta(minutes=2)),
        order_change("A", "Shipped", [("S1", 3, 3), ("S2", 1, 1)], at=T0 + timedelta(minutes=3)),
        order_change("B", "Unshipped", [("S1", 4, 0)], at=T0),
        order_change(
            "B",
            "Canceled",
            [("S1", 4, 0)],
            at=T0 + timedelta(minutes=4),
            change_type="BuyerRequestedChange",
            buyer_cancel=True,
        ),
        order_change("C", "Unshipped", [("S2", 5, 0)], at=T0 + timedelta(minutes=5)),
    ]


def _snapshot():
    orders = {o: _order(o) for o in ("A", "B", "C")}
    stocks = {s: _stock(s) for s in ("S1", "S2")}
    return (
        {
            o: (
                v.status,
                [(i.sku, i.quantity, i.quantity_shipped, i.quantity_short) for i in v.items],
                sorted(v.flags),
            )
            for o, v in orders.items()
        },
        {s: (v.on_hand, v.reserved, v.backordered) for s, v in stocks.items()},
    )


@pytest.fixture
def in_order_result(stack):
    _receive("S1", 4)
    _receive("S2", 3)
    for document in _history():
        _apply(document)
    return _snapshot()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_interleaving_with_duplicates_gives_the_same_orders_and_stock(stack, in_order_result, seed):
    rng = random.Random(seed)
    deliveries = _history() + [rng.choice(_history()) for _ in range(rng.randint(0, 4))]
    rng.shuffle(deliveries)
    _reset_table(stack)
    _receive("S1", 4)
    _receive("S2", 3)
    for document in deliveries:
        _apply(document)
    assert _snapshot() == in_order_result


def _reset_table(stack) -> None:
    raw = stack.client("dynamodb")
    for page in raw.get_paginator("scan").paginate(TableName=stack.table_name, ProjectionExpression="pk, sk"):
        for item in page["Items"]:
            raw.delete_item(TableName=stack.table_name, Key=item)
