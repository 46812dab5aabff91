"""Reads, conditional writes, transactions and paged queries on the single table.

Repositories call these with keys from oms.store.keys; nothing outside this package writes a
DynamoDB expression. DynamoDB's refusals become domain errors (oms.errors).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from oms.errors import AlreadyExists, Busy, Conflict, VersionConflict
from oms.observability import logger
from oms.store.keys import PK, SK, TTL_ATTRIBUTE, KeyQuery
from oms.store.pagination import PageTokens

Item = dict[str, Any]
_T = TypeVar("_T")
REPEAT_TRIES = 3  # a read or whole put the table refused for a moment (past the SDK's retries), sent again
_serializer = TypeSerializer()
_SMALLEST_NUMBER = 1e-130
_deserializer = TypeDeserializer()


def to_dynamo(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in item.items() if v is not None}


def from_dynamo(image: Mapping[str, Any]) -> Item:
    return {k: _native(_deserializer.deserialize(v)) for k, v in image.items()}


def _plain(value: Any) -> Any:
    """Python values DynamoDB accepts: floats become Decimals (DynamoDB refuses floats). DynamoDB's numbers
    stop at a magnitude of 1e-130: anything smaller (a subnormal float such as 2e-311) is stored as 0."""
    if isinstance(value, float):
        return Decimal(str(value)) if abs(value) >= _SMALLEST_NUMBER or value == 0 else Decimal(0)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _native(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    return value


def is_expired(item: Mapping[str, Any], now: float | None = None) -> bool:
    """TTL deletes lazily (days late in AWS, never in moto): reads treat expired items as gone."""
    expires = item.get(TTL_ATTRIBUTE)
    return expires is not None and int(expires) <= (now if now is not None else time.time())


@dataclass
class Page:
    items: list[Item]
    next_token: str | None


@dataclass
class Write:
    """One write of a transaction: a put, a conditional update or a delete."""

    kind: str  # "Put" | "Update" | "Delete" | "ConditionCheck"
    key: dict[str, str] = field(default_factory=dict)
    item: Item | None = None
    condition: str | None = None
    update: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def put_new(cls, item: Item) -> Write:
        return cls("Put", item=item, condition="attribute_not_exists(#pk)", names={"#pk": PK})

    @classmethod
    def put_versioned(cls, item: Item, expected_version: int | None) -> Write:
        """Replace an item only if nobody changed it since `expected_version` was read (None: new)."""
        if expected_version is None:
            return cls.put_new({**item, "version": 1})
        if expected_version == 0:  # an item saved before it carried a version
            return cls(
                "Put",
                item={**item, "version": 1},
                condition="attribute_exists(#pk) AND attribute_not_exists(#version)",
                names={"#pk": PK, "#version": "version"},
            )
        return cls(
            "Put",
            item={**item, "version": expected_version + 1},
            condition="#version = :expected",
            names={"#version": "version"},
            values={":expected": expected_version},
        )

    @classmethod
    def add_to_set(cls, key: dict[str, str], attribute: str, value: str, fields: Mapping[str, Any]) -> Write:
        """Add `value` to a string set (creating the item with `fields` if need be); never refused."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        sets = ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
        return cls(
            "Update",
            key=key,
            update="ADD #set :value" + (f" SET {sets}" if sets else ""),
            names={"#set": attribute, **names},
            values={":value": {value}, **{f":f{i}": v for i, v in enumerate(fields.values())}},
        )

    @classmethod
    def delete(cls, key: dict[str, str]) -> Write:
        return cls("Delete", key=key)

    def request(self, table_name: str) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": table_name}
        if self.item is not None:
            body["Item"] = to_dynamo(self.item)
        if self.key:
            body["Key"] = to_dynamo(self.key)
        if self.update:
            body["UpdateExpression"] = self.update
        if self.condition:
            body["ConditionExpression"] = self.condition
        if self.names:
            body["ExpressionAttributeNames"] = self.names
        if self.values:
            body["ExpressionAttributeValues"] = to_dynamo(self.values)
        return {self.kind: body}


