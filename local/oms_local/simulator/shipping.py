"""Buy Shipping in the local marketplace: the carriers' services and rates, tracking ids the carriers'
check digits accept, and a printable 4x6 inch PDF label, packed as Amazon sends it.

Pure functions; the Marketplace keeps the labels it sold on its orders (marketplace.py).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from oms_local.simulator.entities import Address

LABEL_WIDTH_INCHES, LABEL_LENGTH_INCHES = 4.0, 6.0
GRAMS_PER_OUNCE = Decimal("28.349523125")


@dataclass(frozen=True)
class ServicePlan:
    """One carrier service the marketplace sells: rate = base + per pound, transit in business days."""

    service_id: str
    name: str
    carrier_name: str
    carrier_code: str  # confirmShipment's carrierCode
    base_rate: Decimal
    per_pound: Decimal
    transit_days: tuple[int, int]  # earliest, latest
    ups_service_code: str = ""  # the two digits of a UPS 1Z number that name the service


# Cheap and slow to fast and dear, as Buy Shipping usually offers for a small US parcel.
SERVICES = (
    ServicePlan("UPS_PTP_GND", "UPS Ground", "UPS", "UPS", Decimal("8.45"), Decimal("0.38"), (3, 5), "03"),
    ServicePlan(
        "USPS_PTP_PRI", "USPS Priority Mail", "USPS", "USPS", Decimal("9.80"), Decimal("0.55"), (1, 3)
    ),
    ServicePlan(
        "UPS_PTP_2ND_DAY_AIR",
        "UPS 2nd Day Air",
        "UPS",
        "UPS",
        Decimal("21.90"),
        Decimal("1.10"),
        (2, 2),
        "02",
    ),
    # a Prime order promised for the next day needs it: without it no label kept that promise
    ServicePlan(
        "UPS_PTP_NEXT_DAY_AIR",
        "UPS Next Day Air",
        "UPS",
        "UPS",
        Decimal("38.50"),
        Decimal("2.20"),
        (1, 1),
        "01",
    ),
)
SERVICE_PLANS = {plan.service_id: plan for plan in SERVICES}


def business_days_after(day: date, days: int) -> date:
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def pounds(value: float, unit: str) -> Decimal:
    ounces = Decimal(str(value)) if unit == "oz" else Decimal(str(value)) / GRAMS_PER_OUNCE
    return ounces / 16


def rate(plan: ServicePlan, weight_pounds: Decimal) -> Decimal:
    billed = max(Decimal(1), -(-weight_pounds // 1))  # whole pounds, rounded up, at least one
    return (plan.base_rate + plan.per_pound * (billed - 1)).quantize(Decimal("0.01"))


def ship_date(now: datetime, zone: tzinfo = UTC) -> datetime:
    """Today when the carrier can still take it (before 17:00 on a weekday in the ship-from address's zone),
    else 09:00 there on the next weekday."""
    local = now.astimezone(zone)
    if local.weekday() < 5 and local.time() < time(17, 0):
        return now.replace(microsecond=0)
    return datetime.combine(business_days_after(local.date(), 1), time(9, 0), zone)


def delivery_estimate(plan: ServicePlan, shipped: datetime, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The first and last delivery day, counted from the ship day in the ship-from zone; each day is dated as
    the marketplace dates an order's delivery window (the whole day, UTC), so a label and the promise it keeps
    compare day for day."""
    earliest, latest = plan.transit_days
    day = shipped.astimezone(zone).date()
    first, last = business_days_after(day, earliest), business_days_after(day, latest)
    return datetime.combine(first, time(0, 0), UTC), datetime.combine(last, time(23, 59, 59), UTC)


# ---------------------------------------------------------------------------------- offers


def offer_id(order_id: str, service_id: str, amount: Decimal, issued: datetime) -> str:
    """An opaque ShippingServiceOfferId that says what was offered, to whom, for how much, and when."""
    data = {"o": order_id, "s": service_id, "r": str(amount), "t": issued.isoformat()}
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def read_offer_id(text: str) -> dict[str, str] | None:
    try:
        data = json.loads(base64.b64decode(text, validate=True))
    except ValueError:
        return None
    return data if isinstance(data, dict) and {"o", "s", "r", "t"} <= data.keys() else None


def amount_json(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"CurrencyCode": currency, "Amount": float(amount)}


def service_json(
    plan: ServicePlan,
    *,
    order_id: str,
    weight_pounds: Decimal,
    options: dict[str, Any],
    now: datetime,
    currency: str,
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """A ShippingService offer as getEligibleShipmentServices and createShipment show it; `zone`: the
    ship-from address's (oms_local.simulator.ship_from_zone), whose calendar dates the offer."""
    shipped = ship_date(now, zone)
    earliest, latest = delivery_estimate(plan, shipped, zone)
    amount = rate(plan, weight_pounds)
    return {
        "ShippingServiceName": plan.name,
        "CarrierName": plan.carrier_name,
        "ShippingServiceId": plan.service_id,
        "ShippingServiceOfferId": offer_id(order_id, plan.service_id, amount, now),
        "ShipDate": iso(shipped),
        "EarliestEstimatedDeliveryDate": iso(earliest),
        "LatestEstimatedDeliveryDate": iso(latest),
        "Rate": amount_json(amount, currency),
        "RateWithAdjustments": amount_json(amount, currency),
        "ShippingServiceOptions": {
            "DeliveryExperience": options["DeliveryExperience"],
            "CarrierWillPickUp": bool(options["CarrierWillPickUp"]),
        },
        "AvailableShippingServiceOptions": {
            "AvailableCarrierWillPickUpOptions": [
                {
                    "CarrierWillPickUpOption": "ShipperWillDropOff",
                    "Charge": amount_json(Decimal(0), currency),
                },
                {"CarrierWillPickUpOption": "CarrierWillPickUp", "Charge": amount_json(Decimal(0), currency)},
            ],
            "AvailableDeliveryExperienceOptions": [
                {
                    "DeliveryExperienceOption": "DeliveryConfirmationWithoutSignature",
                    "Charge": amount_json(Decimal(0), currency),
                },
                {
                    "DeliveryExperienceOption": "DeliveryConfirmationWithSignature",
                    "Charge": amount_json(Decimal("3.50"), currency),
                },
            ],
        },
        "AvailableLabelFormats": ["PDF"],
        "AvailableFormatOptionsForLabel": [{"LabelFormat": "PDF", "IncludePackingSlipWithLabel": False}],
        "RequiresAdditionalSellerInputs": False,
        "Benefits": {"IncludedBenefits": ["CLAIMS_PROTECTED"], "ExcludedBenefits": []},
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------- tracking ids


def _ups_check_digit(body: str) -> str:
    """UPS: over the 15 characters after 1Z, letters folded to digits, every second one doubled."""
    values = [int(c) if c.isdigit() else (ord(c) - ord("A") + 2) % 10 for c in body]
    total = sum(v if i % 2 == 0 else 2 * v for i, v in enumerate(values))
    return str((10 - total % 10) % 10)


def ups_tracking(rng: random.Random, shipper: str, service_code: str) -> str:
    """1Z + 6-character shipper number + 2-digit service + 7-digit package number + check digit."""
    body = shipper[:6].upper().ljust(6, "0") + service_code + f"{rng.randrange(10**7):07d}"
    return "1Z" + body + _ups_check_digit(body)


def _impb_check_digit(digits: str) -> str:
    """USPS IMpb: mod 10, weights 3 and 1 from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def usps_tracking(rng: random.Random) -> str:
    """22 digits: 92 (channel) + 055 (Priority Mail) + 9-digit mailer id + 7-digit serial + check digit."""
    body = "92055" + f"{rng.randrange(10**8, 10**9):09d}" + f"{rng.randrange(10**7):07d}"
    return body + _impb_check_digit(body)


def tracking_id(plan: ServicePlan, rng: random.Random, shipper: str) -> str:
    if plan.carrier_code == "UPS":
        return ups_tracking(rng, shipper, plan.ups_service_code)
    return usps_tracking(rng)


# ---------------------------------------------------------------------------------- the label


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _address_lines(address: dict[str, Any]) -> list[str]:
    city = ", ".join(p for p in (address.get("City"), address.get("StateOrProvinceCode")) if p)
    lines = [
        address.get("Name"),
        address.get("AddressLine1"),
        address.get("AddressLine2"),
        address.get("AddressLine3"),
        f"{city} {address.get('PostalCode', '')}".strip(),
        address.get("CountryCode"),
    ]
    return [_latin1(str(line)) for line in lines if line]


def label_pdf(
    *, plan: ServicePlan, tracking: str, ship_from: dict[str, Any], ship_to: dict[str, Any], order_id: str
) -> bytes:
    """A 4x6 inch label: service, addresses, a Code 39 barcode of the tracking id."""
    pdf = FPDF(orientation="P", unit="in", format=(LABEL_WIDTH_INCHES, LABEL_LENGTH_INCHES))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0.2, 0.2, 0.2)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(3.6, 0.35, _latin1(plan.name.upper()), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    pdf.cell(3.6, 0.18, "FROM:", new_x="LMARGIN", new_y="NEXT")
    for line in _address_lines(ship_from):
        pdf.cell(3.6, 0.15, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.1)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(3.6, 0.22, "SHIP TO:", new_x="LMARGIN", new_y="NEXT")
    for line in _address_lines(ship_to):
        pdf.cell(3.6, 0.22, line, new_x="LMARGIN", new_y="NEXT")
    pdf.line(0.2, 3.3, 3.8, 3.3)
    pdf.code39(f"*{tracking}*", x=0.25, y=3.5, w=0.012, h=0.9)
    pdf.set_xy(0.2, 4.5)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(3.6, 0.25, f"TRACKING #: {tracking}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7)
    pdf.cell(
        3.6, 0.2, f"Amazon order {order_id} - local marketplace simulator", new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())


def file_contents(document: bytes, file_type: str = "application/pdf") -> dict[str, str]:
    """FileContents as Amazon sends it: base64 of the GZIP'd file, and the MD5 of the file (base64)."""
    return {
        "Contents": base64.b64encode(gzip.compress(document, mtime=0)).decode(),
        "FileType": file_type,
        "Checksum": base64.b64encode(hashlib.md5(document, usedforsecurity=False).digest()).decode(),
    }


def address_json(address: Address, *, email: str = "") -> dict[str, Any]:
    """The buyer's address as the Merchant Fulfillment model's Address (names cut to its 30 characters)."""
    answer: dict[str, Any] = {
        "Name": address.name[:30],
        "AddressLine1": address.line1[:180],
        "City": address.city[:30],
        "StateOrProvinceCode": address.state,
        "PostalCode": address.postal_code,
        "CountryCode": address.country_code,
        "Email": email,
        "Phone": address.phone[:30],
    }
    if address.line2:
        answer["AddressLine2"] = address.line2[:60]
    return answer
