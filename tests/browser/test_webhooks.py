"""The Webhooks page in Chromium against a local stack: the seller subscribes a receiver (on loopback, which
the local stack allows), sees its secret once, watches an order's delivery arrive in the log, and delivers
it again with a button."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.browser.conftest import PHONE, Api, wait_for, wait_until_loaded
from tests.loopback_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SKU = f"HOOK-{uuid.uuid4().hex[:6].upper()}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def test_a_seller_subscribes_sees_a_delivery_and_delivers_it_again(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], receiver: Receiver
) -> None:
    page = signed_in("#/webhooks")
    page.set_default_timeout(60_000)
    page.fill("#webhook-url", receiver.url)
    page.fill("#webhook-description", "the ERP")
    page.check("input[name=events][value=OrderReceived]")
    page.click("#webhook-form button[type=submit]")
    secret = page.text_content("#webhook-secret-value")
    assert secret and secret.startswith("whsec_")
    row = page.locator("#webhooks-table tr[data-subscription-id]", has_text=receiver.url)
    assert row.get_attribute("data-subscription-id", timeout=60_000)

    placed = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders", json={"sku": SKU, "quantity": 1}, timeout=30
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["orderId"]
    assert wait_for(lambda: [r for r in receiver.requests if order_id.encode() in r["body"]], 60)
    first = receiver.requests[-1]
    assert Webhook(secret).verify(first["body"], first["headers"])["data"]["orderId"] == order_id

    row.locator("a").click()
    wait_until_loaded(page)
    delivery = page.locator(f"#deliveries-table tr[data-delivery-id='{first['headers']['webhook-id']}']")
    assert "Delivered" in delivery.inner_text()
    delivery.locator("button.redeliver").click()
    assert wait_for(lambda: len(receiver.requests) >= 2, 30)
    assert receiver.requests[1]["headers"]["webhook-id"] == first["headers"]["webhook-id"]
    assert page.script_errors == []

    subscription_page = page.evaluate("() => location.hash")
    for route in ("#/webhooks", subscription_page):
        phone = signed_in(route, viewport=PHONE)
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{route}: {width} px wide at {PHONE['width']} px"
        assert phone.script_errors == []