class Table:
    """The single table. One instance per warm Lambda; the boto3 client is created on first use."""

    def __init__(self, name: str, page_tokens: Callable[[], PageTokens], client: Any = None) -> None:
        self.name = name
        self._page_tokens = page_tokens
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    def _repeat(self, operation: Callable[..., Any], **request: Any) -> Any:
        """The answer to a call always safe to repeat (a read, a whole item put). One the table refused for a
        moment past the SDK's retries is sent again: a step of many calls (a plan, a backstop's run) would
        otherwise fail at the rate of its calls' faults (decision 108)."""
        for attempt in range(REPEAT_TRIES):
            try:
                return operation(**request)
            except Exception as error:
                pause_if_transient(error, attempt, tries=REPEAT_TRIES, what="a read or put")
        raise AssertionError("unreachable")

    # --- single items ---------------------------------------------------------------------------

    def get(self, key: dict[str, str], *, consistent: bool = False) -> Item | None:
        answer = self._repeat(
            self.client.get_item, TableName=self.name, Key=to_dynamo(key), ConsistentRead=consistent
        )
        if "Item" not in answer:
            return None
        item = from_dynamo(answer["Item"])
        return None if is_expired(item) else item

    def put_new(self, item: Item) -> None:
        self._write_one(Write.put_new(item))

    def put(self, item: Item) -> None:
        """The item, whole, in place of any before it: safe to repeat, so sent again when the table refused it
        for a moment (`_repeat`)."""
        self._repeat(self.client.put_item, **Write("Put", item=item).request(self.name)["Put"])

    def _write_one(self, write: Write) -> None:
        """One conditional write as the single-item call (half a transaction's cost), same refusals."""
        ((kind, body),) = write.request(self.name).items()
        call = {
            "Put": self.client.put_item,
            "Update": self.client.update_item,
            "Delete": self.client.delete_item,
        }
        try:
            call[kind](**body)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                refused = _condition_error(write)
                refused.failed_index = 0
                raise refused from None
            raise

    def get_many(self, keys: Sequence[dict[str, str]], *, consistent: bool = True) -> list[Item]:
        """Up to 100 items by key in one request (unprocessed keys are retried); missing ones are skipped."""
        return [item for item in self._batch_get(keys, consistent) if not is_expired(item)]

    def _batch_get(self, keys: Sequence[dict[str, str]], consistent: bool) -> list[Item]:
        found: list[Item] = []
        pending = [to_dynamo(k) for k in keys]
        while pending:
            answer = self._repeat(
                self.client.batch_get_item,
                RequestItems={self.name: {"Keys": pending[:100], "ConsistentRead": consistent}},
            )
            found.extend(from_dynamo(i) for i in answer.get("Responses", {}).get(self.name, []))
            pending = pending[100:] + answer.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
        return found

    def _items_of(self, query: KeyQuery, entries: list[Item]) -> list[Item]:
        """A keys-only index's entries as the items they name, in the index's order, read by key
        (eventually consistent, as the index is). An item deleted since, or moved out of the entry's
        place in the index, is left out, as the index itself will soon have it."""
        if not query.keys_only or not entries:
            return entries
        pk_name, sk_name = query.key_names
        found = {(i[PK], i[SK]): i for i in self._batch_get([{PK: e[PK], SK: e[SK]} for e in entries], False)}
        items = []
        for entry in entries:
            item = found.get((entry[PK], entry[SK]))
            if (
                item is not None
                and item.get(pk_name) == entry[pk_name]
                and item.get(sk_name) == entry[sk_name]
            ):
                items.append(item)
        return items

    def delete(self, key: dict[str, str], *, condition: str | None = None) -> None:
        extra = {"ConditionExpression": condition} if condition else {}
        self.client.delete_item(TableName=self.name, Key=to_dynamo(key), **extra)

    # --- many items at once ---------------------------------------------------------------------

    def transact(self, writes: Sequence[Write]) -> None:
        """All or nothing (up to 100 writes). A failed condition raises the domain error it means.
        A single write goes as the single-item call: as atomic, half the write cost."""
        if len(writes) == 1 and writes[0].kind != "ConditionCheck":
            self._write_one(writes[0])
            return
        try:
            self.client.transact_write_items(TransactItems=[w.request(self.name) for w in writes])
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            for index, (write, reason) in enumerate(zip(writes, reasons, strict=False)):
                if reason.get("Code") == "ConditionalCheckFailed":
                    refused = _condition_error(write)
                    refused.failed_index = index
                    raise refused from None
            raise _cancelled(reasons) from None

    # --- queries --------------------------------------------------------------------------------

    def query_page(
        self, query: KeyQuery, *, limit: int, next_token: str | None = None, scope: str = ""
    ) -> Page:
        """One page of a partition. `scope` names the query's filters so a token only resumes it."""
        scope = f"{query}|{scope}"
        tokens = self._page_tokens()
        request = self._query_request(query)
        request["Limit"] = limit
        if next_token:
            request["ExclusiveStartKey"] = tokens.decode(next_token, scope)
        now = time.time()
        answer = self._repeat(self.client.query, **request)
        entries = self._items_of(query, [from_dynamo(i) for i in answer.get("Items", [])])
        items = [i for i in entries if not is_expired(i, now)]
        last = answer.get("LastEvaluatedKey")
        return Page(items, tokens.encode(last, scope) if last else None)

    def token_after(self, query: KeyQuery, item: Item, *, scope: str = "") -> str:
        """A next_token for `query_page(query, scope=scope)` that resumes right after `item`, a row it returned
        (for a reader that stops part way through a page)."""
        names = {PK, SK, *query.key_names}
        return self._page_tokens().encode(to_dynamo({name: item[name] for name in names}), f"{query}|{scope}")

    def query_all(
        self,
        query: KeyQuery,
        *,
        page_size: int = 100,
        include_expired: bool = False,
        consistent: bool = False,
    ) -> Iterator[Item]:
        """Every item of a partition, page by page (for batch jobs, not for API answers).
        `consistent` reads the table strongly consistently (indexes never are)."""
        request = self._query_request(query)
        request["Limit"] = page_size
        if consistent and not query.index:
            request["ConsistentRead"] = True
        while True:
            answer = self._repeat(self.client.query, **request)
            now = time.time()
            items = self._items_of(query, [from_dynamo(i) for i in answer.get("Items", [])])
            yield from (i for i in items if include_expired or not is_expired(i, now))
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _query_request(self, query: KeyQuery) -> dict[str, Any]:
        pk_name, sk_name = query.key_names
        names = {"#pk": pk_name}
        values: dict[str, Any] = {":pk": query.partition}
        condition = "#pk = :pk"
        if query.sk_from is not None and query.sk_to is not None:
            condition += " AND #sk BETWEEN :from AND :to"
            values |= {":from": query.sk_from, ":to": query.sk_to}
        elif query.sk_from is not None:
            condition += " AND #sk >= :from"
            values[":from"] = query.sk_from
        elif query.sk_to is not None:
            condition += " AND #sk <= :to"
            values[":to"] = query.sk_to
        elif query.sk_before is not None:
            condition += " AND #sk < :before"
            values[":before"] = query.sk_before
        if ":from" in values or ":to" in values or ":before" in values:
            names["#sk"] = sk_name
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_dynamo(values),
            "ScanIndexForward": not query.newest_first,
        }
        if query.index_name:
            request["IndexName"] = query.index_name
        return request


def back_off(attempt: int) -> None:
    """Writers contending for one item: wait a random, growing moment before reading it again."""
    time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))  # noqa: S311 - jitter, not crypto


# DynamoDB's answers, once the SDK's own retries are spent, that a moment later may not repeat
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def transient(error: BaseException) -> bool:
    """A throttle, a server error or a lost race of the table (Busy): the same call may work in a moment."""
    if isinstance(error, Busy):
        return True
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in TRANSIENT_CODES


def again_if_transient(call: Callable[[], _T], *, tries: int, what: str) -> _T:
    """`call`, tried again (up to `tries` in all, after a growing random pause) while it fails on a throttle or
    a server error of the table past the SDK's own retries: for a step that is idempotent, so a try whose
    answer was lost is harmless to repeat. Anything else, or the last try's error, is raised."""
    for attempt in range(tries):
        try:
            return call()
        except Exception as error:
            pause_if_transient(error, attempt, tries=tries, what=what)
    raise AssertionError("unreachable")


def pause_if_transient(error: Exception, attempt: int, *, tries: int, what: str) -> None:
    """In a loop that tries a step again (`attempt` from 0): the growing random pause before the next try when
    `error` is the table refusing for a moment (`transient`) and tries are left; else `error` is raised."""
    if attempt >= tries - 1 or not transient(error):
        raise error
    logger.info(f"{what} was refused for a moment; again", extra={"error": str(error)[:300]})
    back_off(attempt + 4)


# cancellation reasons that mean "another change or the table's throughput was in the way", not a condition
BUSY_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


def _cancelled(reasons: Sequence[Mapping[str, Any]]) -> Conflict:
    codes = {reason.get("Code") for reason in reasons} - {"None", None}
    if codes and codes <= BUSY_REASONS:
        return Busy("the table is busy with other changes for a moment; nothing was changed, try again")
    return Conflict("the change collided with another change; try again")


def _condition_error(write: Write) -> Conflict:
    if write.condition and "attribute_not_exists" in write.condition:
        return AlreadyExists("it already exists")
    return VersionConflict("it was changed by someone else since it was read")


def transact_tables(parts: Sequence[tuple[Table, Sequence[Write]]]) -> None:
    """One all-or-nothing transaction over writes to several tables of the stack (e.g. a buyer's message in
    the buyer-data table and its thread's clock in the main table). A failed condition raises its error."""
    flat = [(table, write) for table, writes in parts for write in writes]
    if not flat:
        return
    client = flat[0][0].client
    try:
        client.transact_write_items(TransactItems=[write.request(table.name) for table, write in flat])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons", [])
        for index, ((_, write), reason) in enumerate(zip(flat, reasons, strict=False)):
            if reason.get("Code") == "ConditionalCheckFailed":
                refused = _condition_error(write)
                refused.failed_index = index
                raise refused from None
        raise _cancelled(reasons) from None
