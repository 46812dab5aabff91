"""gsi3 holds the work queue only (seller-fulfilled orders awaiting shipment): fewer index writes (cost)."""

from __future__ import annotations

from datetime import UTC, datetime

from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.store import keys
from oms.store.orders import order_item_over, order_to_item

PURCHASED = datetime(2026, 11, 26, 9, tzinfo=UTC)


def _order(status: OrderStatus, channel: FulfillmentChannel = FulfillmentChannel.MFN) -> Order:
    return Order(
        order_id="111-0000001-0000000",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=PURCHASED,
        last_update_date=PURCHASED,
        items=[OrderItem(order_item_id="1", sku="MUG", quantity=1)],
    )


def test_only_seller_fulfilled_orders_awaiting_shipment_are_in_gsi3():
    for status in OrderStatus:
        for channel in FulfillmentChannel:
            item = order_to_item(_order(status, channel))
            in_queue = channel == FulfillmentChannel.MFN and status in (
                OrderStatus.UNSHIPPED,
                OrderStatus.PARTIALLY_SHIPPED,
            )
            assert ("gsi3pk" in item) is in_queue, (status, channel)
            assert ("gsi3sk" in item) is in_queue, (status, channel)
            assert item["gsi1pk"] == keys.ALL_ORDERS and item["gsi2pk"] == f"ORDERS#STATUS#{status.value}"


def test_an_order_written_over_its_stored_item_leaves_the_work_queue_when_shipped():
    stored = {
        **order_to_item(_order(OrderStatus.UNSHIPPED)),
        "version": 3,
        "stockHeld": {"MUG": {"needed": 1}},
    }
    assert stored["gsi3pk"] == "ORDERS#STATUS#Unshipped#CHANNEL#MFN"

    shipped = order_item_over(stored, _order(OrderStatus.SHIPPED))

    assert "gsi3pk" not in shipped and "gsi3sk" not in shipped
    assert shipped["gsi2pk"] == "ORDERS#STATUS#Shipped"
    assert shipped["version"] == 3 and shipped["stockHeld"] == {"MUG": {"needed": 1}}, "the rest is kept"


def test_a_status_and_channel_outside_the_work_queue_are_read_from_the_status_index():
    queue = keys.orders_by_status("Unshipped", "MFN", None)
    assert (queue.index, queue.partition) == ("gsi3", "ORDERS#STATUS#Unshipped#CHANNEL#MFN")
    assert not keys.channel_read_from_status_index("Unshipped", "MFN")
    for status, channel in (("Shipped", "MFN"), ("Unshipped", "AFN"), ("Pending", "MFN")):
        query = keys.orders_by_status(status, channel, None)
        assert (query.index, query.partition) == ("gsi2", f"ORDERS#STATUS#{status}")
        assert keys.channel_read_from_status_index(status, channel)
