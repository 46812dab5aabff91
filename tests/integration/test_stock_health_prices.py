"""Price hints with Amazon's prices: GET /planning/stock-health asks getCompetitiveSummary (the local
marketplace in process) only once the seller allows it in the planning settings, and only for the SKUs with
a price hint; it never changes a price."""

from __future__ import annotations

import time
from decimal import Decimal

from oms.store.default import default_table
from oms.store.products import ProductStore
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.simulator.pricing_api import competitor_price
from tests.api_calls import call_api
from tests.integration.amazon_side import amazon_fixture, calls, simulator_fixture  # noqa: F401
from tests.integration.test_stock_plans import _run, _seed_history, _setup


def test_amazons_prices_join_the_hints_only_when_the_seller_allows_them(stack, context, amazon):
    # given an aged SKU (400 units selling ~5 a day) whose catalogue entry names its ASIN
    product = next(iter(builtin_catalogue().products.values()))
    _setup(stack, context, "AGED-MUG", {"leadTimeDays": 10}, 400)
    _seed_history("AGED-MUG", 84)
    ProductStore(default_table()).record_amazon("AGED-MUG", {"listed": True, "asin": product.asin})
    _run(stack)

    # when the seller has not allowed the call: a hint in words, and Amazon is not asked
    status, health = call_api(stack, context, "GET", "/planning/stock-health")
    assert status == 200, health
    [aged] = health["items"]
    assert aged["problem"] == "aged-stock" and aged["priceSummary"] is None
    assert calls(amazon, "getCompetitiveSummary") == 0
    status, settings = call_api(stack, context, "GET", "/planning/settings")
    assert settings["priceHints"] is False  # off by default

    # when the seller allows it: one batch call, its prices beside the hint
    status, _ = call_api(stack, context, "PUT", "/planning/settings", {"lines": [], "priceHints": True})
    assert status == 200
    status, health = call_api(stack, context, "GET", "/planning/stock-health")
    assert status == 200, health
    [aged] = health["items"]
    lowest = min(product.price, competitor_price(product))
    summary = aged["priceSummary"]
    assert summary["asin"] == product.asin and Decimal(str(summary["lowestPrice"])) == lowest
    assert summary["featuredIsYours"] is (product.price <= competitor_price(product))
    [hint] = aged["advice"]
    assert f"the lowest offer is {lowest} USD" in hint["text"] and "no price is changed" in hint["text"]
    assert health["pricesUnavailable"] is False
    assert calls(amazon, "getCompetitiveSummary") == 1

    # and a second look within Amazon's 30 seconds answers at once, the hint in words, saying so
    started = time.monotonic()
    status, again = call_api(stack, context, "GET", "/planning/stock-health")
    assert (
        status == 200 and again["pricesUnavailable"] is True and time.monotonic() - started < 20
    )  # not Amazon's 30 s wait
    assert again["items"][0]["priceSummary"] is None
    assert calls(amazon, "getCompetitiveSummary") == 1
