"""Event source mappings and schedules, played locally as Lambda plays them.

- SQS: batches of the template's BatchSize; with ReportBatchItemFailures only the failed messages
  return to the queue; they become visible again after a few seconds (not the queue's full
  visibility timeout) so a poison message reaches the DLQ, through moto's redrive, within a minute.
- DynamoDB streams: each consumer reads the stream on its own, per shard in order; FilterCriteria
  drop the records no pattern matches (the subset of EventBridge patterns in `matches_pattern`);
  MaximumBatchingWindowInSeconds waits for more records before a batch that is not yet full; a
  failure retries from the failed record up to MaximumRetryAttempts, then the batch's description
  goes to the OnFailure destination.
- Schedules (Schedule and ScheduleV2): fired on their rate/cron expressions (in their time zone);
  a failed run is retried as an asynchronous invocation, then sent to the OnFailure destination.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from oms_local.runtime import InvocationError

Invoke = Callable[[str, Any], Any]
Say = Callable[[str], None]
LOCAL_RETRY_DELAY_SECONDS = 2


def _plain(value: Any) -> Any:
    """boto3's stream records as Lambda hands them over: bytes as base64, times as epoch seconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return value


def _failed_ids(answer: Any) -> set[str] | None:
    """The itemIdentifiers a function reported as failed; None when it reported nothing usable."""
    if not isinstance(answer, dict) or "batchItemFailures" not in answer:
        return None
    return {str(f.get("itemIdentifier")) for f in answer.get("batchItemFailures") or []}


class Loop(threading.Thread):
    """A daemon thread that runs `tick` until stopped; errors are reported, not fatal."""

    def __init__(self, name: str, say: Say) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self.say = say

    def pause(self, seconds: float) -> None:
        """Wait up to `seconds`, or until stopped, in short sleeps: under libfaketime (the tests that drive
        a poller in process run in it with make test-timeshift) a timed Event.wait sleeps the whole offset."""
        end = time.monotonic() + max(seconds, 0)
        while not self.stopping.is_set() and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception as error:
                if not self.stopping.is_set():
                    self.say(f"{self.name}: {type(error).__name__}: {error}")
                    self.pause(1)

    def tick(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()


class SqsPoller(Loop):
    def __init__(
        self,
        *,
        function: str,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_failures: bool,
        region: str,
        sqs: Any,
        invoke: Invoke,
        say: Say,
    ) -> None:
        super().__init__(f"sqs:{function}", say)
        self.function, self.queue_url, self.queue_arn = function, queue_url, queue_arn
        self.batch_size, self.report_failures, self.region = batch_size, report_failures, region
        self.sqs, self.invoke = sqs, invoke

    def tick(self) -> None:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(self.batch_size, 10)),
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return
        event = {"Records": [self._record(m) for m in messages]}
        try:
            failed = _failed_ids(self.invoke(self.function, event)) if self.report_failures else set()
            failed = failed if failed is not None else set()
        except InvocationError as error:
            if not self.stopping.is_set():  # a worker stopped with the stack is no failure of the batch
                self.say(f"{self.function} failed a batch of {len(messages)}: {error}")
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        retry = [m for m in messages if m["MessageId"] in failed]
        if retry:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": LOCAL_RETRY_DELAY_SECONDS,
                    }
                    for i, m in enumerate(retry)
                ],
            )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {}
        for name, value in message.get("MessageAttributes", {}).items():
            attributes[name] = {
                "stringValue": value.get("StringValue"),
                "binaryValue": _plain(value.get("BinaryValue")),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType"),
            }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


# ---------------------------------------------------------------------------------- event filtering


