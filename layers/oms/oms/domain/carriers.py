"""Carriers and their tracking numbers: checked before anything is confirmed to Amazon.

Amazon counts a shipment's tracking as valid only when the carrier can scan it, and the valid
tracking rate is an account-health metric: a mistyped number caught here costs nothing. Formats
(and the published check digits of UPS and USPS) are verified; carriers without a published
check digit are checked by format only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from oms.errors import InvalidInput


def _ups_check(number: str) -> bool:
    """1Z + 6 shipper + 2 service + 7 package + check digit (odd/even weighting, letters folded to digits)."""
    values = [int(c) if c.isdigit() else (ord(c) - ord("A") + 2) % 10 for c in number[2:17]]
    total = sum(v if i % 2 == 0 else 2 * v for i, v in enumerate(values))
    return (10 - total % 10) % 10 == int(number[17])


def _usps_impb_check(number: str) -> bool:
    """USPS Intelligent Mail package barcode: mod 10 with weights 3 and 1 from the right."""
    digits = [int(c) for c in number]
    total = sum(v * (3 if i % 2 == 0 else 1) for i, v in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def _s10_check(number: str) -> bool:
    """UPU S10 (e.g. RA123456785US): mod 11 over 8 digits with weights 8,6,4,2,3,5,9,7."""
    total = sum(int(d) * w for d, w in zip(number[2:10], (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check) == int(number[10])


OTHER = "Other"


@dataclass(frozen=True)
class TrackingRule:
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None

    def accepts(self, number: str) -> bool:
        return bool(self.pattern.fullmatch(number)) and (self.check is None or self.check(number))


@dataclass(frozen=True)
class Carrier:
    code: str  # Amazon's carrierCode for confirmShipment
    name: str
    rules: tuple[TrackingRule, ...]
    example: str

    def valid_tracking(self, number: str) -> bool:
        return any(rule.accepts(number) for rule in self.rules)


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in [
        Carrier(
            "UPS", "UPS", (TrackingRule(re.compile(r"1Z[0-9A-Z]{16}"), _ups_check),), "1Z999AA10123456784"
        ),
        Carrier(
            "USPS",
            "United States Postal Service",
            (
                TrackingRule(re.compile(r"9\d{19,21}"), _usps_impb_check),
                TrackingRule(re.compile(r"[A-Z]{2}\d{9}US"), _s10_check),
            ),
            "9400111899223100000000",
        ),
        Carrier(
            "FedEx", "FedEx", (TrackingRule(re.compile(r"\d{12}|\d{15}|\d{20}|\d{22}")),), "123456789012"
        ),
        Carrier("DHL", "DHL", (TrackingRule(re.compile(r"\d{10}|JJD\d{10,20}|GM\d{16,18}")),), "1234567890"),
        Carrier("OnTrac", "OnTrac", (TrackingRule(re.compile(r"[CD]\d{14}")),), "C11123456789012"),
        Carrier("AMZN_US", "Amazon Shipping", (TrackingRule(re.compile(r"TBA\d{12}")),), "TBA123456789012"),
        # Any other carrier (Royal Mail, DPD, Evri, La Poste, ...): Amazon takes carrierCode "Other" with
        # the carrier's name; only a plausible number is checked.
        Carrier(
            OTHER, "Other carrier", (TrackingRule(re.compile(r"[A-Z0-9]{6,40}")),), "JD014600006281234567"
        ),
    ]
}


def normalise_tracking(number: str) -> str:
    """What sellers paste: spaces and dashes dropped, letters upper-cased."""
    return re.sub(r"[\s-]", "", number).upper()


def _plain(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def carrier(code_or_name: str) -> Carrier | None:
    """The carrier by its code or name, whatever the case and marks ("ups", "UPS®", "United States
    Postal Service"); None when it is not one of CARRIERS."""
    wanted = _plain(code_or_name)
    return CARRIERS.get(code_or_name) or next(
        (c for c in CARRIERS.values() if wanted in (_plain(c.code), _plain(c.name))), None
    )


def known_carrier(code: str, field: str = "carrier") -> Carrier:
    """The carrier, or a 400 naming the field and listing the codes Amazon takes."""
    found = carrier(code)
    if found is None:
        raise InvalidInput.for_field(
            field, f"unknown carrier {code!r}; known carriers: {', '.join(sorted(CARRIERS))}"
        )
    return found
