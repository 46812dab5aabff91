"""A Cognito user's token, verified: signature against the user pool's published keys (JWKS, fetched once
and kept by PyJWT), issuer, expiry, token_use, and the dashboard's app client (an ID token's `aud`, an access
token's `client_id`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jwt

ALGORITHMS = ["RS256"]  # what Cognito signs with; never "none" or an HMAC keyed by a public key
CLOCK_SKEW_SECONDS = 10  # a token issued this instant must not look issued in the future to a Lambda's clock
JWKS_LIFESPAN_SECONDS = 3600  # Cognito rotates keys rarely; an unknown kid still refetches (after a cooldown)


class InvalidToken(Exception):
    """The token is not one this API accepts (the reason goes to the log, never to the caller)."""


@dataclass(frozen=True)
class User:
    sub: str
    email: str
    groups: tuple[str, ...]


_POOL_ID = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d_[0-9A-Za-z]+$")  # us-east-1_AbC123xyz


def is_user_pool_id(value: str) -> bool:
    """A Cognito user pool's id (`<region>_<id>`). The local stack's stand-in pool is not one, so locally no
    user token is verified and nothing is fetched from AWS."""
    return bool(_POOL_ID.match(value))


def cognito_issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class CognitoTokens:
    """The verifier for one user pool and its app client; built once per warm Lambda."""

    def __init__(
        self,
        issuer: str,
        client_id: str | Callable[[], str],
        jwks_url: str | None = None,
        *,
        timeout: float = 3,
    ) -> None:
        self.issuer = issuer
        self._client_id = client_id
        self.keys = jwt.PyJWKClient(
            jwks_url or f"{issuer}/.well-known/jwks.json",
            cache_keys=True,
            lifespan=JWKS_LIFESPAN_SECONDS,
            timeout=timeout,
        )

    @cached_property
    def client_id(self) -> str:
        """The app client tokens must be issued to (read on first use when given as a function)."""
        return self._client_id if isinstance(self._client_id, str) else self._client_id()

    def verify(self, token: str) -> User:
        try:
            signing_key = self.keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(f"{type(error).__name__}: {error}") from None
        use = claims.get("token_use")
        if use == "id":
            audience = claims.get("aud")
            if audience != self.client_id and not (isinstance(audience, list) and self.client_id in audience):
                raise InvalidToken("the ID token is for another app client")
        elif use == "access":
            if claims.get("client_id") != self.client_id:
                raise InvalidToken("the access token is for another app client")
        else:
            raise InvalidToken(f"token_use {use!r} is neither id nor access")
        groups = claims.get("cognito:groups") or []
        return User(
            sub=str(claims["sub"]),
            email=str(claims.get("email") or claims.get("username") or claims.get("cognito:username") or ""),
            groups=tuple(str(g) for g in groups) if isinstance(groups, list) else tuple(str(groups).split()),
        )
