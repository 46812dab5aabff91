"""Merchant Fulfillment API v0 (getEligibleShipmentServices, createShipment): buying a shipping label
for a seller-fulfilled order through Amazon's Buy Shipping. Shapes follow
contracts/sp-api-models/merchant-fulfillment-api-model/merchantFulfillmentV0.json; fields not read
here are ignored, so Amazon may add fields freely.

Claim protection: a label bought here is bought from Amazon (Buy Shipping), so Amazon knows the
carrier, the tracking id and the promised delivery date, confirms the shipment itself and protects
the seller's metrics (late delivery, A-to-z claims) when the carrier is late. Every service offered
comes from Amazon, so nothing more is needed to keep that protection; choosing a service that
arrives by the order's latest delivery date (`choose_service`) is what keeps the buyer's promise.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.client import SpApiClient
from oms.domain.types import Money
from oms.errors import Conflict, InvalidInput

DeliveryExperience = Literal[
    "DeliveryConfirmationWithAdultSignature",
    "DeliveryConfirmationWithSignature",
    "DeliveryConfirmationWithoutSignature",
    "NoTracking",
]
DEFAULT_DELIVERY_EXPERIENCE: DeliveryExperience = "DeliveryConfirmationWithoutSignature"
_GZIP_MAGIC = b"\x1f\x8b"
_CENT = Decimal("0.01")
_NEVER = datetime.max.replace(tzinfo=UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


# ---------------------------------------------------------------------------------- request shapes


class Address(_Model):
    """The ship-from address (the model's Address; Amazon requires name, line 1, city, postal code,
    country, email and phone)."""

    name: str = Field(alias="Name", min_length=1, max_length=30)
    address_line1: str = Field(alias="AddressLine1", min_length=1, max_length=180)
    address_line2: str | None = Field(default=None, alias="AddressLine2", max_length=60)
    address_line3: str | None = Field(default=None, alias="AddressLine3", max_length=60)
    city: str = Field(alias="City", min_length=1, max_length=30)
    state_or_province_code: str | None = Field(default=None, alias="StateOrProvinceCode", max_length=30)
    postal_code: str = Field(alias="PostalCode", min_length=1, max_length=30)
    country_code: str = Field(alias="CountryCode", min_length=2, max_length=2)
    email: str = Field(alias="Email")
    phone: str = Field(alias="Phone", max_length=30)


class Item(_Model):
    order_item_id: str = Field(alias="OrderItemId")
    quantity: int = Field(alias="Quantity", ge=1)


class PackageDimensions(_Model):
    length: float = Field(alias="Length", gt=0)
    width: float = Field(alias="Width", gt=0)
    height: float = Field(alias="Height", gt=0)
    unit: Literal["inches", "centimeters"] = Field(alias="Unit")


class Weight(_Model):
    value: float = Field(alias="Value", gt=0)
    unit: Literal["oz", "g"] = Field(alias="Unit")


class CurrencyAmount(_Model):
    currency_code: str = Field(alias="CurrencyCode")
    amount: Decimal = Field(alias="Amount")

    def money(self) -> Money:
        """As the product's Money: a decimal string of at least two places (Amazon sends a number)."""
        exponent = self.amount.as_tuple().exponent
        amount = self.amount if isinstance(exponent, int) and exponent < -2 else self.amount.quantize(_CENT)
        return Money(amount=format(amount, "f"), currency_code=self.currency_code)


class ShippingServiceOptions(_Model):
    delivery_experience: DeliveryExperience = Field(alias="DeliveryExperience")
    carrier_will_pick_up: bool = Field(alias="CarrierWillPickUp")
    declared_value: CurrencyAmount | None = Field(default=None, alias="DeclaredValue")


class ShipmentRequestDetails(_Model):
    amazon_order_id: str = Field(alias="AmazonOrderId")
    item_list: list[Item] = Field(alias="ItemList", min_length=1)
    ship_from_address: Address = Field(alias="ShipFromAddress")
    package_dimensions: PackageDimensions = Field(alias="PackageDimensions")
    weight: Weight = Field(alias="Weight")
    shipping_service_options: ShippingServiceOptions = Field(alias="ShippingServiceOptions")

    def wire(self) -> dict[str, object]:
        """The ShipmentRequestDetails object as Amazon takes it (PascalCase, no empty fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def shipment_request(
    order_id: str,
    items: Sequence[tuple[str, int]],
    ship_from: Address,
    package: PackageDimensions,
    weight: Weight,
    *,
    delivery_experience: DeliveryExperience = DEFAULT_DELIVERY_EXPERIENCE,
    carrier_will_pick_up: bool = False,
) -> ShipmentRequestDetails:
    """What a label is bought for: the order's items [(orderItemId, quantity)] in one package."""
    if not items:
        raise InvalidInput.for_field("items", "a package holds at least one item")
    return ShipmentRequestDetails(
        amazon_order_id=order_id,
        item_list=[Item(order_item_id=item_id, quantity=quantity) for item_id, quantity in items],
        ship_from_address=ship_from,
        package_dimensions=package,
        weight=weight,
        shipping_service_options=ShippingServiceOptions(
            delivery_experience=delivery_experience, carrier_will_pick_up=carrier_will_pick_up
        ),
    )


