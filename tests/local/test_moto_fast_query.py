"""moto's base-table Query reading one partition (oms_local.moto_fast_query) answers exactly as moto does:
key conditions, filters, order, limits and pages; index queries untouched."""

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
    try:
        assert [_pages(table, q) for q in QUERIES] == expected
        assert len(listed) == len(expected[-1]), "only the index query lists the table, once a page"
    finally:
        moto_fast_query._original["all_items"] = whole_table
        moto_fast_query.uninstall()
    assert len(expected[0][0][0]) == 13 and len(expected[1]) == 4  # the queries do reach items and pages
