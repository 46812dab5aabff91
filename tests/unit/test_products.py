"""The catalogue's rules: the seller's values win field by field, Amazon's answer read in the product's
units, and the package a label is priced for."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from oms.amazon.catalog_api import CatalogItem, ListingWithSummaries, product_of
from oms.domain.products import Dimensions, Package, ProductDetails, Weight, merged, package_for
from oms.inventory.catalogue import amazon_values

MARKETPLACE = "ATVPDKIKX0DER"
DEFAULT_BOX = Package(
    weight=Weight(value=Decimal(16), unit="oz"),
    dimensions=Dimensions(length=Decimal(10), width=Decimal(8), height=Decimal(4), unit="in"),
    source="default",
)


def _listing(**summary) -> ListingWithSummaries:
    return ListingWithSummaries.model_validate(
        {"sku": "MUG-1", "summaries": [{"marketplaceId": MARKETPLACE, "asin": "B0MUG00001", **summary}]}
    )


def _catalog(dimensions: dict | None = None, images: list | None = None) -> CatalogItem:
    return CatalogItem.model_validate(
        {
            "asin": "B0MUG00001",
            "summaries": [{"marketplaceId": MARKETPLACE, "itemName": "Catalogue name"}],
            "images": [{"marketplaceId": MARKETPLACE, "images": images or []}],
            "dimensions": [{"marketplaceId": MARKETPLACE, **(dimensions or {})}],
        }
    )


def _side(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit}


def test_amazons_package_size_and_weight_are_read_in_inches_and_pounds():
    listing = _listing(
        itemName="Red mug", mainImage={"link": "https://m.media/mug.jpg", "height": 500, "width": 500}
    )
    item = _catalog(
        {
            "item": {"length": _side(10, "centimeters"), "width": _side(8, "centimeters"),
                     "height": _side(9, "centimeters"), "weight": _side(350, "grams")},
            "package": {"length": _side(12, "centimeters"), "width": _side(10, "centimeters"),
                        "height": _side(11, "centimeters"), "weight": _side(0.5, "kilograms")},
        }
    )  # fmt: skip

    product = product_of("MUG-1", MARKETPLACE, listing, item)

    assert (product.asin, product.title, product.image_url) == (
        "B0MUG00001",
        "Red mug",
        "https://m.media/mug.jpg",
    )
    assert product.dimensions_inches == (Decimal("4.72"), Decimal("3.94"), Decimal("4.33")), (
        "the package, not the item"
    )
    assert product.weight_pounds == Decimal("1.10")


def test_without_a_package_size_the_items_is_used_and_unknown_units_are_not_guessed():
    item = _catalog(
        {"item": {"length": _side(5, "inches"), "width": _side(4, "inches"), "height": _side(3, "inches"),
                  "weight": _side(3, "stone")}},
        images=[{"variant": "PT01", "link": "https://x/side.jpg", "height": 1, "width": 1},
                {"variant": "MAIN", "link": "https://x/main.jpg", "height": 1, "width": 1}],
    )  # fmt: skip

    product = product_of("MUG-1", MARKETPLACE, _listing(), item)

    assert product.dimensions_inches == (Decimal(5), Decimal(4), Decimal(3))
    assert product.weight_pounds is None
    assert (product.title, product.image_url) == ("Catalogue name", "https://x/main.jpg")


def test_the_sellers_values_win_field_by_field_and_the_rest_follow_amazon():
    amazon = amazon_values(product_of("MUG-1", MARKETPLACE, _listing(itemName="Red mug"), _catalog(
        {"package": {"length": _side(6, "inches"), "width": _side(5, "inches"), "height": _side(5, "inches"),
                     "weight": _side(1.2, "pounds")}}
    )))  # fmt: skip
    seller = ProductDetails(weight=Weight(value=Decimal("0.9"), unit="lb")).model_dump(
        mode="json", by_alias=True
    )

    shown = merged("MUG-1", amazon, seller)

    assert shown.title == "Red mug" and shown.weight == Weight(value=Decimal("0.9"), unit="lb")
    assert shown.dimensions == Dimensions(length=Decimal(6), width=Decimal(5), height=Decimal(5), unit="in")
    assert shown.seller_set == ["weight"] and shown.amazon.weight == Weight(value=Decimal("1.2"), unit="lb")
    assert merged("MUG-1", {"listed": False}, None).listed_on_amazon is False


def test_an_odd_answer_from_amazon_still_shows_the_product():
    shown = merged("MUG-1", {"title": "", "weight": {"value": 0, "unit": "lb"}, "asin": "B0MUG00001"}, None)
    assert (shown.title, shown.weight, shown.asin) == (None, None, "B0MUG00001")
    long_name = amazon_values(product_of("MUG-1", MARKETPLACE, _listing(itemName="x" * 900), None))
    assert len(merged("MUG-1", long_name, None).title or "") == 500


def test_a_package_weighs_every_unit_and_takes_the_single_items_box():
    mug = merged("MUG", {"weight": {"value": 1, "unit": "lb"},
                         "dimensions": {"length": 6, "width": 5, "height": 5, "unit": "in"}}, None)  # fmt: skip
    plate = merged("PLATE", {"weight": {"value": 200, "unit": "g"},
                             "dimensions": {"length": 40, "width": 30, "height": 6, "unit": "cm"}}, None)  # fmt: skip
    products = {"MUG": mug, "PLATE": plate}

    one = package_for([("MUG", 1)], products, DEFAULT_BOX)
    assert one.source == "catalogue" and one.dimensions == mug.dimensions
    assert one.weight.grams == pytest.approx(Decimal("453.6"), abs=Decimal("0.1"))

    several = package_for([("MUG", 2), ("PLATE", 1)], products, DEFAULT_BOX)
    assert several.weight.grams == pytest.approx(Decimal("1107.2"), abs=Decimal("0.1"))
    assert several.dimensions == plate.dimensions, "the plate's box is bigger than the default one"

    small = package_for([("MUG", 2)], products, DEFAULT_BOX)
    assert small.dimensions == DEFAULT_BOX.dimensions

    assert package_for([("MUG", 1), ("UNKNOWN", 1)], products, DEFAULT_BOX) == DEFAULT_BOX, "a weight unknown"

    pallet = package_for([("MUG", 300)], products, DEFAULT_BOX)  # 300 lb: still a weight, in kilograms
    assert pallet.weight.grams == pytest.approx(Decimal("136077.7"), abs=Decimal("0.1"))


@pytest.mark.parametrize(
    "body",
    [
        {"weight": {"value": 0, "unit": "oz"}},
        {"weight": {"value": 2, "unit": "stone"}},
        {"dimensions": {"length": 1, "width": 1, "height": -1, "unit": "in"}},
        {"title": ""},
        {"colour": "red"},
    ],
)
def test_impossible_seller_values_are_refused(body):
    with pytest.raises(ValidationError):
        ProductDetails.model_validate(body)
