"""moto's DynamoDB answers written without walking the AttributeValue shape (oms_local.moto_fast_serialize)
are the same JSON as moto's own: every type, nested maps and lists, binary left to moto; items, pages,
batches and stream records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from oms_local import moto_fast_serialize

ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "A"},
        "sk": {"S": f"{n:02d}"},
        "s": {"S": "text é ✓"},
        "empty": {"S": ""},
        "n": {"N": "-12.500"},
        "big": {"N": "123456789012345678901234567890"},
        "yes": {"BOOL": True},
        "no": {"BOOL": False},
        "nothing": {"NULL": True},
        "ss": {"SS": ["b", "a"]},
        "ns": {"NS": ["1", "2.5"]},
        "m": {"M": {"x": {"S": "y"}, "deep": {"M": {"l": {"L": [{"N": "1"}, {"M": {}}, {"L": []}]}}}}},
        "l": {"L": [{"S": "one"}, {"NULL": True}, {"BOOL": False}, {"SS": ["z"]}]},
        **({"bin": {"B": b"\x00\x01binary"}, "bs": {"BS": [b"a", b"b"]}} if n % 2 else {}),
        **({"mb": {"M": {"inside": {"B": b"deep"}}}} if n % 3 == 0 else {}),
    }
    for n in range(6)
]


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for item in ITEMS:
            dynamodb.put_item(TableName="t", Item=item)
        dynamodb.put_item(TableName="t", Item={**ITEMS[0], "s": {"S": "changed"}})  # an old and a new image
        _set_n(dynamodb)
        yield dynamodb


def _set_n(client: Any) -> Any:
    key = {"pk": {"S": "A"}, "sk": {"S": "01"}}
    values = {":n": {"N": "3"}}
    return client.update_item(
        TableName="t",
        Key=key,
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues=values,
        ReturnValues="ALL_OLD",
    )


def _raw_answers(client: Any) -> list[Any]:
    """The JSON moto sends back (before botocore parses it) for the reads the product makes."""
    bodies: list[Any] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append(json.loads(http_response.content))

    client.meta.events.register("after-call.dynamodb", lambda http_response, **k: keep(http_response))
    key = {"pk": {"S": "A"}, "sk": {"S": "01"}}
    client.get_item(TableName="t", Key=key)
    client.query(
        TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "A"}}, Limit=4
    )
    client.scan(TableName="t")
    client.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "A"}, "sk": {"S": "00"}}]}})
    client.update_item(
        TableName="t",
        Key=key,
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "3"}},
        ReturnValues="ALL_OLD",
    )
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    streams.meta.events.register("after-call.dynamodbstreams", lambda http_response, **k: keep(http_response))
    arn = client.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=8)  # the fixture's writes
    return [
        b
        for b in bodies
        if "Item" in b or "Items" in b or "Responses" in b or "Attributes" in b or "Records" in b
    ]


def _without_ids(answers: list[Any]) -> list[Any]:
    for answer in answers:
        answer.pop("NextShardIterator", None)  # a new iterator each time
        for record in answer.get("Records", []):
            record["dynamodb"].pop("ApproximateCreationDateTime", None)
            record.pop("eventID", None)
    return answers


def test_the_answers_are_moto_s_own_json(client: Any) -> None:
    expected = _without_ids(_raw_answers(client))
    moto_fast_serialize.install()
    try:
        fast = _without_ids(_raw_answers(client))
    finally:
        moto_fast_serialize.uninstall()
    assert fast == expected
    assert len(expected) == 6 and len(expected[1]["Items"]) == 4 and len(expected[-1]["Records"]) == 8


def test_plain_values_are_written_as_they_are_and_binary_is_left_to_moto() -> None:
    assert moto_fast_serialize.plain(ITEMS[0]["m"]) == ITEMS[0]["m"]
    assert moto_fast_serialize.plain({"B": "AAE="}) is None
    assert moto_fast_serialize.plain({"M": {"inside": {"BS": ["AA=="]}}}) is None
    assert moto_fast_serialize.plain({"N": 3}) is None  # not the wire form: moto's walk decides
    assert moto_fast_serialize.plain({"S": "a", "N": "1"}) is None
