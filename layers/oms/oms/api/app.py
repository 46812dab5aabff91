"""The API function's resolver: every Router of the API, CORS, validation and error answers."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from oms.api import health, inventory, orders
from oms.api.errors import register_error_answers

TITLE = "Amazon seller OMS API"
VERSION = "1.0.0"


def build_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(
        enable_validation=True,
        # The dashboard is served from another origin (CloudFront, or the local stack's console).
        cors=CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type", "Idempotency-Key"]),
    )
    app.include_router(health.router)
    app.include_router(orders.router)
    app.include_router(inventory.router)
    register_error_answers(app)
    return app


app = build_app()


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Deployed: a Cognito ID token; locally: ApiToken from .oms/outputs.json. GET /health is public.",
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )
