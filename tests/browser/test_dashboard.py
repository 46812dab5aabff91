"""The seller's dashboard in Chromium against a local stack: what the seller sees matches what the API says.

Given a stack with a few seller-fulfilled orders (placed in the local marketplace, which notifies like
Amazon) and stock set through the API, the seller opens the stack's DashboardUrl and works the day:
the queue, an order shipped from its page, low stock, account health, a report downloaded as CSV.
Screenshots of the main screens go to test-artifacts/screenshots/ for review.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.browser.conftest import PHONE, Api, wait_for, wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

RUN = uuid.uuid4().hex[:6].upper()
SKU_LOW = f"DASH-{RUN}-LOW"  # below its reorder point after the orders
SKU_SHIP = f"DASH-{RUN}-SHIP"  # in stock: the order shipped from its page
SKU_SHORT = f"DASH-{RUN}-SHORT"  # no stock: backordered
SHIPMENTS = "POST /orders/{orderId}/shipments"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ the seller's data


@pytest.fixture(scope="module")
def orders(api: Api, outputs: dict[str, Any]) -> dict[str, str]:
    """Stock first (so orders reserve it), then six orders with spread-out deadlines; waits until all are in."""
    for sku, on_hand, reorder_point in ((SKU_LOW, 12, 20), (SKU_SHIP, 30, 5)):
        api.ok(
            "PUT",
            f"/inventory/{sku}",
            json={"reorderPoint": reorder_point, "safetyStock": 2, "leadTimeDays": 7},
        )
        api.ok(
            "POST",
            f"/inventory/{sku}/adjustments",
            json={"delta": on_hand, "reason": "receipt", "reference": "PO-1"},
        )
    now = datetime.now(UTC)
    wanted = {
        "soonest": {"sku": SKU_LOW, "quantity": 2, "shipBy": iso(now + timedelta(hours=2))},
        "ship": {"sku": SKU_SHIP, "quantity": 3, "shipBy": iso(now + timedelta(days=1))},
        "short": {"sku": SKU_SHORT, "quantity": 4, "shipBy": iso(now + timedelta(days=2))},
        "later": {"sku": SKU_LOW, "quantity": 1, "shipBy": iso(now + timedelta(days=3))},
        "split": {
            "items": [{"sku": SKU_SHIP, "quantity": 2}, {"sku": SKU_LOW, "quantity": 1}],
            "shipBy": iso(now + timedelta(days=4)),
        },
        "afn": {"sku": SKU_SHIP, "quantity": 1, "afn": True},
    }
    placed = {}
    for name, order in wanted.items():
        answer = api.session.post(f"{outputs['SpApiEndpoint']}/_simulator/orders", json=order, timeout=30)
        assert answer.status_code == 201, answer.text
        placed[name] = answer.json()["orderId"]
    arrived = wait_for(
        lambda: all(api.get(f"/orders/{oid}").status_code == 200 for oid in placed.values()), 45
    )
    assert arrived, "the simulated orders' notifications were not applied"
    return placed


def open_queue_from_api(api: Api) -> list[dict[str, Any]]:
    """Every seller-fulfilled order still to ship, as the API lists them (a test stack holds a few)."""
    found: list[dict[str, Any]] = []
    for status in ("Unshipped", "PartiallyShipped"):
        token = None
        while True:
            query: dict[str, Any] = {"status": status, "fulfillmentChannel": "MFN", "limit": 100}
            if token:
                query["nextToken"] = token
            page = api.ok("GET", "/orders", params=query)
            found += page["items"]
            token = page["nextToken"]
            if not token:
                break
    return found


def by_urgency(order: dict[str, Any]) -> tuple[int, str, str]:
    """The dashboard's promise: late first, then at risk, then the soonest must-ship-by time."""
    flags = order.get("flags") or []
    rank = 0 if "late" in flags else 1 if "atRisk" in flags else 2
    must_ship = (order.get("mustShipBy") or {}).get("at") or order.get("latestShipDate") or "9999"
    return rank, must_ship, order["orderId"]


def same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a.replace("Z", "+00:00")) == datetime.fromisoformat(
        b.replace("Z", "+00:00")
    )


