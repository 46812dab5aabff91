"""Refunding returns through the local stack (issue 11's "done when": a refund goes through the feed and is
confirmed; a refused adjustment stays visible and is retried).

A stack of its own (`oms local --no-simulator`). Two orders are placed with `oms simulate order`, arrive
through the queue, are shipped (confirmed to Amazon) and priced by the backstop (`oms invoke
reconcile_orders`); each is returned and received over HTTP. Then:

- `kept`: refunded in full; `submit_refunds` (the table's stream) sends the adjustment feed, the marketplace
  processes it and sends FEED_PROCESSING_FINISHED through the queue, the report makes it submitted (the return
  refunded), and `oms invoke check_refunds` confirms it once Finances shows the refund event;
- `refused`: the marketplace is told to refuse the next adjustment: the refund is refused with Amazon's words
  on the return, which still awaits its refund; POSTed again, it goes through.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from tests.builders import WAREHOUSE_SETTINGS
from tests.e2e.support import Api, RunningStack, oms, wait_for

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"RET-MUG-{RUN}"
ARRIVAL_TIMEOUT = 30
FEED_TIMEOUT = 60  # stream -> feed -> processing (seconds) -> notification -> queue -> report
FINANCES_TIMEOUT = 90  # the marketplace posts a refund event 5 to 20 seconds after the adjustment
UPS_TRACKING = "1Z999AA10123456784"


@dataclass
class Returns:
    stack: RunningStack
    api: Api
    orders: dict[str, str] = field(default_factory=dict)  # role -> orderId
    returns: dict[str, str] = field(default_factory=dict)  # role -> returnId

    @property
    def where(self) -> tuple[str, ...]:
        return ("--port", str(self.stack.port), "--state-dir", str(self.stack.state_dir))

    def simulator(self, path: str, body: Any) -> dict[str, Any]:
        answer = self.api.session.post(
            f"{self.stack.outputs['SpApiEndpoint']}/_simulator{path}", json=body, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def get(self, path: str) -> dict[str, Any]:
        answer = self.api.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def ret(self, role: str) -> dict[str, Any]:
        return self.get(f"/returns/{self.returns[role]}")

    def refund(self, role: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.api.request(
            "POST",
            f"/returns/{self.returns[role]}/refund",
            json=body or {},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert answer.status_code == 202, answer.text
        return answer.json()

    def refund_becomes(self, role: str, status: str, timeout: float = FEED_TIMEOUT) -> dict[str, Any]:
        seen: list[Any] = []

        def settled() -> bool:
            seen.append(self.ret(role)["refund"])
            return bool(seen[-1]) and seen[-1]["status"] == status

        assert wait_for(settled, timeout, 0.5), f"the {role} refund never became {status}: {seen[-1:]}"
        return self.ret(role)


@pytest.fixture(scope="module")
def flow(stack: RunningStack) -> Iterator[Returns]:
    api = Api(stack.outputs)
    flow = Returns(stack, api)
    assert api.request("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS).status_code == 200
    path = f"/inventory/{quote(SKU, safe='')}"
    assert api.request("PUT", path, json={"channel": "MFN"}).status_code == 200
    received = api.request(
        "POST",
        f"{path}/adjustments",
        json={"delta": 10, "reason": "receipt", "reference": f"PO-{RUN}"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert received.status_code in (200, 201), received.text
    # no random refusals (the test refuses one on purpose); the backstop may read orders placed just now
    flow.simulator("/config", {"refundRefusalProbability": 0.0, "searchLagSeconds": 0})
    for role in ("kept", "refused"):
        placed = oms("simulate", "order", "--sku", SKU, "--quantity", "2", *flow.where)
        assert placed.returncode == 0, placed.stderr
        flow.orders[role] = placed.stdout.strip()
    for role, order_id in flow.orders.items():
        assert wait_for(
            lambda o=order_id: api.get(f"/orders/{o}").status_code == 200, ARRIVAL_TIMEOUT, 0.5
        ), role
        shipped = api.request(
            "POST",
            f"/orders/{order_id}/shipments",
            json={"carrier": "UPS", "trackingNumber": UPS_TRACKING, "multiOrderPackage": True},
        )
        assert shipped.status_code == 201, shipped.text
    backstop = oms("invoke", "reconcile_orders", *flow.where)
    assert backstop.returncode == 0, backstop.stdout + backstop.stderr
    for role, order_id in flow.orders.items():
        order = flow.get(f"/orders/{order_id}")
        assert order["items"][0]["unitPrice"], f"the backstop did not price the {role} order: {order}"
        recorded = api.request(
            "POST",
            "/returns",
            json={"orderId": order_id, "items": [{"sku": SKU, "quantity": 2, "reason": "UNWANTED_ITEM"}]},
        )
        assert recorded.status_code == 201, recorded.text
        flow.returns[role] = recorded.json()["returnId"]
        receipt = api.request(
            "POST",
            f"/returns/{flow.returns[role]}/receipts",
            json={"items": [{"sku": SKU, "quantity": 2, "grade": "sellable"}]},
        )
        assert receipt.status_code == 201, receipt.text
        assert receipt.json()["refundDueBy"]
    try:
        yield flow
    finally:
        api.session.close()


def test_a_received_return_is_refunded_through_the_feed_and_confirmed(flow: Returns) -> None:
    started = time.monotonic()
    pending = flow.refund("kept")
    price = flow.get(f"/orders/{flow.orders['kept']}")["items"][0]["unitPrice"]

    assert pending["refund"]["status"] == "pending"
    assert pending["refund"]["amount"]["amount"] == f"{float(price['amount']) * 2:.2f}"
    submitted = flow.refund_becomes("kept", "submitted")
    seconds_to_submitted = time.monotonic() - started
    assert submitted["status"] == "refunded"
    assert submitted["refund"]["feedId"]
    assert submitted["flags"] == []

    confirmed: list[dict[str, Any]] = []

    def check() -> bool:
        result = oms("invoke", "check_refunds", *flow.where)
        assert result.returncode == 0, result.stdout + result.stderr
        confirmed.append(json.loads(result.stdout))
        return flow.ret("kept")["refund"]["status"] == "confirmed"

    assert wait_for(check, FINANCES_TIMEOUT, 2), confirmed[-1:]
    print(f"measured: refund pending -> submitted in {seconds_to_submitted:.1f}s through the local stack")


def test_a_refused_refund_stays_visible_and_is_sent_again(flow: Returns) -> None:
    flow.simulator("/refunds/refuse", {"count": 1})
    flow.refund("refused")

    refused = flow.refund_becomes("refused", "refused")
    assert "could not be processed" in refused["refund"]["reason"], refused["refund"]
    assert refused["status"] == "restocked"  # still awaiting its refund
    assert refused["refundDueBy"]
    listed = flow.get(f"/returns?status=restocked&sku={quote(SKU, safe='')}")["items"]
    assert [r["refund"]["status"] for r in listed if r["returnId"] == flow.returns["refused"]] == ["refused"]

    again = flow.refund("refused")
    assert again["refund"]["attempt"] == 2
    assert flow.refund_becomes("refused", "submitted")["status"] == "refunded"
