"""Finding returns through the API on moto: the receiving screen's scan (`GET /returns?q=`) by return id,
order id, Amazon's RMA id or the return parcel's tracking number; a SKU's returns in one status paged
properly (every page full until the last, the token resuming where the page stopped)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from oms.domain.returns import ReturnItem, ReturnSource, new_return
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.returns.records import ReturnRecords
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.conftest import TEST_CLOCK
from tests.integration.test_returns import SKU, _order

OTHER = "MUG-BLUE"


@pytest.fixture
def shipped(stack, context) -> str:
    """The warehouse set up, mugs on hand; order 111-1 (3 red mugs) and 111-2 (8 red, 1 blue) shipped."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    for sku in (SKU, OTHER):
        set_policy(default_table(), sku, StockPolicy())
        adjust_stock(default_table(), sku, 20, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(SKU, 3, 3)])
    _order("111-2", "Shipped", [(SKU, 8, 8), (OTHER, 1, 1)])
    return "111-1"


def _from_amazon(order_id: str, return_id: str, rma: str, tracking: str | None, at=TEST_CLOCK) -> None:
    """A return from Amazon's report as the returns sync stores it: with its order's list of returns, its SKU
    markers and its lookup markers, in one transaction."""
    table = default_table()
    order = OrderRepository(table).get(order_id)
    ret = new_return(
        order,
        [ReturnItem(sku=SKU, quantity=1, reason="CR-DAMAGED_BY_CARRIER")],
        return_id=return_id,
        at=at,
        source=ReturnSource.AMAZON,
        amazon_rma_id=rma,
    ).model_copy(update={"tracking_id": tracking, "carrier": "UPS" if tracking else None})
    order_returns = table.get(keys.order_returns_key(order_id), consistent=True)
    table.transact(ReturnRecords(table)._record_writes(ret, order_returns))


def _found(stack, context, **query: str) -> list[str]:
    status, answer = call_api(stack, context, "GET", "/returns", query=query)
    assert status == 200, answer
    assert answer["nextToken"] is None
    return [r["returnId"] for r in answer["items"]]


def test_a_scan_finds_a_return_by_its_id_its_order_its_rma_id_or_its_tracking_number(stack, context, shipped):
    _from_amazon("111-1", "RET-AMZ1", "DqV7xBbmRRMA", "1Z999AA10123456784")
    with time_machine.travel(TEST_CLOCK + timedelta(hours=1), tick=False):
        _from_amazon("111-1", "RET-AMZ2", "Dk2mNoTrkRMA", None)
    seller = call_api(
        stack, context, "POST", "/returns", {"orderId": "111-2", "items": [{"sku": SKU, "quantity": 1}]}
    )[1]["returnId"]

    assert _found(stack, context, q="RET-AMZ1") == ["RET-AMZ1"]
    assert _found(stack, context, q=seller.lower()) == [seller]  # typed in lower case
    assert _found(stack, context, q="111-1") == ["RET-AMZ2", "RET-AMZ1"]  # newest request first
    assert _found(stack, context, q=" 111-2 ") == [seller]
    assert _found(stack, context, q="dqv7xbbmrrma") == ["RET-AMZ1"]
    assert _found(stack, context, q="1Z 999 AA1 0123 4567 84") == ["RET-AMZ1"]  # as printed on the label
    assert _found(stack, context, q="1Z999AA10123456785") == []
    _from_amazon("111-2", "RET-USPS", "DqUsPsRMA01", "9400111899223100012345")
    assert _found(stack, context, q="420122079400111899223100012345") == ["RET-USPS"]  # the label's barcode
    assert _found(stack, context, q="42012207123494001118992231000123") == []  # not a ZIP it could carry
    assert _found(stack, context, q="111-1", status="requested", sku=SKU) == ["RET-AMZ2", "RET-AMZ1"]
    assert _found(stack, context, q="111-1", status="authorized") == []
    assert _found(stack, context, q="111-1", sku=OTHER) == []
    assert _found(stack, context, q="111-1", to="2020-01-01T00:00:00Z") == []


@pytest.mark.parametrize("q", ["", "   ", "x" * 201])
def test_an_empty_or_overlong_scan_is_a_400(stack, context, shipped, q):
    status, answer = call_api(stack, context, "GET", "/returns", query={"q": q})
    assert status == 400, answer
    assert answer["error"]["details"][0]["field"] == "q"


def test_a_skus_returns_in_one_status_come_in_full_pages_until_the_last(stack, context, shipped):
    records = ReturnRecords(default_table())
    ids = []
    for n in range(9):  # 9 returns of one red mug each, an hour apart; every third is closed
        with time_machine.travel(TEST_CLOCK + timedelta(hours=n), tick=False):
            ret, _ = records.record("111-2", [ReturnItem(sku=SKU, quantity=1)], return_id=f"RET-P{n}")
            ids.append(ret.return_id)
            if n % 3 == 0:
                body = {"reason": "never came back"}
                assert call_api(stack, context, "POST", f"/returns/{ret.return_id}/close", body)[0] == 200
    open_ones = [i for n, i in enumerate(ids) if n % 3][::-1]  # newest first
    records.record("111-2", [ReturnItem(sku=OTHER, quantity=1)], return_id="RET-BLUE")

    pages, token = [], None
    while True:
        query = {"sku": SKU, "status": "authorized", "limit": "2"} | ({"nextToken": token} if token else {})
        status, answer = call_api(stack, context, "GET", "/returns", query=query)
        assert status == 200, answer
        pages.append([r["returnId"] for r in answer["items"]])
        token = answer["nextToken"]
        if token is None:
            break
    assert [len(p) for p in pages[:-1]] == [2, 2, 2]  # no short page before the end
    assert [i for p in pages for i in p] == open_ones
    closed = call_api(stack, context, "GET", "/returns", query={"sku": SKU, "status": "closed"})[1]["items"]
    assert [r["returnId"] for r in closed] == [ids[6], ids[3], ids[0]]
