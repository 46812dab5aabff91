"""The shipping setup the local side saves before it buys labels: the tests (tests/builders.py), the
benches (bench/cost_day.py) and the fault drill (oms_local.fault_drill) all use this one.

A US warehouse in Albany, NY (America/New_York) with the ship-from address Buy Shipping needs, UPS and USPS
pickups on weekdays, and a default package (10 x 8 x 4 in, 16 oz) for an order whose catalogue has no size.
Local-only: never imported by the Lambda layer."""

from __future__ import annotations

import copy
from typing import Any

SELLER_NAME = "Mug Co"
TIME_ZONE = "America/New_York"

# The ship-from address: Buy Shipping refuses to quote without one.
SHIP_FROM: dict[str, Any] = {
    "name": SELLER_NAME,
    "addressLine1": "1 Main St",
    "addressLine2": None,
    "city": "Albany",
    "stateOrProvinceCode": "NY",
    "postalCode": "12207",
    "countryCode": "US",
    "phone": "5185550100",
    "email": "ship@mugco.example",
}

UPS_PICKUP: dict[str, Any] = {
    "code": "UPS",
    "pickupDays": ["MON", "TUE", "WED", "THU", "FRI"],
    "cutoff": "16:00:00",
    "holidays": [],
    "handlingDays": 1,
    "transitDays": 3,
}

# A whole shipping setup (PUT /settings/shipping takes it whole).
WAREHOUSE_SETTINGS: dict[str, Any] = {
    "sellerName": SELLER_NAME,
    "warehouse": {
        "name": "Main warehouse",
        "timeZone": TIME_ZONE,
        "country": "US",
        "subdivision": None,
        "workingDays": ["MON", "TUE", "WED", "THU", "FRI"],
        "opens": "08:00:00",
        "closes": "18:00:00",
        "closedDays": [],
        "address": SHIP_FROM,
    },
    "carriers": [UPS_PICKUP, {**UPS_PICKUP, "code": "USPS", "cutoff": "15:00:00"}],
    "defaultCarrier": "UPS",
    "atRiskShare": 0.25,
    "package": {
        "length": 10,
        "width": 8,
        "height": 4,
        "dimensionUnit": "inches",
        "weight": 16,
        "weightUnit": "oz",
    },
    "packagePresets": [],
}


def shipping_setup() -> dict[str, Any]:
    """The whole setup, a copy of its own (for PUT /settings/shipping)."""
    return copy.deepcopy(WAREHOUSE_SETTINGS)


def ship_from_patch() -> dict[str, Any]:
    """Only the seller's name, the warehouse's zone and the ship-from address (for PATCH /settings/shipping:
    a JSON merge patch, so the rest of the setup stays as it is)."""
    address = {k: v for k, v in SHIP_FROM.items() if v is not None}
    return {"sellerName": SELLER_NAME, "warehouse": {"timeZone": TIME_ZONE, "address": address}}
