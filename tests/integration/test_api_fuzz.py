"""Fuzzing the whole API from docs/openapi.json: every operation, with data the document allows and data it
refuses, through the local API Gateway (authorizer included) into the API function over moto. No answer may
be a 5xx, and every answer must be one the document describes (status, content type, body schema).

Bounded here (OMS_FUZZ_EXAMPLES per operation and mode, default 6) so the suite stays fast;
`make fuzz` runs the same test with many more examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
import time_machine
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from oms_local.api_gateway import ApiGateway, admit_api_token
from oms_local.template import Template
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.conftest import ROOT

TOKEN = "fuzz-token"
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York
EXAMPLES = int(os.environ.get("OMS_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(json.loads((ROOT / "docs" / "openapi.json").read_text()))


def _shop(stack: Any, context: Any) -> None:
    """A seller with a warehouse, two SKUs in stock and a few orders, so reads find something to show."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    table = default_table()
    for sku in ("MUG-RED", "MUG-BLUE"):
        set_policy(table, sku, StockPolicy())
        adjust_stock(table, sku, 5, reason="receipt", reference="po-1", actor="test")
    for n, status in enumerate((OrderStatus.UNSHIPPED, OrderStatus.SHIPPED, OrderStatus.CANCELED)):
        purchased = NOW - timedelta(hours=n + 1)
        OrderRepository(table).add(
            Order(
                order_id=f"113-000000{n}-0000000",
                marketplace_id="ATVPDKIKX0DER",
                status=status,
                fulfillment_channel=FulfillmentChannel.MFN,
                purchase_date=purchased,
                last_update_date=purchased,
                latest_ship_date=purchased + timedelta(days=2),
                is_prime=False,
                items=[OrderItem(order_item_id="1", sku="MUG-RED", quantity=1)],
            )
        )


@pytest.fixture(scope="module")
def api() -> Iterator[Callable[..., Any]]:
    """One stack for the whole run (built once: the operations share the seller's data, as in real use)."""
    from moto import mock_aws

    from oms_local.resources import create_resources
    from tests.conftest import STACK_PARAMETERS, LambdaContext, Stack, _reset_warm_state

    context = LambdaContext()
    with pytest.MonkeyPatch.context() as env, mock_aws(), time_machine.travel(NOW, tick=True):
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            env.delenv(name, raising=False)
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        template = Template()
        resources = create_resources(template, "oms-fuzz", "us-east-1", None, parameters=STACK_PARAMETERS)
        variables = resources.resolver.resolve(template.globals["Environment"]["Variables"])
        for key, value in variables.items():
            env.setenv(key, str(value))
        _reset_warm_state()
        stack = Stack(resources, {k: str(v) for k, v in variables.items()}, env)
        _shop(stack, context)
        admit_api_token(stack.table_name, stack.client("dynamodb"), TOKEN)
        handlers = {"ApiFunction": stack.handler("api"), "AuthorizerFunction": stack.handler("authorize")}
        gateway = ApiGateway(
            template,
            resources.resolver,
            lambda function, event: handlers[function].lambda_handler(event, context),
            host="127.0.0.1",
            port=0,
            api_token=TOKEN,
            stage="dev",
        )
        try:
            yield gateway.wsgi()
        finally:
            gateway.server.server_close()
            _reset_warm_state()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a red test is reproducible
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_5xx_or_an_answer_the_document_does_not_describe(case: Any, api: Any) -> None:
    response = case.call(app=api, headers={"Authorization": f"Bearer {TOKEN}"})
    case.validate_response(response, checks=CHECKS)
