"""Every error the API gives is in the API's format (`ErrorAnswer` in docs/openapi.json), with the field named; never a 500 for bad input."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from oms.api.errors import register_error_answers
from oms.errors import Conflict, NotFound
from tests.conftest import LambdaContext, load_event


class Reason(StrEnum):
    RECEIPT = "receipt"
    DAMAGED = "damaged"


class Line(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class Adjustment(BaseModel):
    delta: int
    reason: str = Field(min_length=1)


class Receipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
    arrived_at: datetime = Field(alias="arrivedAt")
    lines: list[Line] = Field(min_length=1, max_length=2)
    reference: StrictInt | str | None = None
    zone: str = "UTC"

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if "/" not in value and value != "UTC":
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/New_York)")
        return value


def _app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post("/things")
    def create(adjustment: Adjustment) -> dict[str, Any]:
        return {"delta": adjustment.delta}

    @app.post("/receipts")
    def receive(receipt: Receipt) -> dict[str, Any]:
        return {"lines": len(receipt.lines)}

    @app.get("/pages")
    def pages(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
        return {"limit": limit}

    @app.get("/things/<thing>")
    def read(thing: str) -> dict[str, Any]:
        if thing == "taken":
            raise Conflict("that thing is taken")
        raise NotFound(f"no thing {thing}")

    @app.get("/boom")
    def boom() -> dict[str, Any]:
        raise RuntimeError("a bug")

    register_error_answers(app)
    return app


def _call(
    method: str, path: str, body: str | None = None, query: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    event = load_event("api/list_orders.json")
    event.update(
        httpMethod=method,
        path=path,
        body=body,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
    )
    answer = _app().resolve(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", "body", "is not valid JSON"),
        ('{"delta": "many", "reason": "count"}', "delta", "must be a whole number"),
        ('{"delta": 1.5, "reason": "count"}', "delta", "must be a whole number"),
        ('{"reason": "count"}', "delta", "is required"),
        ('{"delta": 1, "reason": ""}', "reason", "must not be empty"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(body, field, message):
    status, answer = _call("POST", "/things", body)
    assert status == 400
    assert answer["error"]["code"] == "ValidationError"
    assert answer["error"]["details"] == [{"field": field, "message": message}]
    assert answer["error"]["message"] == f"{field} {message}"


GOOD_RECEIPT = {
    "reason": "receipt",
    "arrivedAt": "2026-11-26T14:00:00Z",
    "lines": [{"sku": "MUG", "quantity": 2}],
}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"lines": [{"sku": "MUG", "quantity": 0}]}, "lines[0].quantity", "must be 1 or more"),
        ({"lines": [{"sku": "MUG", "quantity": "two"}]}, "lines[0].quantity", "must be a whole number"),
        ({"lines": [{"quantity": 2}]}, "lines[0].sku", "is required"),
        ({"lines": []}, "lines", "must not be empty"),
        ({"lines": [GOOD_RECEIPT["lines"][0]] * 3}, "lines", "must have at most 2 items"),
        ({"lines": "MUG"}, "lines", "must be a list"),
        ({"reason": "stolen"}, "reason", "must be one of 'receipt' or 'damaged'"),
        ({"arrivedAt": "yesterday"}, "arrivedAt", "must be a date and time such as 2026-11-26T14:00:00Z"),
        ({"reference": [1]}, "reference", "must be a whole number"),
        ({"zone": "EST"}, "zone", "'EST' is not an IANA time zone (e.g. America/New_York)"),
        ({"colour": "red"}, "colour", "is not a known field"),
    ],
)
def test_a_seller_reads_what_is_wrong_in_plain_words_naming_the_field(change, field, message):
    status, answer = _call("POST", "/receipts", json.dumps({**GOOD_RECEIPT, **change}))
    assert status == 400
    assert answer["error"]["details"] == [{"field": field, "message": message}]
    assert answer["error"]["message"] == f"{field} {message}"


def test_no_validation_library_wording_reaches_the_seller():
    every_mistake = {"reason": 7, "arrivedAt": None, "lines": [{"sku": "", "quantity": 1e9 + 0.5}], "zone": 3}
    status, answer = _call("POST", "/receipts", json.dumps(every_mistake))
    assert status == 400
    text = json.dumps(answer)
    for library_words in ("Input should", "Field required", "valid integer", "Value error", "validation"):
        assert library_words not in text
    fields = [d["field"] for d in answer["error"]["details"]]
    assert fields == sorted(set(fields), key=fields.index)  # each field once


def test_a_bad_query_parameter_is_named_in_plain_words():
    assert _call("GET", "/pages", query={"limit": "lots"}) == (
        400,
        {
            "error": {
                "code": "ValidationError",
                "message": "limit must be a whole number",
                "details": [{"field": "limit", "message": "must be a whole number"}],
            }
        },
    )
    assert (
        _call("GET", "/pages", query={"limit": "900"})[1]["error"]["message"] == "limit must be 500 or less"
    )
    assert _call("GET", "/pages", query={"limit": "20"}) == (200, {"limit": 20})


def test_a_good_body_passes():
    assert _call("POST", "/things", '{"delta": -2, "reason": "damaged"}') == (200, {"delta": -2})


def test_domain_errors_keep_their_status_and_code():
    assert _call("GET", "/things/gone") == (
        404,
        {"error": {"code": "NotFound", "message": "no thing gone", "details": []}},
    )
    assert _call("GET", "/things/taken")[0] == 409


def test_unknown_route_404_wrong_method_405():
    assert _call("GET", "/elsewhere")[0] == 404
    status, answer = _call("DELETE", "/things")
    assert (status, answer["error"]["code"]) == (405, "MethodNotAllowed")


def test_a_bug_is_a_500_in_the_error_format_without_internals():
    status, answer = _call("GET", "/boom")
    assert status == 500
    assert answer["error"]["code"] == "InternalError"
    assert "a bug" not in answer["error"]["message"]


def test_json_sent_with_curls_default_form_label_is_read_as_json():
    from oms.api.app import json_bodies

    event = load_event("api/list_orders.json")
    event.update(
        httpMethod="POST",
        path="/things",
        body='{"delta": 3, "reason": "count"}',
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/x-www-form-urlencoded"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    answer = _app().resolve(json_bodies(event), LambdaContext())
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"delta": 3})
