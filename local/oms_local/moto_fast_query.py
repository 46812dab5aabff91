"""A faster Query for moto: read the one partition asked for, not the whole table.

moto answers every Query by listing and sorting every item of the table (`Table.all_items`), then keeping
those of the partition key asked for, so a query costs time in proportion to the table: the peak bench
(`bench/peak.py`), which reads a SKU's stock rows, an order and its notifications once per change, spent
more time in moto's sorting than in the handlers as the table grew (issue 15, peak: a 2,000-notification
burst took 20 minutes). A base-table query names one partition, whose items moto already keeps together
(`Table.items[hash key]`), so handing moto's own query that partition alone gives the same answer (it
still sorts by the sort key, applies the key condition, the filter, the limit and the start key). Within
the partition only the items meeting the sort-key condition are handed over: moto sorts and sizes every
item it is given, so a SKU's stock rows cost time in proportion to its ledger (the peak bench at 9,000
notifications spent most of moto's time there).

An index query names one partition of the index, which moto does not keep: here each table keeps, per
index, the keys of the items that had each value of the index's (first) partition key attribute, built on
the index's first query from the whole table once, then told of every write (a put, wherever it comes
from: PutItem, BatchWriteItem, transactions, PartiQL; an update, which changes moto's item in place). A
deleted item, or one whose value changed since, is left in its old set and dropped when a query finds it
gone or different. moto's own query then gets every item that has the value (and perhaps none other), and
keeps, sorts (by the index's keys, then the table's: one order whatever the order handed to it), pages and
projects them exactly as it would have from the whole table. Only the local stack and the benches use
this; Lambda never sees it.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_partition: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("moto_partition", default=None)
_original: dict[str, Any] = {}
# table -> index partition key attribute -> its value -> keys (hash, range) of the items that had it
_registers: weakref.WeakKeyDictionary[Table, dict[str, dict[DynamoType, set[tuple[Any, Any]]]]] = (
    weakref.WeakKeyDictionary()
)


def _query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
    if index_name is not None:
        candidates = _index_partition(self, index_name, kwargs.get("hash_key_conditions"))
    elif hash_key is None or not self.range_key_attr:
        candidates = None
    else:
        partition = self.items.get(hash_key)
        candidates = _in_range(self, hash_key, list(partition.values()) if partition else [], args, kwargs)
    if candidates is None:
        return _original["query"](self, hash_key, *args, **kwargs)
    token = _partition.set(candidates)
    try:
        return _original["query"](self, hash_key, *args, **kwargs)
    finally:
        _partition.reset(token)


def _in_range(
    table: Table, hash_key: Any, items: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[Any]:
    """What moto's query of a base-table partition will look at, in its sort order: the items that meet the
    sort-key condition, after the start key, at most one more than the limit, and the nearest item past the
    range's end (a full page ending at the range's end still names its last item as LastEvaluatedKey, as
    DynamoDB does). moto itself sorts the whole partition, sizes and tests every item, and walks from the
    first to the start key for every page: a SKU's stock rows cost time in proportion to its ledger, and
    every page of a best seller's open demand in proportion to all of it. The one difference: an item the
    condition leaves out no longer counts towards moto's 1 MB page (DynamoDB does not read it either)."""
    if any(k not in _QUERY_PARAMETERS for k in kwargs):
        return items  # the legacy QueryFilter: moto's own loop decides
    comparison = kwargs.get("range_comparison", args[0] if args else None)
    values = kwargs.get("range_objs", args[1] if len(args) > 1 else None)
    limit = kwargs.get("limit", args[2] if len(args) > 2 else None)
    start = kwargs.get("exclusive_start_key", args[3] if len(args) > 3 else None)
    forward = kwargs.get("scan_index_forward", args[4] if len(args) > 4 else True) is not False
    kept: list[Any] = []
    left: list[Any] = []
    if comparison and values is not None:
        conditions = kwargs.get("range_key_conditions") or []
        name = conditions[-1][0] if conditions else None
        for item in items:
            value = item.attrs.get(name) if name else None
            (kept if (value if value else item.range_key).compare(comparison, values) else left).append(item)
    else:
        kept = list(items)
    if not kept:
        return []
    kept.sort(key=_rank, reverse=not forward)  # what moto's sort compares
    if start:
        first = _start_rank(table, hash_key, start)
        if first is None:
            return kept + left  # a start key of another partition: moto's own walk decides
        kept = [i for i in kept if (_rank(i) > first if forward else _rank(i) < first)]
    end = _rank(kept[-1]) if kept else None
    beyond: tuple[Any, Any] | None = None
    for item in left:  # the nearest item past the range's end, in the scan's direction
        rank = _rank(item)
        past = end is not None and (rank > end if forward else rank < end)
        if past and (beyond is None or (rank < beyond[0] if forward else rank > beyond[0])):
            beyond = (rank, item)
    if beyond is not None:
        kept.append(beyond[1])
    if isinstance(limit, int) and limit > 0:
        kept = kept[: limit + 1]
    return kept


