"""Telling a buyer before they ask, in Chromium against a local stack: the order page offers the updates
Amazon allows for the order, sends one through the local marketplace's Messaging API, and then shows it sent
and on the timeline."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def test_the_order_page_sends_an_update_amazon_allows_once(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], screenshots
) -> None:
    ship_by = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders",
        json={"sku": f"NOTE-{uuid.uuid4().hex[:6].upper()}", "quantity": 1, "shipBy": ship_by},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    order_id = answer.json()["orderId"]
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, 60)

    page = signed_in(f"#/orders/{order_id}")
    page.set_default_timeout(60_000)
    page.wait_for_selector("#update-form")
    page.select_option("#update-kind", "confirmDeliveryDetails")
    page.fill("#update-text", "Your parcel arrives Thursday: is someone at home to sign for it?")
    with page.expect_response(
        lambda r: r.url.endswith("/buyer-updates") and r.request.method == "POST"
    ) as sent:
        page.click("#update-form button[type=submit]")
    assert sent.value.status == 201, sent.value.text()
    page.wait_for_selector("#updates-sent")
    assert "Confirm delivery details" in page.inner_text("#updates-sent")
    assert "asked the buyer to confirm delivery details through Amazon" in page.inner_text("#view")
    options = (
        page.locator("#update-kind option").all_inner_texts() if page.locator("#update-kind").count() else []
    )
    assert not any("Confirm delivery details" in o for o in options)  # each kind once
    page.screenshot(path=str(screenshots / "buyer-updates.png"), full_page=True)
    assert not page.script_errors
