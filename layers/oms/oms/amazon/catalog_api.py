"""What Amazon knows of a seller's product: the listing's summary (getListingsItem, Listings Items API
v2021-08-01: ASIN, item name, main image) and the catalogue item (getCatalogItem, Catalog Items API
v2022-04-01: images, item and package dimensions and weight). Shapes follow
contracts/sp-api-models/catalog-items-api-model/catalogItems_2022-04-01.json and the listings model;
fields not read here are ignored, so Amazon may add fields freely.

A SKU is the seller's; the catalogue is keyed by ASIN: the listing gives the one, the catalogue the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.client import SpApiClient, SpApiError

CATALOG_DATA = ("summaries", "images", "dimensions")
# Amazon's units (the model leaves them free text); everything else is shown as Amazon sent it.
_INCHES = {
    "inches": Decimal(1),
    "centimeters": Decimal("0.3937007874"),
    "millimeters": Decimal("0.03937007874"),
}
_POUNDS = {"pounds": Decimal(1), "ounces": Decimal("0.0625"), "kilograms": Decimal("2.2046226218"),
           "grams": Decimal("0.0022046226218")}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ListingImage(_Model):
    link: str


class ListingSummary(_Model):
    marketplace_id: str = Field(alias="marketplaceId")
    asin: str | None = None
    item_name: str | None = Field(default=None, alias="itemName")
    main_image: ListingImage | None = Field(default=None, alias="mainImage")


class ListingWithSummaries(_Model):
    """getListingsItem's answer (Item) with includedData=summaries."""

    sku: str
    summaries: list[ListingSummary] = Field(default_factory=list)


class Dimension(_Model):
    unit: str | None = None
    value: Decimal | None = None


class Dimensions(_Model):
    height: Dimension | None = None
    length: Dimension | None = None
    width: Dimension | None = None
    weight: Dimension | None = None


class DimensionsByMarketplace(_Model):
    marketplace_id: str = Field(alias="marketplaceId")
    item: Dimensions | None = None
    package: Dimensions | None = None


class CatalogImage(_Model):
    variant: str
    link: str
    height: int
    width: int


class ImagesByMarketplace(_Model):
    marketplace_id: str = Field(alias="marketplaceId")
    images: list[CatalogImage]


class CatalogSummary(_Model):
    marketplace_id: str = Field(alias="marketplaceId")
    item_name: str | None = Field(default=None, alias="itemName")


class CatalogItem(_Model):
    """getCatalogItem's answer (Item)."""

    asin: str
    summaries: list[CatalogSummary] = Field(default_factory=list)
    images: list[ImagesByMarketplace] = Field(default_factory=list)
    dimensions: list[DimensionsByMarketplace] = Field(default_factory=list)


@dataclass(frozen=True)
class AmazonProduct:
    """What the product pages need, in the product's units: inches and pounds."""

    sku: str
    asin: str | None
    title: str | None
    image_url: str | None
    weight_pounds: Decimal | None
    dimensions_inches: tuple[Decimal, Decimal, Decimal] | None  # length, width, height


def _in(value: Dimension | None, units: dict[str, Decimal]) -> Decimal | None:
    if value is None or value.value is None or value.value <= 0:
        return None
    factor = units.get((value.unit or "").lower())
    return None if factor is None else (value.value * factor).quantize(Decimal("0.01"))


def _size(dimensions: Dimensions | None) -> tuple[Decimal, Decimal, Decimal] | None:
    if dimensions is None:
        return None
    sides = [_in(side, _INCHES) for side in (dimensions.length, dimensions.width, dimensions.height)]
    if any(side is None for side in sides):
        return None
    length, width, height = (side for side in sides if side is not None)
    return length, width, height


def product_of(
    sku: str, marketplace_id: str, listing: ListingWithSummaries, item: CatalogItem | None
) -> AmazonProduct:
    """The listing's name and image; the catalogue's package size and weight (what ships), else the item's."""
    summary = next((s for s in listing.summaries if s.marketplace_id == marketplace_id), None)
    summary = summary or (listing.summaries[0] if listing.summaries else None)
    title = summary.item_name if summary else None
    image = summary.main_image.link if summary and summary.main_image else None
    weight = size = None
    if item is not None:
        title = title or next(
            (s.item_name for s in item.summaries if s.marketplace_id == marketplace_id), None
        )
        images = next((i.images for i in item.images if i.marketplace_id == marketplace_id), [])
        main = next((i for i in images if i.variant == "MAIN"), None)
        image = image or (main.link if main else None)
        found = next((d for d in item.dimensions if d.marketplace_id == marketplace_id), None)
        if found is not None:
            size = _size(found.package) or _size(found.item)
            weight = _in(found.package.weight if found.package else None, _POUNDS) or _in(
                found.item.weight if found.item else None, _POUNDS
            )
    return AmazonProduct(
        sku=sku,
        asin=summary.asin if summary else None,
        title=title,
        image_url=image,
        weight_pounds=weight,
        dimensions_inches=size,
    )


def read_product(
    client: SpApiClient, *, seller_id: str, sku: str, marketplace_id: str, region: str
) -> AmazonProduct | None:
    """Two reads under the shared rate budget; None when the SKU is not listed in the marketplace (404)."""
    try:
        listing = client.call(
            "getListingsItem",
            ListingWithSummaries,
            region=region,
            path={"sellerId": seller_id, "sku": sku},
            query={"marketplaceIds": [marketplace_id], "includedData": ["summaries"]},
        )
    except SpApiError as error:
        if error.status == 404:
            return None
        raise
    asin = next((s.asin for s in listing.summaries if s.asin), None)
    item = None
    if asin:
        try:
            item = client.call(
                "getCatalogItem",
                CatalogItem,
                region=region,
                path={"asin": asin},
                query={"marketplaceIds": [marketplace_id], "includedData": list(CATALOG_DATA)},
            )
        except SpApiError as error:
            if error.status != 404:  # an ASIN not (yet) in the catalogue: the listing's name and image
                raise
    return product_of(sku, marketplace_id, listing, item)
