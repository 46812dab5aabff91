"""A seller's first hour with the catalogue, in Chromium against a local stack: an order arrives with its
product's title and picture (read from Amazon's catalogue on the first notification, before any backstop
run), the seller compares Buy Shipping rates on the order page and buys the chosen label, whose price
then shows on the order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Api, wait_for, wait_until_loaded
from tests.builders import WAREHOUSE_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SKU = "85123A"  # White Hanging Heart T-Light Holder, in the data set and in the built-in catalogue


def test_an_order_arrives_with_its_title_and_picture_and_a_chosen_label_is_bought_at_its_price(
    new_page: Callable[..., Any], api: Api, outputs: dict[str, Any], screenshots: Path
) -> None:
    # given a seller with a ship-from address and stock of the heart holder
    api.ok("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS)
    api.ok("PUT", f"/inventory/{SKU}", json={"reorderPoint": 2})
    api.ok(
        "POST", f"/inventory/{SKU}/adjustments", json={"delta": 20, "reason": "receipt", "reference": "PO-1"}
    )

    # when a buyer orders two on Amazon (which notifies the stack)
    ship_by = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    placed = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders",
        json={"sku": SKU, "quantity": 2, "shipBy": ship_by},
        timeout=30,
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["orderId"]

    # then the order shows the product's title and picture within seconds, from the notification alone
    def titled() -> dict[str, Any] | None:
        answer = api.get(f"/orders/{order_id}")
        order = answer.json() if answer.status_code == 200 else {}
        items = order.get("items") or [{}]
        return order if items[0].get("title") and items[0].get("imageUrl") else None

    order = wait_for(titled, 30)
    assert order, "the catalogue did not give the order its title and image"
    assert order["enriched"] is False, "the title came before the backstop read the order"
    product = api.ok("GET", f"/products/{SKU}")
    assert product["title"] == order["items"][0]["title"] and product["asin"]
    assert product["weight"]["unit"] == "lb" and product["dimensions"]["unit"] == "in"

    page = new_page()
    page.set_default_timeout(
        45_000
    )  # the first page of a fresh stack starts its API workers on a busy machine
    page.goto(outputs["DashboardUrl"])
    page.wait_for_selector("#sign-out:not([hidden])")
    page.evaluate("route => { location.hash = route; }", f"#/orders/{order_id}")
    wait_until_loaded(page)
    image = page.locator("#view table img.thumb").first
    assert image.get_attribute("src") == product["imageUrl"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('#view table img.thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert product["title"] in page.inner_text("#view")

    # when the seller compares rates
    page.click("#compare-rates")
    page.wait_for_selector("#rates-result table")
    rates = api.ok("GET", f"/orders/{order_id}/rates")
    assert rates["package"]["source"] == "catalogue"
    shown = page.locator("#rates-result tbody tr")
    assert shown.count() == len(rates["items"])
    cheapest = next(r for r in rates["items"] if r["cheapestOnTime"])
    assert page.is_checked(f"#rate-{cheapest['shippingServiceId']}"), (
        "the cheapest on-time service is chosen first"
    )
    assert "cheapest on time" in page.inner_text(
        f"#rates-result tr[data-service-id='{cheapest['shippingServiceId']}']"
    )

    page.screenshot(path=str(screenshots / "order-rates.png"), full_page=True)

    # and buys a dearer one that still keeps the promise, or the cheapest when it is the only one
    on_time = [r for r in rates["items"] if r["meetsPromise"]]
    chosen = on_time[-1]
    page.check(f"#rate-{chosen['shippingServiceId']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#buy-chosen")
    page.wait_for_selector("#ship-done")

    # then the label's price is kept on the shipment and shown on the order page
    stored = api.ok("GET", f"/orders/{order_id}")
    (shipment,) = stored["shipments"]
    assert shipment["rate"] == chosen["price"]
    assert shipment["service"] == chosen["service"]
    price = f"{chosen['price']['amount']} {chosen['price']['currencyCode']}"
    assert price in page.inner_text("#shipments")

    # and the reports page counts it in the shipping spend
    page.evaluate("route => { location.hash = route; }", "#/reports")
    wait_until_loaded(page)
    assert price in page.inner_text("#spend-total")

    # and on the SKU's page the seller names the product their own way
    page.evaluate("route => { location.hash = route; }", f"#/inventory/{SKU}")
    wait_until_loaded(page)
    assert product["title"] in page.inner_text("#product") and "(Amazon's)" in page.inner_text("#product")
    page.fill("#product-title", "Heart tea-light holder")
    page.click("#product-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#product').innerText.includes('(yours)')")
    assert api.ok("GET", f"/products/{SKU}")["title"] == "Heart tea-light holder"
    assert not page.script_errors