def filter_patterns(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An event source's FilterCriteria as patterns (each Pattern is a JSON string, as in AWS)."""
    filters = properties.get("FilterCriteria", {}).get("Filters", [])
    return [json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"] for f in filters]


def matches_pattern(pattern: Mapping[str, Any], event: Any) -> bool:
    """EventBridge-style matching as Lambda's event filtering applies it: every key of the pattern must
    match; a list holds alternatives (values, or {"prefix"}, {"anything-but"}, {"exists"}, {"numeric"}
    rules); a nested object descends; an array in the event matches when one of its values does."""
    for key, expected in pattern.items():
        present = isinstance(event, dict) and key in event
        value = event.get(key) if present else None
        if isinstance(expected, dict):
            if not present or not matches_pattern(expected, value):
                return False
        elif isinstance(expected, list):
            if not any(_matches_rule(rule, present, value) for rule in expected):
                return False
        else:
            raise ValueError(f"filter pattern: {key!r} must hold a list of values or an object")
    return True


_NUMERIC = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


def _matches_rule(rule: Any, present: bool, value: Any) -> bool:
    values: Sequence[Any] = value if isinstance(value, list) else [value]
    if not isinstance(rule, dict):
        return present and rule in values
    ((operator, argument),) = rule.items()
    if operator == "exists":
        return present == bool(argument)
    if not present:
        return False
    if operator == "prefix":
        return any(isinstance(v, str) and v.startswith(argument) for v in values)
    if operator == "anything-but":
        banned = argument if isinstance(argument, list) else [argument]
        return all(v not in banned for v in values)
    if operator == "numeric":
        pairs = list(zip(argument[::2], argument[1::2], strict=True))
        return any(
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and all(_NUMERIC[op](v, n) for op, n in pairs)
            for v in values
        )
    raise ValueError(f"filter pattern rule {operator!r} is not one this local stack plays")


class StreamPoller(Loop):
    def __init__(
        self,
        *,
        function: str,
        stream_arn: str,
        batch_size: int,
        max_retries: int,
        report_failures: bool,
        on_failure_url: str | None,
        starting_position: str,
        region: str,
        streams: Any,
        sqs: Any,
        invoke: Invoke,
        say: Say,
        patterns: Sequence[Mapping[str, Any]] = (),
        batching_window: float = 0.0,
    ) -> None:
        super().__init__(f"stream:{function}", say)
        self.function, self.stream_arn, self.batch_size = function, stream_arn, batch_size
        self.max_retries, self.report_failures, self.on_failure_url = (
            max_retries,
            report_failures,
            on_failure_url,
        )
        self.region, self.streams, self.sqs, self.invoke = region, streams, sqs, invoke
        self.starting_position = starting_position
        self.patterns, self.batching_window = list(patterns), batching_window
        self.iterators: dict[str, str] = {}

    def tick(self) -> None:
        if not self.iterators:
            shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType=self.starting_position,
                )["ShardIterator"]
        busy = False
        for shard_id in list(self.iterators):
            records = self._read(shard_id, self.batch_size)
            if not records:
                continue
            busy = True
            deadline = time.monotonic() + self.batching_window
            while (
                len(records) < self.batch_size and time.monotonic() < deadline and not self.stopping.is_set()
            ):
                self.pause(min(0.2, max(deadline - time.monotonic(), 0)))
                records += self._read(shard_id, self.batch_size - len(records))
            self._deliver(shard_id, records)
        if not busy:
            self.pause(0.5)

    def _read(self, shard_id: str, limit: int) -> list[dict[str, Any]]:
        """The shard's next records (up to `limit`) that pass the filters; the others are consumed unseen. As
        in Lambda, filtering comes before batching: records filtered out do not count against the batch."""
        wanted: list[dict[str, Any]] = []
        while len(wanted) < limit:
            iterator = self.iterators[shard_id]
            answer = self.streams.get_records(
                ShardIterator=iterator, Limit=max(1, min(limit - len(wanted), 1000))
            )
            self.iterators[shard_id] = answer.get("NextShardIterator") or iterator
            read = answer.get("Records", [])
            wanted += [r for r in (self._record(r) for r in read) if self._wanted(r)]
            if not read or not answer.get("NextShardIterator"):
                break
        return wanted

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(matches_pattern(p, record) for p in self.patterns)

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        attempts = 0
        while records and not self.stopping.is_set():
            try:
                answer = self.invoke(self.function, {"Records": records})
                failed = _failed_ids(answer) if self.report_failures else set()
                failed = failed or set()
                error = "batch item failure reported"
            except InvocationError as failure:
                failed = {records[0]["dynamodb"]["SequenceNumber"]}
                error = str(failure)
            if not failed:
                return
            first = next((i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed), 0)
            records = records[first:]
            attempts += 1
            if attempts > self.max_retries:
                self.say(
                    f"{self.function}: {len(records)} stream records failed {attempts} times; sent to OnFailure"
                )
                self._send_to_destination(shard_id, records, attempts, error)
                return
            self.pause(min(LOCAL_RETRY_DELAY_SECONDS * attempts, 10))

    def _send_to_destination(
        self, shard_id: str, records: list[dict[str, Any]], attempts: int, error: str
    ) -> None:
        if not self.on_failure_url:
            return
        body = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": error},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(body))

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        return {**_plain(record), "eventSourceARN": self.stream_arn, "awsRegion": self.region}


# ---------------------------------------------------------------------------------- schedules

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def _aws_dow_to_cron(field: str) -> str:
    """AWS numbers days 1-7 from Sunday; cron numbers them 0-6. Names and '?' need no change."""
    if field == "?":
        return "*"
    return re.sub(r"(?<![#\w])([1-7])(?![\w])", lambda m: str(int(m.group(1)) - 1), field)


@dataclass(frozen=True)
class ScheduleExpression:
    """rate(...) or cron(...) as EventBridge and EventBridge Scheduler read them."""

    text: str
    timezone: str = "UTC"

    def next_after(self, moment: datetime) -> datetime:
        rate = _RATE.match(self.text)
        if rate:
            period = int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")]
            return moment + timedelta(seconds=period)
        if self.text.startswith("cron(") and self.text.endswith(")"):
            fields = self.text[5:-1].split()
            if len(fields) != 6:
                raise ValueError(f"{self.text}: AWS cron has 6 fields (minutes hours day month weekday year)")
            minute, hour, day, month, weekday, year = fields
            expression = " ".join(
                [minute, hour, "*" if day == "?" else day, month, _aws_dow_to_cron(weekday)]
            )
            zone = ZoneInfo(self.timezone)
            found = croniter(expression, moment.astimezone(zone)).get_next(datetime)
            for _ in range(1000):
                if year in ("*", "?") or str(found.year) in _years(year):
                    return found.astimezone(UTC)
                found = croniter(expression, found).get_next(datetime)
            raise ValueError(f"{self.text}: never fires again")
        raise ValueError(f"{self.text}: not a rate(...) or cron(...) expression this local stack can fire")


def _years(field: str) -> set[str]:
    years: set[str] = set()
    for part in field.split(","):
        if "-" in part:
            low, high = part.split("-")
            years.update(str(y) for y in range(int(low), int(high) + 1))
        else:
            years.add(part)
    return years


def scheduled_event(
    trigger_type: str, properties: dict[str, Any], *, when: datetime, region: str, schedule_arn: str
) -> Any:
    """The payload a schedule hands the function: Scheduler's Input (placeholders filled) or the rule event."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if trigger_type == "ScheduleV2":
        text = str(properties.get("Input", "{}"))
        for placeholder, value in {
            "<aws.scheduler.scheduled-time>": stamp,
            "<aws.scheduler.execution-id>": str(uuid.uuid4()),
            "<aws.scheduler.schedule-arn>": schedule_arn,
            "<aws.scheduler.attempt-number>": "1",
        }.items():
            text = text.replace(placeholder, value)
        return json.loads(text)
    if "Input" in properties:
        return json.loads(properties["Input"])
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": stamp,
        "region": region,
        "resources": [schedule_arn],
        "detail": {},
    }


class Schedule(Loop):
    def __init__(
        self,
        *,
        function: str,
        trigger_type: str,
        trigger_name: str,
        properties: dict[str, Any],
        region: str,
        fire: Callable[[Any], None],
        say: Say,
    ) -> None:
        super().__init__(f"schedule:{function}.{trigger_name}", say)
        self.function, self.trigger_type, self.properties, self.region = (
            function,
            trigger_type,
            properties,
            region,
        )
        self.expression = ScheduleExpression(
            properties["Schedule"] if "Schedule" in properties else properties["ScheduleExpression"],
            properties.get("ScheduleExpressionTimezone", "UTC"),
        )
        self.arn = f"arn:aws:scheduler:{region}:123456789012:schedule/default/{function}-{trigger_name}"
        self.fire = fire
        self.next_run = self.expression.next_after(datetime.now(UTC))

    def tick(self) -> None:
        wait = (self.next_run - datetime.now(UTC)).total_seconds()
        if wait > 0:
            self.pause(min(wait, 1.0))
            return
        when, self.next_run = self.next_run, self.expression.next_after(self.next_run)
        with contextlib.suppress(InvocationError):
            self.fire(
                scheduled_event(
                    self.trigger_type, self.properties, when=when, region=self.region, schedule_arn=self.arn
                )
            )