def alert_text(page: Any) -> str:
    page.wait_for_selector("#alert:not([hidden])")
    return str(page.inner_text("#alert"))


def said_once(page: Any, message: str) -> None:
    """The error is on the page exactly once: where it happened, not also in the banner."""
    assert message.strip(), "an error with no words"
    assert page.locator("#alert").is_hidden(), page.inner_text("#alert")
    body = str(page.inner_text("body"))
    assert body.count(message.strip()) == 1, f"{message!r} appears {body.count(message.strip())} times"


# ------------------------------------------------------------------------------ signing in


def test_without_a_token_the_page_says_how_to_sign_in(
    new_page: Callable[..., Any], outputs: dict[str, Any]
) -> None:
    page = new_page()
    page.goto(outputs["LocalConsoleUrl"] + "/")
    wait_until_loaded(page)
    text = page.inner_text("main")
    assert "not signed in" in text and "DashboardUrl" in text and "make run" in text
    assert page.locator("#sign-out").is_hidden()


def test_the_dashboard_url_signs_in_and_keeps_the_token_out_of_the_address_bar(
    signed_in: Callable[..., Any], outputs: dict[str, Any], orders: dict[str, str]
) -> None:
    page = signed_in()
    assert outputs["ApiToken"] not in page.url and page.url.endswith("#/queue")
    assert page.evaluate("() => sessionStorage.getItem('oms.token')") == outputs["ApiToken"]
    assert page.inner_text("h1") == "Ship-today queue"
    page.click("#sign-out")
    wait_until_loaded(page)
    assert "signed out" in page.inner_text("main")
    page.reload()
    wait_until_loaded(page)
    assert "not signed in" in page.inner_text("main"), "signing out forgets the token"
    assert page.locator("#sign-out").is_hidden()
    assert not page.script_errors


# ------------------------------------------------------------------------------ the queue


def test_the_queue_lists_the_same_orders_in_the_same_order_as_the_api(
    signed_in: Callable[..., Any], api: Api, orders: dict[str, str]
) -> None:
    expected = sorted(open_queue_from_api(api), key=by_urgency)
    assert orders["soonest"] in [o["orderId"] for o in expected]
    assert orders["afn"] not in [o["orderId"] for o in expected], "Amazon ships AFN orders"
    # two orders a page: the queue is read page by page ("Show more"), never all at once
    page = signed_in("#/queue?pageSize=2")
    pages_read = 1
    while page.locator("#queue-more").is_visible():
        count = page.locator("#queue-table tbody tr").count()
        page.click("#queue-more")
        page.wait_for_function(f"() => document.querySelectorAll('#queue-table tbody tr').length > {count}")
        pages_read += 1
    assert pages_read >= 3
    shown = page.eval_on_selector_all("#queue-table tbody tr", "rows => rows.map(r => r.dataset.orderId)")
    assert shown == [o["orderId"] for o in expected]
    # each row's deadline is the API's, and the summary counts what is shown
    first = expected[0]
    deadline = page.get_attribute(f'tr[data-order-id="{first["orderId"]}"] time', "datetime")
    assert deadline and same_instant(deadline, by_urgency(first)[1])
    assert page.inner_text("#queue-summary").startswith(f"{len(expected)} orders shown")
    assert not page.script_errors


def test_an_order_opens_from_the_queue_by_keyboard(
    signed_in: Callable[..., Any], orders: dict[str, str]
) -> None:
    page = signed_in()
    link = page.locator(f'#queue-table a[href="#/orders/{orders["soonest"]}"]')
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.hash === '#/orders/{orders['soonest']}'")
    wait_until_loaded(page)
    assert page.inner_text("h1") == f"Order {orders['soonest']}"
    assert page.evaluate("() => document.activeElement.tagName") == "H1", "focus moves to the new page"


def test_at_phone_width_the_queue_fits_the_screen(
    signed_in: Callable[..., Any], orders: dict[str, str]
) -> None:
    page = signed_in(viewport=PHONE)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#queue-table tbody tr").first.is_visible()


