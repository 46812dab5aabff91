"""A faster base-table Query for moto: read the one partition asked for, not the whole table.

moto answers every Query by listing and sorting every item of the table (`Table.all_items`), then keeping
those of the partition key asked for, so a query costs time in proportion to the table: the peak bench
(`bench/peak.py`), which reads a SKU's stock rows, an order and its notifications once per change, spent
more time in moto's sorting than in the handlers as the table grew (issue 15, peak: a 2,000-notification
burst took 20 minutes). A base-table query names one partition, whose items moto already keeps together
(`Table.items[hash key]`), so handing moto's own query that partition alone gives the same answer (it
still sorts by the sort key, applies the key condition, the filter, the limit and the start key). Index
queries (whose partitions moto does not keep) are left as they are. Only the local stack and the benches
use this; Lambda never sees it.
"""

from __future__ import annotations

import contextvars
from typing import Any

from moto.dynamodb.models.table import Table

_partition: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("moto_partition", default=None)
_original: dict[str, Any] = {}


def _query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name is not None or hash_key is None or not self.range_key_attr:
        return _original["query"](self, hash_key, *args, **kwargs)
    partition = self.items.get(hash_key)
    token = _partition.set(list(partition.values()) if partition else [])
    try:
        return _original["query"](self, hash_key, *args, **kwargs)
    finally:
        _partition.reset(token)


def _all_items(self: Table) -> Any:
    only = _partition.get()
    if only is not None:
        return list(only)
    return _original["all_items"](self)


def install() -> None:
    if _original:
        return
    _original["query"] = Table.query
    _original["all_items"] = Table.all_items
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]


def uninstall() -> None:
    """moto as it was (tests)."""
    if not _original:
        return
    Table.query = _original.pop("query")  # type: ignore[method-assign]
    Table.all_items = _original.pop("all_items")  # type: ignore[method-assign]
