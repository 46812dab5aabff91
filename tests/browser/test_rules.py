"""Order rules in Chromium against a local stack: a seller writes "Heavy to UPS" on the Rules page (a value
the rule cannot test refused and named first), tries it on past orders, saves it; then the local stack runs
it on new orders (bus -> queue -> apply_rules) and each heavy order's page says what the rule chose."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SKU = f"ANVIL-{uuid.uuid4().hex[:6].upper()}"


def _place(api: Api, outputs: dict[str, Any], quantity: int) -> str:
    ship_by = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = api.session.post(
        f"{outputs['SpApiEndpoint']}/_simulator/orders",
        json={"sku": SKU, "quantity": quantity, "shipBy": ship_by},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["orderId"]


def _rule_lines(api: Api, order_id: str) -> list[str]:
    response = api.get(f"/orders/{order_id}/timeline")
    if response.status_code != 200:
        return []
    return [e["text"] for e in response.json()["items"] if e["kind"] == "rule"]


def test_a_rule_written_on_its_page_sends_heavy_orders_to_ups_and_says_so_on_each_order(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], screenshots
) -> None:
    api.ok("PUT", f"/products/{SKU}", json={"weight": {"value": 3, "unit": "lb"}})
    page = signed_in("#/rules")
    page.set_default_timeout(60_000)
    assert page.inner_text("h1") == "Order rules"

    page.fill("#rule-name", "Heavy to UPS")
    page.get_by_role("button", name="Add a condition").click()
    condition = page.locator("#rule-conditions .condition").first
    condition.locator("[name=field]").select_option("weightLb")
    condition.locator("[name=op]").select_option("gte")
    condition.locator("[name=value]").fill("heavy")
    action = page.locator("#rule-actions .action").first
    action.locator("[name=type]").select_option("chooseShipping")
    action.locator("[name=carrier]").fill("UPS")
    action.locator("[name=service]").fill("UPS Ground")

    # a value the rule cannot compare: refused when saved, the field named, nothing saved
    with page.expect_response(lambda r: r.url.endswith("/rules") and r.request.method == "POST") as sent:
        page.click("#rule-save")
    assert sent.value.status == 400
    page.wait_for_selector("#alert:not([hidden])")
    assert "weightLb" in page.inner_text("#alert")
    assert api.ok("GET", "/rules")["items"] == []

    # fixed, tried on the last 30 days (changes nothing), then saved
    condition.locator("[name=value]").fill("5")
    page.get_by_role("button", name="Try this rule on the last 30 days").click()
    page.wait_for_selector("#rule-test-summary")
    assert "Nothing was changed" in page.inner_text("#rule-test-summary")
    page.click("#rule-save")
    page.wait_for_selector("#rules-list [data-rule-id]")
    assert "when weight (lb) is at least 5: chose UPS Ground" in page.inner_text("#rules-list")
    page.screenshot(path=str(screenshots / "rules-page.png"), full_page=True)

    # new orders: two units (6 lb) are heavy, one unit (3 lb) is not
    heavy, light = _place(api, outputs, 2), _place(api, outputs, 1)
    said = ["rule 'Heavy to UPS' chose UPS Ground"]
    assert wait_for(lambda: _rule_lines(api, heavy) == said, 90), _rule_lines(api, heavy)
    assert api.ok("GET", f"/orders/{heavy}")["handling"]["service"] == "UPS Ground"
    assert wait_for(lambda: api.get(f"/orders/{light}").status_code == 200, 60)
    assert _rule_lines(api, light) == []

    order_page = signed_in(f"#/orders/{heavy}")
    assert said[0] in order_page.inner_text("#view")
    assert "UPS Ground" in order_page.inner_text(".badges")
    order_page.screenshot(path=str(screenshots / "rules-order.png"), full_page=True)
    assert not page.script_errors and not order_page.script_errors