def test_orders_ticked_in_the_queue_make_a_pick_batch_with_its_pdfs(
    signed_in: Callable[..., Any], orders: dict[str, str]
) -> None:
    picked = [orders["soonest"], orders["later"]]  # both awaiting shipment, never shipped here
    page = signed_in()
    for order_id in picked:
        page.get_by_role("checkbox", name=f"Select order {order_id}").check()
    assert "2 selected" in page.inner_text("#batch-selected")
    # by keyboard: focus the button and press Enter; the page shows what the API answered
    page.focus("#make-batch")
    with page.expect_response(lambda r: r.url.endswith("/batches") and r.request.method == "POST") as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201, sent.value.text()
    made = sent.value.json()
    assert sorted(made["orderIds"]) == sorted(picked)
    page.wait_for_selector("#batch-result:not([hidden])")
    batch_id = page.inner_text("#batch-id")
    assert batch_id == made["batchId"]
    units = sum(line["units"] for line in made["lines"])
    assert units == 3
    assert page.inner_text("#batch-orders").startswith("2 orders")
    assert page.inner_text("#batch-units").startswith(f"{units} units")
    assert batch_id in page.inner_text("#status"), "the batch is announced"
    assert page.locator("#batch-result h2").evaluate("h => h === document.activeElement")
    assert page.locator("#alert").is_hidden()
    # both documents open in a new tab and are PDFs (presigned links to the documents bucket)
    downloads = requests.Session()
    downloads.trust_env = False
    for name in ("Pick list (PDF)", "Packing slips (PDF)"):
        link = page.get_by_role("link", name=name, exact=True)
        assert link.get_attribute("target") == "_blank"
        answer = downloads.get(str(link.get_attribute("href")), timeout=30)
        assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.text[:200]}"
        assert answer.content.startswith(b"%PDF"), name
    # the selection is cleared after the batch; "select all shown" ticks and unticks every row
    assert page.locator("#queue-table input.select-order:checked").count() == 0
    page.check("#select-all")
    rows = page.locator("#queue-table tbody tr").count()
    assert page.locator("#queue-table input.select-order:checked").count() == rows
    page.uncheck("#select-all")
    assert page.locator("#queue-table input.select-order:checked").count() == 0
    assert not page.script_errors


# ------------------------------------------------------------------------------ an order's page


def test_an_order_is_shipped_from_its_page(
    signed_in: Callable[..., Any], api: Api, orders: dict[str, str]
) -> None:
    order_id = orders["ship"]
    carrier = next(c for c in api.ok("GET", "/carriers")["items"] if c["code"] == "UPS")
    page = signed_in(f"#/orders/{order_id}")
    assert "Nothing shipped yet" in page.inner_text("#shipments")
    page.select_option("#ship-carrier", "UPS")
    assert carrier["example"] in page.inner_text("#ship-tracking-hint")
    # a wrong tracking number: the API's reason, in words, next to the form, once (no banner repeating it)
    page.fill("#ship-tracking", "not-a-tracking-number")
    page.click("#ship-form button[type=submit]")
    page.wait_for_selector("#ship-problem:not([hidden])")
    problem = page.inner_text("#ship-problem")
    assert "tracking number" in problem
    assert page.get_attribute("#ship-tracking", "aria-invalid") == "true"
    said_once(page, problem)
    page.fill("#ship-tracking", carrier["example"])
    page.click("#ship-form button[type=submit]")
    page.wait_for_selector("#ship-done")
    assert carrier["example"] in page.inner_text("#shipments")
    assert page.locator("#alert").is_hidden()
    stored = api.ok("GET", f"/orders/{order_id}")
    assert [s["trackingNumber"] for s in stored["shipments"]] == [carrier["example"]]
    assert stored["status"] in ("Shipped", "PartiallyShipped")
    assert "Nothing to ship" in page.inner_text("#ship") or stored["status"] == "PartiallyShipped"


def test_an_order_page_shows_its_timeline(signed_in: Callable[..., Any], orders: dict[str, str]) -> None:
    page = signed_in(f"#/orders/{orders['soonest']}")
    kinds = page.eval_on_selector_all("#timeline li", "items => items.map(i => i.dataset.kind)")
    assert "status" in kinds and "stock" in kinds, kinds
    assert SKU_LOW in page.inner_text("#timeline")


# ------------------------------------------------------------------------------ stock


