"""Purchase orders in Chromium against a local stack: given a supplier with terms for a SKU, the seller makes
a draft on the Purchase orders page, sends it (its PDF appears), receives part of it onto a shelf and sees
the units on hand and the rest still on order; more units than expected, or none, are refused before
anything is received."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PHONE, Api, wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"PO-MUG-{RUN}"


@pytest.fixture(scope="module")
def supplier(api: Api) -> str:
    made = api.ok("POST", "/suppliers", json={"name": f"Mug Works {RUN}", "currencyCode": "USD"})
    terms = {
        "leadTime": {"productionDays": 10, "transitDays": 4},
        "casePack": 6,
        "unitCost": {"amount": "2.40", "currencyCode": "USD"},
    }
    api.ok("PUT", f"/suppliers/{made['supplierId']}/skus/{SKU}", json=terms)
    api.ok("PUT", f"/inventory/{SKU}", json={"reorderPoint": 2})
    return str(made["supplierId"])


def _open(new_page: Callable[..., Any], outputs: dict[str, Any], route: str, **options: Any) -> Any:
    page = new_page(**options)
    page.set_default_timeout(60_000)  # a busy machine's local stack can be slow to answer
    page.goto(outputs["DashboardUrl"])
    page.wait_for_selector("#sign-out:not([hidden])")
    page.evaluate("route => { location.hash = route; }", route)
    wait_until_loaded(page)
    return page


def test_a_draft_is_made_sent_and_received_in_part_from_the_page(
    new_page: Callable[..., Any], outputs: dict[str, Any], api: Api, supplier: str, screenshots: Path
) -> None:
    page = _open(new_page, outputs, "#/purchase-orders")
    page.select_option("#po-supplier", supplier)
    page.fill("#po-sku", SKU)
    page.fill("#po-quantity", "12")
    page.click("#po-create")
    page.wait_for_url("**#/purchase-orders/PO-*")
    wait_until_loaded(page)
    po_id = page.url.rsplit("/", 1)[1]
    assert page.inner_text("#po-state") == "Draft (not sent)"
    assert "null" not in page.inner_text("#view")  # no receipt form, no receipts: nothing, not "null"

    page.click("#po-send")
    page.wait_for_selector("#po-pdf")
    assert page.inner_text("#po-state") == "Sent"
    assert api.ok("GET", f"/inventory/{SKU}")["onOrder"] == 12

    page.fill("#receive-units-0", "13")  # more than expected: the browser refuses it before sending
    page.click("#po-receive")
    assert page.evaluate("() => document.getElementById('receive-units-0').validity.rangeOverflow")
    page.fill("#receive-units-0", "0")  # nothing entered: said in words
    page.click("#po-receive")
    page.wait_for_selector("#alert:not([hidden])")
    assert "Enter the units that arrived" in page.inner_text("#alert")
    assert api.ok("GET", f"/inventory/{SKU}")["onHand"] == 0

    page.fill("#receive-units-0", "5")
    page.click("#po-receive")
    page.wait_for_function("() => document.getElementById('po-state').textContent === 'Partly received'")
    stock = api.ok("GET", f"/inventory/{SKU}")
    assert (stock["onHand"], stock["onOrder"]) == (5, 7)
    assert f"5 \u00d7 {SKU} at default" in page.inner_text("#po-receipts")  # the multiplication sign
    ledger = api.ok("GET", f"/inventory/{SKU}/ledger")["items"]
    assert [(e["delta"], e["reason"], e["reference"]) for e in ledger if e["reason"] == "receipt"] == [
        (5, "receipt", po_id)
    ]
    page.screenshot(path=str(screenshots / "purchase-order.png"), full_page=True)

    phone = _open(new_page, outputs, f"#/purchase-orders/{po_id}", viewport=PHONE)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    listed = _open(new_page, outputs, "#/purchase-orders")
    assert po_id in listed.inner_text("#po-table")
    listed.select_option("#po-status", "draft")
    listed.wait_for_function(f"() => !document.getElementById('po-table').textContent.includes('{po_id}')")
    assert page.script_errors == [] and listed.script_errors == []


def test_a_supplier_and_its_terms_are_set_on_their_pages(
    new_page: Callable[..., Any], outputs: dict[str, Any], api: Api, screenshots: Path
) -> None:
    page = _open(new_page, outputs, "#/suppliers")
    page.fill("#supplier-name", f"Teapot Co {RUN}")
    page.fill("#supplier-email", "sales@teapots.example")
    page.click("#supplier-add")
    page.wait_for_url("**#/suppliers/SUP-*")
    wait_until_loaded(page)
    supplier_id = page.url.rsplit("/", 1)[1]
    assert "No terms yet" in page.inner_text("#view")

    page.fill("#terms-sku", SKU)
    page.fill("#terms-production", "20")
    page.fill("#terms-transit", "9.5")
    page.fill("#terms-moq", "24")
    page.fill("#terms-case-pack", "6")
    page.fill("#terms-cost", "7.10")
    page.click("#terms-save")
    page.wait_for_selector(f"tr[data-sku='{SKU}']")
    row = page.inner_text(f"tr[data-sku='{SKU}']")
    assert "29.5 days (typed)" in row and "7.10 USD" in row
    terms = api.ok("GET", f"/suppliers/{supplier_id}")["skus"][0]
    assert (terms["minimumOrderQuantity"], terms["casePack"], terms["leadTime"]["transitDays"]) == (
        24,
        6,
        9.5,
    )

    page.fill("#terms-cost", "seven")  # refused by the browser's pattern: nothing saved
    page.click("#terms-save")
    assert page.evaluate("() => document.getElementById('terms-cost').validity.patternMismatch")
    assert api.ok("GET", f"/suppliers/{supplier_id}")["skus"][0]["unitCost"]["amount"] == "7.10"
    listed = _open(new_page, outputs, "#/suppliers")
    assert f"Teapot Co {RUN}" in listed.inner_text("#suppliers-table")
    phone = _open(new_page, outputs, f"#/suppliers/{supplier_id}", viewport=PHONE)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(screenshots / "supplier-phone.png"), full_page=True)
    assert page.script_errors == [] and listed.script_errors == []
