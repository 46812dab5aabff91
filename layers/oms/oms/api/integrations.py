"""Integration routes: webhook endpoints other systems call (POST /webhooks/{integrationId}, served by the
receive_webhook function), created with their secret shown once, listed, rotated and deleted."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.api.callers import actor
from oms.domain.types import ApiModel
from oms.integrations.records import (
    CreatedIntegration,
    Integration,
    Kind,
    create_integration,
    delete_integration,
    get_integration,
    list_integrations,
    list_problems,
    master_key,
    rotate_secret,
)
from oms.integrations.signatures import Scheme
from oms.store.default import default_table

router = APIGatewayRouter()
IntegrationId = Annotated[
    str, Path(min_length=1, max_length=64, description="the integrationId POST /integrations gave")
]


class NewIntegration(ApiModel):
    name: str = Field(
        min_length=1, max_length=100, description="what the seller calls it, e.g. 'UPS tracking'"
    )
    kind: Kind = Field(description="tracking (carrier scans), stock (3PL movements) or generic")
    scheme: Scheme = Field(description="how the sender signs: standard-webhooks, shopify or github")


class Integrations(ApiModel):
    items: list[Integration]


@router.post(
    "/integrations",
    summary="Create an integration: a webhook endpoint and its secret (shown once)",
    tags=["integrations"],
    responses={201: {"description": "created; `secret` is not shown again"}},
)
def post_integration(new: Annotated[NewIntegration, Body()]) -> tuple[CreatedIntegration, int]:
    created = create_integration(
        default_table(), master_key(), name=new.name, kind=new.kind, scheme=new.scheme, actor=actor(router)
    )
    return created, 201


@router.get("/integrations", summary="Integrations, oldest first (no secrets)", tags=["integrations"])
def get_integrations() -> Integrations:
    return Integrations(items=list_integrations(default_table()))


@router.get("/integrations/<integrationId>", summary="One integration (no secret)", tags=["integrations"])
def get_one_integration(integrationId: IntegrationId) -> Integration:  # the contract's name
    return get_integration(default_table(), integrationId)


@router.post(
    "/integrations/<integrationId>/rotate",
    summary="A new secret (shown once); the previous one stays valid for 24 hours",
    tags=["integrations"],
)
def post_rotate(integrationId: IntegrationId) -> CreatedIntegration:
    return rotate_secret(default_table(), master_key(), integrationId, actor=actor(router))


@router.delete(
    "/integrations/<integrationId>",
    summary="Delete an integration: its webhooks are refused from now on",
    tags=["integrations"],
)
def delete_one_integration(integrationId: IntegrationId) -> dict[str, Any]:
    delete_integration(default_table(), integrationId)
    return {"deleted": True, "integrationId": integrationId}


@router.get(
    "/integrations/<integrationId>/problems",
    summary="Deliveries that could not be applied, newest first, with the reason and the body as sent",
    tags=["integrations"],
)
def get_problems(
    integrationId: IntegrationId,
    limit: Annotated[int | None, Query(ge=1, le=100, description="how many")] = None,
) -> dict[str, Any]:
    return {"items": list_problems(default_table(), integrationId, limit=limit or 50)}