def test_low_stock_shows_days_of_cover_and_a_sku_has_its_charts(
    signed_in: Callable[..., Any], api: Api, orders: dict[str, str]
) -> None:
    page = signed_in("#/inventory")
    low = page.locator(f'#stock-table tr[data-sku="{SKU_LOW}"]')
    assert low.is_visible(), "a SKU at or below its reorder point is listed"
    assert page.locator(f'#stock-table tr[data-sku="{SKU_SHIP}"]').count() == 0, "a well-stocked SKU is not"
    row = api.ok("GET", f"/inventory/{SKU_LOW}")
    assert str(row["available"]) in low.inner_text()
    assert "days" in low.inner_text() or "no recent sales" in low.inner_text()
    low.locator("a").click()
    wait_until_loaded(page)
    page.wait_for_function(
        "() => window.Chart && document.querySelector('#sales-chart') && Chart.getChart('sales-chart')"
    )
    ordered = 2 + 1 + 1  # soonest, later, split
    assert f"{ordered} units ordered" in page.inner_text(".charts")
    assert not page.script_errors


def test_stock_received_and_damaged_on_the_sku_page_sets_and_clears_the_orders_shortage(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any]
) -> None:
    sku = f"DASH-{RUN}-SHELF"
    api.ok("PUT", f"/inventory/{sku}", json={"reorderPoint": 0})
    placed = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders",
        json={"sku": sku, "quantity": 2, "shipBy": iso(datetime.now(UTC) + timedelta(days=2))},
        timeout=30,
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["orderId"]
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, 45)
    assert "stockShortage" in api.ok("GET", f"/orders/{order_id}")["flags"], "no stock: the order is short"

    # the seller receives 2 units on the SKU page: the order is no longer short
    page = signed_in(f"#/inventory/{sku}")
    page.select_option("#adjust-reason", "receipt")
    page.fill("#adjust-units", "2")
    page.fill("#adjust-reference", "PO-77")
    page.click("#adjust-form button[type=submit]")
    page.wait_for_selector("#adjust-done:not([hidden])")
    assert "2 on hand" in page.inner_text("#adjust-done")
    assert page.inner_text('#stock-facts dd[data-fact="Reserved for orders"]') == "2"
    order = api.ok("GET", f"/orders/{order_id}")
    assert "stockShortage" not in order["flags"] and order["items"][0]["quantityShort"] == 0

    # a unit is found damaged although the order holds it: recorded, and the order shows 1 unit short
    page.select_option("#adjust-reason", "damaged")
    assert page.input_value("#adjust-direction") == "out"
    page.fill("#adjust-units", "1")
    page.fill("#adjust-note", "crushed carton")
    page.click("#adjust-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#adjust-done').textContent.includes('-1')")
    first = page.locator("#ledger tbody tr").first
    assert "damaged" in first.inner_text().lower() and "crushed carton" in first.inner_text()
    assert page.locator("#alert").is_hidden()

    page.evaluate("route => { location.hash = route; }", f"#/orders/{order_id}")
    wait_until_loaded(page)
    assert "Stock short" in page.inner_text(".badges")
    assert page.inner_text(".short-units") == "1 short"
    assert not page.script_errors


def test_the_sku_ledger_pages_back_through_older_movements(signed_in: Callable[..., Any], api: Api) -> None:
    sku = f"DASH-{RUN}-LEDGER"
    api.ok("PUT", f"/inventory/{sku}", json={})
    for n in range(27):  # one page shows 25
        api.ok(
            "POST",
            f"/inventory/{sku}/adjustments",
            json={"delta": 1, "reason": "found", "reference": f"bin-{n}"},
        )
    page = signed_in(f"#/inventory/{sku}")
    assert page.locator("#ledger tbody tr").count() == 25
    assert "bin-26" in page.locator("#ledger tbody tr").first.inner_text()  # newest first

    page.click("#ledger-older")

    page.wait_for_function(
        "() => document.querySelectorAll('#ledger tbody tr').length === 27", timeout=60_000
    )  # 30 s was not enough with the machine loaded 40 deep
    assert "bin-0" in page.locator("#ledger tbody tr").last.inner_text()
    assert page.locator("#ledger-older").is_hidden()


# ------------------------------------------------------------------------------ reports


def test_the_column_chooser_changes_the_downloaded_csv(
    signed_in: Callable[..., Any], api: Api, orders: dict[str, str]
) -> None:
    page = signed_in("#/reports")
    page.select_option("#report-view", "unshipped")

    def download(columns: list[str]) -> list[list[str]]:
        page.click("#columns-none")
        for name in columns:
            page.check(f'input[name="column"][value="{name}"]')
        with page.expect_download() as started:
            page.click("#report-download")
        path = Path(started.value.path())
        text = path.read_text(encoding="utf-8-sig")
        expected = api.get(
            "/reports/orders", params={"view": "unshipped", "columns": ",".join(columns), "format": "csv"}
        )
        assert expected.status_code == 200, expected.text
        assert text == expected.text, "the dashboard saves exactly the API's CSV"
        return list(csv.reader(io.StringIO(text)))

    narrow = download(["amazon-order-id", "sku"])
    page.click("#report-preview")
    page.wait_for_selector("#report-result table")
    headers = page.eval_on_selector_all("#report-result th", "cells => cells.map(c => c.textContent)")
    assert headers == ["amazon-order-id", "sku"], "the preview has the chosen columns"
    wide = download(["amazon-order-id", "sku", "quantity"])
    assert narrow[0] == ["amazon-order-id", "sku"]
    assert wide[0] == ["amazon-order-id", "sku", "quantity"]
    assert len(narrow) == len(wide) > 1
    assert [row[:2] for row in wide[1:]] == narrow[1:]
    ours = {row[0] for row in wide[1:]}
    assert {orders["soonest"], orders["short"]} <= ours
    assert re.search(r"Downloaded orders-unshipped-.*\.csv", page.inner_text("#report-result"))


def test_a_confirmation_amazon_refused_is_retried_from_the_order_page(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], orders: dict[str, str]
) -> None:
    order_id = orders["split"]
    control = f"{outputs['SpApiEndpoint']}/_simulator/faults"
    refuse = {"operation": "confirmShipment", "status": 400, "count": 1}
    assert api.session.post(control, json=refuse, timeout=10).status_code == 200
    shipped = api.ok(
        "POST",
        f"/orders/{order_id}/shipments",
        json={"carrier": "USPS", "trackingNumber": "9400111899223100000000"},
    )
    assert shipped["shipment"]["confirmation"]["status"] == "refused"

    page = signed_in(f"#/orders/{order_id}")
    page.wait_for_selector("#shipments .confirm-now")
    assert "refused by Amazon" in page.inner_text("#shipments")
    page.focus("#shipments .confirm-now")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('#shipments .confirm-now')")
    assert "confirmed" in page.inner_text("#shipments")
    assert api.ok("GET", f"/orders/{order_id}")["shipments"][0]["confirmation"]["status"] == "confirmed"


def test_the_end_of_day_form_downloads_with_the_days_packages(
    signed_in: Callable[..., Any], api: Api
) -> None:
    page = signed_in("#/reports")
    page.wait_for_selector("#eod-carrier option", state="attached")
    page.select_option("#eod-carrier", "UPS")
    day = page.input_value("#eod-date")
    with page.expect_download() as started:
        page.click("#eod-csv")
    text = Path(started.value.path()).read_text(encoding="utf-8")
    expected = api.get("/reports/end-of-day", params={"date": day, "carrier": "UPS", "format": "csv"})
    assert expected.status_code == 200, expected.text
    assert text == expected.text
    assert text.splitlines()[0].startswith("order-id,shipment-id,tracking-number")
    assert "package" in page.inner_text("#eod-outcome")


# ------------------------------------------------------------------------------ errors in words


def test_api_errors_are_shown_in_words_once(signed_in: Callable[..., Any], outputs: dict[str, Any]) -> None:
    page = signed_in("#/orders/111-0000000-0000000")
    assert page.inner_text("h1") == "This page could not be shown"
    message = page.inner_text("#view .failure")
    assert "111-0000000-0000000 is not known here" in message
    said_once(page, message)
    page.evaluate("() => { location.hash = '#/orders?status=Lost'; }")
    wait_until_loaded(page)
    message = page.inner_text("#view .failure")
    assert "status must be one of" in message.lower() and "Unshipped" in message, message
    assert "Input should" not in message and "enum" not in message
    said_once(page, message)
    assert page.locator("#filter-status").is_visible(), "the filters stay, to be put right"
    # the API out of reach: a sentence, not a blank page
    page.route(f"{outputs['ApiUrl']}/**", lambda route: route.abort())
    page.evaluate("() => { location.hash = '#/inventory'; }")
    wait_until_loaded(page)
    message = page.inner_text("#view .failure")
    assert "cannot be reached" in message
    said_once(page, message)
    assert page.inner_text("h1")
    assert not page.script_errors


# ------------------------------------------------------------------------------ screenshots for review


def test_screenshots_of_the_main_screens(
    signed_in: Callable[..., Any], screenshots: Path, orders: dict[str, str]
) -> None:
    screens = {
        "queue": "#/queue",
        "order": f"#/orders/{orders['split']}",
        "inventory": "#/inventory",
        "sku": f"#/inventory/{SKU_LOW}",
        "health": "#/health",
        "reports": "#/reports",
        "settings": "#/settings",
        "batches": "#/batches",
    }
    for name, route in screens.items():
        page = signed_in(route)
        if name == "sku":
            page.wait_for_function("() => !document.querySelector('#sales-chart') || window.Chart")
            page.wait_for_timeout(300)
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        assert "[object" not in page.inner_text("body"), f"{name}: a value shown as [object ...]"
        assert not page.script_errors, f"{name}: {page.script_errors}"
    for name, route in {"queue-375": "#/queue", "order-375": f"#/orders/{orders['split']}"}.items():
        page = signed_in(route, viewport=PHONE)
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: {width} px wide at {PHONE['width']} px"
    saved = sorted(path.name for path in screenshots.glob("*.png"))
    # other browser tests save theirs beside these
    assert {f"{name}.png" for name in [*screens, "queue-375", "order-375"]} <= set(saved)


# ------------------------------------------------------------------------------ deployed sign-in


def test_deployed_sign_in_goes_through_the_hosted_ui_with_pkce(
    new_page: Callable[..., Any], outputs: dict[str, Any], orders: dict[str, str]
) -> None:
    """As on CloudFront: config.json names the API and Cognito; Cognito is played here by routes."""
    cognito = "https://oms-dev-123456789012-us-east-1.auth.us-east-1.amazoncognito.com"
    config = {
        "apiUrl": outputs["ApiUrl"],
        "region": "us-east-1",
        "cognito": {"domain": cognito, "clientId": "dashboard-client"},
    }
    console = outputs["LocalConsoleUrl"] + "/"
    seen: dict[str, Any] = {}
    page = new_page()
    page.route("**/config.json", lambda route: route.fulfill(json=config))

    def authorize(route: Any) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        seen["authorize"] = {key: values[0] for key, values in query.items()}
        back = f"{console}?code=THE-CODE&state={seen['authorize']['state']}"
        route.fulfill(status=302, headers={"Location": back})

    def token(route: Any) -> None:
        seen["token"] = {key: values[0] for key, values in parse_qs(route.request.post_data or "").items()}
        route.fulfill(
            json={"id_token": outputs["ApiToken"], "expires_in": 3600, "token_type": "Bearer"},
            headers={"Access-Control-Allow-Origin": "*"},
        )

    page.route(f"{cognito}/oauth2/authorize**", authorize)
    page.route(f"{cognito}/oauth2/token", token)
    page.goto(console)
    wait_until_loaded(page)
    assert "not signed in" in page.inner_text("main")
    page.click("#view button:has-text('Sign in')")
    page.wait_for_function("() => document.getElementById('view').dataset.rendered === '#/queue'")
    wait_until_loaded(page)
    assert page.inner_text("h1") == "Ship-today queue"
    asked = seen["authorize"]
    assert asked["response_type"] == "code" and asked["client_id"] == "dashboard-client"
    assert asked["code_challenge_method"] == "S256" and asked["redirect_uri"] == console
    assert asked["scope"] == "openid email"
    exchanged = seen["token"]
    assert exchanged["grant_type"] == "authorization_code" and exchanged["code"] == "THE-CODE"
    verifier = exchanged["code_verifier"]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == asked["code_challenge"], "the verifier matches the challenge (PKCE)"
    assert "code=" not in page.url, "the code leaves the address bar"
    assert page.locator(f'#queue-table tr[data-order-id="{orders["soonest"]}"]').count() == 1
    assert not page.script_errors