def _rank(item: Any) -> Any:
    return item.range_key.cast_value


def _start_rank(table: Table, hash_key: Any, start: dict[str, Any]) -> Any:
    """The start key's sort-key value, when it names the partition queried (else None)."""
    try:
        if DynamoType(start[table.hash_key_attr]) != hash_key:
            return None
        return DynamoType(start[str(table.range_key_attr)]).cast_value
    except (KeyError, TypeError, ValueError):
        return None


_QUERY_PARAMETERS = {
    "range_comparison",
    "range_objs",
    "limit",
    "exclusive_start_key",
    "scan_index_forward",
    "projection_expressions",
    "index_name",
    "consistent_read",
    "filter_expression",
    "hash_key_conditions",
    "range_key_conditions",
}


def _partition_attribute(table: Table, index_name: str) -> str | None:
    """The attribute the index is partitioned by (its first HASH key), or None when there is no such index
    (moto says so)."""
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    if index is None:
        return None
    return next((k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"), None)


def _index_partition(table: Table, index_name: str, conditions: Any) -> list[Any] | None:
    """Every item whose index partition key has the value asked for (a superset is fine: moto's query keeps
    only those matching all its key conditions); None to leave the query to moto as it is."""
    attribute = _partition_attribute(table, index_name)
    if attribute is None:
        return None
    wanted = next((value for name, value in conditions or [] if name == attribute), None)
    if not isinstance(wanted, DynamoType):
        return None
    if attribute == table.hash_key_attr:  # a local index: the table's partition, which moto keeps together
        partition = table.items.get(wanted)
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    keys = _register(table, attribute).get(wanted)
    if not keys:
        return []
    found = []
    for key in list(keys):
        item = _item(table, key)
        value = None if item is None else item.attrs.get(attribute)
        if value is None or value != wanted:
            keys.discard(key)  # deleted, or its value changed since (it is in that value's set too)
            continue
        found.append(item)
    return found


def _item(table: Table, key: tuple[Any, Any]) -> Any:
    hash_key, range_key = key
    found = table.items.get(hash_key)
    if found is None or range_key is None:
        return found
    return found.get(range_key)


def _register(table: Table, attribute: str) -> dict[DynamoType, set[tuple[Any, Any]]]:
    """The index's register, built from the whole table on its first query (a table's items are already
    there when a test or a stack installs this; it is kept up to date from then on)."""
    registers = _registers.setdefault(table, {})
    register = registers.get(attribute)
    if register is None:
        register = registers[attribute] = {}
        for item in _original["all_items"](table):
            _note_in(register, attribute, item)
    return register


def _note_in(register: dict[DynamoType, set[tuple[Any, Any]]], attribute: str, item: Any) -> None:
    value = item.attrs.get(attribute)
    if value is None:
        return
    with contextlib.suppress(TypeError):  # a value that is no key (a list, a map) is in no index partition
        register.setdefault(value, set()).add((item.hash_key, item.range_key))


def _note(table: Table, item: Any) -> None:
    """A written item, in the register of each index already built."""
    if item is None:
        return
    for attribute, register in _registers.get(table, {}).items():
        _note_in(register, attribute, item)


def _put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    item = _original["put_item"](self, *args, **kwargs)
    _note(self, item)
    return item


def _update_item(
    self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
) -> Any:
    try:
        return _original["update_item"](self, table_name, key, *args, **kwargs)
    finally:  # moto changes the item in place; even a failed update may have changed some of it
        table = self.tables.get(table_name)
        if table is not None and table in _registers:
            with contextlib.suppress(Exception):  # a key moto refused names no item; its own error stands
                hash_key, range_key = self.get_keys_value(table, key)
                _note(table, table.get_item(hash_key, range_key))


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
    _original["put_item"] = Table.put_item
    _original["update_item"] = DynamoDBBackend.update_item
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    Table.put_item = _put_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]


def uninstall() -> None:
    """moto as it was (tests)."""
    if not _original:
        return
    Table.query = _original.pop("query")  # type: ignore[method-assign]
    Table.all_items = _original.pop("all_items")  # type: ignore[method-assign]
    Table.put_item = _original.pop("put_item")  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _original.pop("update_item")  # type: ignore[method-assign]
    _registers.clear()
