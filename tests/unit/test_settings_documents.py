"""The shipping setup's documents: a JSON merge patch as RFC 7386 defines it, and the whole setup PUT takes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from oms.warehouse.settings import CompleteShippingSettings, ShippingSettings, merge_patch


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7386, Appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_a_merge_patch_follows_rfc_7386(target, patch, result):
    assert merge_patch(target, patch) == result


def test_the_whole_setup_as_get_gives_it_is_a_complete_put():
    whole = ShippingSettings().model_dump(mode="json", by_alias=True)

    assert CompleteShippingSettings.model_validate(whole).model_dump(mode="json", by_alias=True) == whole


def test_a_put_names_every_section_it_lacks_instead_of_taking_defaults():
    with pytest.raises(ValidationError) as refused:
        CompleteShippingSettings.model_validate({"sellerName": "Mug Co"})

    missing = {".".join(map(str, e["loc"])) for e in refused.value.errors() if e["type"] == "missing"}
    assert missing == {"warehouse", "carriers", "defaultCarrier", "atRiskShare", "package"}


def test_the_complete_setup_keeps_the_setups_own_rules():
    whole = ShippingSettings().model_dump(mode="json", by_alias=True)
    whole["warehouse"]["closes"] = "07:00:00"  # before it opens

    with pytest.raises(ValidationError, match="closes must be after opens"):
        CompleteShippingSettings.model_validate(whole)


@pytest.mark.parametrize(
    "url",
    [
        "https://sellingpartnerapi-na.amazon.com",
        "https://sandbox.sellingpartnerapi-eu.amazon.com",
        "https://api.amazon.com/auth/o2/token",
        "https://api.amazon.co.uk/auth/o2/token",
        "http://127.0.0.1:4567",  # the local stack's marketplace
        "http://localhost:4567/auth/o2/token",
    ],
)
def test_sp_api_credentials_go_to_amazon_or_a_loopback_address(url: str) -> None:
    from oms.settings import amazon_endpoint

    assert amazon_endpoint(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://sellingpartnerapi-na.amazon.com",  # not TLS
        "https://sellingpartnerapi-na.amazon.com.evil.example",
        "https://evilamazon.com",
        "https://10.0.0.5",
        "ftp://127.0.0.1",
    ],
)
def test_anything_else_stops_a_cold_start(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from oms.settings import IngestSettings, MisconfiguredFunction, cold_start, forget_settings

    for name, value in {
        "TABLE_NAME": "oms-table",
        "EVENT_BUS_NAME": "bus",
        "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t",
        "APP_SECRET_ARN": "a",
        "SPAPI_SECRET_ARN": "s",
        "SELLER_ID": "A1",
        "SPAPI_APPLICATION_ID": "app",
        "SPAPI_ENDPOINT": url,
    }.items():
        monkeypatch.setenv(name, value)
    forget_settings()
    with pytest.raises(MisconfiguredFunction, match="SPAPI_ENDPOINT"):
        cold_start(IngestSettings)
    forget_settings()
