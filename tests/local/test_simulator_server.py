"""The local SP-API over HTTP, started in process on a free port: LWA, auth, usage plans, faults,
the operations the product calls and the control endpoints. Every answer of an Amazon operation is
checked against the official model as it arrives.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from oms_local.simulator import Simulator, SimulatorConfig, contract
from oms_local.simulator.catalogue import builtin_catalogue

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

SELLER = "A1OMSLOCALSELLER"
MARKETPLACE = "ATVPDKIKX0DER"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


class Client:
    """Calls the simulator as the product's SP-API client calls Amazon."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.token: str | None = None

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Answer:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(
            self.simulator.url + path, data=data, method=method, headers=headers or {}
        )
        if data is not None and not request.has_header("Content-type"):
            request.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(request, timeout=10) as response:
                status, answer_headers, payload = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, payload = error.code, dict(error.headers), error.read()
        return Answer(status, answer_headers, json.loads(payload) if payload else None)

    def login(self) -> str:
        form = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": "Atzr|local",
                "client_id": "c",
                "client_secret": "s",
            }
        )
        answer = self.http(
            "POST",
            "/auth/o2/token",
            raw=form.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
        )
        assert answer.status == 200, answer.body
        self.token = answer.body["access_token"]
        return self.token

    def call(
        self, operation: str, method: str, path: str, body: Any = None, token: str | None = "login"
    ) -> Answer:
        headers = {}
        if token == "login":
            token = self.token or self.login()
        if token is not None:
            headers["x-amz-access-token"] = token
        answer = self.http(method, path, body, headers)
        # every answer of an Amazon operation: the model's shape, a request id, the rate limit
        assert contract.response_problems(operation, answer.status, answer.body) == [], (
            operation,
            answer.body,
        )
        assert answer.headers.get("x-amzn-RequestId")
        assert float(answer.headers["x-amzn-RateLimit-Limit"]) == contract.usage_plan(operation)[0]
        return answer

    def place(self, **order: Any) -> str:
        answer = self.http("POST", "/_simulator/orders", {"sku": "85123A", "quantity": 1, **order})
        assert answer.status == 201, answer.body
        return str(answer.body["orderId"])

    def get_order(self, order_id: str, included: str = "FULFILLMENT,PACKAGES,PROCEEDS") -> dict[str, Any]:
        answer = self.call("getOrder", "GET", f"/orders/2026-01-01/orders/{order_id}?includedData={included}")
        assert answer.status == 200, answer.body
        return dict(answer.body["order"])


@pytest.fixture
def sent() -> list[str]:
    return []


@pytest.fixture
def simulator(sent: list[str]) -> Iterator[Simulator]:
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, search_lag_seconds=0.0, seed=3)
    with Simulator(config, notify=sent.append, catalogue=builtin_catalogue()) as running:
        yield running


@pytest.fixture
def client(simulator: Simulator) -> Client:
    return Client(simulator)


def test_lwa_issues_access_tokens_for_refresh_tokens_only(client):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = client.http(
        "POST", "/auth/o2/token", raw=b"grant_type=refresh_token&refresh_token=Atzr%7Cx", headers=form
    )
    assert answer.status == 200
    assert answer.body["token_type"] == "bearer" and answer.body["expires_in"] == 3600
    assert answer.body["access_token"].startswith("Atza|")
    as_json = client.http("POST", "/auth/o2/token", {"grant_type": "refresh_token", "refresh_token": "r"})
    assert as_json.status == 200
    other = client.http("POST", "/auth/o2/token", raw=b"grant_type=client_credentials&scope=x", headers=form)
    assert (other.status, other.body["error"]) == (400, "unsupported_grant_type")
    missing = client.http("POST", "/auth/o2/token", raw=b"grant_type=refresh_token", headers=form)
    assert (missing.status, missing.body["error"]) == (400, "invalid_request")
    token = answer.body["access_token"]
    assert (
        client.call(
            "getListingsItem",
            "GET",
            f"/listings/2021-08-01/items/{SELLER}/85123A?marketplaceIds={MARKETPLACE}",
            token=token,
        ).status
        == 200
    )


