"""An Idempotency-Key's record, written in the same DynamoDB transaction as the change it answers.

A client whose request applied but whose answer was lost (a timeout, a 5xx after the write) sends it again
with the same key. The record holds the first answer and is part of the change's own transaction, so there
is no moment where the change is written and its key is not (or the reverse): a retry finds the record and
gets the first answer, a retry of a request that wrote nothing runs it again, and two requests with the same
key at once cannot both apply (the second's transaction is refused on the record: `KeyUsed`). The same key
with another request answers 409. Records expire after a day (TTL; `Table.get` treats expired ones as gone
and the record's condition lets a new one replace them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from oms.domain.types import utc_now
from oms.errors import AlreadyExists, Conflict
from oms.store import conditional, keys
from oms.store.table import Table, Write

KEPT = timedelta(hours=24)
ENTITY = "IdempotencyRecord"


class KeyUsed(AlreadyExists):
    """The change's transaction was refused on its key's record: a request with the same key went first."""


def request_hash(request: Any) -> str:
    """What a retry must repeat: the request as JSON, keys sorted."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Once:
    """One Idempotency-Key (already scoped to its caller, route and path ids) with its request's hash."""

    key: str
    request_hash: str
    what: str = "request"  # names the request in the 409s ("request", "reply")

    def first_answer(self, table: Table) -> Any | None:
        """The answer the key's first request gave, or None when the key is new (or expired); the same key
        with another request: 409."""
        record = table.get(keys.idempotency_key(self.key), consistent=True)
        if record is None:
            return None
        if record.get("requestHash") != self.request_hash:
            raise Conflict(f"this Idempotency-Key was used for a different {self.what}")
        return json.loads(str(record["answer"]))

    def record(self, answer: Any) -> Write:
        """The key's record holding `answer`, for the change's own transaction (refused while a live record
        of the key exists: `refused` tells it apart)."""
        now = utc_now()
        return conditional.put_unless_live(
            {
                **keys.idempotency_key(self.key),
                "entity": ENTITY,
                "requestHash": self.request_hash,
                "answer": json.dumps(answer, sort_keys=True),
                "at": now.isoformat(timespec="seconds"),
                keys.TTL_ATTRIBUTE: int((now + KEPT).timestamp()),
            },
            int(now.timestamp()),
        )


def refused(error: Conflict, writes: Sequence[Write]) -> None:
    """Raise `KeyUsed` when a transaction of `writes` was refused on an Idempotency-Key's record (another
    request with the key applied first: the caller answers with its answer instead of retrying)."""
    index = error.failed_index
    if index is None or not 0 <= index < len(writes):
        return
    item = writes[index].item or {}
    if item.get("entity") == ENTITY:
        raise KeyUsed("this Idempotency-Key was used already") from error