# ---------------------------------------------------------------------------------- answer shapes


class ShippingService(_Model):
    """One Buy Shipping offer: a carrier's service, its rate and Amazon's delivery estimate."""

    service_name: str = Field(alias="ShippingServiceName")
    carrier_name: str = Field(alias="CarrierName")
    service_id: str = Field(alias="ShippingServiceId")
    offer_id: str = Field(alias="ShippingServiceOfferId")
    ship_date: datetime = Field(alias="ShipDate")
    earliest_estimated_delivery_date: datetime | None = Field(
        default=None, alias="EarliestEstimatedDeliveryDate"
    )
    latest_estimated_delivery_date: datetime | None = Field(default=None, alias="LatestEstimatedDeliveryDate")
    rate: CurrencyAmount = Field(alias="Rate")
    rate_with_adjustments: CurrencyAmount | None = Field(default=None, alias="RateWithAdjustments")
    requires_additional_seller_inputs: bool = Field(default=False, alias="RequiresAdditionalSellerInputs")


class RejectedShippingService(_Model):
    carrier_name: str = Field(alias="CarrierName")
    service_name: str = Field(alias="ShippingServiceName")
    service_id: str = Field(alias="ShippingServiceId")
    rejection_reason_code: str = Field(alias="RejectionReasonCode")
    rejection_reason_message: str | None = Field(default=None, alias="RejectionReasonMessage")


class EligibleServicesResult(_Model):
    shipping_service_list: list[ShippingService] = Field(alias="ShippingServiceList")
    rejected_shipping_service_list: list[RejectedShippingService] = Field(
        default_factory=list, alias="RejectedShippingServiceList"
    )


class GetEligibleShipmentServicesResponse(_Model):
    payload: EligibleServicesResult


class FileContents(_Model):
    contents: str = Field(alias="Contents")  # base64 of GZIP'd bytes
    file_type: Literal["application/pdf", "application/zpl", "image/png"] = Field(alias="FileType")
    checksum: str = Field(alias="Checksum")  # base64 MD5


class LabelDimensions(_Model):
    length: float = Field(alias="Length")
    width: float = Field(alias="Width")
    unit: Literal["inches", "centimeters"] = Field(alias="Unit")


class Label(_Model):
    dimensions: LabelDimensions = Field(alias="Dimensions")
    file_contents: FileContents = Field(alias="FileContents")
    label_format: str | None = Field(default=None, alias="LabelFormat")


class Shipment(_Model):
    shipment_id: str = Field(alias="ShipmentId")
    amazon_order_id: str = Field(alias="AmazonOrderId")
    item_list: list[Item] = Field(alias="ItemList")
    shipping_service: ShippingService = Field(alias="ShippingService")
    label: Label = Field(alias="Label")
    status: str = Field(alias="Status")
    tracking_id: str | None = Field(default=None, alias="TrackingId")
    created_date: datetime = Field(alias="CreatedDate")


class CreateShipmentResponse(_Model):
    payload: Shipment


# ---------------------------------------------------------------------------------- the product's view


@dataclass(frozen=True)
class LabelFile:
    """The printable label, decoded: `content` is the file itself (a PDF starts with %PDF)."""

    file_type: str  # application/pdf, image/png or application/zpl
    content: bytes
    width: float
    length: float
    unit: str
    checksum_matches: bool  # Amazon's MD5 agrees with what was decoded


@dataclass(frozen=True)
class PurchasedLabel:
    shipment_id: str
    order_id: str
    tracking_id: str
    carrier_name: str
    service_name: str
    service_id: str
    rate: Money
    ship_date: datetime
    latest_delivery_date: datetime | None
    label: LabelFile


def decode_label(label: Label) -> LabelFile:
    """Amazon sends the file as base64 of its GZIP'd bytes; both are undone here."""
    try:
        packed = base64.b64decode(label.file_contents.contents, validate=True)
        content = gzip.decompress(packed) if packed.startswith(_GZIP_MAGIC) else packed
    except (binascii.Error, OSError, EOFError) as error:
        raise ValueError(f"the label's FileContents cannot be decoded: {error}") from None
    expected = label.file_contents.checksum
    # The model says "an MD5 hash ... of the document data"; accept it over either form of the bytes.
    matches = expected in {
        base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        for data in (content, packed)
    }
    return LabelFile(
        file_type=label.file_contents.file_type,
        content=content,
        width=label.dimensions.width,
        length=label.dimensions.length,
        unit=label.dimensions.unit,
        checksum_matches=matches,
    )


def purchased_label(shipment: Shipment) -> PurchasedLabel:
    service = shipment.shipping_service
    return PurchasedLabel(
        shipment_id=shipment.shipment_id,
        order_id=shipment.amazon_order_id,
        tracking_id=shipment.tracking_id or "",
        carrier_name=service.carrier_name,
        service_name=service.service_name,
        service_id=service.service_id,
        rate=service.rate.money(),
        ship_date=service.ship_date,
        latest_delivery_date=service.latest_estimated_delivery_date,
        label=decode_label(shipment.label),
    )


