"""Every error the API gives is in API.md's format, with the field named; never a 500 for bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel, Field

from oms.api.errors import register_error_answers
from oms.errors import Conflict, NotFound
from tests.conftest import LambdaContext, load_event


class Adjustment(BaseModel):
    delta: int
    reason: str = Field(min_length=1)


def _app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post("/things")
    def create(adjustment: Adjustment) -> dict[str, Any]:
        return {"delta": adjustment.delta}

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


def _call(method: str, path: str, body: str | None = None) -> tuple[int, dict[str, Any]]:
    event = load_event("api/list_orders.json")
    event.update(
        httpMethod=method,
        path=path,
        body=body,
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
    )
    answer = _app().resolve(event, LambdaContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", "body", "is not valid JSON"),
        ('{"delta": "many", "reason": "count"}', "delta", "integer"),
        ('{"reason": "count"}', "delta", "is required"),
        ('{"delta": 1, "reason": ""}', "reason", "at least 1"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(body, field, message):
    status, answer = _call("POST", "/things", body)
    assert status == 400
    assert answer["error"]["code"] == "ValidationError"
    assert answer["error"]["details"][0]["field"] == field
    assert message in answer["error"]["details"][0]["message"]


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
