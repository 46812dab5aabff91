"""Buying a label and telling a buyer about a delay: the product's SP-API client against the local
marketplace (LWA, the shared rate budget, retries, answers checked by the product's models)."""

from __future__ import annotations

import pytest

from oms.amazon import merchant_fulfillment_api as mf
from oms.amazon import messaging_api
from oms.amazon.client import SpApiError
from oms.amazon.orders_api import GetOrderResponse, order_from_api
from oms.domain.carriers import CARRIERS
from oms_local.simulator import Wanted, contract
from tests.integration.amazon_side import (  # noqa: F401 - fixtures
    MARKETPLACE,
    amazon_fixture,
    calls,
    fast_client,
    inject_fault,
    simulator_fixture,
)

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

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


def test_a_seller_buys_the_cheapest_label_that_keeps_the_promise_even_when_amazon_throttles(amazon):
    # given a standard order for 2 mugs, as the product reads it from Amazon
    order_id = amazon.marketplace.place_order([Wanted("85123A", 2)])
    client = fast_client(amazon)
    order = order_from_api(
        client.call(
            "getOrder", GetOrderResponse, path={"orderId": order_id}, query={"includedData": ["FULFILLMENT"]}
        ).order,
        MARKETPLACE,
    )
    details = mf.shipment_request(
        order_id,
        [(item.order_item_id, item.quantity) for item in order.items],
        SHIP_FROM,
        mf.PackageDimensions(length=10, width=8, height=4, unit="inches"),
        mf.Weight(value=28, unit="oz"),
    )

    # when the seller asks for services and Amazon throttles the purchase once
    services = mf.eligible_services(client, details)
    chosen = mf.choose_service(services, order.latest_delivery_date)
    inject_fault(amazon, "createShipment", 429, 1)
    bought = mf.create_shipment(client, details, chosen)

    # then the cheapest service arriving in time is bought, once, after one retry
    in_time = [
        s
        for s in services
        if s.latest_estimated_delivery_date and s.latest_estimated_delivery_date <= order.latest_delivery_date
    ]
    assert chosen.rate.amount == min(s.rate.amount for s in in_time)
    assert calls(amazon, "createShipment") == 2 and calls(amazon, "createShipment", "faults") == 1
    assert client.calls["createShipment"] == 2
    assert bought.label.content.startswith(b"%PDF") and bought.label.checksum_matches
    assert bought.label.file_type == "application/pdf"
    assert (bought.service_id, bought.rate) == (chosen.service_id, chosen.rate.money())
    carrier = "UPS" if bought.tracking_id.startswith("1Z") else "USPS"
    assert CARRIERS[carrier].valid_tracking(bought.tracking_id)
    (label,) = amazon.marketplace.seller_activity(order_id)["labels"]
    assert (label["shipmentId"], label["trackingId"]) == (bought.shipment_id, bought.tracking_id)
    # the label is not a confirmation: the order stays unshipped until the product confirms it
    assert amazon.marketplace.snapshot(order_id).status == "Unshipped"


def test_a_delay_notice_reaches_the_buyer_only_where_amazon_allows_it(amazon):
    client = fast_client(amazon)
    mfn = amazon.marketplace.place_order([Wanted("85123A", 1)])
    afn = amazon.marketplace.place_order([Wanted("85123A", 1)], afn=True)

    assert messaging_api.messaging_actions(client, mfn, MARKETPLACE) == {
        messaging_api.UNEXPECTED_PROBLEM,
        messaging_api.CONFIRM_DELIVERY_DETAILS,
        messaging_api.CONFIRM_ORDER_DETAILS,
    }
    assert messaging_api.messaging_actions(client, afn, MARKETPLACE) == set()
    messaging_api.send_unexpected_problem(client, mfn, MARKETPLACE, "Your mug ships tomorrow, a day late.")
    with pytest.raises(SpApiError) as refused:
        messaging_api.send_unexpected_problem(client, afn, MARKETPLACE, "Sorry")
    assert refused.value.status == 400

    (message,) = amazon.marketplace.seller_activity(mfn)["messages"]
    assert message["text"] == "Your mug ships tomorrow, a day late."
