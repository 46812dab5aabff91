"""The cost benchmark's meter: every AWS request any boto3 client in this process makes, counted by
botocore event hooks, per capability (the function running) and per service and operation; DynamoDB
read and write units computed from the items themselves (moto does not report consumed capacity).

DynamoDB's rules, as applied here:
- a write costs 1 write unit per started KB of the larger of the item before and after (PutItem,
  UpdateItem, DeleteItem, BatchWriteItem), 2 per started KB inside TransactWriteItems (a canceled
  transaction is charged too); a ConditionCheck costs like a write of its item;
- each global secondary index whose entry is written costs 1 write unit per started KB of the entry:
  an item has an entry when it holds both of the index's key attributes; putting a new entry, deleting
  one, or changing a projected attribute writes it once; changing its key writes it twice (delete, put);
  the entry is the index's and the table's keys, the projected attributes and 100 bytes. ALL projects
  every attribute, KEYS_ONLY none, INCLUDE the ones named;
- a read costs 1 unit per started 4 KB (GetItem, BatchGetItem per item; Query per page, summed
  first), half of that when eventually consistent.
The items after an UpdateItem or a transaction's Update are read back through a client of the meter's
own (not counted), so their sizes are the real ones."""

from __future__ import annotations

import contextlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.client
from bench_shared import write_units as _kb
from intake_meter import item_size

Item = dict[str, Any]  # wire shape
ALL = None  # projection: every attribute
TABLE_KEYS = ("pk", "sk")
ENTRY_OVERHEAD = 100
POLLING = "queue polling (event source mappings)"  # the SQS pollers' own requests


def index_entry(item: Item | None, keys: tuple[str, str], projection: frozenset[str] | None) -> Item | None:
    """The index's entry for `item` (None when the item lacks one of the index's key attributes)."""
    if item is None or any(k not in item for k in keys):
        return None
    if projection is ALL:
        return item
    wanted = {*keys, *TABLE_KEYS, *projection}
    return {name: value for name, value in item.items() if name in wanted}


def index_write_units(
    old: Item | None, new: Item | None, keys: tuple[str, str], projection: frozenset[str] | None
) -> int:
    """Write units one index pays when an item goes from `old` to `new` (None: absent)."""
    before, after = index_entry(old, keys, projection), index_entry(new, keys, projection)

    def cost(entry: Item) -> int:
        return _kb(item_size(entry) + (0 if projection is ALL else ENTRY_OVERHEAD))

    if before is None and after is None:
        return 0
    if before is None:
        return cost(after)  # type: ignore[arg-type]
    if after is None:
        return cost(before)
    if tuple(before[k] for k in keys) != tuple(after[k] for k in keys):
        return cost(before) + cost(after)
    if before != after:
        return max(cost(before), cost(after))
    return 0


def read_units(sizes: list[int], consistent: bool) -> float:
    units = sum(math.ceil(max(s, 1) / 4096) for s in sizes)
    return float(units) if consistent else units / 2


@dataclass
class Capability:
    requests: Counter[str] = field(default_factory=Counter)  # "service.Operation"
    table_wcu: float = 0.0
    index_wcu: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # per projection plan
    rcu: float = 0.0
    sqs_requests: int = 0  # in 64 KB chunks
    events: int = 0  # EventBridge entries, in 64 KB chunks
    invocations: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the handler thread's CPU time (the stream and queue functions)
    gb_seconds: float = 0.0
    log_bytes: int = 0
    metric_names: set[str] = field(default_factory=set)
    entity_wcu: Counter[str] = field(default_factory=Counter)  # table + first plan's indexes, per item kind


