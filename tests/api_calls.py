"""Calling the API function in process, as API Gateway would (an authorized proxy event)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import LambdaContext, Stack, load_event


def call_api(
    stack: Stack,
    context: LambdaContext,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    handler: Any = None,
    claims: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
) -> tuple[int, Any]:
    """(status, JSON answer) of one request; `handler` reuses a warm API function; `claims` name another
    signed-in user (`sub`, `email`, `groups`: admin unless given); `authorizer` replaces the whole context
    the authorizer passes (an API key's, say)."""
    event = load_event("api/get_order.json")
    if claims is not None:
        event["requestContext"]["authorizer"] = {
            "principalId": f"user:{claims['sub']}",
            "kind": "user",
            "sub": claims["sub"],
            "email": claims.get("email", ""),
            "groups": claims.get("groups", "admin"),
        }
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    event.update(
        httpMethod=method,
        path=path,
        body=body if isinstance(body, str) or body is None else json.dumps(body),
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
    )
    event["headers"] = {**event["headers"], "Content-Type": "application/json", **(headers or {})}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    answer = (handler or stack.handler("api")).lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else {}


class HandlerTransport:
    """The CLI's HTTP calls answered by the API function in process (oms_tools.api_client.Transport)."""

    def __init__(self, stack: Stack, context: LambdaContext) -> None:
        self.stack, self.context = stack, context
        self.handler = stack.handler("api")
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, bytes]:
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(url)
        self.requests.append((method, parts.path, headers))
        status, answer = call_api(
            self.stack,
            self.context,
            method,
            parts.path,
            body.decode() if body is not None else None,
            headers=headers,
            query=dict(parse_qsl(parts.query)),
            handler=self.handler,
        )
        return int(status), json.dumps(answer).encode()
