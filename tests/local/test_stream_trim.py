"""A long local run keeps its memory flat: the stack's table stream keeps only the records some reader has
not read yet, and only the iterators readers hold (oms_local.stream_trim, which the moto process installs).

The stack's own stream pollers (oms_local.triggers.StreamPoller) read the table's stream from moto in
process while orders are written: one reader keeps up, one lags (it reads every third round). Every reader
still gets every record once and in order, and the records kept never exceed what the lagging reader has
yet to read; without the trimming the same run keeps every record it ever wrote."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodbstreams.models import dynamodbstreams_backends

from oms_local import stream_trim
from oms_local.triggers import StreamPoller

ROUNDS = 60  # a minute each, on a clock sped up: an hour of the stack
ORDERS_PER_ROUND = 25  # 1,500 orders, each written twice (arrives, then changes): 3,000 stream records
BATCH = 100


class Clock:
    def __init__(self) -> None:
        self.seconds = 1_000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(stream_trim, "_now", fake)
    return fake


@pytest.fixture
def trimming(clock: Clock) -> Iterator[None]:
    stream_trim.install()
    yield
    stream_trim.uninstall()


class Reader:
    def __init__(self, stack: Any, name: str) -> None:
        self.records: list[dict[str, Any]] = []
        self.poller = StreamPoller(
            function=name,
            stream_arn=stack.resources.attributes[("Table", "StreamArn")],
            batch_size=BATCH,
            max_retries=2,
            report_failures=True,
            on_failure_url=None,
            starting_position="TRIM_HORIZON",
            region="us-east-1",
            streams=stack.client("dynamodbstreams"),
            sqs=stack.client("sqs"),
            invoke=self._invoke,
            say=lambda line: None,
        )

    def _invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        self.records.extend(event["Records"])
        return {"batchItemFailures": []}

    def read_all(self) -> None:
        """Ticks until the reader has nothing left (a tick reads up to BATCH records per shard)."""
        while True:
            before = len(self.records)
            self.poller.tick_without_pause()
            if len(self.records) == before:
                return


def _drive(stack: Any, clock: Clock | None = None) -> dict[str, Any]:
    table = stack.client("dynamodb")
    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
    keeping_up, lagging = Reader(stack, "publish_events"), Reader(stack, "sync_listings")
    keeping_up.read_all(), lagging.read_all()  # both start with the stack, before any order
    kept, iterators, written = [], [], 0
    for round_number in range(ROUNDS):
        for n in range(ORDERS_PER_ROUND):
            order_id = f"113-{round_number:07d}-{n:07d}"
            for status in ("Unshipped", "Shipped"):
                table.put_item(
                    TableName=stack.table_name,
                    Item={
                        "pk": {"S": f"ORDER#{order_id}"},
                        "sk": {"S": "ORDER"},
                        "status": {"S": status},
                        "buyer": {"S": "x" * 600},  # about an order's size
                    },
                )
                written += 1
        if clock is not None:
            clock.seconds += 60
        keeping_up.read_all()
        if round_number % 3 == 2:
            lagging.read_all()
        shard = next(t for t in backend.dynamodb.tables.values() if t.name == stack.table_name).stream_shard
        kept.append(len(shard.items))
        iterators.append(len(backend.shard_iterators))
    lagging.read_all()
    return {"readers": (keeping_up, lagging), "kept": kept, "iterators": iterators, "written": written}


def _in_order_once(records: list[dict[str, Any]], written: int) -> bool:
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    return len(numbers) == written and numbers == sorted(set(numbers))


@pytest.fixture(autouse=True)
def _tick_without_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    def tick_without_pause(self: StreamPoller) -> None:
        pause = self.pause
        self.pause = lambda seconds: None  # type: ignore[method-assign]
        try:
            self.tick()
        finally:
            self.pause = pause  # type: ignore[method-assign]

    monkeypatch.setattr(StreamPoller, "tick_without_pause", tick_without_pause, raising=False)


def test_records_stay_bounded_while_every_reader_gets_every_record(
    stack: Any, clock: Clock, trimming: None
) -> None:
    run = _drive(stack, clock)
    per_round = 2 * ORDERS_PER_ROUND
    for reader in run["readers"]:
        assert _in_order_once(reader.records, run["written"])
    # never more than the lagging reader's three rounds behind, however many orders went through
    assert max(run["kept"]) <= 3 * per_round
    assert run["kept"][-1] <= 3 * per_round
    # flat: the last third of the run keeps no more than the first third
    third = ROUNDS // 3
    assert max(run["kept"][-third:]) <= max(run["kept"][:third])
    # iterators: the live one of each reader and those retired within the last minute, not one per call
    assert max(run["iterators"][-third:]) <= max(run["iterators"][:third])
    assert max(run["iterators"]) < 20


def test_a_lagging_reader_holds_back_what_it_has_not_read(stack: Any, clock: Clock, trimming: None) -> None:
    run = _drive(stack, clock)
    per_round = 2 * ORDERS_PER_ROUND
    # after the rounds the lagging reader skipped, the records it had not read were still kept
    assert run["kept"][1] == 2 * per_round
    assert run["kept"][2] == 0


def test_without_trimming_moto_keeps_every_record(stack: Any) -> None:
    run = _drive(stack)
    assert run["kept"][-1] == run["written"]
    assert run["iterators"][-1] > ROUNDS


def test_records_older_than_a_day_go_even_if_a_reader_never_comes_back(
    stack: Any, clock: Clock, trimming: None
) -> None:
    table = stack.client("dynamodb")
    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
    reader = Reader(stack, "publish_events")
    reader.read_all()  # holds an iterator at the start, then goes away
    for n in range(5):
        table.put_item(TableName=stack.table_name, Item={"pk": {"S": f"ORDER#{n}"}, "sk": {"S": "ORDER"}})
    shard = next(t for t in backend.dynamodb.tables.values() if t.name == stack.table_name).stream_shard
    later = shard.items[-1]._oms_added_at + stream_trim.MAX_AGE_SECONDS + 1
    assert stream_trim.trim(backend, shard, now=later - 2 * stream_trim.MAX_AGE_SECONDS) == 0
    assert stream_trim.trim(backend, shard, now=later) == 5
    assert shard.items == []


def test_moto_keeps_no_register_of_every_item_and_message_it_made(stack: Any) -> None:
    """moto's register of every model instance (for its dashboard) grows with every write and message;
    the moto process creates them untracked (oms_local.moto_untracked)."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.sqs.models import Message

    from oms_local import moto_untracked

    table, sqs = stack.client("dynamodb"), stack.client("sqs")
    queue = sqs.create_queue(QueueName="untracked")["QueueUrl"]

    def write_and_send(count: int) -> None:
        for n in range(count):
            table.put_item(TableName=stack.table_name, Item={"pk": {"S": f"ORDER#{n}"}, "sk": {"S": "ORDER"}})
            sqs.send_message(QueueUrl=queue, MessageBody=str(n))
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    items, messages = len(Item.instances_tracked), len(Message.instances_tracked)
    write_and_send(20)
    assert len(Item.instances_tracked) >= items + 20  # moto as it is: every item ever written, kept
    assert len(Message.instances_tracked) >= messages + 20
    moto_untracked.install()
    try:
        items, messages = len(Item.instances_tracked), len(Message.instances_tracked)
        write_and_send(20)
        assert (len(Item.instances_tracked), len(Message.instances_tracked)) == (items, messages)
        got = table.get_item(TableName=stack.table_name, Key={"pk": {"S": "ORDER#19"}, "sk": {"S": "ORDER"}})
        assert got["Item"]["pk"]["S"] == "ORDER#19"  # the table itself keeps what was written
    finally:
        moto_untracked.uninstall()