def test_amazon_operations_refuse_requests_without_a_token_lwa_issued(client, simulator):
    path = f"/orders/2026-01-01/orders?createdAfter=2026-01-01T00:00:00Z&marketplaceIds={MARKETPLACE}"
    for token in (None, "Atza|forged"):
        answer = client.call("searchOrders", "GET", path, token=token)
        assert answer.status == 403
        assert answer.body["errors"][0]["code"] == "Unauthorized"
    simulator.config.access_token_ttl_seconds = 0
    expired = client.login()
    answer = client.call("searchOrders", "GET", path, token=expired)
    assert answer.status == 403 and "expired" in answer.body["errors"][0]["details"]
    assert simulator.server.stats["searchOrders"].unauthorized == 3


def test_an_injected_fault_fails_the_next_calls_then_the_operation_recovers(client):
    order_id = client.place()
    fault = client.http("POST", "/_simulator/faults", {"operation": "getOrder", "status": 429, "count": 2})
    assert fault.body == {"operation": "getOrder", "status": 429, "remaining": 2}
    path = f"/orders/2026-01-01/orders/{order_id}"
    assert [client.call("getOrder", "GET", path).status for _ in range(3)] == [429, 429, 200]
    client.http("POST", "/_simulator/faults", {"operation": "getOrder", "status": 500, "count": 1})
    failed = client.call("getOrder", "GET", path)
    assert (failed.status, failed.body["errors"][0]["code"]) == (500, "InternalFailure")
    stats = client.http("GET", "/_simulator/stats").body["operations"]["getOrder"]
    assert (stats["requests"], stats["throttled"], stats["faults"], stats["ok"]) == (4, 2, 3, 1)
    refused = client.http("POST", "/_simulator/faults", {"operation": "patchListingsItem", "status": 404})
    assert refused.status == 400  # the model declares no 404 for it
    assert client.http("POST", "/_simulator/faults", {"operation": "nope", "status": 500}).status == 400


def test_an_empty_bucket_answers_429_with_amazons_error(client, simulator):
    path = f"/orders/2026-01-01/orders?lastUpdatedAfter=2026-01-01T00:00:00Z&marketplaceIds={MARKETPLACE}"
    statuses = [client.call("searchOrders", "GET", path).status for _ in range(21)]
    assert statuses == [200] * 20 + [429]  # burst 20, then 0.0056 a second
    answer = client.call("searchOrders", "GET", path)
    assert answer.body == {
        "errors": [
            {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}
        ]
    }
    assert answer.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    assert simulator.server.stats["searchOrders"].throttled == 2
    client.http("POST", "/_simulator/ratelimits/refill")
    assert client.call("searchOrders", "GET", path).status == 200


