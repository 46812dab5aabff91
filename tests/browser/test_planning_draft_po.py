"""A draft purchase order in two clicks: a SKU with a supplier's terms falls to its reorder point, the nightly
plan lists it under its supplier on the Planning page (and as a stockout risk under "Too much, too
little"), and "Draft a purchase order" (clicked twice, quickly)
makes one draft with the suggested quantity and opens its page. Dates come from the clock and the
warehouse's zone, never fixed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oms_local import harness
from tests.browser.conftest import Api, wait_until_loaded
from tests.browser.planning_support import plan_now, seed_orders
from tests.builders import WAREHOUSE_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"DRAFT-MUG-{RUN}"
QUIET = f"AAA-QUIET-{RUN}"  # listed before SKU


def test_a_suppliers_reorder_group_becomes_one_draft_in_two_clicks(
    signed_in: Callable[..., Any],
    api: Api,
    outputs: dict[str, Any],
    stack: harness.StackProcess,
    screenshots: Path,
) -> None:
    # given a mug bought from a supplier in cases of 6 with a 14-day lead time, 10 on hand, ~5 sold a day
    api.ok("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS)
    supplier = api.ok("POST", "/suppliers", json={"name": f"Draft Works {RUN}", "currencyCode": "USD"})
    supplier_id = supplier["supplierId"]
    terms = {
        "leadTime": {"productionDays": 10, "transitDays": 4},
        "casePack": 6,
        "unitCost": {"amount": "2.40", "currencyCode": "USD"},
    }
    api.ok("PUT", f"/suppliers/{supplier_id}/skus/{SKU}", json=terms)
    api.ok("PUT", f"/inventory/{QUIET}", json={})  # a stock row before it, with nothing to say
    api.ok("PUT", f"/inventory/{SKU}", json={"casePack": 6})
    api.ok(
        "POST",
        f"/inventory/{SKU}/adjustments",
        json={"delta": 10, "reason": "receipt", "reference": "OPENING"},
    )
    seed_orders(outputs, SKU, 84)
    plan_now(stack)
    plan = api.ok("GET", f"/planning/skus/{SKU}")
    assert plan["reorderDue"] is True
    suggested = plan["orderQuantity"]["value"]
    assert suggested > 0 and suggested % 6 == 0

    # when the seller presses "Draft a purchase order" on the supplier's group, twice in a hurry
    page = signed_in("#/planning")
    group = page.locator(f'section.reorder-group[data-supplier="{supplier_id}"]')
    group.locator(f'tr[data-sku="{SKU}"]').wait_for(
        timeout=60_000
    )  # the page fills its sections as they load
    assert group.locator(f'tr[data-sku="{SKU}"]').count() == 1
    button = group.locator("button.draft-po")
    assert button.inner_text() == "Draft a purchase order"
    page.screenshot(path=str(screenshots / "planning-draft-button.png"), full_page=True)

    # and, 10 on hand lasting a few days of a 14-day lead time, "Too much, too little" says to reorder now
    risk = page.locator(f'#stock-health tr[data-health-sku="{SKU}"]')
    risk.wait_for(timeout=60_000)
    assert risk.get_attribute("data-problem") == "stockout-risk"
    assert f"reorder now: {suggested} units" in risk.locator('li[data-action="reorder-now"]').inner_text()
    assert risk.locator('li[data-action="price-or-promotion-hint"]').count() == 1
    # a page of "Too much, too little" with nothing on it is not the end: the page reads on (pages of one row
    # here: the quiet row, then the mug)
    paged = signed_in("#/queue")
    paged.route(
        f"{outputs['ApiUrl']}/planning/stock-health?**",
        lambda route: route.continue_(url=route.request.url.replace("limit=500", "limit=1")),
    )
    paged.evaluate("() => { location.hash = '#/planning'; }")
    wait_until_loaded(paged)
    assert paged.locator(f'#stock-health tr[data-health-sku="{SKU}"]').count() == 1
    assert paged.locator("#stock-health-none").count() == 0
    button.dblclick()

    # then the draft's page opens, with the SKU at the suggested quantity
    page.wait_for_function(
        "() => location.hash.startsWith('#/purchase-orders/PO-') || !document.getElementById('alert').hidden",
        timeout=60_000,
    )
    assert page.url.split("#", 1)[1].startswith("/purchase-orders/PO-"), page.inner_text("#alert")
    wait_until_loaded(page)
    po_id = page.url.rsplit("/", 1)[1]
    assert page.inner_text("#po-state") == "Draft (not sent)"
    po = api.ok("GET", f"/purchase-orders/{po_id}")
    assert po["supplierId"] == supplier_id
    assert [(line["sku"], line["quantity"]) for line in po["lines"]] == [(SKU, suggested)]
    assert page.script_errors == []

    # and the double click made one draft, not two
    drafts = api.ok("GET", "/purchase-orders", params={"supplierId": supplier_id})["items"]
    assert [d["poId"] for d in drafts] == [po_id]
