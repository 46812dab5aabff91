"""Amazon's official SP-API models as the contract: validate bodies against an operation's schemas.

The models are Swagger 2.0 documents (contracts/sp-api-models, copied unchanged from
amzn/selling-partner-api-models). A schema is found by operationId and validated with JSON Schema
draft 4 (Swagger 2.0's dialect), every "#/definitions/..." reference resolved against the whole
document. The notification schemas are plain JSON Schema documents (draft 7).

Both the simulator (every answer it gives) and the tests (every answer they receive) use this
module, so "answers in Amazon's shapes" is checked, not assumed. The models are read from
contracts/sp-api-models (OMS_SPAPI_MODELS overrides it); without them the simulator still answers,
with Amazon's default usage plans, but unchecked.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry
from referencing.jsonschema import DRAFT4

from oms_local.template import ROOT

# Amazon's models, copied unchanged into contracts/ (Apache-2.0, see its NOTICE) so every clone has them.
MODELS_DIR = Path(os.environ.get("OMS_SPAPI_MODELS", ROOT / "contracts" / "sp-api-models"))

# The operations the simulator answers, and the model file that defines each.
OPERATION_MODELS: dict[str, str] = {
    "searchOrders": "orders-api-model/orders_2026-01-01.json",
    "getOrder": "orders-api-model/orders_2026-01-01.json",
    "confirmShipment": "orders-api-model/ordersV0.json",
    "getInventorySummaries": "fba-inventory-api-model/fbaInventory.json",
    "getListingsItem": "listings-items-api-model/listingsItems_2021-08-01.json",
    "patchListingsItem": "listings-items-api-model/listingsItems_2021-08-01.json",
    "searchListingsItems": "listings-items-api-model/listingsItems_2021-08-01.json",
    "getCatalogItem": "catalog-items-api-model/catalogItems_2022-04-01.json",
    "getCompetitiveSummary": "product-pricing-api-model/productPricing_2022-05-01.json",
    "getEligibleShipmentServices": "merchant-fulfillment-api-model/merchantFulfillmentV0.json",
    "createShipment": "merchant-fulfillment-api-model/merchantFulfillmentV0.json",
    "getMessagingActionsForOrder": "messaging-api-model/messaging.json",
    "createUnexpectedProblem": "messaging-api-model/messaging.json",
    "createConfirmDeliveryDetails": "messaging-api-model/messaging.json",
    "createConfirmOrderDetails": "messaging-api-model/messaging.json",
    "GetAttributes": "messaging-api-model/messaging.json",
    "createFeedDocument": "feeds-api-model/feeds_2021-06-30.json",
    "createFeed": "feeds-api-model/feeds_2021-06-30.json",
    "getFeeds": "feeds-api-model/feeds_2021-06-30.json",
    "getFeed": "feeds-api-model/feeds_2021-06-30.json",
    "getFeedDocument": "feeds-api-model/feeds_2021-06-30.json",
    "listFinancialEventsByOrderId": "finances-api-model/financesV0.json",
    "createReport": "reports-api-model/reports_2021-06-30.json",
    "getReport": "reports-api-model/reports_2021-06-30.json",
    "getReportDocument": "reports-api-model/reports_2021-06-30.json",
}

# Amazon's default usage plans (rate per second, burst), for when the models are not at hand.
DEFAULT_USAGE_PLANS: dict[str, tuple[float, int]] = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "getInventorySummaries": (2.0, 2),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    "getCatalogItem": (2.0, 2),
    "getCompetitiveSummary": (0.033, 1),
    "getEligibleShipmentServices": (6.0, 12),
    "createShipment": (2.0, 2),
    "getMessagingActionsForOrder": (1.0, 5),
    "createUnexpectedProblem": (1.0, 5),
    "createConfirmDeliveryDetails": (1.0, 5),
    "createConfirmOrderDetails": (1.0, 5),
    "GetAttributes": (1.0, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeeds": (0.0222, 10),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "listFinancialEventsByOrderId": (0.5, 30),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
}

NOTIFICATION_SCHEMAS: dict[str, str] = {
    "ORDER_CHANGE": "schemas/notifications/OrderChangeNotification.json",
    "FBA_INVENTORY_AVAILABILITY_CHANGES": "schemas/notifications/FBAInventoryAvailabilityChangeNotification.json",
    "LISTINGS_ITEM_MFN_QUANTITY_CHANGE": "schemas/notifications/ListingsItemMfnQuantityChange.json",
    "FEED_PROCESSING_FINISHED": "schemas/notifications/FeedProcessingFinishedNotification.json",
    "REPORT_PROCESSING_FINISHED": "schemas/notifications/ReportProcessingFinishedNotification.json",
}

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# The "Usage Plan" table in each operation's description: | rate | burst |
_USAGE_PLAN = re.compile(
    r"\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|.*?\n\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", re.S
)


class ContractError(ValueError):
    """A body that does not match Amazon's schema; `problems` lists every mismatch found."""

    def __init__(self, what: str, problems: list[str]) -> None:
        super().__init__(f"{what}: " + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
        self.problems = problems


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # the model's path template, e.g. /orders/2026-01-01/orders/{orderId}
    spec: dict[str, Any]
    pointer: str  # JSON pointer of the operation inside its model

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return list(self.spec.get("parameters", []))

    def usage_plan(self) -> tuple[float, int]:
        """Amazon's default (rate per second, burst) from the operation's description."""
        match = _USAGE_PLAN.search(self.spec.get("description", ""))
        if not match:
            raise LookupError(f"{self.operation_id}: no usage plan in its description")
        return float(match.group(1)), int(match.group(2))


def _escape(segment: str) -> str:
    return quote(segment.replace("~", "~0").replace("/", "~1"), safe="")


class Model:
    """One Swagger 2.0 model file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if self.document.get("swagger") != "2.0":
            raise ValueError(f"{path} is not a Swagger 2.0 model")
        self.uri = f"urn:sp-api-model:{path.name}"
        self.registry: Registry[Any] = Registry().with_resource(
            self.uri, DRAFT4.create_resource(self.document)
        )
        self._operations = {op.operation_id: op for op in self._walk()}
        self._validators: dict[str, Validator] = {}

    def _walk(self) -> Iterator[Operation]:
        for path, item in self.document.get("paths", {}).items():
            for method, spec in item.items():
                if method in _HTTP_METHODS and isinstance(spec, dict) and "operationId" in spec:
                    pointer = f"/paths/{_escape(path)}/{method}"
                    yield Operation(spec["operationId"], method.upper(), path, spec, pointer)

    def operation(self, operation_id: str) -> Operation:
        try:
            return self._operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.path.name} has no operation {operation_id!r}") from None

    @property
    def operations(self) -> dict[str, Operation]:
        return dict(self._operations)

    def _validator(self, pointer: str) -> Validator:
        if pointer not in self._validators:
            self._validators[pointer] = Draft4Validator(
                {"$ref": f"{self.uri}#{pointer}"},
                registry=self.registry,
                format_checker=FormatChecker(),
            )
        return self._validators[pointer]

    def response_pointer(self, operation_id: str, status: int) -> str | None:
        """Pointer to the response schema for `status` (or the default response); None: no body."""
        operation = self.operation(operation_id)
        responses = operation.spec.get("responses", {})
        key = str(status) if str(status) in responses else "default" if "default" in responses else None
        if key is None:
            raise ContractError(f"{operation_id} {status}", [f"the model declares no {status} response"])
        if "schema" not in responses[key]:
            return None
        return f"{operation.pointer}/responses/{key}/schema"

    def response_problems(self, operation_id: str, status: int, body: Any) -> list[str]:
        try:
            pointer = self.response_pointer(operation_id, status)
        except ContractError as error:
            return error.problems
        if pointer is None:
            return [] if body in (None, b"", "") else [f"{status} has no body in the model, got {body!r:.80}"]
        return _problems(self._validator(pointer), body)

    def request_body_problems(self, operation_id: str, body: Any) -> list[str]:
        operation = self.operation(operation_id)
        for index, parameter in enumerate(operation.parameters):
            if parameter.get("in") == "body":
                return _problems(self._validator(f"{operation.pointer}/parameters/{index}/schema"), body)
        return [] if body is None else [f"{operation_id} takes no body"]

    def sandbox_examples(self, operation_id: str) -> Iterator[tuple[int, dict[str, Any], Any]]:
        """Amazon's static sandbox cases: (status, request parameters, response body)."""
        operation = self.operation(operation_id)
        for status, response in operation.spec.get("responses", {}).items():
            for case in response.get("x-amzn-api-sandbox", {}).get("static", []):
                yield int(status), case.get("request", {}).get("parameters", {}), case.get("response")


def _problems(validator: Validator, body: Any) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        found.append(f"{where}: {error.message}")
    return found


@functools.cache
def model(relative: str) -> Model:
    """A model by its path under MODELS_DIR, e.g. "orders-api-model/orders_2026-01-01.json"."""
    return Model(MODELS_DIR / relative)


def available() -> bool:
    """Whether the models of every operation the simulator answers are at hand."""
    return all((MODELS_DIR / relative).is_file() for relative in set(OPERATION_MODELS.values()))


def model_of(operation_id: str) -> Model:
    try:
        return model(OPERATION_MODELS[operation_id])
    except KeyError:
        raise KeyError(f"no model known for operation {operation_id!r}") from None


def operation(operation_id: str) -> Operation:
    return model_of(operation_id).operation(operation_id)


def usage_plan(operation_id: str) -> tuple[float, int]:
    """Amazon's default (rate, burst) of an operation: from its model, else the known defaults."""
    if not available() and operation_id in DEFAULT_USAGE_PLANS:
        return DEFAULT_USAGE_PLANS[operation_id]
    return operation(operation_id).usage_plan()


def response_problems(operation_id: str, status: int, body: Any) -> list[str]:
    return model_of(operation_id).response_problems(operation_id, status, body)


def validate_response(operation_id: str, status: int, body: Any) -> None:
    """Raise ContractError unless `body` is what the model allows `operation_id` to answer with `status`."""
    problems = response_problems(operation_id, status, body)
    if problems:
        raise ContractError(f"{operation_id} {status} response", problems)


def request_body_problems(operation_id: str, body: Any) -> list[str]:
    """What is wrong with a request body, by the model ([] when the models are not at hand)."""
    if not available():
        return []
    return model_of(operation_id).request_body_problems(operation_id, body)


def validate_request_body(operation_id: str, body: Any) -> None:
    problems = request_body_problems(operation_id, body)
    if problems:
        raise ContractError(f"{operation_id} request body", problems)


@functools.cache
def _notification_validator(notification_type: str) -> Validator:
    schema = json.loads((MODELS_DIR / NOTIFICATION_SCHEMAS[notification_type]).read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=FormatChecker())
    return validator


def notification_problems(document: Any) -> list[str]:
    # Amazon writes the envelope in PascalCase for most types, in camelCase for feeds and reports
    kind = (
        (document.get("NotificationType") or document.get("notificationType"))
        if isinstance(document, dict)
        else None
    )
    if kind not in NOTIFICATION_SCHEMAS:
        return [f"unknown NotificationType {kind!r}"]
    return _problems(_notification_validator(kind), document)


def validate_notification(document: Any) -> None:
    """Raise ContractError unless `document` (parsed JSON) matches its NotificationType's schema."""
    problems = notification_problems(document)
    if problems:
        raise ContractError("notification", problems)
