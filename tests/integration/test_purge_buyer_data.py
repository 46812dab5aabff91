"""Buyer PII is gone once its retention after delivery ends (Amazon's Data Protection Policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.shipping.buyer_data import BuyerData, keep_buyer_data
from oms.store import keys
from oms.store.default import default_buyer_table
from tests.conftest import load_event


def test_the_daily_purge_deletes_only_buyer_data_past_its_retention(stack, context):
    table = default_buyer_table()
    now = datetime.now(UTC)
    address = {"city": "Ann Arbor", "postalCode": "48110"}
    keep_buyer_data(
        table,
        BuyerData(order_id="OLD", name="Jane Buyer", address=address),
        delivered_at=now - timedelta(days=40),
        retention_days=28,
    )
    keep_buyer_data(
        table,
        BuyerData(order_id="NEW", name="John Buyer", address=address),
        delivered_at=now - timedelta(days=1),
        retention_days=28,
    )

    answer = stack.handler("purge_buyer_data").lambda_handler(
        load_event("purge_buyer_data/schedule.json"), context
    )

    assert answer == {"purged": 1}
    raw = stack.client("dynamodb")
    assert "Item" not in raw.get_item(
        TableName=stack.environment["BUYER_DATA_TABLE"], Key={"pk": {"S": "ORDER#OLD"}, "sk": {"S": "BUYER"}}
    )
    assert table.get(keys.buyer_key("NEW"))["name"] == "John Buyer"


def test_expired_buyer_data_reads_as_gone_even_before_it_is_purged(stack):
    table = default_buyer_table()
    keep_buyer_data(
        table,
        BuyerData(order_id="OLD", name="Jane Buyer"),
        delivered_at=datetime.now(UTC) - timedelta(days=40),
        retention_days=28,
    )
    assert table.get(keys.buyer_key("OLD")) is None


def test_retention_starts_at_the_earliest_promised_delivery_not_the_latest():
    """A parcel may arrive at the start of Amazon's delivery window: the 30 days run from there."""
    from oms.domain.orders import FulfillmentChannel, Order, OrderStatus
    from oms.shipping.buyer_data import retention_starts

    now = datetime(2026, 12, 1, 15, tzinfo=UTC)
    order = Order(
        order_id="111-0000000-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.UNSHIPPED,
        fulfillment_channel=FulfillmentChannel.MFN,
        purchase_date=now,
        last_update_date=now,
        earliest_delivery_date=now + timedelta(days=2),
        latest_delivery_date=now + timedelta(days=9),
    )
    assert retention_starts(order, now) == now + timedelta(days=2)
    no_promise = order.model_copy(update={"earliest_delivery_date": None, "latest_delivery_date": None})
    assert retention_starts(no_promise, now) == now
