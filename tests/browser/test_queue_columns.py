"""The ship-today queue's columns (web/js/views/queue.js), in the browser without a stack: the Urgency column
holds only what makes an order urgent, and what the seller's order rules chose (service, tags, pick group,
where it ships from) has a column of its own. The order is in the API's shape (docs/openapi.json: OrderView)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import serve_web

ORIGIN = "http://dashboard.test"
PAGE = '<!doctype html><link rel="stylesheet" href="/style.css"><main><p id="status"></p><div id="alert" hidden></div><div id="here"></div></main>'
NOW = "2026-12-07T15:00:00Z"

ORDER = {
    "orderId": "111-0000000-0000001",
    "status": "Unshipped",
    "fulfillmentChannel": "MFN",
    "latestShipDate": "2026-12-07T23:00:00Z",
    "mustShipBy": {"at": "2026-12-07T23:00:00Z", "timeZone": "America/New_York"},
    "flags": ["atRisk"],
    "items": [{"orderItemId": "1", "sku": "MUG", "quantity": 1, "quantityShipped": 0}],
    "handling": {"carrier": "UPS", "service": "UPS Ground", "tags": ["fragile", "gift"], "pickGroup": "B"},
}


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    page = new_page()
    page.clock.set_fixed_time(NOW)

    serve_web(page, ORIGIN, PAGE)
    return page


def test_rule_tags_have_their_own_column_and_urgency_holds_only_urgency(page: Any, screenshots: Path) -> None:
    cells = page.evaluate(
        """async (order) => {
      const { COLUMNS } = await import("/js/views/queue.js");
      const { table } = await import("/js/dom.js");
      document.querySelector("#here").append(table("Orders to ship", COLUMNS, [order]));
      const text = (cell) => (typeof cell === "string" ? [cell] : [...cell.querySelectorAll(".badge")].map((b) => b.textContent.trim()));
      return Object.fromEntries(COLUMNS.map((c) => [c.label, text(c.cell(order))]));
    }""",
        ORDER,
    )
    page.screenshot(path=str(screenshots / "queue-columns.png"), full_page=True)

    urgency = [badge for badge in cells["Urgency"] if badge != "Ship today"]  # due today by the page's clock
    assert len(urgency) == 1 and "risk" in urgency[0].lower()
    assert cells["Set by your rules"] == ["UPS Ground", "fragile", "gift", "Pick group B"]
