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
    short = {**ORDER, "flags": ["stockShortage"], "stockHeld": {"S1": {"needed": 3, "shipped": 0}}}
    events = events_from_change(ORDER, short, event_id="e", occurred_at=WHEN)
    assert [e.detail_type for e in events] == ["StockShortage"]
    assert events[0].data["skus"] == {"S1": 3}
    assert _types(short, {**short, "lastUpdateDate": "later"}) == []
