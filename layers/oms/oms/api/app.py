"""The API function's resolver: every Router of the API, CORS, validation and error answers.

A cold start imports no router: a request is answered by a resolver holding only the routers that serve
its path's first segment (`SEGMENTS`), built and kept on the first request that needs it, so the PDF
library, the key hashing or the planning maths load only when a route that uses them is called
(bench/cold_start.py). `app` (every router) is built on first use, for the OpenAPI document and tests;
tests/unit/test_api_routers.py keeps `SEGMENTS` equal to the routers' own routes."""

from __future__ import annotations

import base64
import binascii
import importlib
import json
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig

from oms.api.errors import document_error_answers, not_json, register_error_answers, unsupported_media_type
from oms.api.permissions import document_permissions, enforce

TITLE = "Amazon seller OMS API"
VERSION = "1.0.0"


_JSON_LABELS = ("application/json",)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _content_type(event: dict[str, Any]) -> tuple[str | None, str]:
    """(the header's name as sent, its media type in lower case without parameters), or (None, "")."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "content-type":
            return name, str(value or "").split(";")[0].strip().lower()
    return None, ""


def _set_content_type(event: dict[str, Any], name: str, label: str) -> None:
    event["headers"][name] = label
    for multi in list(event.get("multiValueHeaders") or {}):
        if multi.lower() == "content-type":
            event["multiValueHeaders"][multi] = [label]


def json_bodies(event: dict[str, Any]) -> dict[str, Any]:
    """`curl -d '{...}'` labels JSON as a form: a body that is JSON is read as JSON, whatever its label;
    a JSON merge patch (application/merge-patch+json) and any other `+json` type are JSON too."""
    name, label = _content_type(event)
    if name is None:
        return event
    body = (event.get("body") or "").lstrip()
    if (label.endswith("+json") and label != "application/json") or (
        label == "application/x-www-form-urlencoded" and body[:1] in ("{", "[")
    ):
        _set_content_type(event, name, "application/json")
    return event


def text_body(event: dict[str, Any]) -> bool:
    """A base64 body (API Gateway's binary pass-through) as text; False when it is not UTF-8 text at all."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return True
    try:
        event["body"] = base64.b64decode(event["body"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    event["isBase64Encoded"] = False
    return True


def unreadable_body(event: dict[str, Any]) -> str | None:
    """The media type of a body this API cannot read (it reads JSON only), or None when it can."""
    if str(event.get("httpMethod", "")).upper() not in _WRITES or not event.get("body"):
        return None
    _, label = _content_type(event)
    if not label or label in _JSON_LABELS or label.endswith("+json"):
        return None
    return label


# Every router, in the order the resolver tries them (a module of oms.api each).
ROUTERS = (
    "health",
    "orders",
    "inventory",
    "audits",
    "shipping",
    "metrics",
    "products",
    "reports",
    "returns",
    "refunds",
    "webhooks",
    "purchasing",
    "rules",
    "integrations",
    "planning",
    "api_keys",
    "messages",
    "order_updates",
)
# The routers serving each first segment of a path (/orders/... -> orders, shipping, reports).
SEGMENTS: dict[str, tuple[str, ...]] = {
    "health": ("health",),
    "orders": ("orders", "shipping", "reports", "order_updates"),
    "inventory": ("inventory",),
    "audits": ("audits",),
    "batches": ("shipping",),
    "carriers": ("shipping",),
    "settings": ("shipping",),
    "reports": ("shipping", "reports"),
    "metrics": ("metrics",),
    "products": ("products",),
    "returns": ("returns", "refunds"),
    "webhooks": ("webhooks",),
    "suppliers": ("purchasing",),
    "purchase-orders": ("purchasing",),
    "rules": ("rules",),
    "integrations": ("integrations",),
    "planning": ("planning",),
    "api-keys": ("api_keys",),
    "messages": ("messages",),
}


def build_app(routers: Iterable[str] = ROUTERS) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(
        enable_validation=True,
        # The dashboard is served from another origin (CloudFront, or the local stack's console).
        cors=CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type", "Idempotency-Key"]),
    )
    chosen = set(routers)
    for name in ROUTERS:  # always in ROUTERS' order, so a partial resolver matches as the whole one does
        if name in chosen:
            app.include_router(importlib.import_module(f"oms.api.{name}").router)
    app.use(middlewares=[enforce])  # every route's scope (oms.api.permissions), before the route runs
    register_error_answers(app)
    return app


@cache
def app_for(segment: str) -> APIGatewayRestResolver:
    """The resolver for paths starting /segment (no router for an unknown one: its 404 answer)."""
    return build_app(SEGMENTS.get(segment, ()))


def segment_of(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def __getattr__(name: str) -> Any:
    """`app`: the resolver with every router, built on first use (the OpenAPI document, tests)."""
    if name == "app":
        return _whole_app()
    raise AttributeError(name)


@lru_cache(maxsize=1)
def _whole_app() -> APIGatewayRestResolver:
    return build_app()


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One API Gateway event, answered; a body that is not JSON gets 415 before any route reads it."""
    event = json_bodies(event)
    label = unreadable_body(event)
    if label is not None:
        return unsupported_media_type(label)
    if not text_body(event):
        return not_json()
    return app_for(segment_of(str(event.get("path") or ""))).resolve(event, context)


def openapi_json() -> str:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    spec = _whole_app().get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="A bearer token on every route but GET /health: a Cognito ID token (its groups admin, "
        "warehouse, viewer give its scopes) or an API key (oms_live_..., POST /api-keys, with the scopes it "
        "was given); locally, ApiToken from .oms/outputs.json is an admin key. Each operation names the scope "
        "it needs (x-required-scope) and the roles that hold it (x-roles); without it the answer is 403.",
        security_schemes={
            "bearer": HTTPBearer(
                bearerFormat="Cognito ID token (JWT) or API key",
                description="Authorization: Bearer <Cognito ID token or API key>",
            )
        },
        security=[{"bearer": []}],
    )
    documented = document_permissions(json.loads(spec))
    return json.dumps(document_error_answers(documented, public={"/health"}), indent=2)
