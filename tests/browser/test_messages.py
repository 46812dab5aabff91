"""Buyer messages in the dashboard, in Chromium against a local stack: a buyer's "where is my order" waits
in the inbox with its time left; its thread shows the order beside the conversation and the suggested reply;
a reply breaking Amazon's rules is refused naming the rule, a good one is sent and the thread is answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import PHONE, Api, wait_for, wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SKU = f"MSG-{uuid.uuid4().hex[:6].upper()}-MUG"


@pytest.fixture(scope="module")
def written(api: Api, outputs: dict[str, Any]) -> dict[str, str]:
    """A buyer's order in the local marketplace, then the buyer asks where it is."""
    placed = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders", json={"sku": SKU, "quantity": 1}, timeout=30
    )
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["orderId"])
    assert wait_for(lambda: api.get(f"/orders/{order_id}").status_code == 200, 45), order_id
    wrote = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders/{order_id}/messages",
        json={"intent": "where-is-my-order"},
        timeout=30,
    )
    assert wrote.status_code == 201, wrote.text

    def thread() -> Any:
        items = api.ok("GET", "/messages", params={"orderId": order_id})["items"]
        return items[0] if items else None

    found = wait_for(thread, 45)
    assert found, "the buyer's message never arrived"
    return {"orderId": order_id, "threadId": found["threadId"]}


def test_the_inbox_lists_the_waiting_message_and_its_thread_answers_it(
    signed_in: Callable[..., Any], written: dict[str, str]
) -> None:
    page = signed_in("#/messages")
    row = page.locator(f'#messages-waiting tr[data-thread-id="{written["threadId"]}"]')
    assert row.count() == 1
    assert "Where is my order" in row.inner_text() and "left" in row.inner_text()

    row.locator("a.thread-link").click()
    wait_until_loaded(page)
    assert page.locator("h1").inner_text() == f"Messages about order {written['orderId']}"
    assert "Where is my order?" in page.locator("ol.messages").inner_text()
    suggested = page.locator("#reply-body").input_value()
    assert written["orderId"] in suggested  # filled with the order's facts

    page.locator("#reply-body").fill("Track it on www.example.com")
    page.locator("#reply-send").click()
    page.wait_for_selector("#reply-problem:not([hidden])")
    assert "Amazon does not allow links" in page.locator("#reply-problem").inner_text()

    page.locator("#reply-body").fill("Your parcel leaves our warehouse today.")
    page.locator("#reply-send").click()
    page.wait_for_selector("#thread-done:not([hidden])")
    assert "Answered" in page.locator(".thread-facts").inner_text()
    assert page.locator("ol.messages li.message-out").count() == 1
    assert "null" not in page.locator("#view").inner_text()  # an answered thread leaves out its waiting parts
    assert page.script_errors == []


def test_at_phone_width_the_inbox_and_a_thread_fit_the_screen(
    signed_in: Callable[..., Any], written: dict[str, str]
) -> None:
    for route in ("#/messages", f"#/messages/{written['threadId']}"):
        page = signed_in(route, viewport=PHONE)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{route}: {width} px wide at {PHONE['width']} px"
        assert page.script_errors == []


def test_a_template_is_written_in_the_dashboard_and_automatic_answers_switched_on(
    signed_in: Callable[..., Any], api: Api
) -> None:
    page = signed_in("#/messages")
    page.locator("#open-templates").click()
    wait_until_loaded(page)
    assert page.locator("h1").inner_text() == "Reply templates"

    page.locator("#template-id").fill("wismo-de")
    page.locator("#template-name").fill("Wo ist meine Bestellung")
    page.locator("#template-intent").select_option("where-is-my-order")
    page.locator("#template-language").fill("de")
    page.locator("#template-text").fill(
        "Ihre Bestellung {{orderId}} ist mit {{carrier}} unterwegs: {{trackingNumber}}."
    )
    page.locator("#template-save").click()
    page.wait_for_selector("#templates-done:not([hidden])")
    assert page.locator('tr[data-template-id="wismo-de"]').count() == 1
    saved = api.ok("GET", "/messages/templates/wismo-de")
    assert saved["intent"] == "where-is-my-order" and saved["bodies"]["de"].startswith(
        "Ihre Bestellung {{orderId}}"
    )

    page.locator("#template-id").fill("bad")
    page.locator("#template-name").fill("Bad")
    page.locator("#template-text").fill("Hi {{buyerPhone}}")
    page.locator("#template-save").click()
    page.wait_for_selector("#alert:not([hidden])")
    assert "buyerPhone" in page.locator("#alert").inner_text()

    page.locator("#auto-answer").check()
    page.wait_for_selector("#templates-done:not([hidden])")
    assert wait_for(lambda: api.ok("GET", "/messages/setup")["autoAnswerWhereIsMyOrder"] is True, 10)
    page.locator("#auto-answer").uncheck()
    assert wait_for(lambda: api.ok("GET", "/messages/setup")["autoAnswerWhereIsMyOrder"] is False, 10)
    wide = signed_in("#/messages/templates", viewport=PHONE)
    assert wide.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.script_errors == [] and wide.script_errors == []


def test_a_thread_links_to_the_buyer_s_orders_and_messages(
    signed_in: Callable[..., Any], written: dict[str, str]
) -> None:
    page = signed_in(f"#/messages/{written['threadId']}")
    page.locator("#buyer-link").click()
    wait_until_loaded(page)
    assert page.locator("h1").inner_text() == "One buyer's orders and messages"
    assert page.locator(f'#buyer-orders tr[data-order-id="{written["orderId"]}"]').count() == 1
    assert written["orderId"] in page.locator("#buyer-threads").inner_text()
    assert page.script_errors == []
