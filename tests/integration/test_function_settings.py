"""Each function says what it needs: a function missing its bucket or seller id stops at cold start naming
the variable, and the marketplaces it reads reach the logic (the shipping setup's defaults)."""

from __future__ import annotations

import pytest

from oms.settings import MisconfiguredFunction
from tests.api_calls import call_api
from tests.conftest import LambdaContext, Stack

UK = "A1F83G8C2ARO7P"


@pytest.mark.parametrize(
    ("folder", "variable"),
    [
        ("daily_close", "DOCUMENTS_BUCKET"),
        ("build_report", "DOCUMENTS_BUCKET"),
        ("api", "DOCUMENTS_BUCKET"),
        ("api", "REPORT_JOBS_QUEUE_URL"),
        ("sync_listings", "SELLER_ID"),
        ("send_listing_feed", "SELLER_ID"),
        ("inventory_sync", "SELLER_ID"),
        ("read_catalogue", "SELLER_ID"),
        ("ingest_notifications", "TABLE_NAME"),
        ("ingest_notifications", "SELLER_ID"),  # only the seller's own notifications are applied
        ("ingest_notifications", "SPAPI_APPLICATION_ID"),
        ("publish_events", "EVENT_BUS_NAME"),
    ],
)
def test_a_function_without_a_variable_it_needs_stops_at_cold_start_naming_it(
    stack: Stack, folder: str, variable: str
) -> None:
    with pytest.raises(MisconfiguredFunction) as stopped:
        stack.handler(folder, {variable: None})
    assert variable in str(stopped.value)
    with pytest.raises(MisconfiguredFunction):
        stack.handler(folder, {variable: ""})  # the template's default when the seller gave none


def test_every_function_starts_with_what_the_template_gives_it_and_the_seller_s_id(stack: Stack) -> None:
    from oms_local.template import Template

    for function in Template().functions():  # SellerId defaults to empty: the seller gives it when deploying
        stack.handler(
            function.folder, {"SELLER_ID": "A1TESTSELLER"}
        )  # MisconfiguredFunction if one lacks a variable


def test_the_shipping_setup_defaults_follow_the_marketplaces_the_function_is_given(
    stack: Stack, context: LambdaContext
) -> None:
    api = stack.handler("api", {"MARKETPLACE_IDS": UK})  # selling on amazon.co.uk, before saving a setup
    status, setup = call_api(stack, context, "GET", "/settings/shipping", handler=api)
    assert status == 200
    warehouse = setup["warehouse"]
    assert (warehouse["country"], warehouse["timeZone"]) == ("GB", "Europe/London")
