"""API Gateway (REST, Lambda proxy integration) played locally, from the routes in template.yaml.

Each HTTP request becomes the proxy event API Gateway would send. A route behind the template's TOKEN
authorizer runs that authorizer function (the same code as deployed) on the Authorization header, its
answer cached per token for the template's ReauthorizeEvery; no header, or a refusal, gives the
template's UNAUTHORIZED gateway response, as in AWS, and its context reaches the function as
`requestContext.authorizer`. The local ApiToken is an admin API key in the table (`admit_api_token`).
CORS preflights are answered from the template's Cors settings, and a failed function gives the
DEFAULT_5XX response.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from oms_local.runtime import InvocationError
from oms_local.template import Resolver, Template

Invoke = Callable[[str, Any], Any]


class AuthorizerFailed(Exception):
    """The authorizer raised something other than 'Unauthorized' (or timed out): API Gateway answers 500
    (AUTHORIZER_FAILURE), not 401, so a client retries rather than logging out."""


# API Gateway refuses a request payload above 10 MB with 413 before any function runs; so does this one.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one (any characters: a header
    decoded as latin-1 may hold non-ASCII ones, which `compare_digest` refuses as text)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


def payload_length(value: str | None) -> int | None:
    """The Content-Length a client sent (0 when absent); None when it is not a length at all."""
    if value is None or not value.strip():
        return 0
    text = value.strip()
    return int(text) if text.isdigit() else None


LOCAL_KEY_NAME = "local ApiToken (.oms/outputs.json)"  # what the key list calls the ApiToken


def admit_api_token(table_name: str, client: Any, token: str) -> None:
    """The local stack's ApiToken as an API key with every scope (an admin's), so the dashboard, the CLI and
    tests keep working through the same authorizer as any key."""
    from oms.access.api_keys import ApiKeyStore
    from oms.api.permissions import SCOPES
    from oms.store.table import Table

    def no_paging() -> Any:
        raise RuntimeError("admitting the token does not page")

    ApiKeyStore(Table(table_name, no_paging, client=client)).create(
        LOCAL_KEY_NAME, list(SCOPES), secret=token
    )


@dataclass(frozen=True)
class TokenAuthorizer:
    """A Lambda TOKEN authorizer of the template: its function, header and cache time."""

    function: str  # logical id
    header: str
    ttl_seconds: int


@dataclass(frozen=True)
class Route:
    path: str  # as in the template: /orders/{orderId}, /{proxy+}
    method: str  # GET, POST, ... or ANY
    function: str  # logical id
    authorized: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = ""
        for segment in self.path.strip("/").split("/"):
            if segment.endswith("+}"):
                regex += f"/(?P<{segment[1:-2]}>.+)"
            elif segment.startswith("{"):
                regex += f"/(?P<{segment[1:-1]}>[^/]+)"
            elif segment:
                regex += "/" + re.escape(segment)
        return re.compile(f"^{regex or '/'}/?$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over parameters, and parameters over greedy ones."""
        greedy = "+}" in self.path
        literals = sum(1 for s in self.path.split("/") if s and not s.startswith("{"))
        return (0 if greedy else 1, literals)


def _logical_id(arn: Any) -> str:
    """The function a `!GetAtt X.Arn` (or `!Ref X`) names."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        target = arn["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    if isinstance(arn, dict) and "Ref" in arn:
        return str(arn["Ref"])
    raise ValueError(f"the authorizer's FunctionArn {arn!r} names no function of the template")


def authorizer_from_template(settings: dict[str, Any]) -> TokenAuthorizer | None:
    """The API's default authorizer when it is a Lambda TOKEN authorizer (None otherwise)."""
    auth = settings.get("Auth", {})
    spec = auth.get("Authorizers", {}).get(auth.get("DefaultAuthorizer", ""), {})
    if "FunctionArn" not in spec:
        return None
    identity = spec.get("Identity", {})
    return TokenAuthorizer(
        function=_logical_id(spec["FunctionArn"]),
        header=identity.get("Header", "Authorization"),
        ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
    )


def routes_from_template(template: Template) -> tuple[list[Route], dict[str, Any]]:
    """The REST API's routes and the API's own settings (Auth, Cors, GatewayResponses, StageName)."""
    apis = template.of_type("AWS::Serverless::Api")
    api_id, api = next(iter(apis.items()))
    settings = api.get("Properties", {})
    default_authorizer = settings.get("Auth", {}).get("DefaultAuthorizer")
    routes = []
    for function in template.functions():
        for trigger in function.triggers:
            if trigger.type != "Api" or trigger.properties.get("RestApiId", {}).get("Ref") != api_id:
                continue
            authorizer = trigger.properties.get("Auth", {}).get("Authorizer", default_authorizer)
            routes.append(
                Route(
                    path=trigger.properties["Path"],
                    method=trigger.properties["Method"].upper(),
                    function=function.logical_id,
                    authorized=bool(authorizer) and authorizer != "NONE",
                )
            )
    routes.sort(key=lambda r: r.specificity, reverse=True)
    return routes, settings


