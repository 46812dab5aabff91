"""Send-to-Amazon suggestions for the SKUs Amazon fulfils: from Amazon's FBA figures on the stock row
(fulfillable, inbound, reserved) and the SKU's forecast, the units to send so that what Amazon holds and
what is on its way cover the days a shipment takes to be checked in plus a cover target:

    units to send = forecast Amazon-fulfilled demand over (inbound lead time + cover target)
                    - fulfillable - inbound, rounded up to the case pack

The forecast is the SKU's whole forecast times the share of its history Amazon fulfilled (AFN), so a SKU
sold both ways sends only Amazon's part. Listed apart from purchase suggestions (GET /planning/reorder):
these units come from the seller's own shelf, not from a supplier.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from oms.domain.reorder import demand_over, round_up

FBA_INBOUND_DAYS = 14  # a shipment from the seller to being fulfillable at Amazon (shipping + check-in)
FBA_COVER_DAYS = 28  # what Amazon should hold beyond that, in days of forecast demand
FORMULA = (
    "forecast Amazon-fulfilled demand over (inbound lead time + cover target) - fulfillable - inbound, "
    "rounded up to the case pack"
)


def afn_share(by_channel: Mapping[str, Any]) -> float:
    """The share of the SKU's units Amazon fulfilled; 1 when the history names no channel."""
    total = sum(int(v) for v in by_channel.values())
    return int(by_channel.get("AFN", 0)) / total if total else 1.0


def send_to_amazon(
    forecast: Sequence[float],
    fba: Mapping[str, Any] | None,
    by_channel: Mapping[str, Any],
    *,
    case_pack: int | None,
    inbound_days: int = FBA_INBOUND_DAYS,
    cover_days: int = FBA_COVER_DAYS,
) -> dict[str, Any] | None:
    """The figure (value, formula, inputs) for a SKU with Amazon's FBA figures; None for one without."""
    if not fba:
        return None
    fulfillable, inbound = int(fba.get("fulfillable", 0)), int(fba.get("inbound", 0))
    share = afn_share(by_channel)
    demand = demand_over(forecast, inbound_days + cover_days) * share
    raw = max(0, math.ceil(demand - fulfillable - inbound - 1e-9))
    return {
        "value": round_up(raw, case_pack, None),
        "formula": FORMULA,
        "inputs": {
            "inboundLeadTimeDays": inbound_days,
            "coverTargetDays": cover_days,
            "amazonShare": round(share, 3),
            "forecastDemand": round(demand, 2),
            "fulfillable": fulfillable,
            "inbound": inbound,
            "reserved": int(fba.get("reserved", 0)),
            "beforeRounding": raw,
            "casePack": case_pack,
        },
    }
