"""The contract checker: Swagger 2.0 response/request schemas and notification schemas, refs resolved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oms_local.simulator import contract

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")


# Where Amazon's own sandbox answers break its model (so real answers may too; the product's
# models do not read these fields): getEligibleShipmentServices sends LabelFormat "".
SANDBOX_DEFECTS = {"getEligibleShipmentServices": "ShippingServiceOptions/LabelFormat: '' is not one of"}


@pytest.mark.parametrize("operation_id", sorted(contract.OPERATION_MODELS))
def test_amazons_own_sandbox_answers_validate(operation_id):
    model = contract.model_of(operation_id)
    examples = list(model.sandbox_examples(operation_id))
    known = SANDBOX_DEFECTS.get(operation_id)
    for status, _, example in examples:
        body = None if status == 204 and example == {} else example  # the sandbox writes "no body" as {}
        problems = model.response_problems(operation_id, status, body)
        assert [p for p in problems if not (known and known in p)] == [], (operation_id, status)


def test_broken_answers_are_caught_with_their_place():
    problems = contract.response_problems("getOrder", 200, {"order": {"orderId": 7, "orderItems": []}})
    assert "order: 'createdTime' is a required property" in problems
    assert "order/orderId: 7 is not of type 'string'" in problems
    # nested definitions are reached through "#/definitions/..." refs of the whole document
    order = {
        "orderId": "113-1234567-1234567",
        "createdTime": "2026-01-01T00:00:00Z",
        "lastUpdatedTime": "2026-01-01T00:00:00Z",
        "salesChannel": {"channelName": "AMAZON"},
        "fulfillment": {"fulfillmentStatus": "SHIPPING"},
        "orderItems": [
            {"orderItemId": "1", "quantityOrdered": 1, "product": {"price": {"unitPrice": {"amount": 1}}}}
        ],
    }
    problems = contract.response_problems("getOrder", 200, {"order": order})
    assert any(
        p.startswith("order/fulfillment/fulfillmentStatus: 'SHIPPING' is not one of") for p in problems
    )
    assert "order/orderItems/0/product/price/unitPrice: 'currencyCode' is a required property" in problems
    assert "order/orderItems/0/product/price/unitPrice/amount: 1 is not of type 'string'" in problems
    # formats are checked too
    order.update(createdTime="yesterday", fulfillment={"fulfillmentStatus": "SHIPPED"})
    order["orderItems"][0]["product"] = {}
    assert contract.response_problems("getOrder", 200, {"order": order}) == [
        "order/createdTime: 'yesterday' is not a 'date-time'"
    ]


def test_statuses_and_bodies_the_model_does_not_declare_are_refused():
    assert contract.response_problems("confirmShipment", 204, None) == []
    assert contract.response_problems("confirmShipment", 204, {"ok": True})
    assert contract.response_problems("confirmShipment", 409, {"errors": []}) == [
        "the model declares no 409 response"
    ]
    with pytest.raises(contract.ContractError, match="getOrder 200 response"):
        contract.validate_response("getOrder", 200, {})
    # error bodies: each model's own error shape
    error = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]}
    for operation_id in contract.OPERATION_MODELS:
        assert contract.response_problems(operation_id, 429, error) == [], operation_id
    assert contract.response_problems("getListingsItem", 429, {"errors": [{"code": "X"}]})


def test_request_bodies_are_checked_against_the_body_parameter():
    model = contract.model_of("confirmShipment")
    good = {
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2026-01-01T10:00:00Z",
            "orderItems": [{"orderItemId": "1", "quantity": 1}],
        },
    }
    assert model.request_body_problems("confirmShipment", good) == []
    sandbox_bad = {**good, "packageDetail": {**good["packageDetail"], "shipDate": "02/21/2022"}}
    assert model.request_body_problems("confirmShipment", sandbox_bad) == [
        "packageDetail/shipDate: '02/21/2022' is not a 'date-time'"
    ]
    with pytest.raises(contract.ContractError):
        contract.validate_request_body("patchListingsItem", {"productType": "PRODUCT", "patches": []})


def test_usage_plans_are_amazons_defaults():
    # The defaults listed in contracts/sp-api-models/README.md, read from the models' descriptions.
    assert contract.usage_plan("searchOrders") == (0.0056, 20)
    assert contract.usage_plan("getOrder") == (0.5, 30)
    assert contract.usage_plan("confirmShipment") == (2.0, 10)
    assert contract.usage_plan("getInventorySummaries") == (2.0, 2)
    assert contract.usage_plan("patchListingsItem") == (5.0, 5)
    assert contract.usage_plan("getListingsItem") == (5.0, 10)
    assert contract.usage_plan("getEligibleShipmentServices") == (6.0, 12)
    assert contract.usage_plan("createShipment") == (2.0, 2)
    assert contract.usage_plan("getMessagingActionsForOrder") == (1.0, 5)
    assert contract.usage_plan("createUnexpectedProblem") == (1.0, 5)


def test_the_simulators_routes_and_fallback_plans_are_the_models():
    from oms_local.simulator.server import ROUTES

    for operation_id, (method, path) in ROUTES.items():
        spec = contract.operation(operation_id)
        assert (spec.method, spec.path) == (method, path)
        assert contract.DEFAULT_USAGE_PLANS[operation_id] == spec.usage_plan()
    assert contract.available()


def test_the_products_client_calls_the_simulators_routes():
    from oms.amazon.client import OPERATIONS
    from oms_local.simulator.server import ROUTES

    for operation_id, (method, path) in ROUTES.items():
        assert (OPERATIONS[operation_id].method, OPERATIONS[operation_id].path) == (method, path)


def test_notification_schema_examples_validate_and_mistakes_do_not():
    schema = json.loads((contract.MODELS_DIR / contract.NOTIFICATION_SCHEMAS["ORDER_CHANGE"]).read_text())
    example = schema["examples"][0]
    contract.validate_notification(example)
    summary = example["Payload"]["OrderChangeNotification"]["Summary"]
    summary["FulfillmentType"] = "FBA"
    del summary["OrderItems"][0]["SellerSKU"]
    problems = contract.notification_problems(example)
    assert (
        "Payload/OrderChangeNotification/Summary/FulfillmentType: 'FBA' is not one of ['AFN', 'MFN']"
        in problems
    )
    assert (
        "Payload/OrderChangeNotification/Summary/OrderItems/0: 'SellerSKU' is a required property" in problems
    )
    assert contract.notification_problems({"NotificationType": "NOPE"}) == ["unknown NotificationType 'NOPE'"]


def test_any_swagger_model_resolves_refs_against_the_whole_document(tmp_path: Path):
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things/{thing~Id}/parts": {
                "get": {
                    "operationId": "getParts",
                    "description": "| Rate (requests per second) | Burst |\n| ---- | ---- |\n| 0.25 | 3 |",
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Parts"}},
                        "default": {"description": "err", "schema": {"$ref": "#/definitions/Errors"}},
                    },
                }
            }
        },
        "definitions": {
            "Parts": {"type": "array", "items": {"$ref": "#/definitions/Part"}},
            "Part": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"$ref": "#/definitions/Id"}},
            },
            "Id": {"type": "string"},
            "Errors": {"type": "object", "required": ["errors"]},
        },
    }
    path = tmp_path / "things.json"
    path.write_text(json.dumps(document))
    model = contract.Model(path)
    assert model.operation("getParts").usage_plan() == (0.25, 3)
    assert model.response_problems("getParts", 200, [{"id": "a"}]) == []
    assert model.response_problems("getParts", 200, [{"id": 1}]) == ["0/id: 1 is not of type 'string'"]
    assert model.response_problems("getParts", 503, {}) == ["(root): 'errors' is a required property"]
    with pytest.raises(KeyError):
        model.operation("nope")


def test_the_local_marketplaces_competitive_summary_is_in_amazons_shape():
    from oms_local.simulator import Simulator, SimulatorConfig
    from oms_local.simulator.catalogue import builtin_catalogue

    product = next(iter(builtin_catalogue().products.values()))
    uri = "/products/pricing/2022-05-01/items/competitiveSummary"
    every = ["featuredBuyingOptions", "referencePrices", "lowestPricedOffers"]
    requests = [
        {
            "asin": product.asin,
            "marketplaceId": "ATVPDKIKX0DER",
            "includedData": every,
            "method": "GET",
            "uri": uri,
        },
        {
            "asin": "B0NOTREAL0",
            "marketplaceId": "ATVPDKIKX0DER",
            "includedData": every,
            "method": "GET",
            "uri": uri,
        },
    ]
    assert contract.request_body_problems("getCompetitiveSummary", {"requests": requests}) == []
    with Simulator(SimulatorConfig(seed=1), catalogue=builtin_catalogue()) as simulator:
        answer = simulator.marketplace.competitive_summary({"requests": requests})
    assert contract.response_problems("getCompetitiveSummary", 200, answer) == []
    found, missing = answer["responses"]
    assert set(found["body"]) == {"asin", "marketplaceId", *every} and found["status"]["statusCode"] == 200
    assert missing["status"]["statusCode"] == 404 and missing["body"]["errors"]
    del found["body"]["referencePrices"][0]["price"]["amount"]
    found["body"]["lowestPricedOffers"][0]["offers"][0]["fulfillmentType"] = "FBA"
    assert contract.response_problems("getCompetitiveSummary", 200, answer) != []
