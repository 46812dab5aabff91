"""Returns in the dashboard, in Chromium against a local stack: the Returns page lists a return where the
seller works it, the receiving screen finds it from a scanned order id and receives it once (sellable units
back on hand, the rest written off, as the ledger says), the order page shows the return's timeline and the
SKU page its returns.

Given a buyer's order of 3 units, shipped, and a return of all 3 recorded by the seller (it starts
authorized: on its way back), the seller scans the parcel's order id and grades 2 sellable and 1 damaged.
The decisions, the refund and the return rates are driven from their pages too, and a buyer's request
found by Amazon's returns sync is authorized and its parcel received by its tracking number.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oms_local import harness
from tests.browser.conftest import PHONE, ROOT, Api, wait_for, wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"RET-{RUN}-MUG"
WIDE_800 = {"width": 800, "height": 900}


def _shipped_order(api: Api, outputs: dict[str, Any], quantity: int, tracking: str) -> str:
    """A buyer's order placed in the local marketplace, then shipped by the seller; its id."""
    placed = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders", json={"sku": SKU, "quantity": quantity}, timeout=30
    )
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["orderId"])
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, 45), order_id
    api.ok(
        "POST",
        f"/orders/{order_id}/shipments",
        json={"carrier": "Other", "carrierName": "Royal Mail", "trackingNumber": tracking},
    )
    assert api.ok("GET", f"/orders/{order_id}")["status"] == "Shipped"
    return order_id


