"""moto's Query reading one partition (oms_local.moto_fast_query) answers exactly as moto does: key
conditions, filters, order, limits and pages, on the table and on its indexes (projections included), also
after items moved between, left or entered an index's partitions by every kind of write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from oms_local import moto_fast_query

QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "SKU#7"}}},
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "SKU#7"}, ":s": {"S": "LEDGER#"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "FilterExpression": "n > :n",
        "ExpressionAttributeValues": {
            ":p": {"S": "SKU#3"},
            ":a": {"S": "LEDGER#02"},
            ":b": {"S": "LEDGER#09"},
            ":n": {"N": "4"},
        },
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "NOBODY"}}},
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":p": {"S": "SKU#5"},
            ":a": {"S": "LEDGER#03"},
            ":b": {"S": "LEDGER#08"},
        },
        "Limit": 2,
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "SKU#2"}}, "Limit": 5},
    {
        "KeyConditionExpression": "pk = :p AND sk < :s",
        "ExpressionAttributeValues": {":p": {"S": "SKU#5"}, ":s": {"S": "LEDGER#05"}},
        "ScanIndexForward": False,
        "Limit": 2,
    },
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "STOCK"}},
        "Limit": 4,
    },
]


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        for sku in range(10):
            client.put_item(
                TableName="t",
                Item={
                    "pk": {"S": f"SKU#{sku}"},
                    "sk": {"S": "STOCK"},
                    "gsi1pk": {"S": "STOCK"},
                    "gsi1sk": {"S": f"{sku:03d}"},
                },
            )
            for n in range(12):
                client.put_item(
                    TableName="t",
                    Item={"pk": {"S": f"SKU#{sku}"}, "sk": {"S": f"LEDGER#{n:02d}"}, "n": {"N": str(n)}},
                )
        yield client


def _pages(client: Any, query: dict[str, Any]) -> list[Any]:
    pages, start = [], None
    while True:
        answer = client.query(TableName="t", **query, **({"ExclusiveStartKey": start} if start else {}))
        pages.append((answer["Items"], answer.get("LastEvaluatedKey")))
        start = answer.get("LastEvaluatedKey")
        if not start:
            return pages


def test_the_partition_alone_gives_moto_s_own_answers(table):
    expected = [_pages(table, q) for q in QUERIES]
    moto_fast_query.install()
    whole_table = moto_fast_query._original["all_items"]
    listed: list[str] = []

    def counted(self: Any) -> Any:
        listed.append(self.name)
        return whole_table(self)

    moto_fast_query._original["all_items"] = counted
    handed: list[int] = []
    in_range = moto_fast_query._in_range

    def counted_range(items: list[Any], *args: Any) -> list[Any]:
        kept = in_range(items, *args)
        handed.append(len(kept))
        return kept

    moto_fast_query._in_range = counted_range  # type: ignore[assignment]
    try:
        assert [_pages(table, q) for q in QUERIES] == expected
        assert listed == ["t"], "the index's register is built from the whole table once, then kept"
        assert handed[0] == 13 and max(handed[1:]) <= 9 and handed.count(3) >= 5, (
            "moto's query is handed the partition's items in the sort-key range, after the start key, one more"
            " than the limit (and the next one): not all 13"
        )
    finally:
        moto_fast_query._original["all_items"] = whole_table
        moto_fast_query._in_range = in_range  # type: ignore[assignment]
        moto_fast_query.uninstall()
    assert len(expected[0][0][0]) == 13 and len(expected[1]) == 4  # the queries do reach items and pages


# ------------------------------------------------------------------------------------------ index queries

INDEX_QUERIES: list[dict[str, Any]] = [
    *(
        {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": v}},
        }
        for v in ("A", "B", "C", "NOBODY")
    ),
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "A"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
        "FilterExpression": "n > :n",
        "ExpressionAttributeValues": {
            ":p": {"S": "A"},
            ":a": {"S": "02"},
            ":b": {"S": "07"},
            ":n": {"N": "3"},
        },
        "Limit": 2,
    },
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p AND begins_with(gsi1sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "B"}, ":s": {"S": "0"}},
        "ProjectionExpression": "pk, n",
    },
    {  # keys only: the table's keys and the index's
        "IndexName": "gsi2",
        "KeyConditionExpression": "gsi2pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "LOW"}},
        "Limit": 4,
    },
    {
        "IndexName": "gsi2",
        "KeyConditionExpression": "gsi2pk = :p AND gsi2sk > :s",
        "ExpressionAttributeValues": {":p": {"S": "HIGH"}, ":s": {"N": "3"}},
        "ScanIndexForward": False,
    },
    {  # INCLUDE, and an index without a sort key: the table's keys order it
        "IndexName": "gsi3",
        "KeyConditionExpression": "gsi3pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "ALL"}},
        "Limit": 5,
    },
    {  # a local index: the table's partition
        "IndexName": "lsi1",
        "KeyConditionExpression": "pk = :p AND lsisk >= :s",
        "ExpressionAttributeValues": {":p": {"S": "P#1"}, ":s": {"S": "c"}},
        "Limit": 2,
    },
    {
        "IndexName": "lsi1",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "P#0"}},
        "ScanIndexForward": False,
    },
]


def _item(p: int, s: int) -> dict[str, Any]:
    """Items spread over index partitions; some out of an index (no key there), some sharing an index sort
    value (the table's keys decide their order), numbers as index sort keys."""
    item: dict[str, Any] = {
        "pk": {"S": f"P#{p}"},
        "sk": {"S": f"S#{s:02d}"},
        "n": {"N": str((p * 7 + s) % 9)},
    }
    if (p + s) % 4:
        item |= {"gsi1pk": {"S": "ABC"[(p + s) % 3]}, "gsi1sk": {"S": f"{(s * 3 + p) % 10:02d}"}}
    if s % 3:
        item |= {"gsi2pk": {"S": "LOW" if s % 2 else "HIGH"}, "gsi2sk": {"N": str(s % 5)}}
    if p % 2 or s % 5 == 0:
        item |= {"gsi3pk": {"S": "ALL"}, "kept": {"S": f"kept {p}/{s}"}, "dropped": {"S": "not projected"}}
    if s % 2:
        item |= {"lsisk": {"S": "abcdef"[s % 6]}}
    return item


@pytest.fixture
def indexed() -> Iterator[Any]:
    key = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]

    def gsi(name: str, projection: dict[str, Any], sort: bool = True) -> dict[str, Any]:
        schema = [{"AttributeName": f"{name}pk", "KeyType": "HASH"}]
        if sort:
            schema.append({"AttributeName": f"{name}sk", "KeyType": "RANGE"})
        return {"IndexName": name, "KeySchema": schema, "Projection": projection}

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                *(
                    {"AttributeName": n, "AttributeType": "S"}
                    for n in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk")
                ),
                {"AttributeName": "gsi2sk", "AttributeType": "N"},
                {"AttributeName": "gsi3pk", "AttributeType": "S"},
                {"AttributeName": "lsisk", "AttributeType": "S"},
            ],
            KeySchema=key,
            GlobalSecondaryIndexes=[
                gsi("gsi1", {"ProjectionType": "ALL"}),
                gsi("gsi2", {"ProjectionType": "KEYS_ONLY"}),
                gsi("gsi3", {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kept"]}, sort=False),
            ],
            LocalSecondaryIndexes=[
                {
                    "IndexName": "lsi1",
                    "KeySchema": [key[0], {"AttributeName": "lsisk", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        for p in range(4):
            for s in range(12):
                client.put_item(TableName="t", Item=_item(p, s))
        yield client


def _moto_s_own(client: Any, query: dict[str, Any]) -> list[Any]:
    """moto's own answer, on the same items, while this module's writes' bookkeeping stays installed."""
    from moto.dynamodb.models.table import Table

    fast = Table.query
    Table.query = moto_fast_query._original["query"]  # type: ignore[method-assign]
    try:
        return _pages(client, query)
    finally:
        Table.query = fast  # type: ignore[method-assign]


def _writes(client: Any) -> None:
    """Items move between, leave and enter the indexes' partitions by every kind of write."""

    def key(p: int, s: int) -> dict[str, Any]:
        return {"pk": {"S": f"P#{p}"}, "sk": {"S": f"S#{s:02d}"}}

    def update(p: int, s: int, expression: str, values: dict[str, Any] | None = None, **more: Any) -> None:
        values_given = {"ExpressionAttributeValues": values} if values else {}
        client.update_item(TableName="t", Key=key(p, s), UpdateExpression=expression, **values_given, **more)

    update(0, 1, "SET gsi1pk = :v, gsi1sk = :s", {":v": {"S": "B"}, ":s": {"S": "05"}})  # A -> B
    update(1, 1, "REMOVE gsi1pk")  # out of gsi1
    update(3, 4, "SET gsi1pk = :v, gsi1sk = :s", {":v": {"S": "A"}, ":s": {"S": "00"}})  # into gsi1
    update(2, 2, "SET gsi2pk = :v, gsi2sk = :n", {":v": {"S": "LOW"}, ":n": {"N": "9"}})
    update(2, 3, "SET gsi3pk = :v, kept = :k", {":v": {"S": "ALL"}, ":k": {"S": "now kept"}})
    update(9, 9, "SET gsi1pk = :v, gsi1sk = :s", {":v": {"S": "C"}, ":s": {"S": "01"}})  # creates the item
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        update(0, 2, "SET gsi1pk = :v", {":v": {"S": "C"}}, ConditionExpression="attribute_not_exists(pk)")
    client.delete_item(TableName="t", Key=key(0, 3))
    client.put_item(TableName="t", Item={**_item(0, 5), "gsi1pk": {"S": "C"}})  # replaced: A or B -> C
    client.put_item(TableName="t", Item={**_item(5, 1), "gsi2pk": {"S": "HIGH"}, "gsi2sk": {"N": "7"}})
    client.batch_write_item(
        RequestItems={
            "t": [
                {"PutRequest": {"Item": {**_item(6, 6), "gsi1pk": {"S": "A"}, "gsi1sk": {"S": "03"}}}},
                {"DeleteRequest": {"Key": key(1, 2)}},
            ]
        }
    )
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {**_item(7, 7), "gsi1pk": {"S": "B"}, "gsi1sk": {"S": "04"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": key(2, 5),
                    "UpdateExpression": "SET gsi1pk = :v, gsi1sk = :s",
                    "ExpressionAttributeValues": {":v": {"S": "A"}, ":s": {"S": "04"}},
                }
            },
            {"Delete": {"TableName": "t", "Key": key(3, 5)}},
        ]
    )
    client.delete_item(TableName="t", Key=key(0, 1))  # moved, then gone
    client.put_item(TableName="t", Item={**_item(0, 1), "gsi1pk": {"S": "A"}, "gsi1sk": {"S": "05"}})  # back


def test_index_queries_read_the_index_partition_and_answer_as_moto_does(indexed):
    expected = [_pages(indexed, q) for q in INDEX_QUERIES]
    moto_fast_query.install()
    whole_table = moto_fast_query._original["all_items"]
    listed: list[str] = []

    def counted(self: Any) -> Any:
        listed.append(self.name)
        return whole_table(self)

    moto_fast_query._original["all_items"] = counted
    try:
        assert [_pages(indexed, q) for q in INDEX_QUERIES] == expected
        assert len(listed) == 3, "each global index's register is built from the whole table once"
        listed.clear()
        _writes(indexed)
        after = [_pages(indexed, q) for q in INDEX_QUERIES]
        assert listed == [], "the registers are kept up to date by the writes, not rebuilt"
        assert after == [_moto_s_own(indexed, q) for q in INDEX_QUERIES]
        assert after != expected  # the writes did move items in and out of what the queries read
    finally:
        moto_fast_query._original["all_items"] = whole_table
        moto_fast_query.uninstall()
    counts = [sum(len(items) for items, _ in pages) for pages in expected]
    assert counts[0] > 5 and len(expected[4]) > 2 and counts[3] == 0  # items, pages and an empty partition
    keys_only = expected[7][0][0][0]
    assert set(keys_only) == {"pk", "sk", "gsi2pk", "gsi2sk"}
    included = expected[9][0][0][0]
    assert "kept" in included and "dropped" not in included
