"""Our models of Amazon's documents accept what Amazon's own schemas and examples allow."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oms.amazon.notifications import Notification, OrderChangePayload
from oms.amazon.orders_api import GetOrderResponse, SearchOrdersResponse, order_from_api
from oms_local.simulator import contract

MODELS = contract.MODELS_DIR
pytestmark = pytest.mark.skipif(not MODELS.exists(), reason="Amazon's models are not beside the repository")


def _schema(name: str) -> dict:
    schema = json.loads((MODELS / "schemas" / "notifications" / name).read_text())
    schema.pop("$id", None)
    return schema


def test_amazons_own_order_change_example_parses_verbatim():
    example = _schema("OrderChangeNotification.json")["examples"][0]
    change = OrderChangePayload.model_validate(Notification.model_validate(example).payload)
    summary = change.order_change_notification.summary
    assert change.order_change_notification.amazon_order_id == "903-8868176-2219830"
    assert summary.order_items[0].seller_sku == "SellerSKUID1"
    assert summary.order_items[0].is_buyer_requested_cancel is True


def _document_strategy(schema: dict) -> st.SearchStrategy:
    """Documents valid under a JSON schema (the subset Amazon's notification schemas use): required
    properties always, optional ones sometimes, enums, nullable types, any text, extra fields anywhere."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    options = []
    for kind in kinds:
        if kind == "null":
            options.append(st.none())
        elif kind == "string":
            options.append(st.text(max_size=12) | st.just("2026-11-26T10:00:00.123Z"))
        elif kind == "integer":
            options.append(st.integers(-5, 50))
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "array":
            options.append(st.lists(_document_strategy(schema.get("items", {})), max_size=3))
        elif kind == "object":
            properties = schema.get("properties", {})
            required = set(schema.get("required", []))
            fixed = {name: _document_strategy(sub) for name, sub in properties.items() if name in required}
            optional = {
                name: _document_strategy(sub) for name, sub in properties.items() if name not in required
            }
            extra = st.dictionaries(
                st.text(min_size=1, max_size=8).filter(lambda k, known=frozenset(properties): k not in known),
                st.integers() | st.text(max_size=5),
                max_size=2,
            )
            options.append(
                st.builds(
                    lambda a, b, c: {**c, **a, **b},
                    st.fixed_dictionaries(fixed),
                    st.fixed_dictionaries({}, optional=optional),
                    extra,
                )
            )
    return st.one_of(options)


ORDER_CHANGE_SCHEMA = _schema("OrderChangeNotification.json") if MODELS.exists() else {"type": "object"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_document_strategy(ORDER_CHANGE_SCHEMA))
def test_every_document_valid_under_amazons_schema_is_accepted(document):
    jsonschema.validate(document, ORDER_CHANGE_SCHEMA)  # the generator only makes valid documents
    notification = Notification.model_validate(document)
    change = OrderChangePayload.model_validate(notification.payload).order_change_notification
    assert change.summary.order_items is not None


def _sandbox_responses(model_file: str, operation_id: str) -> list[dict]:
    model = json.loads((MODELS / model_file).read_text())
    found = []
    for path in model["paths"].values():
        for operation in path.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                for response in operation["responses"].values():
                    for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
                        if isinstance(case.get("response"), dict) and (
                            "orders" in case["response"] or "order" in case["response"]
                        ):
                            found.append(case["response"])
    return found


def test_the_orders_api_sandbox_answers_parse_into_orders():
    searches = _sandbox_responses("orders-api-model/orders_2026-01-01.json", "searchOrders")
    gets = _sandbox_responses("orders-api-model/orders_2026-01-01.json", "getOrder")
    assert searches and gets, "the model carries sandbox examples"
    for answer in searches:
        for order in SearchOrdersResponse.model_validate(answer).orders:
            order_from_api(order, "ATVPDKIKX0DER")
    for answer in gets:
        order_from_api(GetOrderResponse.model_validate(answer).order, "ATVPDKIKX0DER")