def test_deployed_the_dashboard_ignores_a_link_carrying_an_api_and_a_token(
    new_page: Callable[..., Any], outputs: dict[str, Any]
) -> None:
    """A link to the deployed dashboard with #api=...&token=... could point it at someone else's API:
    deployed, only Cognito signs in, and the token still leaves the address bar."""
    cognito = "https://oms-dev-123456789012-us-east-1.auth.us-east-1.amazoncognito.com"
    config = {"apiUrl": outputs["ApiUrl"], "cognito": {"domain": cognito, "clientId": "dashboard-client"}}
    asked_elsewhere: list[str] = []
    page = new_page()
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    page.route("https://api.example.com/**", lambda route: asked_elsewhere.append(route.request.url))
    page.goto(f"{outputs['LocalConsoleUrl']}/#api=https://api.example.com&token={outputs['ApiToken']}")
    wait_until_loaded(page)
    assert "not signed in" in page.inner_text("main")
    assert "token=" not in page.url
    assert asked_elsewhere == []
    assert page.evaluate("() => sessionStorage.getItem('oms.token')") is None
    assert not page.script_errors


# ------------------------------------------------------------------------------ times, words and width

WIDE_800 = {"width": 800, "height": 900}


def test_times_are_the_warehouse_s_with_the_zone_named_and_utc_on_hover(
    signed_in: Callable[..., Any], api: Api, orders: dict[str, str]
) -> None:
    """A seller in Tokyo looking after a warehouse elsewhere reads the warehouse's clock, not their laptop's."""
    zone = api.ok("GET", "/settings/shipping")["warehouse"]["timeZone"]
    laptop = "Asia/Tokyo" if zone != "Asia/Tokyo" else "Europe/Lisbon"
    order = api.ok("GET", f"/orders/{orders['later']}")
    page = signed_in(f"#/orders/{orders['later']}", timezone_id=laptop)

    purchased = page.locator(f'#view dl.facts time[datetime="{order["purchaseDate"]}"]')
    instant = datetime.fromisoformat(order["purchaseDate"].replace("Z", "+00:00"))
    local = instant.astimezone(ZoneInfo(zone))
    text = purchased.inner_text()
    assert local.strftime("%Z") in text, f"{text!r} names the zone {zone} ({local:%Z})"
    assert f"{local:%I:%M}" in text or f"{local:%H:%M}" in text, text
    assert f"{local:%b} {local.day}, {local.year}" in text, text
    assert purchased.get_attribute("title") == f"{instant:%Y-%m-%d %H:%M} UTC"
    assert zone in page.inner_text("#zone"), "the header says whose clock the times are on"
    # every time on the queue too: the warehouse's zone named, UTC on hover
    page.evaluate("() => { location.hash = '#/queue'; }")
    wait_until_loaded(page)
    times = page.locator("#queue-table time")
    assert times.count() >= 2
    for index in range(times.count()):
        shown = times.nth(index)
        assert (shown.get_attribute("title") or "").endswith(" UTC")
        at = datetime.fromisoformat(str(shown.get_attribute("datetime")).replace("Z", "+00:00"))
        assert at.astimezone(ZoneInfo(zone)).strftime("%Z") in shown.inner_text()
    assert not page.script_errors


