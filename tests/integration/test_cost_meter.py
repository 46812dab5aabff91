"""The cost benchmark's meter (bench/cost_meter.py): DynamoDB's unit rules, and real requests against
moto in process counted by its botocore hooks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from cost_meter import ALL, BillMeter, index_write_units
from cost_prices import billed_gb_seconds, chunks

from tests.conftest import Stack

KEYS = ("gsi1pk", "gsi1sk")
KEYS_ONLY: frozenset[str] = frozenset()


def _item(size: int, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": "ORDER#1"}, "sk": {"S": "ORDER"}, "body": {"S": "x" * size}}
    item |= {name: {"S": value} for name, value in extra.items()}
    return item


def test_an_index_is_written_only_when_the_item_has_its_keys() -> None:
    assert index_write_units(None, _item(100), KEYS, ALL) == 0
    assert index_write_units(None, _item(100, gsi1pk="A", gsi1sk="1"), KEYS, ALL) == 1


def test_projecting_all_copies_the_whole_item_and_keys_only_does_not() -> None:
    old, new = _item(3000, gsi1pk="A", gsi1sk="1"), _item(3100, gsi1pk="A", gsi1sk="1")
    assert index_write_units(None, new, KEYS, ALL) == 4  # 3 KB and a bit: 4 started KB
    assert index_write_units(None, new, KEYS, KEYS_ONLY) == 1
    assert index_write_units(old, new, KEYS, ALL) == 4  # a change of any attribute rewrites the entry
    assert index_write_units(old, new, KEYS, KEYS_ONLY) == 0  # the keys did not move: no index write
    assert index_write_units(old, new, KEYS, frozenset({"body"})) == 4  # INCLUDE a changed attribute


def test_a_moved_key_deletes_the_old_entry_and_puts_the_new() -> None:
    old, new = _item(100, gsi1pk="A", gsi1sk="1"), _item(100, gsi1pk="A", gsi1sk="2")
    assert index_write_units(old, new, KEYS, KEYS_ONLY) == 2
    assert index_write_units(old, None, KEYS, KEYS_ONLY) == 1


def test_billing_rounds_and_chunks() -> None:
    assert billed_gb_seconds(0.1004, 512) == 0.101 / 2
    assert chunks(1) == 1 and chunks(64 * 1024 + 1) == 2


def test_the_hooks_count_every_request_and_its_units(stack: Stack) -> None:
    reader = boto3.client("dynamodb")  # made before the hooks: not counted
    meter = BillMeter(stack.table_name, {"gsi1": KEYS}, {"all": {"gsi1": ALL}, "keys": {"gsi1": KEYS_ONLY}})
    meter.reader = reader
    with meter.installed():
        client = boto3.client("dynamodb")
    meter.on = True
    with meter.capability("orders"):
        client.put_item(TableName=stack.table_name, Item=_item(1500, gsi1pk="A", gsi1sk="1"))
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": stack.table_name,
                        "Key": {"pk": {"S": "ORDER#1"}, "sk": {"S": "ORDER"}},
                        "UpdateExpression": "SET body = :b",
                        "ExpressionAttributeValues": {":b": {"S": "y" * 2500}},
                    }
                }
            ]
        )
        client.get_item(TableName=stack.table_name, Key={"pk": {"S": "ORDER#1"}, "sk": {"S": "ORDER"}})
    orders = meter.capabilities["orders"]
    assert orders.requests == {"dynamodb.PutItem": 1, "dynamodb.TransactWriteItems": 1, "dynamodb.GetItem": 1}
    # put: 2 KB; the update read back at 3 KB, in a transaction: 2 x 3
    assert orders.table_wcu == 2 + 6
    assert orders.index_wcu["all"] == 2 + 3
    assert orders.index_wcu["keys"] == 1 + 0
    assert orders.rcu == 0.5  # one eventually consistent read of an item under 4 KB
    assert orders.entity_wcu == {"ORDER/ORDER": 2 + 6 + 2 + 3}
