"""Who is calling: the person or API key the authorizer named (oms.api.permissions.caller_of), for the
records a request writes (`actor`) and for the scope of its Idempotency-Key (`scoped_key`)."""

from __future__ import annotations

import hashlib

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.permissions import Caller, caller_of


def _caller(router: APIGatewayRouter) -> Caller | None:
    event = router.current_event
    return caller_of(event.raw_event) if event else None


def actor(router: APIGatewayRouter) -> str:
    """The caller as people read it in a ledger or a timeline: `user:<e-mail>` (or the user's id), or
    `key:<the key's name>`."""
    caller = _caller(router)
    if caller is None:
        return "user:unknown"
    return f"{caller.kind}:{caller.label or 'unknown'}"


def scoped_key(router: APIGatewayRouter, key: str | None, route: str) -> str | None:
    """An Idempotency-Key as this caller on this route used it: two callers (or two routes) that happen to
    send the same key never replay, or are refused by, each other's request. The caller is the user's
    stable id (`sub`) or the key's id, not the e-mail, which a user may change."""
    if not key:
        return None
    caller = _caller(router)
    who = (
        (caller.principal.split(":", 1)[1] if caller.kind == "user" else caller.principal)
        if caller
        else "unknown"
    )
    return hashlib.sha256(f"{who}\n{route}\n{key}".encode()).hexdigest()[:16]
