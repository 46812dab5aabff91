"""Buying a label through Merchant Fulfillment v0: the request Amazon takes, the answers it gives (its
own examples and the local marketplace's, both checked against the model), the label decoded, and
which offered service a seller's order should ship with."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from oms.amazon import merchant_fulfillment_api as mf
from oms.errors import Conflict, InvalidInput
from oms_local.simulator import contract, shipping
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.simulator.config import SimulatorConfig
from oms_local.simulator.marketplace import Marketplace

models = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

SHIP_FROM = mf.Address(
    name="Red Mug Co",
    address_line1="300 Turnbull Ave",
    city="Detroit",
    state_or_province_code="MI",
    postal_code="48123",
    country_code="US",
    email="shipping@redmug.example",
    phone="7132341234",
)
BOX = mf.PackageDimensions(length=10, width=8, height=4, unit="inches")


def _details(order_id: str = "113-1234567-1234567", items: list[tuple[str, int]] | None = None) -> Any:
    return mf.shipment_request(
        order_id, items or [("52986411826454", 1)], SHIP_FROM, BOX, mf.Weight(value=18, unit="oz")
    )


def _service(service_id: str, amount: str, delivered_by: str | None) -> mf.ShippingService:
    return mf.ShippingService.model_validate(
        {
            "ShippingServiceName": service_id.replace("_", " "),
            "CarrierName": service_id.split("_", maxsplit=1)[0],
            "ShippingServiceId": service_id,
            "ShippingServiceOfferId": f"offer-{service_id}",
            "ShipDate": "2026-03-02T15:00:00Z",
            **({"LatestEstimatedDeliveryDate": delivered_by} if delivered_by else {}),
            "Rate": {"CurrencyCode": "USD", "Amount": float(amount)},
            "RateWithAdjustments": {"CurrencyCode": "USD", "Amount": float(amount)},
            "ShippingServiceOptions": {
                "DeliveryExperience": "DeliveryConfirmationWithoutSignature",
                "CarrierWillPickUp": False,
            },
            "RequiresAdditionalSellerInputs": False,
        }
    )


GROUND = _service("UPS_PTP_GND", "8.45", "2026-03-09T23:59:59Z")
PRIORITY = _service("USPS_PTP_PRI", "9.80", "2026-03-05T23:59:59Z")
SECOND_DAY = _service("UPS_PTP_2ND_DAY_AIR", "21.90", "2026-03-04T23:59:59Z")
OFFERED = [SECOND_DAY, GROUND, PRIORITY]


# ---------------------------------------------------------------------------------- choosing a service


def test_the_cheapest_service_that_keeps_the_delivery_promise_is_chosen():
    # the buyer was promised delivery by Friday the 6th: Ground (Monday) is too late, Priority is not
    promised = datetime(2026, 3, 6, 23, 59, 59, tzinfo=UTC)
    assert mf.choose_service(OFFERED, promised) is PRIORITY
    # promised by the 9th: Ground keeps it and is cheapest
    assert mf.choose_service(OFFERED, datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)) is GROUND


def test_a_tie_on_price_goes_to_the_earlier_delivery():
    faster_same_price = _service("USPS_PTP_EXP", "9.80", "2026-03-03T23:59:59Z")
    promised = datetime(2026, 3, 6, 23, 59, 59, tzinfo=UTC)
    assert mf.choose_service([PRIORITY, faster_same_price], promised) is faster_same_price


def test_without_a_latest_delivery_date_the_cheapest_is_chosen():
    assert mf.choose_service(OFFERED, None) is GROUND


def test_a_named_service_is_bought_even_when_dearer_and_an_unknown_name_is_refused():
    promised = datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    assert mf.choose_service(OFFERED, promised, "UPS_PTP_2ND_DAY_AIR") is SECOND_DAY
    with pytest.raises(InvalidInput) as refused:
        mf.choose_service(OFFERED, promised, "FEDEX_PTP_HOME_DELIVERY")
    assert refused.value.details[0].field == "shippingServiceId"
    for offered in ("UPS_PTP_GND", "USPS_PTP_PRI", "UPS_PTP_2ND_DAY_AIR"):
        assert offered in refused.value.message


def test_when_no_service_arrives_in_time_the_seller_is_told_what_was_offered():
    promised = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    with pytest.raises(Conflict) as late:
        mf.choose_service(OFFERED, promised)
    message = late.value.message
    assert "no offered service delivers by the order's latest delivery date Tue 2026-03-03" in message
    # the service named once (Amazon's names start with the carrier's), its day in the warehouse's zone
    assert "UPS PTP 2ND DAY AIR (UPS_PTP_2ND_DAY_AIR) by Wed 2026-03-04" in message
    with pytest.raises(Conflict) as in_tokyo:
        mf.choose_service(OFFERED, promised, zone=ZoneInfo("Asia/Tokyo"))
    assert "UPS PTP 2ND DAY AIR (UPS_PTP_2ND_DAY_AIR) by Thu 2026-03-05" in in_tokyo.value.message
    assert "UPS_PTP_GND" in message and "USPS_PTP_PRI" in message
    # a service without an estimate cannot promise anything
    with pytest.raises(Conflict, match="no estimate"):
        mf.choose_service([_service("X_SLOW", "1.00", None)], promised)
    with pytest.raises(Conflict, match="no shipping service"):
        mf.choose_service([], promised)


# ---------------------------------------------------------------------------------- shapes


def test_the_rate_becomes_the_products_money_as_a_decimal_string():
    assert GROUND.rate.money().model_dump(by_alias=True) == {"amount": "8.45", "currencyCode": "USD"}
    whole = mf.CurrencyAmount.model_validate_json('{"CurrencyCode": "USD", "Amount": 12}')
    assert whole.money().amount == "12.00"
    assert mf.CurrencyAmount.model_validate_json('{"CurrencyCode": "USD", "Amount": 3.1}').amount == Decimal(
        "3.1"
    )


def test_a_shipment_request_defaults_to_tracked_delivery_without_signature():
    wire = _details().wire()
    assert wire["ShippingServiceOptions"] == {
        "DeliveryExperience": "DeliveryConfirmationWithoutSignature",
        "CarrierWillPickUp": False,
    }
    assert wire["ItemList"] == [{"OrderItemId": "52986411826454", "Quantity": 1}]
    assert wire["Weight"] == {"Value": 18.0, "Unit": "oz"}
    assert "AddressLine2" not in wire["ShipFromAddress"]  # empty fields are left out, not sent as null
    with pytest.raises(InvalidInput):
        mf.shipment_request("113-1234567-1234567", [], SHIP_FROM, BOX, mf.Weight(value=1, unit="g"))


@models
def test_the_requests_the_product_sends_are_what_the_model_takes():
    details = mf.shipment_request(
        "113-1234567-1234567",
        [("1", 2), ("2", 1)],
        SHIP_FROM,
        BOX,
        mf.Weight(value=500, unit="g"),
        delivery_experience="DeliveryConfirmationWithSignature",
        carrier_will_pick_up=True,
    )
    body = {"ShipmentRequestDetails": details.wire()}
    assert contract.request_body_problems("getEligibleShipmentServices", body) == []
    purchase = {**body, "ShippingServiceId": "UPS_PTP_GND", "ShippingServiceOfferId": "x"}
    assert contract.request_body_problems("createShipment", purchase) == []


@models
@pytest.mark.parametrize("operation", ["getEligibleShipmentServices", "createShipment"])
def test_amazons_own_examples_parse(operation):
    response_model = {
        "getEligibleShipmentServices": mf.GetEligibleShipmentServicesResponse,
        "createShipment": mf.CreateShipmentResponse,
    }[operation]
    examples = [
        body for status, _, body in contract.model_of(operation).sandbox_examples(operation) if status == 200
    ]
    assert examples
    for example in examples:
        parsed = response_model.model_validate(example)
        if isinstance(parsed, mf.CreateShipmentResponse):
            assert parsed.payload.tracking_id == "1Z17E2100217295733"
            assert parsed.payload.shipping_service.rate.money().amount == "34.73"
            # Amazon's sandbox label is a truncated string: it cannot be decoded, and says so
            with pytest.raises(ValueError, match="cannot be decoded"):
                mf.decode_label(parsed.payload.label)
        else:
            assert parsed.payload.shipping_service_list


# ---------------------------------------------------------------------------------- the label


def _label(contents: str, checksum: str, file_type: str = "application/pdf") -> mf.Label:
    return mf.Label.model_validate(
        {
            "Dimensions": {"Length": 6, "Width": 4, "Unit": "inches"},
            "FileContents": {"Contents": contents, "FileType": file_type, "Checksum": checksum},
            "LabelFormat": "PDF",
        }
    )


def test_a_label_is_unpacked_from_base64_and_gzip_and_its_checksum_checked():
    document = b"%PDF-1.3 a label"
    packed = shipping.file_contents(document)
    label = mf.decode_label(_label(packed["Contents"], packed["Checksum"]))
    assert label.content == document
    assert (label.file_type, label.width, label.length, label.unit) == ("application/pdf", 4, 6, "inches")
    assert label.checksum_matches
    assert not mf.decode_label(_label(packed["Contents"], "AAAAAAAAAAAAAAAAAAAAAA==")).checksum_matches


def test_a_label_sent_without_gzip_is_kept_as_it_is():
    png = b"\x89PNG\r\n\x1a\n..."
    label = mf.decode_label(_label(base64.b64encode(png).decode(), "x", "image/png"))
    assert label.content == png and label.file_type == "image/png"
    zpl = gzip.compress(b"^XA^FO50,50^FDlabel^FS^XZ")
    assert mf.decode_label(_label(base64.b64encode(zpl).decode(), "x", "application/zpl")).content.startswith(
        b"^XA"
    )


# ---------------------------------------------------------------------------------- the local marketplace's answers


@models
def test_the_local_marketplaces_offers_and_shipments_are_amazons_shapes_and_parse():
    marketplace = Marketplace(
        SimulatorConfig(duplicate_probability=0, delay_probability=0, seed=5), catalogue=builtin_catalogue()
    )
    order_id = marketplace.place_order([("85123A", 2)])
    item_id = marketplace.snapshot(order_id).lines[0].order_item_id
    body = {"ShipmentRequestDetails": _details(order_id, [(item_id, 2)]).wire()}

    offers = marketplace.eligible_shipping_services(body)
    contract.validate_response("getEligibleShipmentServices", 200, offers)
    services = mf.GetEligibleShipmentServicesResponse.model_validate(offers).payload.shipping_service_list
    assert [s.service_id for s in services] == [
        "UPS_PTP_GND",
        "USPS_PTP_PRI",
        "UPS_PTP_2ND_DAY_AIR",
        "UPS_PTP_NEXT_DAY_AIR",
    ]
    rates = [Decimal(s.rate.money().amount) for s in services]
    assert rates == sorted(rates)
    chosen = mf.choose_service(services, None)

    shipment = marketplace.create_shipment(
        {**body, "ShippingServiceId": chosen.service_id, "ShippingServiceOfferId": chosen.offer_id}
    )
    contract.validate_response("createShipment", 200, shipment)
    label = mf.purchased_label(mf.CreateShipmentResponse.model_validate(shipment).payload)
    assert label.order_id == order_id and label.service_id == "UPS_PTP_GND"
    assert label.rate.amount == "8.45" and label.tracking_id.startswith("1Z")
    assert label.label.content.startswith(b"%PDF") and label.label.checksum_matches


def test_a_prime_order_promised_for_tomorrow_gets_the_local_marketplaces_next_day_label():
    marketplace = Marketplace(
        SimulatorConfig(duplicate_probability=0, delay_probability=0, seed=5), catalogue=builtin_catalogue()
    )
    now = datetime.now(UTC)  # the test clock: a Tuesday afternoon, before the carriers' pickup
    ship_today = datetime.combine(now.date(), time(23, 59, 59), UTC)
    order_id = marketplace.place_order(
        [("85123A", 1)], prime=True, service_level="NEXT_DAY", ship_by=ship_today
    )
    order = marketplace.snapshot(order_id)
    body = {"ShipmentRequestDetails": _details(order_id, [(order.lines[0].order_item_id, 1)]).wire()}
    offers = marketplace.eligible_shipping_services(body)
    services = mf.GetEligibleShipmentServicesResponse.model_validate(offers).payload.shipping_service_list
    # delivery promised tomorrow: 2nd Day Air is too late, so only Next Day Air keeps it (no 409 for Prime)
    chosen = mf.choose_service(services, order.delivery_window[1])
    assert chosen.service_id == "UPS_PTP_NEXT_DAY_AIR" and chosen.service_name == "UPS Next Day Air"
