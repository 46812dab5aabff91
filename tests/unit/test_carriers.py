"""Tracking numbers are checked against their carrier's format before Amazon hears of them."""

from __future__ import annotations

import pytest

from oms.domain.carriers import CARRIERS, carrier, normalise_tracking


@pytest.mark.parametrize("code", sorted(CARRIERS))
def test_every_carrier_accepts_its_own_example(code):
    assert CARRIERS[code].valid_tracking(CARRIERS[code].example)


@pytest.mark.parametrize(
    ("code", "number", "valid"),
    [
        ("UPS", "1Z999AA10123456784", True),
        ("UPS", "1Z999AA10123456785", False),  # one digit mistyped: the check digit catches it
        ("UPS", "1Z999AA1012345678", False),  # too short
        ("USPS", "9400111899223100000000", True),
        ("USPS", "9400111899223100000001", False),
        ("USPS", "RA123456785US", True),
        ("USPS", "RA123456784US", False),
        ("FedEx", "123456789012", True),
        ("FedEx", "12345", False),
        ("DHL", "1Z999AA10123456784", False),
    ],
)
def test_formats_and_check_digits(code, number, valid):
    assert CARRIERS[code].valid_tracking(number) is valid


def test_what_sellers_paste_is_normalised_and_codes_are_case_insensitive():
    assert normalise_tracking(" 1z999aa1-0123456784 ") == "1Z999AA10123456784"
    assert carrier("fedex") is CARRIERS["FedEx"]
    assert carrier("Pigeon Post") is None
