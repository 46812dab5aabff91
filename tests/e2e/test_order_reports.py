"""Order reports in the local stack: `oms report orders --view unshipped` writes the unshipped orders as CSV.

A stack of its own (`oms local --no-simulator`): orders are placed in the local marketplace with
`oms simulate order` and reach the table through the notification intake; one shipped order is stored
directly, so the report has something to leave out.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from oms.domain.orders import Order
from oms.store.orders import order_to_item
from oms.store.table import to_dynamo
from tests.e2e.support import Api, RunningStack, oms, wait_for

pytestmark = pytest.mark.e2e


def _store_shipped_order(stack: RunningStack) -> str:
    outputs = stack.outputs
    now = datetime.now(UTC).replace(microsecond=0)
    order = Order.model_validate(
        {
            "orderId": f"999-{uuid.uuid4().int % 10**7:07d}-0000001",
            "marketplaceId": "ATVPDKIKX0DER",
            "status": "Shipped",
            "fulfillmentChannel": "MFN",
            "purchaseDate": now - timedelta(hours=1),
            "lastUpdateDate": now,
            "items": [{"orderItemId": "OI-1", "sku": "SHIPPED-1", "quantity": 1, "quantityShipped": 1}],
        }
    )
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=outputs["AwsEndpointUrl"],
        region_name=outputs["Region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    dynamodb.put_item(TableName=outputs["TableName"], Item=to_dynamo(order_to_item(order, version=1)))
    return order.order_id


def test_oms_report_orders_writes_the_unshipped_orders_with_exactly_the_chosen_columns(
    stack: RunningStack, tmp_path
) -> None:
    api = Api(stack.outputs)
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    placed = {}
    for sku, quantity in (("REPORT-MUG", 2), ("REPORT-CUP", 3)):
        answer = oms("simulate", "order", "--sku", sku, "--quantity", str(quantity), *where)
        assert answer.returncode == 0, answer.stderr
        placed[answer.stdout.strip()] = (sku, str(quantity))
    shipped = _store_shipped_order(stack)
    for order_id in placed:
        assert wait_for(lambda o=order_id: api.get(f"/orders/{o}").status_code == 200, timeout=30), order_id

    out = tmp_path / "unshipped.csv"
    result = oms(
        "report",
        "orders",
        "--view",
        "unshipped",
        "--columns",
        "amazon-order-id,sku,quantity",
        "--output",
        str(out),
        *where,
    )

    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["amazon-order-id", "sku", "quantity"]
    assert sorted(tuple(r) for r in rows[1:]) == sorted((o, *line) for o, line in placed.items())
    assert shipped not in {r[0] for r in rows}
    assert "2 row(s) of the unshipped orders report" in result.stderr

    refused = oms("report", "orders", "--view", "late", *where)
    assert refused.returncode == 1
    assert "valid views: all, new, unshipped, archived" in refused.stderr
