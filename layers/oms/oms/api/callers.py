"""Who is calling: the signed-in user as the authorizer's claims name them, for the records a request
writes (`actor`) and for the scope of its Idempotency-Key (`scoped_key`)."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter


def _claims(router: APIGatewayRouter) -> dict[str, Any]:
    event = router.current_event
    return dict(event.request_context.authorizer.claims or {}) if event else {}


def actor(router: APIGatewayRouter) -> str:
    """The caller as people read it in a ledger or a timeline: `user:<e-mail>` (or the user's id)."""
    claims = _claims(router)
    return f"user:{claims.get('email') or claims.get('sub') or 'unknown'}"


def scoped_key(router: APIGatewayRouter, key: str | None, route: str) -> str | None:
    """An Idempotency-Key as this caller on this route used it: two callers (or two routes) that happen to
    send the same key never replay, or are refused by, each other's request. The caller is the user's
    stable id (`sub`), not the e-mail, which a user may change."""
    if not key:
        return None
    claims = _claims(router)
    caller = str(claims.get("sub") or claims.get("email") or "unknown")
    return hashlib.sha256(f"{caller}\n{route}\n{key}".encode()).hexdigest()[:16]