def test_codes_read_as_words(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], orders: dict[str, str]
) -> None:
    """Given an order of 2 with 1 unit shipped, the seller reads "Partially shipped", "Amazon", "Reserved"."""
    answer = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders", json={"sku": SKU_SHIP, "quantity": 2}, timeout=30
    )
    assert answer.status_code == 201, answer.text
    order_id = answer.json()["orderId"]
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, 45)
    item = api.ok("GET", f"/orders/{order_id}")["items"][0]
    tracking = f"{uuid.uuid4().int % 10**12:012d}"  # FedEx: 12 digits
    api.ok(
        "POST",
        f"/orders/{order_id}/shipments",
        json={
            "carrier": "FedEx",
            "trackingNumber": tracking,
            "items": [{"orderItemId": item["orderItemId"], "quantity": 1}],
        },
    )
    assert api.ok("GET", f"/orders/{order_id}")["status"] == "PartiallyShipped"

    page = signed_in("#/orders?status=PartiallyShipped")
    row = page.locator(f'tr[data-order-id="{order_id}"]')
    assert "Partially shipped" in row.inner_text()
    assert page.locator("#filter-status option:checked").inner_text() == "Partially shipped"

    page.evaluate(f"() => {{ location.hash = '#/orders/{order_id}'; }}")
    wait_until_loaded(page)
    facts = page.inner_text("#view dl.facts")
    assert "Partially shipped" in facts
    assert page.locator("dl.facts dt:text-is('Shipped by') + dd").inner_text() == "You"
    page.wait_for_selector("#timeline li")
    timeline = page.inner_text("#timeline")
    assert "by Amazon" in timeline and "Reserved for an order" in timeline, timeline
    body = page.inner_text("body")
    for code in ("PartiallyShipped", "amazon:ORDER_CHANGE", "MFN", "reservation (", "Std US"):
        assert code not in body, f"{code!r} shown as a code"

    page.evaluate("() => { location.hash = '#/orders'; }")
    wait_until_loaded(page)
    fba = page.locator(f'tr[data-order-id="{orders["afn"]}"]')
    assert "Amazon (FBA)" in fba.inner_text()
    assert "AFN" not in page.inner_text("#view") and "MFN" not in page.inner_text("#view")

    page.evaluate(f"() => {{ location.hash = '#/inventory/{SKU_SHIP}'; }}")
    wait_until_loaded(page)
    page.wait_for_selector("table:has(caption:text('Stock movements'))")
    reasons = page.eval_on_selector_all("td[data-label='Reason']", "cells => cells.map(c => c.textContent)")
    assert "Received" in reasons and "Reserved for an order" in reasons and "Shipped" in reasons, reasons
    assert not {"receipt", "reservation", "shipment"} & set(reasons)
    assert not page.script_errors


def test_the_sku_page_shows_the_days_of_cover_the_list_shows(
    signed_in: Callable[..., Any], api: Api, orders: dict[str, str]
) -> None:
    row = api.ok("GET", f"/inventory/{SKU_LOW}")
    assert row["daysOfCover"] is not None, "orders waiting to ship are demand"
    page = signed_in("#/inventory?all=1")
    listed = page.inner_text(f'#stock-table tr[data-sku="{SKU_LOW}"] td[data-label="Days of cover"]')
    page.evaluate(f"() => {{ location.hash = '#/inventory/{SKU_LOW}'; }}")
    wait_until_loaded(page)
    on_page = page.locator("dl.facts dt:text-is('Days of cover') + dd").inner_text()
    assert listed.startswith(on_page) and "day" in on_page, (listed, on_page)


def test_every_screen_is_usable_at_800_px(
    signed_in: Callable[..., Any], screenshots: Path, orders: dict[str, str]
) -> None:
    folder = screenshots / "800px"
    folder.mkdir(exist_ok=True)
    screens = {
        "queue": "#/queue",
        "orders": "#/orders",
        "order": f"#/orders/{orders['split']}",
        "inventory": "#/inventory?all=1",
        "sku": f"#/inventory/{SKU_LOW}",
        "health": "#/health",
        "reports": "#/reports",
        "settings": "#/settings",
        "batches": "#/batches",
    }
    for name, route in screens.items():
        page = signed_in(route, viewport=WIDE_800)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= WIDE_800["width"], f"{name}: the page is {width} px wide at 800 px"
        cut = page.evaluate(
            """() => [...document.querySelectorAll('#view table')]
                 .filter(t => t.closest('.table-wrap').scrollWidth > t.closest('.table-wrap').clientWidth + 1)
                 .map(t => t.querySelector('caption')?.textContent)"""
        )
        assert not cut, f"{name}: tables that scroll sideways at 800 px: {cut}"
        assert not page.script_errors, f"{name}: {page.script_errors}"
