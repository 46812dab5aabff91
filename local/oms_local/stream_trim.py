"""DynamoDB stream records trimmed once every reader has read past them, so a long local run stays flat.

moto keeps every stream record of a table for as long as the process lives, and every shard iterator it
ever handed out (each GetRecords hands out a new one): an hour of the local stack under the simulator
grows by both. DynamoDB keeps records 24 hours and an iterator 15 minutes. Here, inside the moto process
(`moto_process.main` installs this; never in the layer):

- each GetRecords retires the iterator it was given; a retired iterator still answers for
  `RETIRED_SECONDS` (a caller whose answer was lost may ask again), then it is forgotten;
- an iterator nobody uses for `IDLE_SECONDS` (15 minutes, as DynamoDB) is forgotten, so a reader
  that went away stops holding records back;
- after each GetRecords, a shard's records before the oldest position of its live iterators (one
  per reader: the one each reader will use next) are dropped, and the shard's starting sequence number
  moves up by as many, so the sequence numbers of the records kept do not change. TRIM_HORIZON then
  starts at the oldest record kept, as it does on DynamoDB once records have aged out;
- no record is kept longer than `MAX_AGE_SECONDS` (DynamoDB's 24 hours) even if a reader lags; a
  reader whose position was trimmed away reads on from the oldest record kept.

tests/local/test_stream_trim.py shows the record count and the iterators bounded over many orders with
the stack's own stream pollers reading; bench/long_run.py runs the local stack for as long as asked.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from moto.dynamodb.models.table import StreamShard
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

RETIRED_SECONDS = 60.0
IDLE_SECONDS = 15 * 60.0
MAX_AGE_SECONDS = 24 * 3600.0

_lock = threading.Lock()
_now = time.monotonic  # the tests speed it up
_installed: dict[str, Any] = {}


def _stamp(iterator: ShardIterator, retired: bool = False) -> None:
    iterator._oms_used_at = _now()  # type: ignore[attr-defined]
    iterator._oms_retired = retired  # type: ignore[attr-defined]


def _shard_get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    """moto's StreamShard.get, reading on from the oldest record kept when `start` was trimmed away."""
    offset = max(start - self.starting_sequence_number, 0)
    return [record.to_json() for record in self.items[offset : offset + quantity]]


def _shard_add(self: StreamShard, old: Any, new: Any) -> None:
    _installed["add"](self, old, new)
    self.items[-1]._oms_added_at = _now()  # type: ignore[attr-defined]


def _get_shard_iterator(self: DynamoDBStreamsBackend, *args: Any, **kwargs: Any) -> ShardIterator:
    iterator: ShardIterator = _installed["get_shard_iterator"](self, *args, **kwargs)
    _stamp(iterator)
    return iterator


def _get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
    iterator = self.shard_iterators[iterator_arn]
    answer: dict[str, Any] = iterator.get(limit)
    with _lock:
        _stamp(iterator, retired=True)
        _stamp(self.shard_iterators[answer["NextShardIterator"]])
        forget_iterators(self)
        trim(self, iterator.stream_shard)
    return answer


def forget_iterators(backend: DynamoDBStreamsBackend, now: float | None = None) -> None:
    """Drop retired iterators after RETIRED_SECONDS and unused ones after IDLE_SECONDS."""
    now = _now() if now is None else now
    for arn, iterator in list(backend.shard_iterators.items()):
        used_at = getattr(iterator, "_oms_used_at", now)
        limit = RETIRED_SECONDS if getattr(iterator, "_oms_retired", False) else IDLE_SECONDS
        if now - used_at > limit:
            del backend.shard_iterators[arn]


def trim(backend: DynamoDBStreamsBackend, shard: StreamShard, now: float | None = None) -> int:
    """Drop the shard's records every live reader has read past (and any older than MAX_AGE_SECONDS);
    returns how many were dropped."""
    now = _now() if now is None else now
    positions = [
        int(it.sequence_number)
        for it in backend.shard_iterators.values()
        if it.stream_shard is shard and not getattr(it, "_oms_retired", False)
    ]
    read_by_all = (min(positions) - shard.starting_sequence_number) if positions else 0
    too_old = 0
    for record in shard.items:
        if now - getattr(record, "_oms_added_at", now) <= MAX_AGE_SECONDS:
            break
        too_old += 1
    drop = min(max(read_by_all, too_old), len(shard.items))
    if drop > 0:
        del shard.items[:drop]
        shard.starting_sequence_number += drop
    return drop


def install() -> None:
    """Patch moto (idempotent): bounded stream records and iterators."""
    if _installed:
        return
    _installed.update(
        shard_get=StreamShard.get,
        add=StreamShard.add,
        get_shard_iterator=DynamoDBStreamsBackend.get_shard_iterator,
        get_records=DynamoDBStreamsBackend.get_records,
    )
    StreamShard.get = _shard_get  # type: ignore[method-assign]
    StreamShard.add = _shard_add  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = _get_shard_iterator  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]


def uninstall() -> None:
    """moto as it was (tests)."""
    if not _installed:
        return
    StreamShard.get = _installed["shard_get"]  # type: ignore[method-assign]
    StreamShard.add = _installed["add"]  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_shard_iterator = _installed["get_shard_iterator"]  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _installed["get_records"]  # type: ignore[method-assign]
    _installed.clear()