@pytest.fixture(scope="module")
def returned(api: Api, outputs: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Stock for the order, the order shipped, and the buyer's return of its 3 units (recorded, authorized)."""
    api.ok("PUT", f"/inventory/{SKU}", json={"channel": "MFN", "reorderPoint": 1})
    api.ok(
        "POST", f"/inventory/{SKU}/adjustments", json={"delta": 10, "reason": "receipt", "reference": "PO-7"}
    )
    api.ok(
        "PUT", f"/inventory/{SKU}", params={"location": "B-2"}, json={"channel": "MFN"}
    )  # the returns shelf
    order_id = _shipped_order(api, outputs, 3, f"RM{RUN}01GB")
    ret = api.ok(
        "POST",
        "/returns",
        json={"orderId": order_id, "items": [{"sku": SKU, "quantity": 3, "reason": "DEFECTIVE"}]},
        headers={"Idempotency-Key": f"rma-{RUN}"},
    )
    assert ret["status"] == "authorized"
    yield {"orderId": order_id, "returnId": ret["returnId"]}


def _go(page: Any, route: str) -> None:
    page.evaluate("route => { location.hash = route; }", route)
    wait_until_loaded(page)


def _scan(page: Any, text: str) -> None:
    """What a barcode scanner does: types into the focused field and presses Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_the_returns_page_lists_an_authorized_return_as_arriving(
    signed_in: Callable[..., Any], returned: dict[str, str], screenshots: Path
) -> None:
    page = signed_in("#/returns")
    assert page.get_attribute('nav a[data-nav="returns"]', "aria-current") == "page"
    row = page.locator(f'#returns-arriving tr[data-return-id="{returned["returnId"]}"]')
    text = row.inner_text()
    # words, not codes: the buyer's reason, who recorded it, and its state
    assert "Defective or does not work" in text and "DEFECTIVE" not in text
    assert "Recorded by you" in text and "Authorized" in text
    assert returned["orderId"] in text
    assert page.locator(f'#returns-decide tr[data-return-id="{returned["returnId"]}"]').count() == 0
    assert page.locator(f'#returns-refund tr[data-return-id="{returned["returnId"]}"]').count() == 0
    page.screenshot(path=str(screenshots / "returns-page.png"), full_page=True)
    assert not page.script_errors


def test_a_parcel_scanned_by_its_order_id_is_received_once_and_graded(
    signed_in: Callable[..., Any], api: Api, returned: dict[str, str], screenshots: Path
) -> None:
    before = api.ok("GET", f"/inventory/{SKU}")
    page = signed_in("#/returns")
    page.click("#open-receiving")
    wait_until_loaded(page)
    # a second screen (another packer) opens the same parcel before the first receives it
    stale = signed_in("#/returns/receive")
    assert page.evaluate("() => document.activeElement.id") == "scan"  # the scanner types straight in
    expected = f'#expected li[data-return-id="{returned["returnId"]}"]'
    assert page.locator(expected).count() == 1  # a parcel with no readable label is chosen from the list
    _scan(page, returned["orderId"])
    page.wait_for_selector("#receive-form")
    assert "3 of 3 units to receive" in page.inner_text("#receive-form")
    _scan(stale, returned["orderId"])
    stale.wait_for_selector("#receive-form")

    # 2 sellable to shelf B-2, 1 damaged: the second grade on a line of its own
    page.fill("#receive-form .receive-line >> nth=0 >> input[name=quantity]", "2")
    page.fill("#receive-form .receive-line >> nth=0 >> input[name=location]", "B-2")
    page.click("#receive-form .split-line")
    page.fill("#receive-form .receive-line >> nth=1 >> input[name=quantity]", "1")
    page.select_option("#receive-form .receive-line >> nth=1 >> select[name=grade]", "damaged")
    assert page.locator("#receive-form .receive-line >> nth=1 >> input[name=location]").is_hidden()
    page.screenshot(path=str(screenshots / "returns-receiving.png"), full_page=True)
    posts: list[Any] = []
    page.on(
        "request", lambda r: posts.append(r) if r.method == "POST" and r.url.endswith("/receipts") else None
    )
    with page.expect_response(lambda r: r.url.endswith("/receipts") and r.request.method == "POST") as sent:
        page.dblclick("#receive-submit")  # a double click sends one receipt
    assert sent.value.status == 201, sent.value.text()
    page.wait_for_selector("#receive-result")
    result = page.inner_text("#receive-result")
    times = "\u00d7"  # the multiplication sign of the dashboard's "2 x SKU"
    assert (
        f"2 {times} {SKU} back in stock at B-2" in result
        and f"1 {times} {SKU} written off (damaged)" in result
    )
    assert len(posts) == 1
    assert page.evaluate("() => document.activeElement.id") == "scan"  # ready for the next parcel
    page.wait_for_function(f"() => !document.querySelector('{expected}')")  # no longer expected
    page.screenshot(path=str(screenshots / "returns-received.png"), full_page=True)

    ret = api.ok("GET", f"/returns/{returned['returnId']}")
    assert ret["status"] == "restocked" and len(ret["receipts"]) == 1 and ret["refundDueBy"]
    grades = sorted(
        (line["grade"], line["quantity"], line["location"]) for line in ret["receipts"][0]["items"]
    )
    assert grades == [("damaged", 1, "default"), ("sellable", 2, "B-2")]
    shelf = api.ok("GET", f"/inventory/{SKU}", params={"location": "B-2"})
    assert shelf["onHand"] == 2, shelf
    assert api.ok("GET", f"/inventory/{SKU}")["onHand"] == before["onHand"]  # the default shelf: nothing back
    reasons = [e["reason"] for e in api.ok("GET", f"/inventory/{SKU}/ledger", params={"limit": 10})["items"]]
    assert "return-write-off" in reasons

    # the stale screen sends the same lines: the same receipt, applied once, and it says so
    stale.fill("#receive-form .receive-line >> nth=0 >> input[name=quantity]", "2")
    stale.fill("#receive-form .receive-line >> nth=0 >> input[name=location]", "B-2")
    stale.click("#receive-form .split-line")
    stale.fill("#receive-form .receive-line >> nth=1 >> input[name=quantity]", "1")
    stale.select_option("#receive-form .receive-line >> nth=1 >> select[name=grade]", "damaged")
    with stale.expect_response(lambda r: r.url.endswith("/receipts") and r.request.method == "POST") as sent:
        stale.click("#receive-submit")
    assert sent.value.status == 200, sent.value.text()
    stale.wait_for_selector("#receive-result")
    assert "Already received, nothing changed" in stale.inner_text("#receive-result")
    assert len(api.ok("GET", f"/returns/{returned['returnId']}")["receipts"]) == 1
    assert api.ok("GET", f"/inventory/{SKU}", params={"location": "B-2"})["onHand"] == 2

    # the same parcel scanned again: nothing left to receive
    _scan(page, returned["orderId"])
    page.wait_for_selector("#receive-none")
    assert "Every unit of this return has been received" in page.inner_text("#receive-none")

    # now it is to refund, with its due time in the warehouse's words
    _go(page, "#/returns")
    row = page.locator(f'#returns-refund tr[data-return-id="{returned["returnId"]}"]')
    # worded per unit: 2 went back on the shelf, 1 was written off (not "Back in stock")
    assert "2 back in stock, 1 written off" in row.inner_text() and "left" in row.inner_text()
    page.screenshot(path=str(screenshots / "returns-to-refund.png"), full_page=True)
    assert not page.script_errors and not stale.script_errors


def test_an_unknown_scan_says_so(signed_in: Callable[..., Any], returned: dict[str, str]) -> None:
    page = signed_in("#/returns/receive")
    _scan(page, f"NO-SUCH-{RUN}")
    page.wait_for_selector("#scan-none")
    assert f"No return matches NO-SUCH-{RUN}" in page.inner_text("#scan-none")
    assert page.locator("#receive-form").count() == 0


def test_the_order_page_shows_its_return_with_the_timeline(
    signed_in: Callable[..., Any], api: Api, returned: dict[str, str], screenshots: Path
) -> None:
    ret = api.ok("GET", f"/returns/{returned['returnId']}")
    page = signed_in(f"#/orders/{returned['orderId']}")
    card = page.locator(f'#order-returns .return-card[data-return-id="{returned["returnId"]}"]')
    statuses = card.locator(".timeline li").evaluate_all("items => items.map(i => i.dataset.status)")
    assert statuses == [entry["status"] for entry in ret["timeline"]]
    text = card.inner_text()
    assert "Defective or does not work" in text
    if ret["status"] == "restocked":  # after the receiving test: the grades in words
        assert "2 back in stock, 1 written off" in text and "1 damaged, 2 sellable" in text
    page.screenshot(path=str(screenshots / "returns-order.png"), full_page=True)
    assert not page.script_errors


def test_a_return_recorded_on_the_order_page_is_listed(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any]
) -> None:
    order_id = _shipped_order(api, outputs, 2, f"RM{RUN}02GB")
    page = signed_in(f"#/orders/{order_id}")
    assert "No return of this order" in page.inner_text("#order-returns")
    page.fill("#record-return input[name=quantity]", "5")  # more than shipped: the API's reason, by the form
    page.click("#record-return button[type=submit]")
    page.wait_for_selector("#record-return-problem:not([hidden])")
    assert "2" in page.inner_text("#record-return-problem")
    assert api.ok("GET", "/returns", params={"sku": SKU})["items"][0]["orderId"] != order_id
    page.fill("#record-return input[name=quantity]", "1")
    page.select_option("#record-return select[name=reason]", "DAMAGED_BY_CARRIER")
    page.click("#record-return button[type=submit]")
    page.wait_for_selector("#order-return-done")
    (card,) = page.locator("#order-returns .return-card").all()
    return_id = card.get_attribute("data-return-id")
    assert "Damaged in transit" in card.inner_text()
    stored = api.ok("GET", f"/returns/{return_id}")
    (item,) = stored["items"]
    assert (stored["orderId"], item["sku"], item["quantity"], item["reason"]) == (
        order_id,
        SKU,
        1,
        "DAMAGED_BY_CARRIER",
    )
    _go(page, "#/returns")
    assert page.locator(f'#returns-arriving tr[data-return-id="{return_id}"]').count() == 1
    assert not page.script_errors


def test_the_sku_page_lists_its_returns(
    signed_in: Callable[..., Any], api: Api, returned: dict[str, str]
) -> None:
    page = signed_in(f"#/inventory/{SKU}")
    page.wait_for_selector(f'#sku-returns tr[data-return-id="{returned["returnId"]}"]')
    row = page.locator(f'#sku-returns tr[data-return-id="{returned["returnId"]}"]').inner_text()
    assert "Defective or does not work" in row and "3" in row
    assert not page.script_errors


@pytest.mark.parametrize("viewport", [WIDE_800, PHONE], ids=["800px", "phone"])
def test_the_return_pages_fit_a_laptop_and_a_phone(
    signed_in: Callable[..., Any], returned: dict[str, str], screenshots: Path, viewport: dict[str, int]
) -> None:
    for name, route in {
        "returns": "#/returns",
        "receive": f"#/returns/receive?scan={returned['orderId']}",
        "return": f"#/returns/{returned['returnId']}",
        "order": f"#/orders/{returned['orderId']}",
    }.items():
        page = signed_in(route, viewport=viewport)
        page.screenshot(path=str(screenshots / f"returns-{viewport['width']}-{name}.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}: the page is {width} px wide at {viewport['width']} px"
        assert not page.script_errors, f"{name}: {page.script_errors}"


# ------------------------------------------------------------------------------ routes built beside this page


def test_a_return_that_never_came_back_is_closed_with_its_reason(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any]
) -> None:
    order_id = _shipped_order(api, outputs, 1, f"RM{RUN}03GB")
    ret = api.ok("POST", "/returns", json={"orderId": order_id, "items": [{"sku": SKU, "quantity": 1}]})
    page = signed_in("#/returns")
    row = page.locator(f'#returns-arriving tr[data-return-id="{ret["returnId"]}"]')
    row.locator(".close-open").click()
    row.locator("select[name=reason]").select_option("Never came back")
    with page.expect_response(lambda r: r.url.endswith("/close") and r.request.method == "POST") as sent:
        row.locator(".close-confirm").click()
    assert sent.value.status == 200, sent.value.text()
    page.wait_for_selector("#returns-done:not([hidden])")
    assert page.locator(f'tr[data-return-id="{ret["returnId"]}"]').count() == 0
    closed = api.ok("GET", f"/returns/{ret['returnId']}")
    assert closed["status"] == "closed" and closed["timeline"][-1]["note"] == "Never came back"


def _priced(api: Api, stack: harness.StackProcess, order_id: str) -> None:
    """The backstop run now (`oms invoke reconcile_orders`): Amazon's prices, which a refund is checked against."""
    lag = api.session.post(
        f"{stack.outputs['SpApiEndpoint']}/_simulator/config", json={"searchLagSeconds": 0}, timeout=10
    )
    assert lag.status_code == 200, lag.text  # the backstop may read orders placed just now
    where = ["--port", str(stack.port), "--state-dir", str(stack.state_dir)]
    ran = subprocess.run(
        [sys.executable, "-m", "oms_tools.cli", "invoke", "reconcile_orders", *where],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    priced = wait_for(lambda: api.ok("GET", f"/orders/{order_id}")["items"][0].get("unitPrice"), 30)
    assert priced, f"the backstop did not price order {order_id}"


def test_a_received_return_is_refunded_from_the_returns_page(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], stack: harness.StackProcess
) -> None:
    order_id = _shipped_order(api, outputs, 1, f"RM{RUN}04GB")
    _priced(api, stack, order_id)
    ret = api.ok("POST", "/returns", json={"orderId": order_id, "items": [{"sku": SKU, "quantity": 1}]})
    api.ok(
        "POST",
        f"/returns/{ret['returnId']}/receipts",
        json={"items": [{"sku": SKU, "quantity": 1, "grade": "sellable"}]},
    )
    page = signed_in("#/returns")
    row = page.locator(f'#returns-refund tr[data-return-id="{ret["returnId"]}"]')
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/refund") and r.request.method == "POST") as sent:
        row.locator("button.refund").click()
    assert sent.value.status == 202, sent.value.text()
    page.wait_for_selector("#returns-done:not([hidden])")
    refund = api.ok("GET", f"/returns/{ret['returnId']}")["refund"]
    assert refund and refund["status"] in ("pending", "submitted", "confirmed", "refused")
    assert not page.script_errors


def test_the_sku_page_shows_its_return_rates_beside_the_seller_s(
    signed_in: Callable[..., Any], api: Api, returned: dict[str, str]
) -> None:
    page = signed_in(f"#/inventory/{SKU}")
    for days in (30, 90):
        answer = api.ok("GET", "/metrics/return-rates", params={"days": days, "sku": SKU})
        item = next(i for i in answer["items"] if i["sku"] == SKU)
        card = page.locator(f'#return-rates [data-days="{days}"]').inner_text()
        assert f"{item['unitsReturned']} of {item['unitsShipped']} units" in card
        assert "Your average" in card
        assert ("Well above your average" in card) == bool(item["flagged"])


def _oms(stack: harness.StackProcess, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["--port", str(stack.port), "--state-dir", str(stack.state_dir)]
    return subprocess.run(
        [sys.executable, "-m", "oms_tools.cli", *args, *where],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_a_buyer_s_request_is_authorized_then_its_parcel_found_by_its_tracking_number(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], stack: harness.StackProcess
) -> None:
    """Amazon's flow: a buyer asks to return outside the policy, the returns sync brings the request, the
    seller authorizes it on the Returns page, and the parcel's label is scanned at the door."""
    order_id = _shipped_order(api, outputs, 1, f"RM{RUN}05GB")
    made = _oms(
        stack, "simulate", "return", "--order", order_id, "--quantity", "1", "--reason", "NOT_AS_DESCRIBED",
        "--out-of-policy",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    buyer = json.loads(made.stdout)

    def requested() -> dict[str, Any] | None:
        found = api.ok("GET", "/returns", params={"q": buyer["amazonRmaId"]})["items"]
        return next((r for r in found if r["orderId"] == order_id), None)

    # The returns sync (hourly; here asked now): a report's window ends at the whole second it was asked,
    # so a return made in that second comes with the next run's overlapping window, as with Amazon.
    ret = None
    for _ in range(3):
        synced = _oms(stack, "invoke", "sync_returns")
        assert synced.returncode == 0, synced.stderr
        ret = wait_for(requested, 20)
        if ret:
            break
    assert ret and ret["status"] == "requested", ret
    page = signed_in("#/returns")
    row = page.locator(f'#returns-decide tr[data-return-id="{ret["returnId"]}"]')
    assert "Not as described" in row.inner_text() and "left" in row.inner_text()
    with page.expect_response(lambda r: r.url.endswith("/authorize") and r.request.method == "POST") as sent:
        row.locator("button.authorize").click()
    assert sent.value.status == 200, sent.value.text()
    page.wait_for_selector(f'#returns-arriving tr[data-return-id="{ret["returnId"]}"]')
    # The seller authorizes in Seller Central too (no SP-API answers a request): Amazon approves it, issues
    # the prepaid label, and its next returns report brings the tracking number.
    approved = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/returns/{buyer['amazonRmaId']}",
        json={"status": "Approved"},
        timeout=10,
    )
    assert approved.status_code == 200, approved.text
    tracking = approved.json()["trackingId"]

    def labelled() -> bool:
        return bool(api.ok("GET", f"/returns/{ret['returnId']}").get("trackingId") == tracking)

    for _ in range(3):
        assert _oms(stack, "invoke", "sync_returns").returncode == 0
        if wait_for(labelled, 20):
            break
    assert labelled(), "Amazon's approval (its prepaid label) came with the returns sync"
    page.reload()  # the page as the seller opens it again
    wait_until_loaded(page)
    assert tracking in page.locator(f'#returns-arriving tr[data-return-id="{ret["returnId"]}"]').inner_text()

    _go(page, "#/returns/receive")
    _scan(page, tracking)
    page.wait_for_selector(f'#receive-form[data-return-id="{ret["returnId"]}"]')
    with page.expect_response(lambda r: r.url.endswith("/receipts") and r.request.method == "POST") as sent:
        page.click("#receive-submit")
    assert sent.value.status == 201, sent.value.text()
    page.wait_for_selector("#receive-result")
    assert "back in stock" in page.inner_text("#receive-result")
    assert api.ok("GET", f"/returns/{ret['returnId']}")["status"] == "restocked"
    assert not page.script_errors
