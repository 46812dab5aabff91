"""Idempotency-Key for the routes that must act once (Powertools idempotency, records in the single table for a
day): a client's retry with the same key gets the first answer; the same key with another body, or while the
first is still running, answers 409. Keys are scoped to the caller and the route (oms.api.callers.scoped_key).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from oms.api.callers import scoped_key
from oms.errors import Conflict
from oms.settings import get_settings
from oms.store import keys

Call = dict[str, Any]


@cache
def _once(function: Callable[[Call], Any], event_key: str) -> tuple[IdempotencyConfig, Callable[..., Any]]:
    """`function` wrapped once per (function, key fields): its persistence layer holds the table name, so
    tests forget it (`forget`) when the table changes."""
    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr=keys.PK,
        sort_key_attr=keys.SK,
        static_pk_value=keys.IDEMPOTENCY_PARTITION,
        expiry_attr=keys.TTL_ATTRIBUTE,
    )
    config = IdempotencyConfig(
        event_key_jmespath=event_key, payload_validation_jmespath="request", expires_after_seconds=24 * 3600
    )
    wrapped = idempotent_function(data_keyword_argument="call", persistence_store=persistence, config=config)
    return config, wrapped(function)


def forget() -> None:
    _once.cache_clear()


def run_once(
    router: APIGatewayRouter,
    function: Callable[[Call], Any],
    call: Call,
    idempotency_key: str | None,
    *,
    route: str,
    key_fields: str,
    what: str,
) -> Any:
    """`function(call)`, once per Idempotency-Key when one is given. `call` holds `request` (compared on a
    retry) and the fields `key_fields` names with `key` (a JMESPath list, e.g. "[sku, key]"); `what` names
    the request in the 409s ("request", "reply")."""
    if not idempotency_key:
        return function(call)
    config, once = _once(function, key_fields)
    config.register_lambda_context(router.lambda_context)
    try:
        return once(call={**call, "key": scoped_key(router, idempotency_key, route)})
    except IdempotencyValidationError:
        raise Conflict(f"this Idempotency-Key was used for a different {what}") from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            f"a {what} with this Idempotency-Key is still being processed; retry shortly"
        ) from None
