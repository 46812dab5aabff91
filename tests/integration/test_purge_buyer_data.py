"""Buyer PII is gone once its retention after delivery ends (Amazon's Data Protection Policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.shipping.buyer_data import BuyerData, keep_buyer_data
from oms.store import keys
from oms.store.default import default_table
from tests.conftest import load_event


def test_the_daily_purge_deletes_only_buyer_data_past_its_retention(stack, context):
    table = default_table()
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
        TableName=stack.table_name, Key={"pk": {"S": "ORDER#OLD"}, "sk": {"S": "BUYER"}}
    )
    assert table.get(keys.buyer_key("NEW"))["name"] == "John Buyer"


def test_expired_buyer_data_reads_as_gone_even_before_it_is_purged(stack):
    table = default_table()
    keep_buyer_data(
        table,
        BuyerData(order_id="OLD", name="Jane Buyer"),
        delivered_at=datetime.now(UTC) - timedelta(days=40),
        retention_days=28,
    )
    assert table.get(keys.buyer_key("OLD")) is None
