"""The peak benchmark's DynamoDB meter: write units per partition and per second of simulated time.

It extends the cost benchmark's BillMeter (bench/cost_meter.py: item sizes, transactions at 2 units per
KB, index entries with the template's projections) with where each unit lands: the base table's
partition (`pk`) and each index's partition (its hash key's value), in the second of simulated time the
bench says the request was made in (`second`, set per invocation; one thread-local per consumer).
DynamoDB allows 1,000 write units a second per partition (docs/scaling.md); moto never throttles, so
the units a partition got beyond that in one second are counted as the throttles DynamoDB would have
answered (a lower bound of the retries they would cause, since a throttled write is retried later)."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from cost_meter import ALL, BillMeter, Capability, Item, _kb, index_entry, item_size

PARTITION_WCU = 1000  # per partition and second (base table or index)
ENTRY_OVERHEAD = 100


def template_projections(template: Mapping[str, Any]) -> dict[str, frozenset[str] | None]:
    """Each index of the single table with what it projects (None: ALL), as template.yaml declares it."""
    table = template["Resources"]["Table"]["Properties"]
    projections: dict[str, frozenset[str] | None] = {}
    for index in table.get("GlobalSecondaryIndexes", []):
        projection = index["Projection"]
        kind = projection["ProjectionType"]
        if kind == "ALL":
            projections[index["IndexName"]] = ALL
        elif kind == "KEYS_ONLY":
            projections[index["IndexName"]] = frozenset()
        else:
            projections[index["IndexName"]] = frozenset(projection.get("NonKeyAttributes", []))
    return projections


class PartitionMeter(BillMeter):
    """BillMeter, thread-safe, with each write unit put on its partition and simulated second."""

    def __init__(
        self,
        table: str,
        indexes: Mapping[str, tuple[str, str]],
        projections: Mapping[str, frozenset[str] | None],
    ) -> None:
        super().__init__(table, indexes, {"template": dict(projections)})
        self.projections = dict(projections)
        self.lock = threading.RLock()
        self.local = threading.local()
        # (partition, second) -> write units; partition = "table:<pk>" or "<index>:<hash key value>"
        self.units: Counter[tuple[str, int]] = Counter()
        self.all_requests: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # answered with an error (a canceled transaction: a conflict)
        self._pending_after: dict[tuple[str, str, str], Item | None] = {}

    # --------------------------------------------------------------- per consumer

    def begin(self, second: int | Callable[[], int]) -> None:
        """The calling thread's requests count from here, in simulated second `second` (or the one it
        gives at each request, for a caller whose clock moves while it runs)."""
        self.local.second = second
        self.local.requests = Counter()
        self.local.cpu = 0.0

    def cpu_of_thread(self) -> float:
        """The CPU time this thread spent in the meter's own hooks since begin() (not the handler's)."""
        return float(getattr(self.local, "cpu", 0.0))

    def requests_of_thread(self) -> Counter[str]:
        found = getattr(self.local, "requests", None)
        return Counter() if found is None else Counter(found)

    # --------------------------------------------------------------- counting

    def _before(self, model: Any, params: Any, context: dict[str, Any], **_: Any) -> None:
        started = time.thread_time()
        with self.lock:
            super()._before(model, params, context)
        self.local.cpu = getattr(self.local, "cpu", 0.0) + time.thread_time() - started

    def _count(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if not self.on:
            return
        started = time.thread_time()
        try:
            self._count_locked(http_response, parsed, model, context)
        finally:
            self.local.cpu = getattr(self.local, "cpu", 0.0) + time.thread_time() - started

    def _count_locked(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any]
    ) -> None:
        service = model.service_model.service_name
        with self.lock:
            if service == "dynamodb":
                requests = getattr(self.local, "requests", None)
                if requests is not None:
                    requests[model.name] += 1
                self.all_requests[model.name] += 1
                if http_response.status_code >= 300:
                    self.refused[model.name] += 1
            super()._count(http_response, parsed, model, context)

    def _dynamodb(
        self,
        cap: Capability,
        operation: str,
        params: dict[str, Any],
        parsed: dict[str, Any],
        ok: bool,
        before: dict[tuple[str, str, str], Item | None],
    ) -> None:
        second = getattr(self.local, "second", 0)
        if callable(second):
            second = second()
        if before and operation != "BatchGetItem":
            factor = 2 if operation == "TransactWriteItems" else 1
            checks = set()
            if operation == "TransactWriteItems":
                checks = {
                    self._key(a["ConditionCheck"]["TableName"], a["ConditionCheck"]["Key"])
                    for a in params.get("TransactItems", [])
                    if "ConditionCheck" in a
                }
            known = self._known_after(operation, params)
            for key, old in before.items():
                if key[0] != self.table:
                    continue
                written = ok and key not in checks
                if not written:
                    new = old
                elif key in known:
                    new = known[key]
                else:
                    new = self._after(key)
                size = max(item_size(old) if old else 0, item_size(new) if new else 0)
                self.units[(f"table:{key[1]}", second)] += factor * _kb(size)
                if written:
                    for index, keys in self.indexes.items():
                        for partition, units in self._index_partitions(
                            old, new, keys, self.projections[index]
                        ):
                            self.units[(f"{index}:{partition}", second)] += units
                self._pending_after[key] = new  # the base class asks for it again: no second read
        super()._dynamodb(cap, operation, params, parsed, ok, before)
        self._pending_after.clear()

    def _known_after(self, operation: str, params: dict[str, Any]) -> dict[tuple[str, str, str], Item | None]:
        """The items a successful write leaves that its request already shows (puts and deletes), so only
        updates are read back."""
        known: dict[tuple[str, str, str], Item | None] = {}
        if operation == "PutItem":
            known[self._key(params["TableName"], params["Item"])] = params["Item"]
        elif operation == "DeleteItem":
            known[self._key(params["TableName"], params["Key"])] = None
        elif operation == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                if "Put" in action:
                    known[self._key(action["Put"]["TableName"], action["Put"]["Item"])] = action["Put"][
                        "Item"
                    ]
                elif "Delete" in action:
                    known[self._key(action["Delete"]["TableName"], action["Delete"]["Key"])] = None
        return known

    def _after(self, key: tuple[str, str, str]) -> Item | None:
        if key in self._pending_after:
            return self._pending_after[key]
        return super()._after(key)

    @staticmethod
    def _index_partitions(
        old: Item | None, new: Item | None, keys: tuple[str, str], projection: frozenset[str] | None
    ) -> list[tuple[str, int]]:
        before, after = index_entry(old, keys, projection), index_entry(new, keys, projection)

        def cost(entry: Item) -> int:
            return _kb(item_size(entry) + (0 if projection is ALL else ENTRY_OVERHEAD))

        def where(entry: Item) -> str:
            return str(next(iter(entry[keys[0]].values())))

        if before is None and after is None:
            return []
        if before is None:
            return [(where(after), cost(after))]  # type: ignore[arg-type]
        if after is None:
            return [(where(before), cost(before))]
        if tuple(before[k] for k in keys) != tuple(after[k] for k in keys):
            return [(where(before), cost(before)), (where(after), cost(after))]
        if before != after:
            return [(where(after), max(cost(before), cost(after)))]
        return []

    # --------------------------------------------------------------- figures

    def hottest(self, family: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        """Per partition family (a label -> a partition, e.g. "gsi1:ORDERS", or a prefix ending in *): its
        hottest partition's peak units in one second, the seconds it exceeded the limit and the units
        beyond it (what DynamoDB would have throttled), and its units in all."""
        per_partition: dict[str, Counter[int]] = defaultdict(Counter)
        for (partition, second), units in self.units.items():
            per_partition[partition][second] += units
        figures: dict[str, dict[str, Any]] = {}
        for label, prefix in family.items():
            members = {
                p: s
                for p, s in per_partition.items()
                if p == prefix or (prefix.endswith("*") and p.startswith(prefix[:-1]))
            }
            if not members:
                figures[label] = {"partition": None, "peakWcuPerSecond": 0, "secondsOver": 0, "unitsOver": 0}
                continue
            name, seconds = max(members.items(), key=lambda kv: max(kv[1].values()))
            over = [u - PARTITION_WCU for u in seconds.values() if u > PARTITION_WCU]
            figures[label] = {
                "partition": name,
                "partitions": len(members),
                "peakWcuPerSecond": max(seconds.values()),
                "meanWcuPerSecondWhileWritten": round(sum(seconds.values()) / len(seconds), 1),
                "secondsOver": len(over),
                "unitsOver": sum(over),
                "wcu": sum(seconds.values()),
            }
        return figures
