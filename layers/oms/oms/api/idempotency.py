"""Idempotency-Key for the routes that must act once: the key's record holds the first answer and is written in
the change's own DynamoDB transaction (oms.store.once), so a retry after a change that applied but whose answer
was lost gets the first answer and changes nothing; the same key with another body answers 409. Keys are
scoped to the caller, the route and the path's ids (oms.api.callers.scoped_key) and kept a day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from oms.api.callers import scoped_key
from oms.errors import Conflict
from oms.store.default import default_table
from oms.store.once import Once, request_hash

Call = dict[str, Any]


def run_once(
    router: APIGatewayRouter,
    function: Callable[[Call, Once | None], Any],
    call: Call,
    idempotency_key: str | None,
    *,
    route: str,
    key_fields: Sequence[str],
    what: str,
) -> Any:
    """`function(call, once)`, once per Idempotency-Key when one is given: `function` puts `once.record(answer)`
    in its change's transaction (and lets `oms.store.once.KeyUsed` out when that write is refused). `call`
    holds `request` (compared on a retry) and the fields `key_fields` names (the path's ids, part of the key);
    `what` names the request in the 409s ("request", "reply")."""
    if not idempotency_key:
        return function(call, None)
    scope = "\n".join([idempotency_key, *(str(call[field]) for field in key_fields)])
    once = Once(str(scoped_key(router, scope, route)), request_hash(call["request"]), what)
    table = default_table()
    first = once.first_answer(table)
    if first is not None:
        return first
    try:
        return function(call, once)
    except Conflict:
        # The same request, applied beside this one since the check above (a client's retry racing its first
        # try), makes this one fail: on its key's record (KeyUsed), or on what it changed (the units it took
        # are gone: "only 0 on hand"). Its answer is this one's too.
        first = once.first_answer(table)
        if first is None:
            raise
        return first
