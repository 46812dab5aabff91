"""The Product Pricing API (getCompetitiveSummary, 2022-05-01) of the local marketplace: per ASIN, the seller's
own featured offer, one competitor's offer a little above or below it (the same draw for an ASIN every time),
the competitive reference price and the lowest offers, in the model's batch shape."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from oms_local.simulator.catalogue import Product
from oms_local.simulator.market_core import MarketCore, invalid

COMPETITOR = "A2SIMCOMPETITOR"
MAX_REQUESTS = 20  # Amazon's batch limit
INCLUDED = ("featuredBuyingOptions", "referencePrices", "lowestPricedOffers", "similarItems")
URI = "/products/pricing/2022-05-01/items/competitiveSummary"


def competitor_price(product: Product) -> Decimal:
    """90% to 110% of the seller's price, stable per ASIN."""
    draw = hashlib.sha256(f"competitor:{product.asin}".encode()).digest()[0] % 21
    return (product.price * Decimal(90 + draw) / 100).quantize(Decimal("0.01"))


def _money(amount: Decimal) -> dict[str, Any]:
    return {"currencyCode": "USD", "amount": float(amount)}


def _offer(seller_id: str, price: Decimal, fulfilment: str) -> dict[str, Any]:
    return {
        "sellerId": seller_id,
        "condition": "New",
        "fulfillmentType": fulfilment,
        "listingPrice": _money(price),
    }


class PricingApi(MarketCore):
    def _product_of_asin(self, asin: str) -> Product | None:
        with self._lock:
            return next((p for p in self.catalogue.products.values() if p.asin == asin), None)

    def competitive_summary(self, body: Any) -> dict[str, Any]:
        """getCompetitiveSummary's batch answer: one response per request, in order; an unknown ASIN is a
        404 inside the batch, as Amazon answers it."""
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_REQUESTS:
            raise invalid(f"requests takes 1 to {MAX_REQUESTS} competitiveSummary requests.")
        return {"responses": [self._one(r) for r in requests]}

    def _one(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or request.get("uri") != URI or request.get("method") != "GET":
            raise invalid(f"each request needs method GET and uri {URI}.")
        asin, marketplace = str(request.get("asin", "")), str(request.get("marketplaceId", ""))
        included = request.get("includedData") or []
        if not included or any(i not in INCLUDED for i in included):
            raise invalid(f"includedData takes one or more of {', '.join(INCLUDED)}.")
        product = self._product_of_asin(asin) if marketplace == self.marketplace_id else None
        if product is None:
            return {
                "status": {"statusCode": 404, "reasonPhrase": "Not Found"},
                "body": {
                    "asin": asin,
                    "marketplaceId": marketplace,
                    "errors": [
                        {"code": "NotFound", "message": f"Item {asin} in marketplace {marketplace} not found"}
                    ],
                },
            }
        own_fulfilment = "AFN" if product.fba else "MFN"
        rival = competitor_price(product)
        answer: dict[str, Any] = {"asin": asin, "marketplaceId": marketplace}
        if "featuredBuyingOptions" in included:
            featured = (
                _offer(self.seller_id, product.price, own_fulfilment)
                if product.price <= rival
                else _offer(COMPETITOR, rival, "MFN")
            )
            segment = {"customerMembership": "DEFAULT", "segmentDetails": {"glanceViewWeightPercentage": 100}}
            answer["featuredBuyingOptions"] = [
                {
                    "buyingOptionType": "New",
                    "segmentedFeaturedOffers": [featured | {"featuredOfferSegments": [segment]}],
                }
            ]
        if "referencePrices" in included:
            answer["referencePrices"] = [
                {"name": "CompetitivePrice", "price": _money(min(product.price, rival))}
            ]
        if "lowestPricedOffers" in included:
            offers = sorted(
                [_offer(self.seller_id, product.price, own_fulfilment), _offer(COMPETITOR, rival, "MFN")],
                key=lambda o: o["listingPrice"]["amount"],
            )
            answer["lowestPricedOffers"] = [
                {
                    "lowestPricedOffersInput": {"itemCondition": "New", "offerType": "Consumer"},
                    "offers": offers,
                }
            ]
        return {"status": {"statusCode": 200, "reasonPhrase": "OK"}, "body": answer}
