"""API keys: POST /api-keys (the secret shown once), GET /api-keys, DELETE /api-keys/{keyId} (revoked at once;
an authorizer's cached answer lasts at most its TTL, template.yaml ApiAuthorizer)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, field_validator

from oms.access.api_keys import ApiKey, ApiKeyStore, NewApiKey
from oms.api.callers import actor, scoped_key
from oms.api.paging import ListPage
from oms.api.permissions import SCOPES, caller_of, roles_with
from oms.domain.types import ApiModel
from oms.store.default import default_table

router = APIGatewayRouter()
KeyId = Annotated[str, Path(min_length=1, max_length=100, description="the key's id (key_...)")]


class KeyRequest(ApiModel):
    name: str = Field(min_length=1, max_length=100, description="what the key is for, e.g. the 3PL's name")
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES), description="what the key may do")

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the key a name")
        return value.strip()

    @field_validator("scopes")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope {', '.join(unknown)}; known: {', '.join(SCOPES)}")
        return value


@router.post(
    "/api-keys",
    summary="Create an API key with scopes (its secret is in this answer only)",
    tags=["api-keys"],
    responses={
        201: {"description": "created: `key` is the secret, shown this once"},
        409: {
            "description": "a retry with the same Idempotency-Key: the key was made, its secret shown then only"
        },
    },
)
def create_api_key(
    request: Annotated[KeyRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="a retry with it makes no second key",
        ),
    ] = None,
) -> tuple[NewApiKey, int]:
    made = ApiKeyStore(default_table()).create(
        request.name,
        request.scopes,
        created_by=actor(router),
        idempotency_key=scoped_key(router, idempotency_key, "POST /api-keys"),
    )
    return made, 201


@router.get("/api-keys", summary="Every API key (never its secret), newest first", tags=["api-keys"])
def list_api_keys() -> ListPage:
    """Each key, `current` true on the one this request was sent with (revoking it locks its caller out)."""
    event = router.current_event
    caller = caller_of(event.raw_event) if event else None
    found = ApiKeyStore(default_table()).all()
    return ListPage(
        items=[
            k.model_dump(mode="json", by_alias=True)
            | {"current": caller is not None and caller.principal == f"key:{k.key_id}"}
            for k in found
        ]
    )


@router.get(
    "/api-keys/scopes",
    summary="Every scope a key may be given, what it allows and the roles that hold it",
    tags=["api-keys"],
)
def list_scopes() -> ListPage:
    return ListPage(
        items=[
            {"scope": scope, "description": text, "roles": roles_with(scope)}
            for scope, text in SCOPES.items()
        ]
    )


@router.delete("/api-keys/<keyId>", summary="Revoke an API key", tags=["api-keys"])
def revoke_api_key(keyId: KeyId) -> ApiKey:  # the contract's name
    return ApiKeyStore(default_table()).revoke(unquote(keyId))
