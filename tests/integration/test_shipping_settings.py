"""The seller's shipping setup cannot be wiped by accident: PUT takes it whole, PATCH changes parts."""

from __future__ import annotations

import copy

from tests.api_calls import call_api
from tests.builders import UPS_PICKUP, WAREHOUSE_SETTINGS


def _saved(stack, context) -> dict:
    status, setup = call_api(stack, context, "GET", "/settings/shipping")
    assert status == 200, setup
    return setup


def test_a_whole_setup_is_saved_as_given_and_read_back(stack, context):
    status, answer = call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)

    assert status == 200, answer
    assert answer == WAREHOUSE_SETTINGS
    assert _saved(stack, context) == WAREHOUSE_SETTINGS


def test_a_partial_put_is_refused_naming_what_is_missing_and_the_saved_setup_stays(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200

    status, answer = call_api(stack, context, "PUT", "/settings/shipping", {"sellerName": "Mug Co Ltd"})

    assert status == 400
    assert answer["error"]["code"] == "ValidationError"
    missing = {d["field"] for d in answer["error"]["details"]}
    assert {"warehouse", "carriers", "defaultCarrier", "package", "atRiskShare"} <= missing
    assert _saved(stack, context) == WAREHOUSE_SETTINGS  # the address and carriers are still there


def test_a_put_without_the_address_names_the_address_not_a_default(stack, context):
    body = copy.deepcopy(WAREHOUSE_SETTINGS)
    del body["warehouse"]["address"]
    del body["carriers"][1]["cutoff"]

    status, answer = call_api(stack, context, "PUT", "/settings/shipping", body)

    assert status == 400
    fields = [d["field"] for d in answer["error"]["details"]]
    assert fields == ["warehouse.address", "carriers[1].cutoff"]
    assert all(d["message"] == "is required" for d in answer["error"]["details"])


def test_optional_text_may_be_left_out_of_a_put(stack, context):
    body = copy.deepcopy(WAREHOUSE_SETTINGS)
    del body["warehouse"]["address"]["addressLine2"]
    del body["warehouse"]["subdivision"]

    status, answer = call_api(stack, context, "PUT", "/settings/shipping", body)

    assert status == 200, answer
    assert answer["warehouse"]["address"]["addressLine2"] is None


def test_a_patch_changes_only_what_it_names(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200

    status, answer = call_api(
        stack,
        context,
        "PATCH",
        "/settings/shipping",
        {"warehouse": {"closes": "17:30:00", "address": {"addressLine2": "Dock 4"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    assert status == 200, answer
    expected = copy.deepcopy(WAREHOUSE_SETTINGS)
    expected["warehouse"]["closes"] = "17:30:00"
    expected["warehouse"]["address"]["addressLine2"] = "Dock 4"
    assert answer == expected
    assert _saved(stack, context) == expected


def test_a_patch_null_clears_optional_text_and_replaces_lists_whole(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    dhl = {**UPS_PICKUP, "code": "DHL", "pickupDays": ["TUE", "THU"]}

    status, answer = call_api(
        stack,
        context,
        "PATCH",
        "/settings/shipping",
        {"warehouse": {"address": {"stateOrProvinceCode": None}}, "carriers": [UPS_PICKUP, dhl]},
    )

    assert status == 200, answer
    assert answer["warehouse"]["address"]["stateOrProvinceCode"] is None
    assert [c["code"] for c in answer["carriers"]] == ["UPS", "DHL"]
    assert answer["carriers"][1]["pickupDays"] == ["TUE", "THU"]


def test_a_patch_that_would_break_the_setup_is_refused_whole(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200

    status, answer = call_api(
        stack,
        context,
        "PATCH",
        "/settings/shipping",
        {"sellerName": "Renamed", "package": None, "warehouse": {"timeZone": "Mars/Olympus"}},
    )

    assert status == 400
    fields = {d["field"] for d in answer["error"]["details"]}
    assert fields == {"package", "warehouse.timeZone"}
    assert _saved(stack, context) == WAREHOUSE_SETTINGS  # not even the valid part was written


def test_a_patch_of_a_carrier_that_is_not_set_up_as_default_is_refused(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200

    status, answer = call_api(
        stack, context, "PATCH", "/settings/shipping", {"carriers": [UPS_PICKUP], "defaultCarrier": "USPS"}
    )

    assert status == 400
    assert "defaultCarrier" in answer["error"]["message"]
    assert _saved(stack, context)["defaultCarrier"] == "UPS"


def test_before_any_setup_a_patch_applies_to_the_defaults(stack, context):
    status, answer = call_api(stack, context, "PATCH", "/settings/shipping", {"sellerName": "Mug Co"})

    assert status == 200, answer
    assert answer["sellerName"] == "Mug Co"
    assert [c["code"] for c in answer["carriers"]] == ["UPS", "USPS"]


def test_a_patch_body_that_is_not_an_object_is_refused(stack, context):
    status, answer = call_api(stack, context, "PATCH", "/settings/shipping", [1, 2])

    assert status == 400
    assert answer["error"]["details"][0]["field"] == "body"


def test_a_setup_saved_before_versions_existed_can_still_be_changed(stack, context):
    from oms.store import keys
    from oms.store.default import default_table

    default_table().put({**keys.config_key("shipping"), "entity": "Config", "settings": WAREHOUSE_SETTINGS})

    status, answer = call_api(stack, context, "PATCH", "/settings/shipping", {"sellerName": "Mug Co Ltd"})

    assert status == 200, answer
    assert _saved(stack, context) == {**WAREHOUSE_SETTINGS, "sellerName": "Mug Co Ltd"}
    assert default_table().get(keys.config_key("shipping"))["version"] == 1


def test_two_edits_at_once_both_land(served_stack, context):
    # on a moto server: conditional writes are atomic there, as in DynamoDB (in-process moto's are not)
    import threading

    stack = served_stack
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    handlers = [stack.handler("api"), stack.handler("api")]  # two warm Lambdas
    edits = [{"sellerName": "Mug Co Ltd"}, {"warehouse": {"closes": "17:00:00"}}]
    answers: list[int] = []
    start = threading.Barrier(2)

    def edit(handler, body):
        start.wait()
        answers.append(call_api(stack, context, "PATCH", "/settings/shipping", body, handler=handler)[0])

    threads = [threading.Thread(target=edit, args=pair) for pair in zip(handlers, edits, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [200, 200]
    saved = _saved(stack, context)
    assert (saved["sellerName"], saved["warehouse"]["closes"]) == ("Mug Co Ltd", "17:00:00")
    assert saved["warehouse"]["address"] == WAREHOUSE_SETTINGS["warehouse"]["address"]


def test_numbers_out_of_any_parcels_range_are_refused_by_name_not_stored(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200

    status, answer = call_api(
        stack, context, "PATCH", "/settings/shipping", {"package": {"length": 1e200, "weight": 2.2e-311}}
    )

    assert status == 400
    assert {d["field"] for d in answer["error"]["details"]} == {"package.length", "package.weight"}
    assert _saved(stack, context) == WAREHOUSE_SETTINGS


def test_a_whole_setup_written_before_package_presets_existed_is_still_whole(stack, context):
    """An outside tool's PUT body from before packagePresets was added keeps working: the field means none."""
    before = {k: v for k, v in WAREHOUSE_SETTINGS.items() if k != "packagePresets"}
    status, answer = call_api(stack, context, "PUT", "/settings/shipping", before)
    assert status == 200, answer
    assert answer["packagePresets"] == []
    partial = {k: v for k, v in before.items() if k != "package"}
    assert call_api(stack, context, "PUT", "/settings/shipping", partial)[0] == 400
