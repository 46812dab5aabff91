"""Finding every return, through the local stack: a buyer returns a shipped order in the local marketplace
(`oms simulate return`), the returns sync asks Amazon's Reports API for the returns reports (`oms invoke
sync_returns`), REPORT_PROCESSING_FINISHED travels through the notification queue, and the finished report
comes back to sync_returns on the table's stream: the return appears. Every notification is delivered twice
and the next run reads an overlapping window: the return changes nothing twice.

A stack of its own (`oms local --no-simulator`: the local SP-API answers, no background buyers).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from oms.store import keys
from oms.store.table import from_dynamo, to_dynamo
from oms_local import harness
from tests.builders import WAREHOUSE_SETTINGS
from tests.e2e.support import Api, RunningStack, oms, wait_for

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT = 60
RUN = uuid.uuid4().hex[:6].upper()
SKU = f"RET-MUG-{RUN}"
UPS_TRACKING = "1Z999AA10123456784"


@dataclass
class Seller:
    stack: RunningStack
    api: Api
    order_id: str = ""

    @property
    def where(self) -> tuple[str, ...]:
        return ("--port", str(self.stack.port), "--state-dir", str(self.stack.state_dir))

    def simulator(self, path: str, method: str = "GET", body: Any = None) -> dict[str, Any]:
        answer = self.api.session.request(
            method, f"{self.stack.outputs['SpApiEndpoint']}/_simulator{path}", json=body, timeout=10
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def sync(self) -> list[str]:
        """`oms invoke sync_returns`: the report ids it asked for."""
        ran = oms("invoke", "sync_returns", *self.where)
        assert ran.returncode == 0, ran.stderr
        requested: list[str] = json.loads(ran.stdout)["result"]["requested"]
        return requested

    def applied(self, report_id: str) -> dict[str, Any] | None:
        answer = harness.aws_client(self.stack.outputs, "dynamodb").get_item(
            TableName=self.stack.outputs["TableName"],
            Key=to_dynamo(keys.returns_report_applied_key(report_id)),
            ConsistentRead=True,
        )
        return from_dynamo(answer["Item"]) if "Item" in answer else None

    def returns_of_order(self) -> list[dict[str, Any]]:
        answer = self.api.get("/returns", params={"sku": SKU})
        assert answer.status_code == 200, answer.text
        return [r for r in answer.json()["items"] if r["orderId"] == self.order_id]


@pytest.fixture(scope="module")
def seller(stack: RunningStack) -> Iterator[Seller]:
    """An MFN order of 2 mugs placed in the local marketplace, arrived through the queue, shipped with UPS."""
    api = Api(stack.outputs)
    seller = Seller(stack, api)
    assert api.request("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS).status_code == 200
    path = f"/inventory/{quote(SKU, safe='')}"
    assert api.request("PUT", path, json={"channel": "MFN"}).status_code == 200
    received = api.request(
        "POST",
        f"{path}/adjustments",
        json={"delta": 5, "reason": "receipt", "reference": f"PO-{RUN}"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert received.status_code in (200, 201), received.text
    placed = oms("simulate", "order", "--sku", SKU, "--quantity", "2", *seller.where)
    assert placed.returncode == 0, placed.stderr
    seller.order_id = placed.stdout.strip()
    arrived = wait_for(
        lambda: (
            api.get(f"/orders/{seller.order_id}").status_code == 200
            and api.get(f"/orders/{seller.order_id}").json()["status"] == "Unshipped"
        ),
        SYNC_TIMEOUT,
        interval=0.25,
    )
    assert arrived, "the order never arrived through the queue"
    shipped = api.request(
        "POST",
        f"/orders/{seller.order_id}/shipments",
        json={"carrier": "UPS", "trackingNumber": UPS_TRACKING},
    )
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["shipment"]["confirmation"]["status"] == "confirmed"
    # Amazon delivers at least once: every notification twice from here on.
    seller.simulator("/config", "POST", {"duplicateProbability": 1.0, "delayProbability": 0.0})
    yield seller


def test_a_buyers_return_appears_after_the_returns_sync(seller: Seller) -> None:
    made = oms(
        "simulate", "return", "--order", seller.order_id, "--quantity", "1", "--reason", "DEFECTIVE",
        "--in-policy", *seller.where,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    buyer_return = json.loads(made.stdout)
    assert buyer_return["amazonRmaId"] and buyer_return["trackingId"]
    assert seller.returns_of_order() == [], "nothing here before the sync"

    started = time.monotonic()
    # A report's window ends at the whole second the sync asked it: a return made within that second comes
    # with the next run's overlapping window (as at Amazon, whose reports also lag), so ask up to 3 times.
    for _ in range(3):
        requested = seller.sync()
        assert len(requested) == 2, "the seller-fulfilled and the FBA returns reports"
        assert wait_for(lambda r=requested: all(seller.applied(x) for x in r), SYNC_TIMEOUT, interval=0.5)
        if seller.returns_of_order():
            break
    assert seller.returns_of_order(), "the return never appeared"
    print(
        f"a buyer's return appeared {time.monotonic() - started:.1f}s after `oms invoke sync_returns` began"
    )
    assert wait_for(lambda: all(seller.applied(r) for r in requested), SYNC_TIMEOUT, interval=0.5)

    (found,) = seller.returns_of_order()
    assert (found["source"], found["status"], found["amazonRmaId"]) == (
        "amazon", "authorized", buyer_return["amazonRmaId"],
    )  # fmt: skip
    assert (found["trackingId"], found["carrier"], found["inPolicy"]) == (
        buyer_return["trackingId"],
        "UPS",
        True,
    )
    assert found["items"][0]["sku"] == SKU and found["items"][0]["quantity"] == 1
    assert found["items"][0]["reason"] == "DEFECTIVE"
    fba_marker = seller.applied(requested[1])
    assert fba_marker is not None and fba_marker["processingStatus"] == "CANCELLED", (
        "no FBA returns: Amazon ends the empty report CANCELLED, read as no returns"
    )


def test_the_same_report_twice_and_an_overlapping_one_change_nothing_twice(seller: Seller) -> None:
    (before,) = seller.returns_of_order()
    whole_before = seller.api.get(f"/returns/{before['returnId']}").json()

    requested = seller.sync()  # the next window overlaps the last: the same row again
    assert wait_for(lambda: all(seller.applied(r) for r in requested), SYNC_TIMEOUT, interval=0.5)
    marker = seller.applied(requested[0])
    assert marker is not None and marker["unchanged"] == 1 and marker.get("created", 0) == 0

    assert seller.returns_of_order() == [before]
    assert seller.api.get(f"/returns/{before['returnId']}").json() == whole_before


def _receive(seller: Seller, return_id: str, grade: str) -> dict[str, Any]:
    answer = seller.api.request(
        "POST",
        f"/returns/{return_id}/receipts",
        json={"items": [{"sku": SKU, "quantity": 1, "grade": grade}]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_return_received_sellable_reaches_amazons_listing_and_a_damaged_one_is_written_off(
    seller: Seller,
) -> None:
    """Issue 11's walk: the return found by the sync is received sellable, so its unit is available again and
    Amazon's listing (the local marketplace's) shows it; the buyer's second unit comes back damaged, found by
    the next sync, and is written off. The ledger shows both."""
    from tests.e2e.test_inventory_sync import LocalAmazon

    amazon = LocalAmazon(seller.stack.outputs)
    stock_path = f"/inventory/{quote(SKU, safe='')}"
    (first,) = seller.returns_of_order()
    available = seller.api.get(stock_path).json()["available"]
    listed = amazon.listing_quantity(SKU)

    received = _receive(seller, first["returnId"], "sellable")
    assert received["status"] == "restocked" and received["refundDueBy"]
    assert seller.api.get(stock_path).json()["available"] == available + 1
    assert wait_for(lambda: amazon.listing_quantity(SKU) == available + 1, SYNC_TIMEOUT, interval=0.5), (
        f"Amazon's listing shows {amazon.listing_quantity(SKU)} (was {listed}), not {available + 1}"
    )

    made = oms(
        "simulate", "return", "--order", seller.order_id, "--quantity", "1", "--reason", "DAMAGED_BY_CARRIER",
        "--in-policy", *seller.where,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    def second() -> dict[str, Any] | None:
        return next((r for r in seller.returns_of_order() if r["returnId"] != first["returnId"]), None)

    for _ in range(3):  # a report's window ends at the second it was asked: the next run's overlap has it
        requested = seller.sync()
        assert wait_for(lambda r=requested: all(seller.applied(x) for x in r), SYNC_TIMEOUT, interval=0.5)
        if second():
            break
    damaged = second()
    assert damaged is not None, "the second return never appeared"
    written_off = _receive(seller, damaged["returnId"], "carrier-damaged")
    assert written_off["status"] == "written-off"
    assert seller.api.get(stock_path).json()["available"] == available + 1, "a damaged unit is not stock"

    ledger = seller.api.get(f"{stock_path}/ledger").json()["items"]
    by_reference = {(e["reason"], e["reference"]): e["delta"] for e in ledger}
    assert by_reference[("return", first["returnId"])] == 1
    assert by_reference[("return-write-off", damaged["returnId"])] == 0
