"""The API function's resolver: every Router of the API, CORS, validation and error answers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from oms.api import audits, health, inventory, metrics, orders, products, shipping
from oms.api import reports as order_reports
from oms.api.errors import register_error_answers

TITLE = "Amazon seller OMS API"
VERSION = "1.0.0"


def json_bodies(event: dict[str, Any]) -> dict[str, Any]:
    """`curl -d '{...}'` labels JSON as a form: a body that is JSON is read as JSON, whatever its label."""
    body = (event.get("body") or "").lstrip()
    if body[:1] not in ("{", "["):
        return event
    for field in ("headers", "multiValueHeaders"):
        for name in list(event.get(field) or {}):
            value = event[field][name]
            label = value[0] if isinstance(value, list) and value else value
            if name.lower() == "content-type" and str(label).startswith("application/x-www-form-urlencoded"):
                event[field][name] = ["application/json"] if isinstance(value, list) else "application/json"
    return event


def build_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(
        enable_validation=True,
        # The dashboard is served from another origin (CloudFront, or the local stack's console).
        cors=CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type", "Idempotency-Key"]),
    )
    app.include_router(health.router)
    app.include_router(orders.router)
    app.include_router(inventory.router)
    app.include_router(audits.router)
    app.include_router(shipping.router)
    app.include_router(metrics.router)
    app.include_router(products.router)
    app.include_router(order_reports.router)
    register_error_answers(app)
    return app


app = build_app()


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One API Gateway event, answered."""
    return app.resolve(json_bodies(event), context)


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Deployed: a Cognito ID token; locally: ApiToken from .oms/outputs.json. GET /health is public.",
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )
