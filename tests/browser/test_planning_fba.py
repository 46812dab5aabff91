"""The Planning page's "Send to Amazon" list and the price hints switch, in Chromium against a local stack: an
FBA SKU whose Amazon figures (written as the FBA sync writes them) fall short of its forecast is listed with
the units to send; the switch turns the planning settings' priceHints on and off."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from oms.inventory.fba import record_fba_figures
from oms.inventory.stock import FbaFigures
from oms.store.table import Table
from oms_local import harness
from tests.browser.conftest import Api
from tests.browser.planning_support import plan_now, seed_orders
from tests.builders import WAREHOUSE_SETTINGS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"FBA-MUG-{RUN}"


def _no_paging() -> Any:
    raise RuntimeError("no paging here")


def test_an_fba_sku_short_at_amazon_is_listed_to_send_and_the_price_switch_saves(
    signed_in: Callable[..., Any],
    api: Api,
    outputs: dict[str, Any],
    stack: harness.StackProcess,
) -> None:
    # given an FBA SKU selling ~5 a day through Amazon, with 20 fulfillable and 10 inbound there
    api.ok("PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS)
    api.ok("PUT", f"/inventory/{SKU}", json={"channel": "FBA", "casePack": 6})
    seed_orders(outputs, SKU, 84, channel="AFN")
    table = Table(outputs["TableName"], _no_paging, client=harness.aws_client(outputs, "dynamodb"))
    figures = {outputs["MarketplaceId"]: FbaFigures(fulfillable=20, inbound=10, reserved=2)}
    record_fba_figures(
        table,
        SKU,
        figures,
        as_of=datetime.now(UTC),
        reference="test",
        actor="amazon:FBA",
        marketplaces=[outputs["MarketplaceId"]],
    )
    plan_now(stack)
    [send] = [s for s in api.ok("GET", "/planning/reorder")["sendToAmazon"] if s["sku"] == SKU]
    assert send["units"] > 0 and send["units"] % 6 == 0

    # when the seller opens the Planning page, the SKU is under "Send to Amazon" with its units
    page = signed_in("#/planning")
    row = page.locator(f'#send-to-amazon tr[data-send-sku="{SKU}"]')
    assert row.count() == 1
    assert f"{send['units']} units" in row.inner_text() and "20" in row.inner_text()

    # and the price hints switch is off until the seller turns it on, which the settings keep
    page.wait_for_selector("#price-hints:not([disabled])")
    assert page.is_checked("#price-hints") is False
    page.check("#price-hints")
    page.wait_for_function(
        "() => document.getElementById('status').textContent.includes('prices will be shown')"
    )
    assert api.ok("GET", "/planning/settings")["priceHints"] is True
    page.uncheck("#price-hints")
    page.wait_for_function("() => document.getElementById('status').textContent.includes('stay in words')")
    assert api.ok("GET", "/planning/settings")["priceHints"] is False
    assert page.script_errors == []