# ---------------------------------------------------------------------------------- operations


def eligible_services(
    client: SpApiClient, details: ShipmentRequestDetails, *, region: str = "na"
) -> list[ShippingService]:
    """getEligibleShipmentServices: the services Amazon offers for this package, with rates."""
    answer = client.call(
        "getEligibleShipmentServices",
        GetEligibleShipmentServicesResponse,
        region=region,
        body={"ShipmentRequestDetails": details.wire()},
    )
    return list(answer.payload.shipping_service_list)


def create_shipment(
    client: SpApiClient, details: ShipmentRequestDetails, service: ShippingService, *, region: str = "na"
) -> PurchasedLabel:
    """createShipment: buy the label of the chosen offer (the same details it was offered for)."""
    answer = client.call(
        "createShipment",
        CreateShipmentResponse,
        region=region,
        body={
            "ShipmentRequestDetails": details.wire(),
            "ShippingServiceId": service.service_id,
            "ShippingServiceOfferId": service.offer_id,
        },
        retry_server_errors=False,  # a 5xx may have sold the label: never bought twice by a retry
    )
    return purchased_label(answer.payload)


def chosen_by_rule(service: ShippingService, carrier: str | None, name: str | None) -> bool:
    """Whether an order rule's choice (a carrier, a service or both, as Buy Shipping names them; case aside)
    names this service."""
    if not carrier and not name:
        return False
    fits_carrier = not carrier or service.carrier_name.casefold() == carrier.casefold()
    fits_name = not name or name.casefold() in (
        service.service_name.casefold(),
        f"{service.carrier_name} {service.service_name}".casefold(),
    )
    return fits_carrier and fits_name


def choose_service(
    services: Sequence[ShippingService],
    latest_delivery_date: datetime | None,
    named_service_id: str | None = None,
    rule_choice: tuple[str | None, str | None] = (None, None),
    zone: tzinfo = UTC,
) -> ShippingService:
    """The service to buy: the one named, else the cheapest that delivers by the order's latest delivery
    date (ties: the earliest delivery) among those an order rule chose (`rule_choice`: carrier, service),
    else among all. Without a latest delivery date, the cheapest. Days in a refusal are `zone`'s (the
    warehouse's)."""
    offered = ", ".join(s.service_id for s in services) or "none"
    if named_service_id is not None:
        named = next((s for s in services if s.service_id == named_service_id), None)
        if named is None:
            raise InvalidInput.for_field(
                "shippingServiceId",
                f"{named_service_id!r} is not offered for this package; offered: {offered}",
            )
        return named
    # a service that needs more seller inputs (e.g. hazmat details) cannot be bought with this request
    services = [s for s in services if not s.requires_additional_seller_inputs]
    if not services:
        raise Conflict("Amazon offers no shipping service for this package that needs no further inputs")
    by_rule = [s for s in services if chosen_by_rule(s, *rule_choice)]
    # a rule's choice that would break the delivery promise gives way to the cheapest that keeps it
    chosen = cheapest_on_time(by_rule, latest_delivery_date) or cheapest_on_time(
        services, latest_delivery_date
    )
    if chosen is None:
        listed = "; ".join(
            f"{_named(s)} ({s.service_id}) by "
            f"{_day(s.latest_estimated_delivery_date, zone) if s.latest_estimated_delivery_date else 'no estimate'}"
            for s in services
        )
        raise Conflict(
            f"no offered service delivers by the order's latest delivery date "
            f"{_day(latest_delivery_date, zone) if latest_delivery_date else ''}; offered: {listed}; "
            "name one as shippingServiceId to buy it anyway"
        )
    return chosen


def _named(service: ShippingService) -> str:
    """'UPS Ground', not 'UPS UPS Ground': Amazon's service names usually start with the carrier's."""
    name = service.service_name
    return name if name.lower().startswith(service.carrier_name.lower()) else f"{service.carrier_name} {name}"


def _day(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%a %Y-%m-%d")


def meets_promise(service: ShippingService, latest_delivery_date: datetime | None) -> bool:
    """Amazon's latest estimate is no later than the order's latest delivery date (no date: any service)."""
    if latest_delivery_date is None:
        return True
    latest = service.latest_estimated_delivery_date
    return latest is not None and latest <= latest_delivery_date


def cheapest_on_time(
    services: Sequence[ShippingService], latest_delivery_date: datetime | None
) -> ShippingService | None:
    """The cheapest buyable service that keeps the promise (ties: the earliest delivery); None if none does."""
    keeping = [
        s
        for s in services
        if not s.requires_additional_seller_inputs and meets_promise(s, latest_delivery_date)
    ]

    def cost_then_speed(service: ShippingService) -> tuple[Decimal, datetime]:
        return service.rate.amount, service.latest_estimated_delivery_date or _NEVER

    return min(keeping, key=cost_then_speed, default=None)
