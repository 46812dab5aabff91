"""Amazon in sync, in the local stack: a stock change shows on the local marketplace's listing within a minute.

A stack of its own (`oms local --no-simulator`): the seller sets a SKU's policy and receives units over
the API; the table stream carries the change to sync_listings, which patches the listing; the test
reads the listing back as anyone reads Amazon's (LWA token, getListingsItem).
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.e2e.support import Api, RunningStack, wait_for

pytestmark = pytest.mark.e2e

SYNC_TIMEOUT = 60  # the promise: within a minute


class LocalAmazon:
    """The local marketplace's SP-API, read as Amazon's would be."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self.outputs = outputs
        self.session = requests.Session()
        self.session.trust_env = False
        token = self.session.post(
            outputs["LwaTokenUrl"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|e2e",
                "client_id": "c",
                "client_secret": "s",
            },
            timeout=10,
        )
        token.raise_for_status()
        self.token = token.json()["access_token"]

    def listing_quantity(self, sku: str) -> int | None:
        answer = self.session.get(
            f"{self.outputs['SpApiEndpoint']}/listings/2021-08-01/items/{self.outputs['SellerId']}/{quote(sku, safe='')}",
            params={
                "marketplaceIds": self.outputs["MarketplaceId"],
                "includedData": "fulfillmentAvailability",
            },
            headers={"x-amz-access-token": self.token},
            timeout=10,
        )
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return next(
            (
                a["quantity"]
                for a in answer.json()["fulfillmentAvailability"]
                if a["fulfillmentChannelCode"] == "DEFAULT"
            ),
            None,
        )


def _seconds_until(amazon: LocalAmazon, sku: str, quantity: int) -> float:
    started = time.monotonic()
    seen = wait_for(lambda: amazon.listing_quantity(sku) == quantity, SYNC_TIMEOUT, interval=0.25)
    assert seen, (
        f"Amazon still shows {amazon.listing_quantity(sku)} of {sku}, not {quantity}, after {SYNC_TIMEOUT}s"
    )
    return time.monotonic() - started


def test_a_stock_change_reaches_amazons_listing_within_a_minute(stack: RunningStack) -> None:
    api, amazon = Api(stack.outputs), LocalAmazon(stack.outputs)
    sku = f"E2E-SYNC-{uuid.uuid4().hex[:6]}"
    path = f"/inventory/{quote(sku, safe='')}"

    policy = api.request("PUT", path, json={"channel": "MFN", "amazonBuffer": 2})
    assert policy.status_code == 200, policy.text
    received = api.request(
        "POST",
        f"{path}/adjustments",
        json={"delta": 12, "reason": "receipt", "reference": "PO-1"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert received.status_code in (200, 201), received.text
    first = _seconds_until(amazon, sku, 12 - 2)

    taken = api.request(
        "POST",
        f"{path}/adjustments",
        json={"delta": -4, "reason": "damaged"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert taken.status_code in (200, 201), taken.text
    second = _seconds_until(amazon, sku, 8 - 2)
    print(f"\nstock change -> Amazon's listing: {first:.1f}s, then {second:.1f}s")
