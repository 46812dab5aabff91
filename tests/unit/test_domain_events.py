"""What a committed change of an order means to subscribers."""

from __future__ import annotations

from datetime import UTC, datetime

from oms.events import events_from_change

ORDER = {"entity": "Order", "orderId": "1", "status": "Unshipped", "fulfillmentChannel": "MFN", "items": []}
WHEN = datetime(2026, 11, 26, tzinfo=UTC)


def _types(old, new):
    return [e.detail_type for e in events_from_change(old, new, event_id="e", occurred_at=WHEN)]


def test_a_new_order_is_received():
    assert _types(None, ORDER) == ["OrderReceived"]


def test_a_status_change_and_a_cancellation():
    assert _types(ORDER, {**ORDER, "status": "Shipped"}) == ["OrderStatusChanged"]
    assert _types(ORDER, {**ORDER, "status": "Canceled"}) == ["OrderStatusChanged", "OrderCanceled"]


def test_changes_that_mean_nothing_announce_nothing():
    assert _types(ORDER, {**ORDER, "lastUpdateDate": "later"}) == []
    assert _types(ORDER, None) == []
    assert _types(None, {"entity": "BuyerData", "orderId": "1"}) == []


def test_each_event_has_its_own_id_for_deduplication():
    events = events_from_change(ORDER, {**ORDER, "status": "Canceled"}, event_id="abc", occurred_at=WHEN)
    assert len({e.event_id for e in events}) == 2


def test_an_order_that_becomes_short_of_stock_raises_one_stock_shortage():
    held = {"S1": {"needed": 3, "shipped": 0, "short": 2}, "S2": {"needed": 1, "shipped": 0, "short": 0}}
    short = {**ORDER, "flags": ["stockShortage"], "stockHeld": held}
    events = events_from_change(ORDER, short, event_id="e", occurred_at=WHEN)
    assert [e.detail_type for e in events] == ["StockShortage"]
    assert events[0].data["skus"] == {"S1": 2}  # units short now, of the short SKUs only
    assert _types(short, {**short, "lastUpdateDate": "later"}) == []


STOCK = {
    "entity": "Stock",
    "sku": "S1",
    "location": "default",
    "onHand": 10,
    "reserved": 0,
    "reorderPoint": 5,
}


def test_falling_to_the_reorder_point_raises_one_stock_low_and_staying_low_none():
    low = {**STOCK, "onHand": 5}
    assert _types(STOCK, low) == ["StockLow"]
    assert _types(low, {**low, "onHand": 3}) == []
    assert _types({**low, "onHand": 3}, {**STOCK, "onHand": 9}) == []  # back above: nothing to announce
    assert _types({**STOCK, "onHand": 9}, {**STOCK, "onHand": 4}) == ["StockLow"]  # a new crossing


def test_running_out_raises_stock_out_once():
    assert _types({**STOCK, "onHand": 4}, {**STOCK, "onHand": 2, "reserved": 2}) == ["StockOut"]
    assert (
        _types({**STOCK, "onHand": 2, "reserved": 2}, {**STOCK, "onHand": 2, "reserved": 2, "backordered": 1})
        == []
    )


def test_a_sku_without_a_reorder_point_is_never_low():
    plain = {k: v for k, v in STOCK.items() if k != "reorderPoint"}
    assert _types(plain, {**plain, "onHand": 1}) == []
