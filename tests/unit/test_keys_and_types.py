"""Keys sort as time, and times follow the contract (UTC, Z)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from oms.domain.types import UtcDateTime, iso_z
from oms.store import keys


def test_times_are_utc_to_the_second_ending_in_z():
    berlin = timezone(timedelta(hours=1))
    assert iso_z(datetime(2026, 11, 26, 11, 0, 0, 123456, tzinfo=berlin)) == "2026-11-26T10:00:00Z"


def test_a_time_without_zone_is_refused():
    with pytest.raises(ValidationError, match="zone"):
        TypeAdapter(UtcDateTime).validate_python("2026-11-26T10:00:00")
    assert TypeAdapter(UtcDateTime).validate_python("2026-11-26T11:00:00+01:00") == datetime(
        2026, 11, 26, 10, tzinfo=UTC
    )


def test_order_index_keys_sort_by_purchase_and_ship_by_time():
    early = keys.order_index_keys(
        order_id="Z",
        status="Unshipped",
        fulfillment_channel="MFN",
        purchase_date="2026-11-26T09:00:00Z",
        latest_ship_date="2026-11-27T09:00:00Z",
    )
    late = keys.order_index_keys(
        order_id="A",
        status="Unshipped",
        fulfillment_channel="MFN",
        purchase_date="2026-11-26T10:00:00Z",
        latest_ship_date="2026-11-28T09:00:00Z",
    )
    assert early["gsi1sk"] < late["gsi1sk"]
    assert early["gsi3sk"] < late["gsi3sk"]
    assert early["gsi3pk"] == "ORDERS#STATUS#Unshipped#CHANNEL#MFN"


def test_an_order_without_a_ship_by_date_sorts_last_in_the_work_queue():
    undated = keys.order_index_keys(
        order_id="X",
        status="Pending",
        fulfillment_channel="MFN",
        purchase_date="2026-11-26T09:00:00Z",
        latest_ship_date=None,
    )
    assert undated["gsi2sk"] > "2999-12-31T00:00:00Z"


def test_a_purchase_date_range_includes_orders_at_its_upper_bound():
    query = keys.orders_by_purchase_date("2026-11-26T00:00:00Z", "2026-11-26T10:00:00Z")
    assert query.sk_to is not None and query.sk_to >= "2026-11-26T10:00:00Z#ANY-ORDER"


def test_a_number_too_small_for_dynamodb_is_stored_as_zero_not_refused():
    from decimal import Decimal

    from oms.store.table import to_dynamo

    assert to_dynamo({"leadTimeStdDays": 2.225073858507e-311, "share": 0.25, "none": 0.0}) == {
        "leadTimeStdDays": {"N": "0"},
        "share": {"N": "0.25"},
        "none": {"N": "0.0"},
    }
    assert Decimal("1E-130") == Decimal(str(1e-130))  # the smallest DynamoDB keeps is kept
    assert to_dynamo({"x": 1e-130}) == {"x": {"N": "1E-130"}}
