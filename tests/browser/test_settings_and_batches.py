"""The seller's first hour in Chromium against a local stack: the shipping settings edited on their page
(checked on the page, refused fields named, nothing else lost), and one order, one pick: a second batch with
an order already in one is refused naming the batch, until the seller says to batch it again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.browser.conftest import Api, wait_for, wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"PICK-{RUN}"


@pytest.fixture
def opened(new_page: Callable[..., Any], outputs: dict[str, Any]) -> Callable[[str], Any]:
    """opened("#/settings") -> a signed-in page at that route, waiting up to a minute per step (a busy
    machine's local stack can take longer than the usual 15 s to answer a page's first calls)."""

    def open_at(route: str) -> Any:
        page = new_page()
        page.set_default_timeout(60_000)
        page.goto(outputs["DashboardUrl"])
        page.wait_for_selector("#sign-out:not([hidden])")
        page.evaluate("route => { location.hash = route; }", route)
        wait_until_loaded(page)
        return page

    return open_at


@pytest.fixture(scope="module")
def two_orders(api: Api, outputs: dict[str, Any]) -> list[str]:
    ship_by = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    placed = []
    for _ in range(2):
        answer = api.session.post(
            f"{outputs['SpApiEndpoint']}/_simulator/orders",
            json={"sku": SKU, "quantity": 1, "shipBy": ship_by},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        placed.append(answer.json()["orderId"])
    assert wait_for(lambda: all(api.get(f"/orders/{o}").status_code == 200 for o in placed), 45)
    return placed


def test_the_settings_are_edited_on_their_page_and_nothing_else_is_lost(
    opened: Callable[[str], Any], api: Api
) -> None:
    before = api.ok("GET", "/settings/shipping")
    page = opened("#/settings")
    assert page.inner_text("h1") == "Settings"
    assert page.input_value("#seller-name") == before["sellerName"]

    # closing before opening: refused on the page, nothing sent
    page.fill("#seller-name", "Browser Mug Co")
    page.fill("#warehouse-opens", "09:00")
    page.fill("#warehouse-closes", "08:00")
    page.click("#save-settings")
    page.wait_for_selector("#settings-problem:not([hidden])")
    assert "warehouse.closes" in page.inner_text("#settings-problem")
    assert page.get_attribute("#warehouse-closes", "aria-invalid") == "true"
    assert api.ok("GET", "/settings/shipping") == before

    # a time zone the API does not know: its refusal is shown next to the field it names
    page.fill("#warehouse-closes", "17:30")
    page.fill("#warehouse-zone", "Mars/Olympus")
    with page.expect_response(
        lambda r: r.url.endswith("/settings/shipping") and r.request.method == "PUT"
    ) as sent:
        page.click("#save-settings")
    assert sent.value.status == 400
    page.wait_for_selector("#warehouse-zone[aria-invalid=true]")
    assert "IANA" in page.inner_text("#settings-problem")
    assert api.ok("GET", "/settings/shipping") == before

    # fixed: saved whole; the address and carriers the page did not touch are still there
    page.fill("#warehouse-zone", "Europe/London")
    page.locator('[data-field="carriers[0].transitDays"]').fill("2")
    with page.expect_response(
        lambda r: r.url.endswith("/settings/shipping") and r.request.method == "PUT"
    ) as sent:
        page.click("#save-settings")
    assert sent.value.status == 200, sent.value.text()
    page.wait_for_selector("#settings-saved:not([hidden])")
    after = api.ok("GET", "/settings/shipping")
    assert after["sellerName"] == "Browser Mug Co"
    assert (after["warehouse"]["opens"], after["warehouse"]["closes"]) == ("09:00:00", "17:30:00")
    assert after["warehouse"]["timeZone"] == "Europe/London"
    assert after["carriers"][0]["transitDays"] == 2
    assert after["warehouse"]["address"] == before["warehouse"]["address"]
    assert [c["code"] for c in after["carriers"]] == [c["code"] for c in before["carriers"]]
    assert after["package"] == before["package"]
    assert not page.script_errors


def test_a_second_batch_with_the_same_order_is_refused_naming_the_batch(
    opened: Callable[[str], Any], api: Api, two_orders: list[str]
) -> None:
    first, second = two_orders
    page = opened("#/queue")
    page.get_by_role("checkbox", name=f"Select order {first}").check()
    with page.expect_response(lambda r: r.url.endswith("/batches") and r.request.method == "POST") as sent:
        page.click("#make-batch")
    assert sent.value.status == 201, sent.value.text()
    batch_id = sent.value.json()["batchId"]
    # the queue shows the order's batch
    row = page.locator(f'#queue-table tr[data-order-id="{first}"]')
    assert row.locator("a.batch-link").inner_text() == batch_id

    # the same order again, with another: refused, naming the batch; no second batch is made
    page.get_by_role("checkbox", name=f"Select order {first}").check()
    page.get_by_role("checkbox", name=f"Select order {second}").check()
    with page.expect_response(lambda r: r.url.endswith("/batches") and r.request.method == "POST") as sent:
        page.click("#make-batch")
    assert sent.value.status == 409
    page.wait_for_selector("#batch-problem:not([hidden])")
    assert batch_id in page.inner_text("#batch-problem")
    assert [b["batchId"] for b in api.ok("GET", "/batches")["items"] if first in b["orderIds"]] == [batch_id]

    # the seller batches them again anyway: the order moves to the new batch
    with page.expect_response(lambda r: r.url.endswith("/batches") and r.request.method == "POST") as sent:
        page.click("#force-batch")
    assert sent.value.status == 201, sent.value.text()
    moved = sent.value.json()
    assert moved["movedFrom"] == {first: batch_id}
    assert api.ok("GET", f"/orders/{first}")["batch"]["batchId"] == moved["batchId"]

    # the batches page lists both, and a batch's page reprints its PDFs
    page.evaluate("() => { location.hash = '#/batches'; }")
    wait_until_loaded(page)
    listed = page.locator("#batches-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.batchId)")
    assert listed[:2] == [moved["batchId"], batch_id]
    reprint = page.locator(f'#batches-table tr[data-batch-id="{batch_id}"] a.pick-list').get_attribute("href")
    downloads = requests.Session()
    downloads.trust_env = False
    assert downloads.get(str(reprint), timeout=30).content.startswith(b"%PDF")
    page.click(f'#batches-table a[href="#/batches/{batch_id}"]')
    wait_until_loaded(page)
    assert page.inner_text("h1") == f"Pick batch {batch_id}"
    assert page.get_attribute("#batch-pick-list", "href")
    # the order's page shows the batch it is in now
    page.evaluate(f"() => {{ location.hash = '#/orders/{second}'; }}")
    wait_until_loaded(page)
    assert page.inner_text("#order-batch") == moved["batchId"]
    assert not page.script_errors
