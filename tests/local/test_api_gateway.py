"""The local API Gateway routes and authorizes as the template says API Gateway would."""

from __future__ import annotations

import json

from oms_local.api_gateway import ApiGateway, Route, routes_from_template
from oms_local.resources import LocalResources
from oms_local.template import Template


def _gateway(invoked: list) -> ApiGateway:
    template = Template()
    resolver = LocalResources("t", "us-east-1", None).resolver

    def invoke(function, event):
        invoked.append((function, event))
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}

    gateway = ApiGateway(
        template, resolver, invoke, host="127.0.0.1", port=0, api_token="secret-token", stage="dev"
    )
    gateway.server.server_close()
    return gateway


def test_routes_come_from_the_template_with_their_authorizer():
    routes, settings = routes_from_template(Template())
    health = next(r for r in routes if r.path == "/health")
    assert not health.authorized
    assert all(r.authorized for r in routes if r.path != "/health" and not r.path.startswith("/webhooks"))
    assert settings["Auth"]["DefaultAuthorizer"]


def test_literal_routes_win_over_greedy_ones():
    routes = sorted(
        [
            Route("/{proxy+}", "ANY", "F", True),
            Route("/orders/{orderId}", "GET", "F", True),
            Route("/orders/open", "GET", "F", True),
        ],
        key=lambda r: r.specificity,
        reverse=True,
    )
    assert [r.path for r in routes] == ["/orders/open", "/orders/{orderId}", "/{proxy+}"]
    assert routes[1].pattern.match("/orders/123-45").groupdict() == {"orderId": "123-45"}
    assert routes[2].pattern.match("/a/b/c").groupdict() == {"proxy": "a/b/c"}


def test_a_request_without_the_token_never_reaches_the_function():
    invoked: list = []
    gateway = _gateway(invoked)
    status, _, body = gateway.handle("GET", "/orders", {}, b"", "127.0.0.1")
    assert status == 401
    assert json.loads(body)["error"]["code"] == "Unauthorized"
    status, _, _ = gateway.handle("GET", "/orders", {"Authorization": ["Bearer wrong"]}, b"", "127.0.0.1")
    assert status == 401
    assert invoked == []


def test_an_authorized_request_becomes_a_proxy_event_with_claims():
    invoked: list = []
    gateway = _gateway(invoked)
    status, _, body = gateway.handle(
        "GET",
        "/orders?status=Unshipped&status=Shipped",
        {"Authorization": ["Bearer secret-token"]},
        b"",
        "10.0.0.1",
    )
    assert (status, json.loads(body)) == (200, {"ok": True})
    function, event = invoked[0]
    assert function == "ApiFunction"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "orders"}
    assert event["queryStringParameters"] == {"status": "Shipped"}
    assert event["multiValueQueryStringParameters"] == {"status": ["Unshipped", "Shipped"]}
    assert event["requestContext"]["authorizer"]["claims"]["email"]
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.1"


def test_health_is_public_and_preflights_answer_cors():
    invoked: list = []
    gateway = _gateway(invoked)
    assert gateway.handle("GET", "/health", {}, b"", "127.0.0.1")[0] == 200
    status, headers, _ = gateway.handle("OPTIONS", "/orders", {}, b"", "127.0.0.1")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ["*"]
    assert "Authorization" in headers["Access-Control-Allow-Headers"][0]


def test_a_failing_function_gives_the_templates_5xx_answer():
    template = Template()
    resolver = LocalResources("t", "us-east-1", None).resolver

    def broken(function, event):
        raise KeyError("statusCode")

    gateway = ApiGateway(template, resolver, broken, host="127.0.0.1", port=0, api_token="t", stage="dev")
    gateway.server.server_close()
    status, _, body = gateway.handle("GET", "/health", {}, b"", "127.0.0.1")
    assert status == 502
    assert json.loads(body)["error"]["code"] == "InternalError"
