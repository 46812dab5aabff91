"""The local API Gateway routes and authorizes as the template says API Gateway would."""

from __future__ import annotations

import json
import socket
import threading

from oms_local.api_gateway import MAX_PAYLOAD_BYTES, ApiGateway, Route, routes_from_template, same_secret
from oms_local.resources import LocalResources
from oms_local.runtime import InvocationError
from oms_local.template import Template


def _authorizer(function, event):
    """The template's authorizer as the gateway sees it: an answer for the one token it knows, else the
    function fails with "Unauthorized" (API Gateway's cue for 401)."""
    assert function == "AuthorizerFunction" and event["type"] == "TOKEN"
    if event["authorizationToken"] != "Bearer secret-token":
        raise InvocationError({"errorMessage": "Unauthorized", "errorType": "Unauthorized"})
    return {
        "principalId": "key:key_1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {"kind": "key", "name": "local", "scopes": "orders:read"},
    }


def _gateway(invoked: list, authorizations: list | None = None) -> ApiGateway:
    template = Template()
    resolver = LocalResources("t", "us-east-1", None).resolver

    def invoke(function, event):
        if function == "AuthorizerFunction":
            (authorizations if authorizations is not None else []).append(event)
            return _authorizer(function, event)
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


def test_the_authorizer_runs_on_the_token_and_its_answer_is_cached_for_the_templates_ttl():
    invoked: list = []
    authorizations: list = []
    gateway = _gateway(invoked, authorizations)
    assert gateway.authorizer is not None and gateway.authorizer.ttl_seconds == 10
    for _ in range(3):
        assert (
            gateway.handle("GET", "/orders", {"Authorization": ["Bearer secret-token"]}, b"", "::1")[0] == 200
        )
    assert len(authorizations) == 1 and authorizations[0]["methodArn"].endswith("/dev/GET/orders")
    for _ in range(2):  # a refusal is never cached
        assert gateway.handle("GET", "/orders", {"Authorization": ["Bearer nope"]}, b"", "::1")[0] == 401
    assert len(authorizations) == 3 and len(invoked) == 3


def test_an_authorized_request_becomes_a_proxy_event_with_the_authorizers_context():
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
    assert event["requestContext"]["authorizer"] == {
        "principalId": "key:key_1",
        "kind": "key",
        "name": "local",
        "scopes": "orders:read",
        "integrationLatency": 0,
    }
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


def _serving(invoked: list) -> tuple[ApiGateway, str, int]:
    template = Template()
    resolver = LocalResources("t", "us-east-1", None).resolver

    def invoke(function, event):
        if function == "AuthorizerFunction":
            return _authorizer(function, event)
        invoked.append((function, event))
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}

    gateway = ApiGateway(
        template, resolver, invoke, host="127.0.0.1", port=0, api_token="secret-token", stage="dev"
    )
    threading.Thread(target=gateway.server.serve_forever, daemon=True).start()
    host, port = gateway.server.server_address[:2]
    return gateway, str(host), int(port)


def _raw(host: str, port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(head.encode("latin-1") + b"\r\nConnection: close\r\n\r\n" + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


def test_a_body_above_api_gateways_limit_is_refused_unread_and_a_bad_length_is_a_400():
    invoked: list = []
    gateway, host, port = _serving(invoked)
    try:
        auth = "Authorization: Bearer secret-token"
        too_big = f"POST /orders HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: {MAX_PAYLOAD_BYTES + 1}"
        status, body = _raw(host, port, too_big, b"{}")  # the rest of the body never comes: not waited for
        assert status == 413, body
        status, _ = _raw(host, port, f"POST /orders HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: -5")
        assert status == 400
        status, _ = _raw(
            host, port, f"POST /orders HTTP/1.1\r\nHost: x\r\n{auth}\r\nContent-Length: 2", b"{}"
        )
        assert status == 200
        assert len(invoked) == 1, "only the well-formed request reached the function"
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def test_tokens_compare_in_constant_time_whatever_their_characters():
    invoked: list = []
    gateway, host, port = _serving(invoked)
    try:
        for token in ("secret-tokeñ", "s\u00e9cret", "secret-token-and-more", ""):
            status, _ = _raw(host, port, f"GET /orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}")
            assert status == 401, token
        assert invoked == []
        assert same_secret("secret-token", "secret-token") and not same_secret("s\udce9", "secret-token")
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def test_an_authorizer_that_times_out_is_a_500_not_a_401_that_says_the_sign_in_expired():
    invoked: list = []
    gateway = _gateway(invoked)
    timed_out = InvocationError({"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 5s"})

    def invoke(function, event):
        if function == "AuthorizerFunction":
            raise timed_out
        invoked.append(function)
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    gateway.invoke = invoke
    status, _, body = gateway.handle("GET", "/orders", {"Authorization": ["Bearer secret-token"]}, b"", "::1")
    assert status == 500 and json.loads(body)["error"]["code"] != "Unauthorized"
    assert invoked == []
    gateway.invoke = lambda function, event: (
        _authorizer(function, event)
        if function == "AuthorizerFunction"
        else {"statusCode": 200, "body": "{}"}
    )
    assert gateway.handle("GET", "/orders", {"Authorization": ["Bearer secret-token"]}, b"", "::1")[0] == 200


def test_a_failing_authorizer_answers_500_not_401_so_the_client_retries_rather_than_logs_out():
    """A throttled table read in the authorizer is API Gateway's AUTHORIZER_FAILURE (500), not a refusal."""
    invoked: list = []
    gateway = _gateway(invoked)

    def failing(function, event):
        raise InvocationError(
            {"errorMessage": "ProvisionedThroughputExceededException", "errorType": "ClientError"}
        )

    gateway.invoke = failing
    status, _, _ = gateway.handle("GET", "/orders", {"Authorization": ["Bearer secret-token"]}, b"", "::1")
    assert status == 500
    assert invoked == []
