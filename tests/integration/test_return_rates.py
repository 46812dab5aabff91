"""Return rates through the API on moto: shipped units counted once in the transaction that ships them
(however often Amazon reports it), returned units in the one that records the return, read back per SKU and
for the seller over 30 or 90 warehouse days, from counters (no order or return read)."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from oms.amazon.notifications import Notification
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.conftest import TEST_CLOCK

MUG, CUP = "MUG-RED", "CUP-BLUE"


def _notify(order_id: str, status: str, items, *, at=TEST_CLOCK, channel: str = "MFN") -> None:
    document = order_change(
        order_id, status, items, channel=channel, at=at, purchased=at - timedelta(hours=1)
    )
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _return(stack, context, order_id: str, sku: str, quantity: int, reason: str) -> None:
    body = {"orderId": order_id, "items": [{"sku": sku, "quantity": quantity, "reason": reason}]}
    status, answer = call_api(stack, context, "POST", "/returns", body)
    assert status == 201, answer


def _rates(stack, context, **query: str) -> dict:
    status, answer = call_api(stack, context, "GET", "/metrics/return-rates", query=query)
    assert status == 200, answer
    return answer


def test_rates_count_each_shipped_unit_once_and_each_returned_unit_by_its_reason(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), MUG, StockPolicy())
    adjust_stock(default_table(), MUG, 40, reason="receipt", reference="PO-1", actor="test")
    long_ago = TEST_CLOCK - timedelta(days=40)
    with time_machine.travel(long_ago, tick=False):  # shipped 40 days ago: in the 90 days, not the 30
        _notify("111-0", "Unshipped", [(MUG, 5, 0)], at=long_ago)
        _notify("111-0", "Shipped", [(MUG, 5, 5)], at=long_ago + timedelta(minutes=5))
    _notify("111-1", "Unshipped", [(MUG, 25, 0)])
    _notify("111-1", "PartiallyShipped", [(MUG, 25, 10)], at=TEST_CLOCK + timedelta(minutes=1))
    _notify("111-1", "Shipped", [(MUG, 25, 25)], at=TEST_CLOCK + timedelta(minutes=2))
    _notify("111-1", "Shipped", [(MUG, 25, 25)], at=TEST_CLOCK + timedelta(minutes=3))  # told twice
    _notify("112-1", "Shipped", [(CUP, 30, 30)], channel="AFN")  # first seen shipped, by Amazon
    _return(stack, context, "111-1", MUG, 4, "DEFECTIVE")
    _return(stack, context, "111-1", MUG, 2, "NOT_AS_DESCRIBED")
    _return(stack, context, "111-0", MUG, 1, "DEFECTIVE")

    month = _rates(stack, context)
    assert (month["days"], month["to"]) == (30, "2026-11-24")  # the warehouse's day (New York)
    assert month["from"] == "2026-10-26"
    assert month["seller"] == {"unitsShipped": 55, "unitsReturned": 7, "rate": round(7 / 55, 4)}
    mug, cup = month["items"]
    assert (mug["sku"], mug["unitsShipped"], mug["unitsReturned"], mug["rate"]) == (MUG, 25, 7, 0.28)
    assert mug["reasons"] == [{"reason": "DEFECTIVE", "units": 5}, {"reason": "NOT_AS_DESCRIBED", "units": 2}]
    assert mug["flagged"] is True  # 28 % against the seller's 12.7 %, with 25 shipped and 7 returned
    assert (cup["sku"], cup["rate"], cup["reasons"], cup["flagged"]) == (CUP, 0.0, [], False)

    quarter = _rates(stack, context, days="90")
    assert quarter["seller"]["unitsShipped"] == 60 and quarter["from"] == "2026-08-27"
    assert [i["sku"] for i in _rates(stack, context, sku=CUP)["items"]] == [CUP]
    assert call_api(stack, context, "GET", "/metrics/return-rates", query={"days": "7"})[0] == 400


def test_a_shipment_recorded_here_and_then_reported_by_amazon_counts_once(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), MUG, StockPolicy())
    adjust_stock(default_table(), MUG, 10, reason="receipt", reference="PO-1", actor="test")
    _notify("113-1", "Unshipped", [(MUG, 3, 0)])
    body = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
    status, answer = call_api(stack, context, "POST", "/orders/113-1/shipments", body)
    assert status in (200, 201), answer
    assert _rates(stack, context)["seller"]["unitsShipped"] == 3
    _notify("113-1", "Shipped", [(MUG, 3, 3)], at=TEST_CLOCK + timedelta(minutes=5))
    assert _rates(stack, context)["seller"] == {"unitsShipped": 3, "unitsReturned": 0, "rate": 0.0}
