"""The local side's one shipping setup (oms_local/shipping_setup.py), which the tests, the benches and the
fault drill save before they buy labels: the product takes it as it is, whole (PUT) or as the drill's patch."""

from __future__ import annotations

from oms.warehouse.settings import CompleteShippingSettings, ShippingSettings, defaults, merge_patch
from oms_local.shipping_setup import SHIP_FROM, WAREHOUSE_SETTINGS, ship_from_patch, shipping_setup


def test_the_whole_setup_is_a_complete_valid_put_body_that_reads_back_unchanged() -> None:
    saved = CompleteShippingSettings.model_validate(shipping_setup())
    assert saved.model_dump(mode="json", by_alias=True) == WAREHOUSE_SETTINGS
    assert saved.warehouse.address is not None
    assert saved.warehouse.address.postal_code == "12207"


def test_each_call_gives_a_copy_of_its_own() -> None:
    mine = shipping_setup()
    mine["warehouse"]["address"]["city"] = "Troy"
    mine["carriers"][0]["cutoff"] = "12:00:00"
    assert WAREHOUSE_SETTINGS["warehouse"]["address"]["city"] == "Albany"
    assert shipping_setup()["carriers"][0]["cutoff"] == "16:00:00"


def test_the_drills_patch_on_a_new_sellers_defaults_gives_the_same_ship_from_and_zone() -> None:
    new_seller = defaults(["A1F83G8C2ARO7P"]).model_dump(mode="json", by_alias=True)  # a UK seller: London
    patched = ShippingSettings.model_validate(merge_patch(new_seller, ship_from_patch()))
    assert patched.seller_name == WAREHOUSE_SETTINGS["sellerName"]
    assert patched.warehouse.time_zone == WAREHOUSE_SETTINGS["warehouse"]["timeZone"]
    address = patched.warehouse.address
    assert address is not None
    assert address.model_dump(mode="json", by_alias=True) == SHIP_FROM
