"""Webhooks in through the local stack: the local API Gateway serves POST /webhooks/{integrationId} without
the authorizer to the receiver function, which queues for the processor: a carrier's signed delivered scan
marks a shipment delivered, a 3PL's receipt sent with `oms webhook send` lands in the ledger, and a replayed,
tampered or unknown one changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from oms.integrations.signatures import Scheme, key_of_secret, sign
from tests.builders import WAREHOUSE_SETTINGS
from tests.e2e.support import Api, RunningStack, oms, wait_for

pytestmark = pytest.mark.e2e

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"HOOK-MUG-{RUN}"
UPS_TRACKING = "1Z999AA10123456784"  # passes UPS's check digit
ARRIVAL_TIMEOUT = 30


@pytest.fixture(scope="module")
def api(stack: RunningStack) -> Api:
    return Api(stack.outputs)


def _integration(api: Api, kind: str, scheme: str) -> dict[str, Any]:
    answer = api.request(
        "POST", "/integrations", json={"name": f"{kind} {RUN}", "kind": kind, "scheme": scheme}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _post_webhook(api: Api, integration_id: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    # no Authorization header: the route is public, the signature is the authentication
    return api.request(
        "POST",
        f"/webhooks/{integration_id}",
        token=None,
        data=body,
        headers={"Content-Type": "application/json", **headers},
    )


def test_a_signed_delivered_scan_through_the_gateway_marks_the_shipment_delivered(
    api: Api, stack: RunningStack
):
    assert api.request("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS).status_code == 200
    assert api.request("PUT", f"/inventory/{SKU}", json={"channel": "MFN"}).status_code == 200
    received = api.request("POST", f"/inventory/{SKU}/adjustments", json={"delta": 5, "reason": "receipt"})
    assert received.status_code == 201, received.text
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    placed = oms("simulate", "order", "--sku", SKU, "--quantity", "1", *where)
    assert placed.returncode == 0, placed.stderr
    order_id = placed.stdout.strip()
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, ARRIVAL_TIMEOUT)
    shipped = api.request(
        "POST", f"/orders/{order_id}/shipments", json={"carrier": "UPS", "trackingNumber": UPS_TRACKING}
    )
    assert shipped.status_code == 201, shipped.text

    carrier = _integration(api, "tracking", "standard-webhooks")
    key = key_of_secret(Scheme.STANDARD_WEBHOOKS, carrier["secret"])
    delivered_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    body = json.dumps(
        {
            "trackingNumber": UPS_TRACKING,
            "carrier": "UPS",
            "status": "delivered",
            "at": delivered_at.isoformat(),
        }
    ).encode()
    headers = sign(Scheme.STANDARD_WEBHOOKS, key, body, delivery_id=f"msg_{RUN}", sent_at=datetime.now(UTC))

    # forgeries first: each the same 401, and nothing reaches the shipment
    refusals = [
        _post_webhook(api, carrier["integrationId"], body.replace(b"delivered", b"exception"), headers),
        _post_webhook(api, "int_0000000000000000", body, headers),
        _post_webhook(api, carrier["integrationId"], body, {}),
    ]
    assert {r.status_code for r in refusals} == {401}
    assert len({r.text for r in refusals}) == 1

    accepted = _post_webhook(api, carrier["integrationId"], body, headers)
    assert accepted.status_code == 202, accepted.text

    def delivered() -> str | None:
        return api.get(f"/orders/{order_id}").json()["shipments"][0].get("deliveredAt")

    assert wait_for(delivered, ARRIVAL_TIMEOUT) == delivered_at.isoformat().replace("+00:00", "Z")
    replayed = _post_webhook(api, carrier["integrationId"], body, headers)
    assert (replayed.status_code, replayed.json()["duplicate"]) == (200, True)
    assert len(api.get(f"/orders/{order_id}").json()["shipments"][0]["scans"]) == 1


def test_a_3pl_receipt_sent_with_the_cli_lands_in_the_ledger_once(
    api: Api, stack: RunningStack, tmp_path: Path
):
    threepl = _integration(api, "stock", "github")
    before = api.get(f"/inventory/{SKU}").json()["onHand"]
    payload = tmp_path / "receipt.json"
    payload.write_text(json.dumps({"type": "receipt", "sku": SKU, "quantity": 7, "reference": f"ASN-{RUN}"}))
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    send = ("webhook", "send", "--integration", threepl["integrationId"], "--file", str(payload))
    sent = oms(
        *send, "--secret", threepl["secret"], "--scheme", "github", "--delivery-id", f"d-{RUN}", *where
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("202 ")
    assert wait_for(lambda: api.get(f"/inventory/{SKU}").json()["onHand"] == before + 7, ARRIVAL_TIMEOUT)
    entry = api.get(f"/inventory/{SKU}/ledger").json()["items"][0]
    assert (entry["reference"], entry["actor"]) == (f"ASN-{RUN}", f"integration:{threepl['integrationId']}")

    again = oms(
        *send, "--secret", threepl["secret"], "--scheme", "github", "--delivery-id", f"d-{RUN}", *where
    )
    assert again.returncode == 0 and again.stdout.startswith("200 ")
    wrong = oms(*send, "--secret", "00" * 32, "--scheme", "github", *where)
    assert wrong.returncode == 1 and wrong.stdout.startswith("401 ")
    assert api.get(f"/inventory/{SKU}").json()["onHand"] == before + 7