class BillMeter:
    """Installs itself on every botocore client created while it is `installed()`."""

    def __init__(
        self, table: str, indexes: Mapping[str, tuple[str, str]], plans: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.table = table  # the single table; the buyer-data table's one index projects orderId only
        self.indexes = dict(indexes)
        self.plans = {name: dict(plan) for name, plan in plans.items()}  # plan -> index -> projection
        self.shadow: dict[tuple[str, str, str], Item] = {}  # (table, pk, sk) -> item
        self.capabilities: dict[str, Capability] = defaultdict(Capability)
        self.current = POLLING
        self.on = False
        self.reader: Any = None  # a DynamoDB client the meter reads items back with, not counted
        self.free_services = {"dynamodbstreams"}  # Lambda's own stream reads are free
        self._original: Any = None

    # --------------------------------------------------------------- installing

    @contextlib.contextmanager
    def installed(self) -> Iterator[BillMeter]:
        creator = botocore.client.ClientCreator
        original = creator.create_client
        meter = self

        def create_client(self_: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(self_, *args, **kwargs)
            meter.attach(client)
            return client

        creator.create_client = create_client  # type: ignore[method-assign]
        try:
            yield self
        finally:
            creator.create_client = original  # type: ignore[method-assign]

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"provide-client-params.{service}", self._keep_params)
        client.meta.events.register(f"after-call.{service}", self._count)
        client.meta.events.register(f"before-call.{service}", self._before)

    @contextlib.contextmanager
    def capability(self, name: str) -> Iterator[Capability]:
        before, self.current = self.current, name
        try:
            yield self.capabilities[name]
        finally:
            self.current = before

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bill_params"] = params

    def _before(self, model: Any, params: Any, context: dict[str, Any], **_: Any) -> None:
        """Remember the items a write will change, as they are before it."""
        if not self.on or model.service_model.service_name != "dynamodb":
            return
        context["bill_before"] = {
            key: self.shadow.get(key) for key in self._written_keys(model.name, context)
        }

    def _written_keys(self, operation: str, context: dict[str, Any]) -> list[tuple[str, str, str]]:
        params = context.get("bill_params") or {}
        found: list[tuple[str, str, str]] = []
        if operation in ("PutItem",):
            found.append(self._key(params["TableName"], params["Item"]))
        elif operation in ("UpdateItem", "DeleteItem"):
            found.append(self._key(params["TableName"], params["Key"]))
        elif operation == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                ((_, body),) = action.items()
                found.append(self._key(body["TableName"], body.get("Item") or body["Key"]))
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        found.append(self._key(table, request["PutRequest"]["Item"]))
                    else:
                        found.append(self._key(table, request["DeleteRequest"]["Key"]))
        return found

    @staticmethod
    def _key(table: str, item: Mapping[str, Any]) -> tuple[str, str, str]:
        return table, str(item["pk"].get("S")), str(item.get("sk", {}).get("S"))

    # --------------------------------------------------------------- counting

    def _count(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if not self.on:
            return
        service = model.service_model.service_name
        if service in self.free_services:
            return
        if model.name == "ReceiveMessage" and not parsed.get("Messages") and self.current == POLLING:
            return  # the bench's pollers ask after every step; Lambda's long-poll (a flat few cents a month)
        cap = self.capabilities[self.current]
        cap.requests[f"{service}.{model.name}"] += 1
        params = context.get("bill_params") or {}
        ok = http_response.status_code < 300
        if service == "dynamodb":
            self._dynamodb(cap, model.name, params, parsed, ok, context.get("bill_before") or {})
        elif service == "sqs":
            cap.sqs_requests += self._sqs_chunks(model.name, params)
        elif service == "events" and model.name == "PutEvents":
            from cost_prices import chunks

            cap.events += sum(chunks(len(str(e.get("Detail", "")))) for e in params.get("Entries", []))

    @staticmethod
    def _sqs_chunks(operation: str, params: dict[str, Any]) -> int:
        from cost_prices import chunks

        if operation == "SendMessage":
            return chunks(len(params.get("MessageBody", "").encode()))
        if operation == "SendMessageBatch":
            return chunks(sum(len(e.get("MessageBody", "").encode()) for e in params.get("Entries", [])))
        return 1

    def _dynamodb(
        self,
        cap: Capability,
        operation: str,
        params: dict[str, Any],
        parsed: dict[str, Any],
        ok: bool,
        before: dict[tuple[str, str, str], Item | None],
    ) -> None:
        if operation in ("GetItem",):
            sizes = [item_size(parsed["Item"])] if "Item" in parsed else [1]
            cap.rcu += read_units(sizes, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                sizes = [item_size(i) for i in found] + [1] * (len(request["Keys"]) - len(found))
                cap.rcu += read_units(sizes, bool(request.get("ConsistentRead")))
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in parsed.get("Items", []))
            cap.rcu += read_units([size], bool(params.get("ConsistentRead")))
        elif operation == "TransactGetItems":
            sizes = [item_size(r.get("Item")) for r in parsed.get("Responses", [])]
            cap.rcu += 2 * read_units(sizes or [1], True)
        elif before:
            factor = 2 if operation == "TransactWriteItems" else 1
            checks = set()
            if operation == "TransactWriteItems":
                checks = {
                    self._key(a["ConditionCheck"]["TableName"], a["ConditionCheck"]["Key"])
                    for a in params.get("TransactItems", [])
                    if "ConditionCheck" in a
                }
            for key, old in before.items():
                new = self._after(key) if ok and key not in checks else old
                size = max(item_size(old) if old else 0, item_size(new) if new else 0)
                cap.table_wcu += factor * _kb(size)
                entity = self._entity(key, old, new)
                cap.entity_wcu[entity] += factor * _kb(size)
                if ok and key not in checks:
                    for number, (plan, projections) in enumerate(self.plans.items()):
                        if key[0] == self.table:
                            units = sum(
                                index_write_units(old, new, keys, projections.get(index))
                                for index, keys in self.indexes.items()
                            )
                        else:
                            units = index_write_units(old, new, ("gsi1pk", "gsi1sk"), frozenset({"orderId"}))
                        cap.index_wcu[plan] += units
                        if number == 0:
                            cap.entity_wcu[entity] += units
                    if new is None:
                        self.shadow.pop(key, None)
                    else:
                        self.shadow[key] = new

    @staticmethod
    def _entity(key: tuple[str, str, str], old: Item | None, new: Item | None) -> str:
        for item in (new, old):
            if item and "entity" in item:
                return str(item["entity"].get("S"))
        return f"{key[1].split('#')[0]}/{key[2].split('#')[0]}"

    def _after(self, key: tuple[str, str, str]) -> Item | None:
        table, pk, sk = key
        answer = self.reader.get_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        item: Item | None = answer.get("Item")
        return item

    # --------------------------------------------------------------- Lambda and logs

    def invoked(self, seconds: float, memory_mb: int) -> None:
        from cost_prices import billed_gb_seconds

        cap = self.capabilities[self.current]
        cap.invocations += 1
        cap.seconds += seconds
        cap.gb_seconds += billed_gb_seconds(seconds, memory_mb)

    def write(self, text: str) -> int:
        """A stream for the functions' stdout and logger: CloudWatch Logs ingests every byte, and each
        EMF line's metrics are custom metrics."""
        cap = self.capabilities[self.current]
        cap.log_bytes += len(text.encode())
        for line in text.splitlines():
            if '"_aws"' not in line:
                continue
            import json

            with contextlib.suppress(ValueError):
                document = json.loads(line)
                for directive in document["_aws"]["CloudWatchMetrics"]:
                    for metric in directive["Metrics"]:
                        for dimensions in directive.get("Dimensions", [[]]):
                            values = ",".join(f"{d}={document.get(d)}" for d in dimensions)
                            cap.metric_names.add(f"{directive['Namespace']}/{metric['Name']}[{values}]")
        return len(text)

    def flush(self) -> None:
        pass
