"""The Planning page in Chromium against a local stack: a SKU with twelve weeks of orders (counted per day
as the intake counts them) is planned by the nightly function (`oms invoke plan_stock`), shows up in the
reorder list, and its page shows the forecast chart, the method beside the baselines and every figure with
its formula. Dates are derived from the clock and the warehouse's zone, never fixed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oms_local import harness
from tests.browser.conftest import PHONE, Api
from tests.browser.planning_support import plan_now, seed_orders
from tests.builders import WAREHOUSE_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SKU = "MUG-PLAN"


def test_a_sku_below_its_reorder_point_is_listed_and_its_plan_explains_itself(
    signed_in: Callable[..., Any],
    api: Api,
    outputs: dict[str, Any],
    stack: harness.StackProcess,
    screenshots: Path,
) -> None:
    # given a mug with a 10-day lead time, 20 on hand, and twelve weeks of about 5 orders a day
    api.ok("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS)
    api.ok("PUT", f"/inventory/{SKU}", json={"leadTimeDays": 10, "casePack": 6})
    api.ok(
        "POST", f"/inventory/{SKU}/adjustments", json={"delta": 20, "reason": "receipt", "reference": "PO-1"}
    )
    yesterday = seed_orders(outputs, SKU, 84)

    # when the nightly plan runs
    plan_now(stack)
    plan = api.ok("GET", f"/planning/skus/{SKU}")
    assert plan["asOf"] == yesterday and plan["reorderDue"] is True

    # then the reorder list shows it with the quantity to order
    page = signed_in("#/planning")
    row = page.locator(f'tr[data-sku="{SKU}"]')
    assert row.count() == 1
    assert f"{plan['orderQuantity']['value']} units" in row.inner_text()
    assert page.get_attribute('nav a[data-nav="planning"]', "aria-current") == "page"
    page.screenshot(path=str(screenshots / "planning-reorder.png"), full_page=True)

    # and its page shows the verdict, the chart, the accuracy beside the baselines and each figure's formula
    row.locator("a").click()
    page.wait_for_selector("#plan-verdict")
    assert page.inner_text("#plan-verdict").startswith(
        f"Reorder now: order {plan['orderQuantity']['value']} units"
    )
    assert page.inner_text("#plan-method") == plan["method"]
    assert page.locator("#plan-chart").count() == 1
    assert page.locator(f'tr[data-method="{plan["method"]}"] strong').count() == 1
    assert page.locator('tr[data-method="seasonal naive"]').count() == 1
    point = page.inner_text("#plan-reorder-point")
    assert (
        str(plan["reorderPoint"]["value"]) in point
        and "daily demand x (lead time + review period) + safety stock" in point
    )
    assert "sqrt" in page.inner_text("#plan-safety-stock")
    assert page.script_errors == []
    page.screenshot(path=str(screenshots / "planning-sku.png"), full_page=True)

    # at phone width the page fits the screen
    phone = signed_in(f"#/planning/{SKU}", viewport=PHONE)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(screenshots / "planning-sku-phone.png"), full_page=True)
