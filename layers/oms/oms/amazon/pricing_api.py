"""Competitive price context from Amazon's Product Pricing API v2022-05-01 (getCompetitiveSummary, a batch of
up to 20 ASINs in one call; Amazon allows one call every 30 s, burst 1). Shapes follow
contracts/sp-api-models/product-pricing-api-model/productPricing_2022-05-01.json; fields not read here are
ignored. Read only: the planning hints use it, nothing here changes a price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.client import SpApiClient

MAX_BATCH = 20
URI = "/products/pricing/2022-05-01/items/competitiveSummary"
INCLUDED = ["featuredBuyingOptions", "referencePrices", "lowestPricedOffers"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Money(_Model):
    currency_code: str | None = Field(default=None, alias="currencyCode")
    amount: Decimal | None = None


class Offer(_Model):
    seller_id: str = Field(alias="sellerId")
    fulfillment_type: str | None = Field(default=None, alias="fulfillmentType")
    listing_price: Money = Field(alias="listingPrice")


class FeaturedBuyingOption(_Model):
    segmented_featured_offers: list[Offer] = Field(default_factory=list, alias="segmentedFeaturedOffers")


class ReferencePrice(_Model):
    name: str
    price: Money


class LowestPricedOffer(_Model):
    offers: list[Offer] = Field(default_factory=list)


class SummaryBody(_Model):
    asin: str
    marketplace_id: str = Field(alias="marketplaceId")
    featured_buying_options: list[FeaturedBuyingOption] = Field(
        default_factory=list, alias="featuredBuyingOptions"
    )
    reference_prices: list[ReferencePrice] = Field(default_factory=list, alias="referencePrices")
    lowest_priced_offers: list[LowestPricedOffer] = Field(default_factory=list, alias="lowestPricedOffers")


class StatusLine(_Model):
    status_code: int | None = Field(default=None, alias="statusCode")


class SummaryResponse(_Model):
    status: StatusLine
    body: SummaryBody


class SummaryBatch(_Model):
    responses: list[SummaryResponse]


@dataclass(frozen=True)
class PriceContext:
    """What a seller weighs before changing a price: the featured (Buy Box) offer and the lowest one."""

    asin: str
    featured_seller_id: str | None
    featured_price: Decimal | None
    lowest_price: Decimal | None
    competitive_price: Decimal | None
    currency_code: str | None


def _context(body: SummaryBody) -> PriceContext:
    featured = next((o for f in body.featured_buying_options for o in f.segmented_featured_offers), None)
    offers = [
        o for lowest in body.lowest_priced_offers for o in lowest.offers if o.listing_price.amount is not None
    ]
    lowest = min(offers, key=lambda o: o.listing_price.amount or Decimal(0)) if offers else None
    reference = next((r for r in body.reference_prices if r.name == "CompetitivePrice"), None)
    money = featured.listing_price if featured else lowest.listing_price if lowest else None
    return PriceContext(
        asin=body.asin,
        featured_seller_id=featured.seller_id if featured else None,
        featured_price=featured.listing_price.amount if featured else None,
        lowest_price=lowest.listing_price.amount if lowest else None,
        competitive_price=reference.price.amount if reference else None,
        currency_code=money.currency_code if money else None,
    )


def competitive_summaries(
    client: SpApiClient, asins: Sequence[str], *, marketplace_id: str, region: str, max_wait: float = 1.0
) -> dict[str, PriceContext]:
    """One batch call per 20 ASINs; an ASIN Amazon does not know (404 inside the batch) is left out. A person
    is waiting: the budget is waited on at most `max_wait` seconds (BudgetExhausted after that)."""
    found: dict[str, PriceContext] = {}
    unique = list(dict.fromkeys(asins))
    for start in range(0, len(unique), MAX_BATCH):
        requests = [
            {
                "asin": asin,
                "marketplaceId": marketplace_id,
                "includedData": INCLUDED,
                "method": "GET",
                "uri": URI,
            }
            for asin in unique[start : start + MAX_BATCH]
        ]
        batch = client.call(
            "getCompetitiveSummary",
            SummaryBatch,
            region=region,
            body={"requests": requests},
            max_wait=max_wait,
        )
        for response in batch.responses:
            if response.status.status_code == 200:
                found[response.body.asin] = _context(response.body)
    return found
