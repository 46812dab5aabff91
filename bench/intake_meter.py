"""The intake benchmark's DynamoDB meter: requests per operation, and the write and read units they
cost, computed from item sizes (moto does not report consumed capacity)."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench_shared import write_units as _kb


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return 1 + math.ceil(len(digits) / 2)


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one AttributeValue (wire shape) by DynamoDB's item-size rules, without its name."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(_number_size(n) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in (item or {}).items())


@dataclass
class Stored:
    item: dict[str, Any]  # wire shape
    size: int


@dataclass
class DynamoMeter:
    """Counts one client's DynamoDB requests and the capacity units they cost (computed, see above).

    Its hooks run inside the caller's requests; `cpu` is their own CPU time, which the bench takes
    off the handler's."""

    shadow: dict[tuple[str, str], Stored]  # every item written so far, by (pk, sk)
    indexes: dict[str, tuple[str, str]]
    requests: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    transact_items: int = 0
    table_wcu: float = 0.0
    index_wcu: float = 0.0
    rcu: float = 0.0
    entity_writes: Counter[str] = field(default_factory=Counter)
    entity_bytes: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    on: bool = True

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb", self._keep_params)
        client.meta.events.register("after-call.dynamodb", self._count)

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    @property
    def write_requests(self) -> int:
        return sum(
            self.requests[op]
            for op in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
        )

    @staticmethod
    def _key(item: dict[str, Any]) -> tuple[str, str]:
        return item["pk"]["S"], item["sk"]["S"]

    def _index_wcu(self, old: Stored | None, new: Stored | None) -> float:
        units = 0.0
        for pk, sk in self.indexes.values():
            had = old is not None and pk in old.item and sk in old.item
            has = new is not None and pk in new.item and sk in new.item
            if old is not None and new is not None and had and has:
                if (old.item[pk], old.item[sk]) != (new.item[pk], new.item[sk]):
                    units += _kb(old.size) + _kb(new.size)  # delete the old entry, put the new one
                elif old.item != new.item:
                    units += _kb(max(old.size, new.size))
            elif new is not None and has:
                units += _kb(new.size)
            elif old is not None and had:
                units += _kb(old.size)
        return units

    def _write(self, item: dict[str, Any] | None, key: tuple[str, str], factor: int, applied: bool) -> None:
        old = self.shadow.get(key)
        new = None if item is None else Stored(item, item_size(item))
        if new is not None:
            entity = item.get("entity", {}).get("S", "?") if item else "?"
            self.entity_writes[entity] += 1
            self.entity_bytes[entity] += new.size
        self.table_wcu += factor * _kb(max(old.size if old else 0, new.size if new else 0))
        if applied:
            self.index_wcu += self._index_wcu(old, new)
            if new is None:
                self.shadow.pop(key, None)
            else:
                self.shadow[key] = new

    def _read(self, items: list[dict[str, Any]], requested: int, consistent: bool) -> None:
        units = sum(math.ceil(max(item_size(i), 1) / 4096) for i in items) + (requested - len(items))
        self.rcu += units if consistent else units / 2

    def _count(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if not self.on:
            return
        started = time.thread_time()
        try:
            self._tally(
                model.name, context.get("bench_params") or {}, parsed, http_response.status_code < 300
            )
        finally:
            self.cpu += time.thread_time() - started

    def _tally(self, operation: str, params: dict[str, Any], parsed: dict[str, Any], ok: bool) -> None:
        self.requests[operation] += 1
        if not ok:
            self.refused[operation] += 1
        if operation == "TransactWriteItems":
            actions = params.get("TransactItems", [])
            self.transact_items += len(actions)
            for action in actions:
                ((kind, body),) = action.items()
                if kind == "Put":
                    self._write(body["Item"], self._key(body["Item"]), 2, ok)
                elif kind in ("Delete", "Update", "ConditionCheck"):
                    key = self._key(body["Key"])
                    current = self.shadow.get(key)
                    after = (
                        None if kind == "Delete" or current is None else current.item
                    )  # updates: size kept
                    self._write(after, key, 2, ok and kind != "ConditionCheck")
        elif operation == "PutItem":
            self._write(params["Item"], self._key(params["Item"]), 1, ok)
        elif operation == "GetItem":
            self._read([parsed["Item"]] if "Item" in parsed else [], 1, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                self._read(found, len(request["Keys"]), bool(request.get("ConsistentRead")))
        elif operation == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            units = math.ceil(max(size, 1) / 4096)
            self.rcu += units if params.get("ConsistentRead") else units / 2

    def figures(self, notifications: int, orders: int) -> dict[str, Any]:
        requests = sum(self.requests.values())
        return {
            "requests": requests,
            "requestsByOperation": dict(self.requests),
            "refusedByOperation": dict(self.refused),
            "writeRequests": self.write_requests,
            "transactItems": self.transact_items,
            "tableWcu": self.table_wcu,
            "indexWcu": self.index_wcu,
            "rcu": self.rcu,
            "requestsPerNotification": requests / max(notifications, 1),
            "writeRequestsPerNotification": self.write_requests / max(notifications, 1),
            "itemsWrittenPerNotification": self.transact_items / max(notifications, 1),
            "wcuPerNotification": (self.table_wcu + self.index_wcu) / max(notifications, 1),
            "tableWcuPerNotification": self.table_wcu / max(notifications, 1),
            "indexWcuPerNotification": self.index_wcu / max(notifications, 1),
            "rcuPerNotification": self.rcu / max(notifications, 1),
            "meanItemBytes": {e: round(self.entity_bytes[e] / n) for e, n in self.entity_writes.items()},
            "requestsPerOrder": requests / max(orders, 1),
            "wcuPerOrder": (self.table_wcu + self.index_wcu) / max(orders, 1),
        }
