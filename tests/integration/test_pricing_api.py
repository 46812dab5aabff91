"""getCompetitiveSummary through the product's client against the local marketplace in process: one batch
call for several ASINs, answered in the model's shape (the simulator checks its answers against
contracts/sp-api-models/product-pricing-api-model), read into the price context the planning hints use."""

from __future__ import annotations

from decimal import Decimal

from oms.amazon.pricing_api import competitive_summaries
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.simulator.pricing_api import COMPETITOR, competitor_price
from tests.integration.amazon_side import MARKETPLACE, calls, fast_client, simulator_fixture  # noqa: F401


def test_one_batch_call_gives_each_known_asins_featured_and_lowest_price(stack, simulator):
    products = list(builtin_catalogue().products.values())[:3]
    asins = [p.asin for p in products]

    found = competitive_summaries(
        fast_client(simulator), [*asins, "B0NOTREAL0", asins[0]], marketplace_id=MARKETPLACE, region="na"
    )

    assert calls(simulator, "getCompetitiveSummary") == 1  # 20 ASINs a call; Amazon allows one call per 30 s
    assert set(found) == set(asins)  # the unknown ASIN (a 404 inside the batch) is left out
    for product in products:
        context = found[product.asin]
        rival = competitor_price(product)
        assert context.lowest_price == min(product.price, rival)
        assert context.competitive_price == min(product.price, rival)
        assert context.currency_code == "USD"
        if rival < product.price:
            assert (context.featured_seller_id, context.featured_price) == (COMPETITOR, rival)
        else:
            assert (context.featured_seller_id, context.featured_price) == (
                simulator.seller_id,
                product.price,
            )
    assert all(isinstance(c.lowest_price, Decimal) for c in found.values())
