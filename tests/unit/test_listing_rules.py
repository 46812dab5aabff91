"""What Amazon should offer of a merchant-fulfilled SKU: available over every location minus the buffer."""

from __future__ import annotations

import pytest

from oms.amazon.listings_api import ListingsItem, quantity_patch
from oms.domain.listings import merchant_quantity, moves_merchant_quantity


def row(on_hand: int = 0, reserved: int = 0, location: str = "default", **policy) -> dict:
    return {
        "entity": "Stock",
        "sku": "MUG",
        "location": location,
        "onHand": on_hand,
        "reserved": reserved,
        **policy,
    }


def test_available_minus_the_buffer_never_below_zero():
    assert merchant_quantity([row(10, 3, amazonBuffer=2)]) == 5
    assert merchant_quantity([row(3, 1, amazonBuffer=5)]) == 0
    assert merchant_quantity([row(2, 5)]) == 0, "more reserved than on hand is 0 available, not -3"


def test_every_location_counts_and_the_default_locations_policy_rules():
    rows = [row(4, location="shop", amazonBuffer=9), row(6, 1, amazonBuffer=2)]
    assert merchant_quantity(rows) == 4 + 5 - 2


@pytest.mark.parametrize(
    ("policy", "fba", "pushed"),
    [
        ({"channel": "MFN"}, False, True),
        ({"channel": "BOTH"}, True, True),
        ({"channel": "FBA"}, False, False),
        ({}, False, True),
        ({}, True, False),  # Amazon fulfills it: a DEFAULT quantity would turn the offer into ours
    ],
)
def test_whose_quantity_it_is(policy, fba, pushed):
    rows = [row(5, **policy, **({"fba": {"fulfillable": 3}} if fba else {}))]
    assert (merchant_quantity(rows) is not None) == pushed


def test_no_rows_nothing_to_push():
    assert merchant_quantity([]) is None


def test_which_changes_can_move_amazons_quantity():
    before = row(5, 1, amazonBuffer=1, reorderPoint=2)
    assert moves_merchant_quantity(None, before)
    assert not moves_merchant_quantity(before, {**before, "reorderPoint": 3, "version": 9})
    assert not moves_merchant_quantity(before, {**before, "onHand": 6, "reserved": 2}), "same available"
    assert moves_merchant_quantity(before, {**before, "onHand": 4})
    assert moves_merchant_quantity(before, {**before, "amazonBuffer": 0})
    assert moves_merchant_quantity(before, {**before, "channel": "FBA"})


def test_the_patch_merges_only_the_quantity_and_reading_it_back():
    patch = quantity_patch(7)
    assert patch["productType"] == "PRODUCT"
    (operation,) = patch["patches"]
    assert operation["op"] == "merge" and operation["path"] == "/attributes/fulfillment_availability"
    assert operation["value"] == [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]
    item = ListingsItem.model_validate(
        {
            "sku": "MUG",
            "fulfillmentAvailability": [
                {"fulfillmentChannelCode": "AMAZON_NA", "quantity": 40},
                {"fulfillmentChannelCode": "DEFAULT", "quantity": 7},
            ],
        }
    )
    assert item.merchant_quantity == 7
    assert ListingsItem.model_validate({"sku": "X"}).merchant_quantity is None