def test_search_orders_pages_with_pagination_tokens(client):
    ids = [client.place(sku=f"PAGE-{n}", quantity=n + 1) for n in range(7)]
    base = (
        "/orders/2026-01-01/orders?createdAfter=2020-01-01T00:00:00Z"
        f"&marketplaceIds={MARKETPLACE}&maxResultsPerPage=3&includedData=FULFILLMENT"
    )
    seen, path = [], base
    while True:
        answer = client.call("searchOrders", "GET", path)
        assert answer.status == 200, answer.body
        seen += [o["orderId"] for o in answer.body["orders"]]
        assert all(o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED" for o in answer.body["orders"])
        if "pagination" not in answer.body:
            break
        path = base + "&paginationToken=" + urllib.parse.quote(answer.body["pagination"]["nextToken"])
    assert seen == ids
    moved = path.replace("2020-01-01", "2021-01-01")
    assert client.call("searchOrders", "GET", moved).status == 400
    for bad in (
        "",
        "&lastUpdatedAfter=2020-01-01T00:00:00Z",
        "&maxResultsPerPage=101",
        "&fulfillmentStatuses=LOST",
    ):
        query = "createdAfter=2020-01-01T00:00:00Z" + bad if bad != "" else "marketplaceIds=" + MARKETPLACE
        answer = client.call("searchOrders", "GET", "/orders/2026-01-01/orders?" + query)
        assert (answer.status, answer.body["errors"][0]["code"]) == (400, "InvalidInput"), bad


def test_a_confirmed_shipment_shows_in_get_order_and_is_announced(client, sent):
    order_id = client.place(sku="22423", quantity=2, prime=True, shipBy="2030-01-02T18:00:00Z")
    order = client.get_order(order_id)
    assert order["fulfillment"]["shipByWindow"]["latestDateTime"] == "2030-01-02T18:00:00Z"
    confirmation = {
        "marketplaceId": MARKETPLACE,
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "USPS",
            "trackingNumber": "9400111899223818298765",
            "shipDate": "2026-03-02T18:00:00Z",
            "orderItems": [{"orderItemId": order["orderItems"][0]["orderItemId"], "quantity": 2}],
        },
    }
    path = f"/orders/v0/orders/{order_id}/shipmentConfirmation"
    answer = client.call("confirmShipment", "POST", path, confirmation)
    assert (answer.status, answer.body) == (204, None)
    order = client.get_order(order_id)
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert order["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 2
    (package,) = order["packages"]
    assert (package["carrier"], package["trackingNumber"]) == ("USPS", "9400111899223818298765")
    statuses = [json.loads(t)["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] for t in sent]
    assert statuses == ["Unshipped", "Shipped"]
    for text in sent:
        contract.validate_notification(json.loads(text))
    over = client.call(
        "confirmShipment",
        "POST",
        path,
        {**confirmation, "packageDetail": {**confirmation["packageDetail"], "packageReferenceId": "2"}},
    )
    assert over.status == 400
    assert client.call("confirmShipment", "POST", path, {"marketplaceId": MARKETPLACE}).status == 400
    assert (
        client.call(
            "confirmShipment",
            "POST",
            "/orders/v0/orders/111-0000000-0000000/shipmentConfirmation",
            confirmation,
        ).status
        == 404
    )


def test_patch_then_get_shows_the_quantity_last_pushed(client):
    item = f"/listings/2021-08-01/items/{SELLER}/22960?marketplaceIds={MARKETPLACE}"
    for quantity in (5, 17):
        patch = {
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [
                        {
                            "fulfillment_channel_code": "DEFAULT",
                            "quantity": quantity,
                            "marketplace_id": MARKETPLACE,
                        }
                    ],
                }
            ],
        }
        answer = client.call("patchListingsItem", "PATCH", item, patch)
        assert (answer.status, answer.body["status"]) == (200, "ACCEPTED")
    answer = client.call("getListingsItem", "GET", item + "&includedData=summaries,fulfillmentAvailability")
    assert {"fulfillmentChannelCode": "DEFAULT", "quantity": 17} in answer.body["fulfillmentAvailability"]
    assert answer.body["summaries"][0]["marketplaceId"] == MARKETPLACE
    summaries_only = client.call("getListingsItem", "GET", item)
    assert set(summaries_only.body) == {"sku", "summaries"}
    assert client.call("getListingsItem", "GET", f"/listings/2021-08-01/items/{SELLER}/22960").status == 400
    assert (
        client.call(
            "getListingsItem", "GET", f"/listings/2021-08-01/items/{SELLER}/NOPE?marketplaceIds={MARKETPLACE}"
        ).status
        == 404
    )
    broken = client.call("patchListingsItem", "PATCH", item, {"patches": []})
    assert broken.status == 400


def test_fba_inventory_summaries(client):
    client.http("POST", "/_simulator/inventory", {"sku": "FBA-ONE", "fulfillable": 40, "inboundShipped": 12})
    path = (
        "/fba/inventory/v1/summaries?details=true&granularityType=Marketplace"
        f"&granularityId={MARKETPLACE}&marketplaceIds={MARKETPLACE}&sellerSkus=FBA-ONE"
    )
    answer = client.call("getInventorySummaries", "GET", path)
    (summary,) = answer.body["payload"]["inventorySummaries"]
    assert summary["inventoryDetails"]["fulfillableQuantity"] == 40
    assert summary["totalQuantity"] == 52
    assert (
        client.call("getInventorySummaries", "GET", "/fba/inventory/v1/summaries?details=true").status == 400
    )


def test_a_placed_afn_order_over_http_is_fulfilled_by_amazon(client, sent):
    order_id = client.place(sku="47566", quantity=2, afn=True)
    order = client.get_order(order_id)
    assert order["fulfillment"]["fulfilledBy"] == "AMAZON"
    summary = json.loads(sent[-1])["Payload"]["OrderChangeNotification"]["Summary"]
    assert summary["FulfillmentType"] == "AFN"
    basic = client.get_order(order_id, included="BUYER")
    assert "fulfillment" not in basic and basic["buyer"]["buyerEmail"].endswith("@marketplace.amazon.com")


def test_control_endpoints(client, sent):
    order_id = client.place(
        items=[{"sku": "85123A", "quantity": 1}, {"sku": "NEW-ONE", "quantity": 2, "price": "7.50"}]
    )
    order = client.http("GET", f"/_simulator/orders/{order_id}").body["order"]
    assert [i["product"]["sellerSku"] for i in order["orderItems"]] == ["85123A", "NEW-ONE"]
    assert order["orderItems"][1]["product"]["price"]["unitPrice"]["amount"] == "7.50"
    canceled = client.http("POST", f"/_simulator/orders/{order_id}/cancel", {"buyerRequested": False})
    assert canceled.body == {"orderId": order_id, "status": "Canceled"}
    again = client.http("POST", f"/_simulator/orders/{order_id}/cancel", {"buyerRequested": True})
    assert (again.status, again.body["error"]["code"]) == (409, "Conflict")
    requested = client.place()
    answer = client.http("POST", f"/_simulator/orders/{requested}/cancel", {"buyerRequested": True})
    assert answer.body["status"] == "Unshipped"  # the seller accepts the request a little later
    assert (
        json.loads(sent[-1])["Payload"]["OrderChangeNotification"]["OrderChangeType"]
        == "BuyerRequestedChange"
    )
    for bad in (
        {"sku": "X", "quantity": 0},
        {"quantity": 1, "sku": None},
        {"sku": "X", "shipBy": "soon"},
        [1],
    ):
        assert client.http("POST", "/_simulator/orders", bad).status == 400, bad
    assert client.http("POST", "/_simulator/orders/111-0000000-0000000/cancel", {}).status == 404
    config = client.http(
        "POST", "/_simulator/config", {"duplicateProbability": 0.5, "ordersPerMinute": 30}
    ).body
    assert (config["duplicateProbability"], config["ordersPerMinute"], config["sellerId"]) == (
        0.5,
        30.0,
        SELLER,
    )
    assert client.http("POST", "/_simulator/config", {"duplicateProbability": 2}).status == 400
    stats = client.http("GET", "/_simulator/stats").body
    assert stats["orders"]["total"] == 2 and stats["notifications"]["published"] == len(sent)
    assert client.http("GET", "/_simulator/nothing").status == 404
    assert client.http("GET", "/orders/v0/orders").status == 404
    assert client.http("DELETE", f"/orders/2026-01-01/orders/{order_id}").status == 405


def test_search_listings_items_reads_many_skus_quantities_in_one_call(client, simulator):
    items = f"/listings/2021-08-01/items/{SELLER}"
    skus = sorted(simulator.marketplace.listings)[:3]
    query = (
        f"?marketplaceIds={MARKETPLACE}&identifiersType=SKU&identifiers={','.join([*skus, 'NOT-LISTED'])}"
        "&includedData=fulfillmentAvailability&pageSize=20"
    )
    answer = client.call("searchListingsItems", "GET", items + query)
    assert answer.status == 200 and answer.body["numberOfResults"] == 3
    found = {i["sku"]: i["fulfillmentAvailability"][0] for i in answer.body["items"]}
    assert set(found) == set(skus)
    assert found[skus[0]] == {
        "fulfillmentChannelCode": "DEFAULT",
        "quantity": simulator.marketplace.listing_quantity(skus[0]),
    }
    first = client.call("searchListingsItems", "GET", f"{items}?marketplaceIds={MARKETPLACE}&pageSize=2")
    token = first.body["pagination"]["nextToken"]
    second = client.call(
        "searchListingsItems", "GET", f"{items}?marketplaceIds={MARKETPLACE}&pageSize=2&pageToken={token}"
    )
    assert [i["sku"] for i in first.body["items"] + second.body["items"]] == sorted(
        simulator.marketplace.listings
    )[:4]
    client.http("POST", "/_simulator/ratelimits/refill")  # the usage plan's burst is 5
    for bad in (
        "",
        f"?marketplaceIds={MARKETPLACE}&identifiers=A",
        f"?marketplaceIds={MARKETPLACE}&pageSize=21",
    ):
        assert client.call("searchListingsItems", "GET", items + bad).status == 400, bad


# ---------------------------------------------------------------------------------- Buy Shipping, Messaging

SHIP_FROM = {
    "Name": "Red Mug Co",
    "AddressLine1": "300 Turnbull Ave",
    "City": "Detroit",
    "StateOrProvinceCode": "MI",
    "PostalCode": "48123",
    "CountryCode": "US",
    "Email": "shipping@redmug.example",
    "Phone": "7132341234",
}


def _package(order_id: str, items: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "ShipmentRequestDetails": {
            "AmazonOrderId": order_id,
            "ItemList": [{"OrderItemId": item_id, "Quantity": units} for item_id, units in items],
            "ShipFromAddress": SHIP_FROM,
            "PackageDimensions": {"Length": 10, "Width": 8, "Height": 4, "Unit": "inches"},
            "Weight": {"Value": 18, "Unit": "oz"},
            "ShippingServiceOptions": {
                "DeliveryExperience": "DeliveryConfirmationWithoutSignature",
                "CarrierWillPickUp": False,
            },
        }
    }


def _mfn_order(client: Client, units: int = 2) -> tuple[str, str]:
    order_id = client.place(quantity=units)
    return order_id, client.get_order(order_id)["orderItems"][0]["orderItemId"]


def _offers(client: Client, body: dict[str, Any]) -> Answer:
    return client.call("getEligibleShipmentServices", "POST", "/mfn/v0/eligibleShippingServices", body)


def _buy(client: Client, body: dict[str, Any], service: dict[str, Any]) -> Answer:
    client.http("POST", "/_simulator/ratelimits/refill")  # createShipment's burst is 2
    purchase = {
        **body,
        "ShippingServiceId": service["ShippingServiceId"],
        "ShippingServiceOfferId": service["ShippingServiceOfferId"],
    }
    return client.call("createShipment", "POST", "/mfn/v0/shipments", purchase)


def test_buy_shipping_offers_services_cheap_and_slow_to_fast_and_dear_and_sells_a_printable_label(
    client, simulator, sent
):
    import base64
    import gzip
    import hashlib
    import io
    from datetime import datetime

    from pypdf import PdfReader

    from oms.domain.carriers import CARRIERS

    order_id, item_id = _mfn_order(client)
    body = _package(order_id, [(item_id, 2)])
    offers = _offers(client, body)
    assert offers.status == 200
    services = offers.body["payload"]["ShippingServiceList"]
    # cheap and slow, mid, fast and dear, next day
    assert [s["ShippingServiceId"] for s in services] == [
        "UPS_PTP_GND",
        "USPS_PTP_PRI",
        "UPS_PTP_2ND_DAY_AIR",
        "UPS_PTP_NEXT_DAY_AIR",
    ]
    assert [s["Rate"]["Amount"] for s in services] == sorted(s["Rate"]["Amount"] for s in services)
    deliveries = [datetime.fromisoformat(s["LatestEstimatedDeliveryDate"]) for s in services]
    assert deliveries == sorted(deliveries, reverse=True)
    assert {s["ShipDate"] for s in services} == {services[0]["ShipDate"]}  # one pickup, whichever service
    notified = len(sent)

    ground = _buy(client, body, services[0])
    assert ground.status == 200, ground.body
    shipment = ground.body["payload"]
    assert shipment["Status"] == "Purchased" and shipment["AmazonOrderId"] == order_id
    assert CARRIERS["UPS"].valid_tracking(shipment["TrackingId"])
    contents = shipment["Label"]["FileContents"]
    document = gzip.decompress(base64.b64decode(contents["Contents"]))
    assert document.startswith(b"%PDF") and contents["FileType"] == "application/pdf"
    assert contents["Checksum"] == base64.b64encode(hashlib.md5(document).digest()).decode()
    page = PdfReader(io.BytesIO(document)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288.0, 432.0)  # 4 x 6 inches
    assert shipment["TrackingId"] in page.extract_text()

    one_unit = _package(order_id, [(item_id, 1)])
    priority = _buy(client, one_unit, _offers(client, one_unit).body["payload"]["ShippingServiceList"][1])
    assert priority.status == 200, priority.body
    usps = priority.body["payload"]["TrackingId"]
    assert len(usps) == 22 and CARRIERS["USPS"].valid_tracking(usps)

    # a label is not a shipment: the order waits for confirmShipment, and nothing is announced
    assert client.get_order(order_id)["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert len(sent) == notified
    view = client.http("GET", f"/_simulator/orders/{order_id}").body
    assert view["order"]["orderId"] == order_id and view["messages"] == []
    first, second = view["labels"]
    assert first == {
        "shipmentId": shipment["ShipmentId"],
        "trackingId": shipment["TrackingId"],
        "carrierCode": "UPS",
        "carrierName": "UPS",
        "serviceId": "UPS_PTP_GND",
        "serviceName": "UPS Ground",
        "rate": {"amount": f"{services[0]['Rate']['Amount']:.2f}", "currencyCode": "USD"},
        "shipDate": services[0]["ShipDate"],
        "latestDeliveryDate": services[0]["LatestEstimatedDeliveryDate"],
        "createdTime": shipment["CreatedDate"],
        "items": [{"orderItemId": item_id, "quantity": 2}],
        "fileType": "application/pdf",
        "sizeBytes": len(document),
    }
    assert (second["carrierCode"], second["trackingId"]) == ("USPS", usps)


def test_buy_shipping_refuses_what_amazon_refuses(client):
    order_id, item_id = _mfn_order(client)

    def refused(body: dict[str, Any]) -> str:
        answer = _offers(client, body)
        assert answer.status == 400, answer.body
        error = answer.body["errors"][0]
        return f"{error['message']} {error.get('details', '')}"

    assert "was not found" in refused(_package("111-0000000-0000000", [(item_id, 1)]))
    assert "has no item 1" in refused(_package(order_id, [("1", 1)]))
    assert "3 units asked for, 2 left to ship" in refused(_package(order_id, [(item_id, 2), (item_id, 1)]))
    afn_id = client.place(afn=True)
    afn_item = client.get_order(afn_id)["orderItems"][0]["orderItemId"]
    assert "fulfilled by Amazon" in refused(_package(afn_id, [(afn_item, 1)]))
    canceled_id, canceled_item = _mfn_order(client)
    client.http("POST", f"/_simulator/orders/{canceled_id}/cancel", {"buyerRequested": False})
    assert "is Canceled" in refused(_package(canceled_id, [(canceled_item, 1)]))
    no_weight = _package(order_id, [(item_id, 1)])
    del no_weight["ShipmentRequestDetails"]["Weight"]
    assert "'Weight' is a required property" in refused(no_weight)

    body = _package(order_id, [(item_id, 1)])
    ground, priority, *_ = _offers(client, body).body["payload"]["ShippingServiceList"]
    unknown = _buy(client, body, {**ground, "ShippingServiceId": "FEDEX_PTP_HOME_DELIVERY"})
    assert unknown.status == 400 and "is not offered" in unknown.body["errors"][0]["details"]
    swapped = _buy(client, body, {**ground, "ShippingServiceOfferId": priority["ShippingServiceOfferId"]})
    assert swapped.status == 400 and "not an offer of this service" in swapped.body["errors"][0]["details"]
    assert client.http("GET", f"/_simulator/orders/{order_id}").body["labels"] == []


def test_a_fault_on_create_shipment_fails_the_next_call_then_labels_sell_again(client):
    order_id, item_id = _mfn_order(client)
    body = _package(order_id, [(item_id, 1)])
    service = _offers(client, body).body["payload"]["ShippingServiceList"][0]
    client.http("POST", "/_simulator/faults", {"operation": "createShipment", "status": 429, "count": 1})
    throttled = _buy(client, body, service)
    assert throttled.status == 429 and throttled.body["errors"][0]["code"] == "QuotaExceeded"
    assert _buy(client, body, service).status == 200
    stats = client.http("GET", "/_simulator/stats").body["operations"]["createShipment"]
    assert (stats["requests"], stats["throttled"], stats["faults"], stats["ok"]) == (2, 1, 1, 1)
    assert (stats["rate"], stats["burst"]) == (2.0, 2)
    assert len(client.http("GET", f"/_simulator/orders/{order_id}").body["labels"]) == 1


def test_messaging_offers_the_delay_notice_on_seller_fulfilled_orders_and_keeps_what_was_sent(client):
    def actions(order_id: str, query: str = f"?marketplaceIds={MARKETPLACE}") -> Answer:
        client.http("POST", "/_simulator/ratelimits/refill")  # a burst of 5 a second
        return client.call("getMessagingActionsForOrder", "GET", f"/messaging/v1/orders/{order_id}{query}")

    def send(order_id: str, text: Any) -> Answer:
        client.http("POST", "/_simulator/ratelimits/refill")
        return client.call(
            "createUnexpectedProblem",
            "POST",
            f"/messaging/v1/orders/{order_id}/messages/unexpectedProblem?marketplaceIds={MARKETPLACE}",
            {"text": text},
        )

    order_id, _ = _mfn_order(client)
    offered = actions(order_id)
    assert offered.status == 200
    assert [a["name"] for a in offered.body["_links"]["actions"]] == [
        "unexpectedProblem",
        "confirmDeliveryDetails",
        "confirmOrderDetails",  # before it ships
    ]
    assert offered.body["_links"]["actions"][0]["href"] == (
        f"/messaging/v1/orders/{order_id}/messages/unexpectedProblem?marketplaceIds={MARKETPLACE}"
    )
    assert actions(client.place(afn=True)).body["_links"]["actions"] == []
    canceled_id, _ = _mfn_order(client)
    client.http("POST", f"/_simulator/orders/{canceled_id}/cancel", {"buyerRequested": False})
    assert actions(canceled_id).body["_links"]["actions"] == []
    assert actions(order_id, "").status == 400
    assert actions(order_id, "?marketplaceIds=A1F83G8C2ARO7P").status == 400
    assert actions("111-0000000-0000000").status == 404

    sent = send(order_id, "Your order will ship one day late; sorry for the wait.")
    assert (sent.status, sent.body) == (201, {})
    assert send(order_id, "x" * 2001).status == 400
    assert send(order_id, "").status == 400
    assert send(canceled_id, "Sorry").status == 400
    (message,) = client.http("GET", f"/_simulator/orders/{order_id}").body["messages"]
    assert message["type"] == "unexpectedProblem"
    assert message["text"] == "Your order will ship one day late; sorry for the wait."
    assert message["sentTime"].endswith("Z")


def test_a_listed_products_catalogue_item_has_its_picture_size_and_weight(client):
    # given the jam making set listed (a buyer ordered one)
    client.place(sku="22960", quantity=1)
    listing = client.call(
        "getListingsItem", "GET", f"/listings/2021-08-01/items/{SELLER}/22960?marketplaceIds={MARKETPLACE}"
    ).body["summaries"][0]
    asin, picture = listing["asin"], listing["mainImage"]["link"]

    # when the product reads its catalogue item
    item = client.call(
        "getCatalogItem",
        "GET",
        f"/catalog/2022-04-01/items/{asin}?marketplaceIds={MARKETPLACE}&includedData=summaries,images,dimensions",
    ).body

    # then the picture is the listing's, the package is bigger and heavier than the item, and it is served
    assert item["summaries"][0]["itemName"] == listing["itemName"] == "Jam Making Set With Jars"
    assert item["images"][0]["images"][0] | {"link": picture} == item["images"][0]["images"][0]
    (sizes,) = item["dimensions"]
    for side in ("length", "width", "height", "weight"):
        assert sizes["package"][side]["value"] > sizes["item"][side]["value"]
    with _OPENER.open(picture, timeout=10) as served:
        assert served.headers["Content-Type"] == "image/svg+xml"
        assert served.read().startswith(b"<svg")
    time.sleep(1.0)  # Amazon's plan: 2 reads a second, burst 2; the simulator keeps it
    summaries_only = client.call(
        "getCatalogItem", "GET", f"/catalog/2022-04-01/items/{asin}?marketplaceIds={MARKETPLACE}"
    ).body
    assert set(summaries_only) == {"asin", "summaries"}
    unknown = f"/catalog/2022-04-01/items/B0NOTREAL0?marketplaceIds={MARKETPLACE}"
    assert client.call("getCatalogItem", "GET", unknown).status == 404
    time.sleep(0.6)
    assert client.call("getCatalogItem", "GET", f"/catalog/2022-04-01/items/{asin}").status == 400


def test_buy_shipping_dates_its_offers_on_the_ship_from_address_s_calendar(client):
    from datetime import UTC, date, datetime
    from datetime import time as day_time
    from zoneinfo import ZoneInfo

    import time_machine

    # given a warehouse in Detroit (Eastern time) asking at 16:30 there on a Tuesday (21:30 UTC, past 17:00 UTC)
    new_york = ZoneInfo("America/New_York")
    with time_machine.travel(datetime(2026, 11, 24, 21, 30, tzinfo=UTC), tick=True):
        order_id, item_id = _mfn_order(client)
        offers = _offers(client, _package(order_id, [(item_id, 1)]))

    assert offers.status == 200, offers.body
    [ground, *_] = offers.body["payload"]["ShippingServiceList"]
    shipped = datetime.fromisoformat(ground["ShipDate"]).astimezone(new_york)
    earliest = datetime.fromisoformat(ground["EarliestEstimatedDeliveryDate"]).astimezone(UTC)
    latest = datetime.fromisoformat(ground["LatestEstimatedDeliveryDate"]).astimezone(UTC)
    # then the carrier still takes it today (its 5 pm cutoff is Detroit's), not at 4 am tomorrow
    assert (shipped.date(), shipped.hour) == (date(2026, 11, 24), 16)
    # and the delivery days count from that ship day, each dated whole as the marketplace dates an order's
    # delivery window (so a label and the promise it keeps compare day for day)
    assert earliest.time() == day_time(0, 0) and latest.time() == day_time(23, 59, 59)
    assert earliest.date() > shipped.date() and latest.date() >= earliest.date()