class ApiGateway:
    def __init__(
        self,
        template: Template,
        resolver: Resolver,
        invoke: Invoke,
        *,
        host: str,
        port: int,
        api_token: str,
        stage: str,
    ) -> None:
        self.routes, settings = routes_from_template(template)
        self.cors = {k: str(v).strip("'") for k, v in settings.get("Cors", {}).items()}
        self.gateway_responses = resolver.resolve(settings.get("GatewayResponses", {}))
        self.invoke = invoke
        self.api_token = api_token
        self.stage = stage
        self.authorizer = authorizer_from_template(settings)
        self._authorized: dict[str, tuple[float, dict[str, Any]]] = {}  # token -> (until, context)
        self._authorized_lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{self.server.server_address[0]!s}:{self.server.server_address[1]}"

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def gateway_response(self, kind: str, default_status: int) -> tuple[int, dict[str, str], bytes]:
        spec = self.gateway_responses.get(kind) or self.gateway_responses.get(
            "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX", {}
        )
        status = int(spec.get("StatusCode", default_status))
        headers = {
            k: str(v).strip("'") for k, v in spec.get("ResponseParameters", {}).get("Headers", {}).items()
        }
        phrase = HTTPStatus(status).phrase
        body = spec.get("ResponseTemplates", {}).get("application/json") or json.dumps({"message": phrase})
        body = body.replace("$context.error.messageString", json.dumps(phrase))
        return status, {"Content-Type": "application/json", **headers}, body.encode()

    def authorize(self, headers: dict[str, str], method: str, path: str) -> dict[str, Any] | None:
        """What API Gateway puts in requestContext.authorizer (principalId and the authorizer's context), or
        None when the token is missing or refused. Refusals are not cached; an allowed token is, for the
        authorizer's TTL (as API Gateway caches it: a revoked key works until then)."""
        if self.authorizer is None:
            raise RuntimeError("template.yaml's API has no Lambda TOKEN authorizer to run")
        header = self.authorizer.header.lower()
        token = next((v for k, v in headers.items() if k.lower() == header), "")
        if not token.strip():
            return None
        now = time.monotonic()
        with self._authorized_lock:
            cached = self._authorized.get(token)
            if cached and cached[0] > now:
                return cached[1]
        arn = f"arn:aws:execute-api:us-east-1:123456789012:local/{self.stage}/{method}{path}"
        try:
            answer = self.invoke(
                self.authorizer.function, {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}
            )
        except Exception as error:  # an InvocationError from a worker; the handler's own error in process
            if str(error) != "Unauthorized":  # a failed authorizer, not a refused token: API Gateway's 500
                print(f"  api  the authorizer failed: {error}", flush=True)
                raise AuthorizerFailed(str(error)) from None
            return None
        statements = (answer.get("policyDocument") or {}).get("Statement") or []
        if not any(st.get("Effect") == "Allow" for st in statements) or any(
            st.get("Effect") == "Deny" for st in statements
        ):
            return None
        context: dict[str, Any] = {"principalId": answer.get("principalId"), **(answer.get("context") or {})}
        with self._authorized_lock:
            self._authorized[token] = (now + self.authorizer.ttl_seconds, context)
        return context

    def proxy_event(
        self,
        route: Route,
        params: dict[str, str],
        method: str,
        url: str,
        headers: dict[str, list[str]],
        body: bytes,
        authorizer: dict[str, Any] | None,
        source_ip: str,
    ) -> dict[str, Any]:
        split = urlsplit(url)
        query = parse_qs(split.query, keep_blank_values=True)
        try:
            text, encoded = (body.decode("utf-8"), False) if body else (None, False)
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        now = datetime.now(UTC)
        context: dict[str, Any] = {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{self.stage}{split.path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": self.stage,
            "domainPrefix": "local",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": (headers.get("User-Agent") or [""])[0]},
            "domainName": (headers.get("Host") or ["localhost"])[0],
            "apiId": "local",
        }
        if authorizer is not None:
            context["authorizer"] = {**authorizer, "integrationLatency": 0}
        return {
            "resource": route.path,
            "path": split.path,
            "httpMethod": method,
            "headers": {k: v[-1] for k, v in headers.items()},
            "multiValueHeaders": headers,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": context,
            "body": text,
            "isBase64Encoded": encoded,
        }

    def handle(
        self, method: str, url: str, headers: dict[str, list[str]], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, list[str]], bytes]:
        path = urlsplit(url).path
        single = {k: v[-1] for k, v in headers.items()}
        if method == "OPTIONS" and self.cors:
            return (
                200,
                {
                    "Access-Control-Allow-Origin": [self.cors.get("AllowOrigin", "*")],
                    "Access-Control-Allow-Headers": [self.cors.get("AllowHeaders", "*")],
                    "Access-Control-Allow-Methods": [self.cors.get("AllowMethods", "*")],
                },
                b"",
            )
        matched = self.match(method, path)
        if matched is None:
            status, extra, payload = self.gateway_response("MISSING_AUTHENTICATION_TOKEN", 403)
            return status, {k: [v] for k, v in extra.items()}, payload
        route, params = matched
        authorizer = None
        if route.authorized:
            try:
                authorizer = self.authorize(single, method, path)
            except AuthorizerFailed:
                status, extra, payload = self.gateway_response("AUTHORIZER_FAILURE", 500)
                return status, {k: [v] for k, v in extra.items()}, payload
            if authorizer is None:
                status, extra, payload = self.gateway_response("UNAUTHORIZED", 401)
                return status, {k: [v] for k, v in extra.items()}, payload
        event = self.proxy_event(route, params, method, url, headers, body, authorizer, source_ip)
        try:
            answer = self.invoke(route.function, event)
            return self._from_proxy_answer(answer)
        except (InvocationError, ValueError, KeyError, TypeError):
            status, extra, payload = self.gateway_response("DEFAULT_5XX", 502)
            return status, {k: [v] for k, v in extra.items()}, payload

    def wsgi(self) -> Callable[[dict[str, Any], Callable[..., Any]], list[bytes]]:
        """This gateway as a WSGI application (what in-process HTTP clients such as the API fuzz speak)."""

        def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            headers: dict[str, list[str]] = {}
            for key, value in environ.items():
                if key.startswith("HTTP_"):
                    headers.setdefault(key[5:].replace("_", "-").title(), []).append(value)
                elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                    headers.setdefault(key.replace("_", "-").title(), []).append(value)
            length = payload_length(environ.get("CONTENT_LENGTH"))
            if length is None or length > MAX_PAYLOAD_BYTES:
                kind, refused = ("BAD_REQUEST_BODY", 400) if length is None else ("REQUEST_TOO_LARGE", 413)
                status, extra, payload = self.gateway_response(kind, refused)
                start_response(f"{status} {HTTPStatus(status).phrase}", list(extra.items()))
                return [payload]
            body = environ["wsgi.input"].read(length) if length else b""
            url = environ.get("RAW_URI") or environ.get("REQUEST_URI")  # as sent, still percent-encoded
            if not url:
                query = environ.get("QUERY_STRING") or ""
                url = quote((environ.get("PATH_INFO") or "/").encode("latin-1")) + (
                    f"?{query}" if query else ""
                )
            status, answer_headers, payload = self.handle(
                environ["REQUEST_METHOD"], url, headers, body, environ.get("REMOTE_ADDR", "127.0.0.1")
            )
            start_response(
                f"{status} {HTTPStatus(status).phrase}",
                [(k, v) for k, values in answer_headers.items() for v in values],
            )
            return [payload]

        return application

    @staticmethod
    def _from_proxy_answer(answer: Any) -> tuple[int, dict[str, list[str]], bytes]:
        status = int(answer["statusCode"])
        headers: dict[str, list[str]] = {k: [str(v)] for k, v in (answer.get("headers") or {}).items()}
        for key, values in (answer.get("multiValueHeaders") or {}).items():
            headers[key] = [str(v) for v in values]
        body = answer.get("body") or ""
        payload = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
        return status, headers, payload

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "oms-local-apigateway"

            def _refuse(self, status: int, kind: str) -> None:
                """Answer without reading the body, and close: what is left of it is never read."""
                status, headers, payload = gateway.gateway_response(kind, status)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)
                self.close_connection = True

            def _serve(self) -> None:
                started = time.monotonic()
                length = payload_length(self.headers.get("Content-Length"))
                if length is None:
                    self._refuse(400, "BAD_REQUEST_BODY")
                    return
                if length > MAX_PAYLOAD_BYTES:
                    self._refuse(413, "REQUEST_TOO_LARGE")
                    return
                body = self.rfile.read(length) if length else b""
                headers: dict[str, list[str]] = {}
                for key, value in self.headers.items():
                    headers.setdefault(key, []).append(value)
                status, answer_headers, payload = gateway.handle(
                    self.command, self.path, headers, body, self.client_address[0]
                )
                self.send_response(status)
                for key, values in answer_headers.items():
                    if key.lower() in ("content-length", "connection", "transfer-encoding"):
                        continue
                    for value in values:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                self.log_message(
                    "%s %s -> %d (%.0f ms)",
                    self.command,
                    self.path.split("?")[0],
                    status,
                    (time.monotonic() - started) * 1000,
                )

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass  # _serve logs each request once, with its time

            def log_message(self, format: str, *args: Any) -> None:
                print(f"  api  {format % args}", flush=True)

        return Handler
