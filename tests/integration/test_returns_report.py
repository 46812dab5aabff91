"""The returns report through the API on moto: chosen columns, one row per returned SKU, times in the
warehouse's zone, JSON pages and CSV, unknown columns refused naming the valid ones."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.conftest import TEST_CLOCK, load_event
from tests.integration.test_order_reports import _headers
from tests.integration.test_returns import ALBANY, _order

MUG, CUP = "MUG-RED", "CUP-BLUE"


@pytest.fixture
def returns(stack, context) -> list[str]:
    """Order 111-1 (3 mugs, 2 cups) shipped; a return of 2 mugs and 1 cup received (1 mug damaged), then a
    later one of 1 mug closed as never sent."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    for sku in (MUG, CUP):
        set_policy(default_table(), sku, StockPolicy())
        adjust_stock(default_table(), sku, 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(MUG, 3, 3), (CUP, 2, 2)])
    body = {
        "orderId": "111-1",
        "items": [{"sku": MUG, "quantity": 2, "reason": "=HYPERLINK(1)"}, {"sku": CUP, "quantity": 1}],
    }
    first = call_api(stack, context, "POST", "/returns", body)[1]["returnId"]
    lines = [
        {"sku": MUG, "quantity": 1, "grade": "sellable"},
        {"sku": MUG, "quantity": 1, "grade": "damaged"},
        {"sku": CUP, "quantity": 1, "grade": "sellable"},
    ]
    assert call_api(stack, context, "POST", f"/returns/{first}/receipts", {"items": lines})[0] == 201
    with time_machine.travel(TEST_CLOCK + timedelta(days=1), tick=False):
        second_body = {"orderId": "111-1", "items": [{"sku": MUG, "quantity": 1, "reason": "UNWANTED_ITEM"}]}
        second = call_api(stack, context, "POST", "/returns", second_body)[1]["returnId"]
        closed = call_api(stack, context, "POST", f"/returns/{second}/close", {"reason": "never sent"})
        assert closed[0] == 200
    return [first, second]


def _raw(stack, context, query: dict[str, str]) -> dict[str, Any]:
    event = load_event("api/get_order.json")
    event.update(
        httpMethod="GET",
        path="/reports/returns",
        body=None,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()},
    )
    return stack.handler("api").lambda_handler(event, context)


def test_the_csv_has_the_chosen_columns_one_row_per_sku_newest_first_in_warehouse_time(
    stack, context, returns
):
    first, second = returns
    columns = "return-id,sku,return-quantity,return-reason,status,units-sellable,grades,return-request-date,closed-reason"
    answer = _raw(stack, context, {"format": "csv", "columns": columns})
    assert answer["statusCode"] == 200, answer["body"]
    assert _headers(answer)["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer["body"])))
    assert rows[0] == columns.split(",")
    requested = (TEST_CLOCK + timedelta(days=1)).astimezone(ALBANY).isoformat(timespec="seconds")
    assert rows[1][:5] == [second, MUG, "1", "UNWANTED_ITEM", "closed"]
    assert rows[1][7].startswith(requested[:16]) and rows[1][7].endswith("-05:00")  # New York, November
    assert rows[1][8] == "never sent"
    assert rows[2][:7] == [first, MUG, "2", "'=HYPERLINK(1)", "restocked", "1", "damaged:1 sellable:1"]
    assert rows[3][:7] == [first, CUP, "1", "", "restocked", "1", "sellable:1"]
    assert len(rows) == 4


def test_json_pages_a_time_range_and_bad_columns(stack, context, returns):
    first, second = returns
    status, page = call_api(stack, context, "GET", "/reports/returns", query={"limit": "1"})
    assert status == 200, page
    assert page["columns"][:3] == ["return-id", "order-id", "amazon-rma-id"]
    assert [r["return-id"] for r in page["items"]] == [second]
    status, rest = call_api(
        stack, context, "GET", "/reports/returns", query={"limit": "1", "nextToken": page["nextToken"]}
    )
    assert [r["return-id"] for r in rest["items"]] == [first, first]  # one row per SKU
    until = (TEST_CLOCK + timedelta(hours=12)).isoformat().replace("+00:00", "Z")
    early = call_api(stack, context, "GET", "/reports/returns", query={"to": until, "columns": "return-id"})[
        1
    ]
    assert early["items"] == [{"return-id": first}, {"return-id": first}]
    status, refused = call_api(
        stack, context, "GET", "/reports/returns", query={"columns": "return-id,colour"}
    )
    assert status == 400 and "valid columns: return-id" in refused["error"]["message"]
    assert refused["error"]["details"][0]["field"] == "columns"
    catalogue = call_api(stack, context, "GET", "/reports/returns/columns")[1]["items"]
    assert {"tracking-id", "refund-due-by", "decision-due-by"} <= {c["name"] for c in catalogue}
