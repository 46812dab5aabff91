"""API Gateway's TOKEN authorizer: `Authorization: Bearer <token>` where the token is a Cognito user's JWT or
an API key. It answers who is calling (principal, kind, and the key's scopes or the user's groups) and lets
the request through to the API function, which checks the route's scope (oms.api.permissions). API Gateway
caches the answer per token for the template's ReauthorizeEvery, so the policy allows the whole API, never
one route. An unknown, expired or revoked token raises Unauthorized (API Gateway answers 401)."""

from __future__ import annotations

from typing import Any

from oms.access.api_keys import ApiKeyStore
from oms.access.tokens import CognitoTokens, InvalidToken, looks_like_jwt
from oms.observability import logger


class Unauthorized(Exception):
    """API Gateway answers 401 when a TOKEN authorizer raises an error whose message is 'Unauthorized'."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def bearer(value: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header ('' when there is none)."""
    text = (value or "").strip()
    if text[:7].lower() == "bearer ":
        return text[7:].strip()
    return ""


def whole_api(method_arn: str) -> str:
    """arn:aws:execute-api:region:account:api/stage/METHOD/path -> the same API and stage, every route: a
    cached answer is reused for the caller's next routes, so it must allow them all."""
    head, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{head}/{stage}/*" if head and stage else method_arn


def _allow(principal: str, method_arn: str, context: dict[str, str]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": whole_api(method_arn)}
            ],
        },
        "context": context,
    }


def authorize(event: dict[str, Any], users: CognitoTokens | None, keys: ApiKeyStore) -> dict[str, Any]:
    """The authorizer's answer to a TOKEN event (`authorizationToken`, `methodArn`)."""
    token = bearer(event.get("authorizationToken"))
    method_arn = str(event.get("methodArn") or "")
    if not token:
        raise Unauthorized()
    if looks_like_jwt(token):
        if users is None:
            raise Unauthorized()
        try:
            user = users.verify(token)
        except InvalidToken as error:
            logger.info("token refused", extra={"reason": str(error)})
            raise Unauthorized() from None
        principal = f"user:{user.sub}"
        return _allow(
            principal,
            method_arn,
            {"kind": "user", "sub": user.sub, "email": user.email, "groups": " ".join(user.groups)},
        )
    key = keys.find(token)
    if key is None:
        logger.info("API key refused: unknown or revoked")
        raise Unauthorized()
    keys.note_use(key.key_id)
    return _allow(
        f"key:{key.key_id}", method_arn, {"kind": "key", "name": key.name, "scopes": " ".join(key.scopes)}
    )
