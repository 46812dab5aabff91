"""The time zone of a ship-from address, as a carrier reads its pickups and delivery days: local Buy Shipping
dates its ship date and delivery window on the warehouse's calendar (its 5 pm cutoff, its weekdays, its
midnights), as Amazon's carriers do, not on UTC's (a 9:00 UTC ship date is 4 am in New York)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

_EASTERN = "America/New_York"
_CENTRAL = "America/Chicago"
_MOUNTAIN = "America/Denver"
_PACIFIC = "America/Los_Angeles"

# each state's most populous zone (a state split between two reads as the larger part)
_US_STATES = {
    **dict.fromkeys(
        [
            "CT",
            "DC",
            "DE",
            "FL",
            "GA",
            "IN",
            "KY",
            "MA",
            "MD",
            "ME",
            "MI",
            "NC",
            "NH",
            "NJ",
            "NY",
            "OH",
            "PA",
            "RI",
            "SC",
            "VA",
            "VT",
            "WV",
        ],
        _EASTERN,
    ),
    **dict.fromkeys(
        ["AL", "AR", "IA", "IL", "KS", "LA", "MN", "MO", "MS", "ND", "NE", "OK", "SD", "TN", "TX", "WI"],
        _CENTRAL,
    ),
    **dict.fromkeys(["CO", "ID", "MT", "NM", "UT", "WY"], _MOUNTAIN),
    **dict.fromkeys(["CA", "NV", "OR", "WA"], _PACIFIC),
    "AZ": "America/Phoenix",
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
}

_COUNTRIES = {
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "PL": "Europe/Warsaw",
    "SE": "Europe/Stockholm",
    "TR": "Europe/Istanbul",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "EG": "Africa/Cairo",
    "IN": "Asia/Kolkata",
    "JP": "Asia/Tokyo",
    "SG": "Asia/Singapore",
    "AU": "Australia/Sydney",
}


def ship_from_zone(address: Mapping[str, Any] | None) -> ZoneInfo:
    """The zone of a Merchant Fulfillment ShipFromAddress (CountryCode, StateOrProvinceCode); UTC when
    unknown."""
    address = address or {}
    country = str(address.get("CountryCode") or "").upper()
    if country == "US":
        name = _US_STATES.get(str(address.get("StateOrProvinceCode") or "").upper(), _EASTERN)
    else:
        name = _COUNTRIES.get(country, "UTC")
    return ZoneInfo(name)
