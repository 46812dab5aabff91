"""A seller's first hour, walked in Chromium against a fresh local stack, one step after another:
the settings edited on their page; an order arrives with its product's title and picture and, with
nothing on the shelf, is short; stock received on the SKU page clears the shortage; a second batch
with an order already in one is refused; rates compared and the chosen label bought, its price shown;
damaged units recorded although orders hold them, and the order that lost them shows short."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Api, wait_for, wait_until_loaded
from tests.builders import WAREHOUSE_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SKU = "22423"  # stocked before a buyer orders it: the local marketplace lists it with the first order


def _go(page: Any, route: str) -> None:
    page.evaluate("route => { location.hash = route; }", route)
    wait_until_loaded(page)


def _order(api: Api, outputs: dict[str, Any], quantity: int, ship_in: timedelta) -> str:
    """A buyer orders on Amazon; the local marketplace notifies the stack; the order id once it is there."""
    ship_by = (datetime.now(UTC) + ship_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    placed = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders",
        json={"sku": SKU, "quantity": quantity, "shipBy": ship_by},
        timeout=30,
    )
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["orderId"])
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, 45), order_id
    return order_id


def _adjust(page: Any, reason: str, units: int, note: str = "") -> None:
    page.select_option("#adjust-reason", reason)
    page.fill("#adjust-units", str(units))
    if note:
        page.fill("#adjust-note", note)
    with page.expect_response(
        lambda r: r.url.endswith("/adjustments") and r.request.method == "POST"
    ) as sent:
        page.click("#adjust-form button[type=submit]")
    assert sent.value.status in (200, 201), sent.value.text()
    page.wait_for_selector("#adjust-done:not([hidden])")


def test_the_first_hour(
    new_page: Callable[..., Any], api: Api, outputs: dict[str, Any], screenshots: Path
) -> None:
    api.ok("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS)  # the README's first step, by curl
    api.ok("PUT", f"/inventory/{SKU}", json={"channel": "MFN", "reorderPoint": 1})
    page = new_page()
    page.set_default_timeout(60_000)  # a fresh stack starts its workers on the first calls
    page.goto(outputs["DashboardUrl"])
    page.wait_for_selector("#sign-out:not([hidden])")

    # the settings, edited on their page: saved whole, nothing else lost
    _go(page, "#/settings")
    page.fill("#seller-name", "First Hour Cakes")
    page.locator('[data-field="carriers[0].transitDays"]').fill("2")
    with page.expect_response(
        lambda r: r.url.endswith("/settings/shipping") and r.request.method == "PUT"
    ) as sent:
        page.click("#save-settings")
    assert sent.value.status == 200, sent.value.text()
    saved = api.ok("GET", "/settings/shipping")
    assert (saved["sellerName"], saved["carriers"][0]["transitDays"]) == ("First Hour Cakes", 2)
    assert saved["warehouse"]["address"]["city"] == WAREHOUSE_SETTINGS["warehouse"]["address"]["city"]

    # an order for 2 arrives: its title and picture from the first notification; nothing on the shelf
    first = _order(api, outputs, 2, timedelta(days=1))
    titled = wait_for(lambda: api.ok("GET", f"/orders/{first}")["items"][0].get("imageUrl"), 45)
    assert titled, "the catalogue gave the order no picture"
    order = api.ok("GET", f"/orders/{first}")
    title = order["items"][0]["title"]
    assert order["enriched"] is False and title == api.ok("GET", f"/products/{SKU}")["title"]
    assert "stockShortage" in order["flags"] and order["items"][0]["quantityShort"] == 2
    _go(page, f"#/orders/{first}")
    assert title in page.inner_text("#view")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#view table img.thumb')].some(i => i.complete && i.naturalWidth > 0)"
    )
    assert "Stock short" in page.inner_text(".badges")

    # stock received on the SKU page: the order is no longer short
    _go(page, f"#/inventory/{SKU}")
    _adjust(page, "receipt", 3)
    order = api.ok("GET", f"/orders/{first}")
    assert "stockShortage" not in order["flags"] and order["items"][0]["quantityShort"] == 0
    _go(page, f"#/orders/{first}")
    assert "Stock short" not in page.inner_text(".badges")

    # a second order; the first is batched; a second batch with it again is refused, naming the batch
    second = _order(api, outputs, 1, timedelta(days=2))
    _go(page, "#/queue")
    page.get_by_role("checkbox", name=f"Select order {first}").check()
    with page.expect_response(lambda r: r.url.endswith("/batches") and r.request.method == "POST") as sent:
        page.click("#make-batch")
    assert sent.value.status == 201, sent.value.text()
    batch_id = sent.value.json()["batchId"]
    page.get_by_role("checkbox", name=f"Select order {first}").check()
    page.get_by_role("checkbox", name=f"Select order {second}").check()
    with page.expect_response(lambda r: r.url.endswith("/batches") and r.request.method == "POST") as sent:
        page.click("#make-batch")
    assert sent.value.status == 409
    page.wait_for_selector("#batch-problem:not([hidden])")
    assert batch_id in page.inner_text("#batch-problem")

    # rates compared on the order page; the chosen label is bought and its price shown
    _go(page, f"#/orders/{first}")
    page.click("#compare-rates")
    page.wait_for_selector("#rates-result table")
    rates = api.ok("GET", f"/orders/{first}/rates")["items"]
    chosen = next(r for r in rates if r["cheapestOnTime"])
    assert page.is_checked(f"#rate-{chosen['shippingServiceId']}")
    page.screenshot(path=str(screenshots / "first-hour-rates.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#buy-chosen")
    page.wait_for_selector("#ship-done")
    (shipment,) = api.ok("GET", f"/orders/{first}")["shipments"]
    assert shipment["rate"] == chosen["price"]
    assert f"{chosen['price']['amount']} {chosen['price']['currencyCode']}" in page.inner_text("#shipments")

    # 1 unit left, held by the second order; it is found damaged: recorded, and that order is short
    _go(page, f"#/inventory/{SKU}")
    _adjust(page, "damaged", 1, note="cracked tier")
    assert "cracked tier" in page.locator("#ledger tbody tr").first.inner_text()
    row = api.ok("GET", f"/inventory/{SKU}")
    assert (row["onHand"], row["reserved"], row["backordered"]) == (0, 0, 1)
    _go(page, f"#/orders/{second}")
    assert "Stock short" in page.inner_text(".badges")
    assert page.inner_text(".short-units") == "1 short"
    page.screenshot(path=str(screenshots / "first-hour-short.png"), full_page=True)
    assert not page.script_errors
