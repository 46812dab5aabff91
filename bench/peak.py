"""Peak benchmark: a Prime Day morning's backlog of SP-API notifications drained, on simulated time.

    .venv/bin/python bench/peak.py [--notifications 50000] [--seed 20261206] [--out bench/results/peak.json]

Prints one table (figure | measured | goal | met?) and the hottest DynamoDB partitions beside their limit,
and writes every figure to bench/results/peak.json (or --out).

1. The burst. The simulator's marketplace (oms_local.simulator, its buyers' mix and its catalogue of real
   invoices: many SKUs, a few best sellers) takes orders at 5 a second of simulated time until its
   courier has delivered --notifications ORDER_CHANGE notifications (Amazon's notification schema; new
   orders, payments, cancellations, duplicates and late ones as the simulator makes them), then finishes
   what it started. Every delivered message waits in the order-notifications queue at once: the
   consumers start on a full queue (a Prime Day morning, or an hour's outage of the intake).
2. The drain. The queue is played in process with the template's settings (OrderNotificationsQueue:
   visibility timeout, maxReceiveCount then the DLQ; IngestNotificationsFunction's event source: batches
   of BatchSize, MaximumConcurrency consumers). Each round, every idle consumer takes a batch and the
   round's batches run at once, in threads, through the real handler
   (functions/orders/ingest_notifications/app.py) against a moto server with the template's table, so
   concurrent consumers really race on orders and stock rows (the intake retries its conflicts). A
   failed record becomes visible again one visibility timeout later; a record received more than
   maxReceiveCount times goes to the DLQ.
3. The stream. The stock rows' changes are read from the table's stream (moto's, filtered by the
   SyncListingsFunction's FilterCriteria) and handed in batches of up to BatchSize, at most
   MaximumBatchingWindowInSeconds apart, to the real sync_listings handler (patchListingsItem per
   changed SKU), whose client takes tokens from the shared rate budget (oms.amazon.rate_budget, buckets
   in the table) and calls the simulator's HTTP SP-API, which enforces Amazon's usage plans (rate and
   burst from the official models) on the same simulated clock and answers 429 beyond them. A failed
   batch is retried from the record it names (MaximumRetryAttempts).
4. Simulated time. An invocation's duration is modelled, not waited for: a fixed Lambda overhead, the
   handler's own CPU time (its thread's, without the meter's hooks), its own waits (the intake's back-off
   between conflicting writes) and a DynamoDB latency per request (DYNAMODB_LATENCY, typical in-region
   figures). The SP-API side runs on its own simulated clock: the budget's waits and the
   client's backoffs move it (the rate budget and the client take the bench's clock and sleep, as their
   constructors allow), so Amazon's restore rates play out in simulated seconds. It never runs ahead
   of the records the intake has written.
5. The meter (bench/peak_meter.py): DynamoDB write units from item sizes (moto reports none), per base
   table and index partition and per simulated second, against DynamoDB's 1,000 units a second per
   partition; units beyond it in a second are what DynamoDB would have throttled (moto does not).
6. Amazon's listings feeds. Past its threshold (150 SKUs a batch; --feed-threshold to change it, a huge one
   for the per-SKU pushes alone) sync_listings sends most quantities in one JSON_LISTINGS_FEED; the
   simulator processes it after Amazon's queue time (its config: a wait plus a time per message) on the
   same clock, and its FEED_PROCESSING_FINISHED goes through the real intake handler, which settles the
   feed (and sends again what moved meanwhile). A batch that finds no feed token (Amazon's 5 listings feeds
   per 5 minutes) leaves its SKUs for send_listing_feed, whose schedule (every minute) is played on the same
   clock, between the stream's batches. Amazon has caught up when the last feed is settled.
7. At the end every order in the table is compared with the marketplace's (status, units shipped per
   line): nothing lost, nothing doubled; and every seller-fulfilled SKU the burst sold is compared with
   the quantity Amazon shows.
Left out: the SP-API round trip's own time, more than one stream shard (one sync_listings at a time), the
backstop (reconcile_orders every 15 minutes; a burst drains inside its first interval), DynamoDB's
throttling itself (the units beyond a partition's limit are counted, not slowed down). The default size
takes hours on a shared 2-core machine (moto is the bottleneck); --notifications 2000 takes about 20 minutes
there.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import heapq
import importlib
import importlib.util
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401 - sets the import path and harmless AWS settings first
from intake_common import REGION, ROOT, local_handler_environment, own_moto, say
from intake_sim import LambdaContext, SimClock, _reset_warm_state

RESULTS = ROOT / "bench" / "results" / "peak.json"
ORDERS_PER_SECOND = 5.0  # how fast the burst's orders are placed (simulated); only their order matters
LAMBDA_OVERHEAD = 0.010  # seconds an invocation costs beyond its handler (a warm container's)
DYNAMODB_LATENCY = {  # seconds per request, in-region (DynamoDB's typical single-digit ms; transactions ~2x)
    "GetItem": 0.004,
    "BatchGetItem": 0.006,
    "Query": 0.006,
    "PutItem": 0.006,
    "UpdateItem": 0.006,
    "DeleteItem": 0.006,
    "TransactWriteItems": 0.012,
}
GOALS = {
    "throttledBeyondBurst": 0,
    "lost": 0,
    "dlq": 0,
    "ordersWrong": 0,
    "partitionSecondsOver": 0,
}
FAMILIES = {  # docs/scaling.md's hot keys
    "all-orders index (gsi1 ORDERS)": "gsi1:ORDERS",
    "status index (gsi2 ORDERS#STATUS#<s>)": "gsi2:ORDERS#STATUS#*",
    "status + channel index (gsi3)": "gsi3:ORDERS#STATUS#*",
    "a SKU's partition (stock row, ledger, demand)": "table:SKU#*",
    "stock index (gsi1 STOCK)": "gsi1:STOCK",
    "changed stock (gsi3 STOCK#CHANGED#<day>)": "gsi3:STOCK#CHANGED#*",
    "rate buckets (RATE#...)": "table:RATE#*",
    "an order (ORDER#<id>)": "table:ORDER#*",
    "applied notifications (NOTIFICATION#<id>)": "table:NOTIFICATION#*",
}


@dataclass
class Message:
    body: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    receives: int = 0


@dataclass
class Invocation:
    consumer: int
    messages: list[Message]
    failed: set[str] = field(default_factory=set)
    cpu: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    slept: float = 0.0  # the handler's own waits (the intake's back-off between conflicting writes)

    def seconds(self) -> float:
        latency = sum(DYNAMODB_LATENCY.get(op, 0.006) * n for op, n in self.requests.items())
        return LAMBDA_OVERHEAD + self.cpu + latency + self.slept


SLEPT = threading.local()  # seconds the calling thread's handler slept in this invocation


@contextlib.contextmanager
def counted_sleep() -> Iterator[None]:
    """time.sleep that also counts, per thread, what the handlers wait (it still waits: the consumers
    running at once must really interleave)."""
    real = time.sleep

    def sleep(seconds: Any) -> None:
        SLEPT.seconds = getattr(SLEPT, "seconds", 0.0) + max(seconds, 0.0)
        real(seconds)

    time.sleep = sleep
    try:
        yield
    finally:
        time.sleep = real


def defaults(function: Any) -> dict[str, Any]:
    """A function's keyword-only defaults, to be changed in place."""
    found: dict[str, Any] = function.__kwdefaults__
    return found


def _load(name: str, folder: str) -> Any:
    path = ROOT / "functions" / folder / "app.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class LaneContext(LambdaContext):
    """The Lambda context of an invocation on the SP-API lane: its remaining time on the simulated clock."""

    def __init__(self, clock: SimClock, timeout: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = clock.epoch() + timeout
        self.clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - self.clock.epoch()) * 1000)


class PeakRun:
    def __init__(
        self, target: int, seed: int, moto_url: str, log: Any, concurrency: int | None = None
    ) -> None:
        self.target, self.seed, self.moto_url, self.log = target, seed, moto_url, log
        self.concurrency_override = concurrency
        from oms.inventory import listings_feed

        self.feed_threshold = listings_feed.FEED_THRESHOLD
        self.rng = random.Random(seed)
        self.clock = SimClock(datetime.now(UTC).replace(microsecond=0))
        self.delivered: list[str] = []
        self.rounds = 0
        self.invocations: list[Invocation] = []
        self.ingest_wall = 0.0
        self.said = time.monotonic()

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        from oms_local.simulator import Simulator, SimulatorConfig, contract
        from oms_local.simulator.catalogue import load_catalogue
        from oms_local.simulator.ratelimit import RateLimiter
        from oms_local.simulator.server import OPERATIONS

        config = SimulatorConfig(seed=self.seed, validate_responses=False)
        self.catalogue = load_catalogue()
        if self.catalogue.source == "built-in":  # the figures are not the retail mix's: say so loudly
            from oms_local.simulator.catalogue import DATASET

            say(f"peak: no retail data set at {DATASET} (OMS_RETAIL_DATASET): the built-in catalogue is used")
        self.sim = Simulator(
            config, notify=self.delivered.append, catalogue=self.catalogue, clock=self.clock.now
        )
        self.sim.server.limiter = RateLimiter(
            {op: contract.usage_plan(op) for op in OPERATIONS}, clock=self.clock.epoch
        )
        self.sim.server.start()
        self.marketplace = self.sim.marketplace
        self._settings()
        self._handlers()
        self._meter()

    def _settings(self) -> None:
        """The queue's, the event sources' and the functions' settings, from template.yaml."""
        from oms_local.template import Template, load_template
        from oms_local.triggers import ScheduleExpression, filter_patterns

        template = Template()
        self.ingest_function = template.function("IngestNotificationsFunction")
        self.sync_function = template.function("SyncListingsFunction")
        self.send_function = template.function("SendListingFeedFunction")
        self.template = template
        self.document = document = load_template()
        queue = document["Resources"]["OrderNotificationsQueue"]["Properties"]
        self.visibility = int(queue["VisibilityTimeout"])
        self.max_receives = int(queue["RedrivePolicy"]["maxReceiveCount"])
        ingest = next(t for t in self.ingest_function.triggers if t.type == "SQS").properties
        self.batch_size = int(ingest["BatchSize"])
        self.concurrency = self.concurrency_override or int(ingest["ScalingConfig"]["MaximumConcurrency"])
        stream = next(t for t in self.sync_function.triggers if t.type == "DynamoDB").properties
        self.stream_batch = int(stream["BatchSize"])
        self.stream_window = float(stream.get("MaximumBatchingWindowInSeconds", 0))
        self.stream_retries = int(stream.get("MaximumRetryAttempts", -1))
        self.patterns = filter_patterns(stream)
        schedule = next(t for t in self.send_function.triggers if t.type == "ScheduleV2").properties
        epoch = datetime.fromtimestamp(0, UTC)
        self.send_period = (
            ScheduleExpression(schedule["ScheduleExpression"]).next_after(epoch) - epoch
        ).total_seconds()

    def _handlers(self) -> None:
        """The table, queues and secret in moto; both handlers loaded with the template's environment."""
        from oms.amazon import client as client_module
        from oms.amazon import rate_budget
        from oms.observability import logger
        from oms_local.resources import create_resources
        from oms_local.simulator import LOCAL_CREDENTIALS

        resources = create_resources(
            self.template,
            f"peak{self.target}-{uuid.uuid4().hex[:6]}",
            REGION,
            self.moto_url,
            parameters=self.sim.stack_parameters(),
            secret_values={"SpApiSecret": json.dumps(LOCAL_CREDENTIALS)},
        )
        # The handlers live in this process: their environments are the template's and differ only in
        # the service name, which Powertools reads at import.
        environment: dict[str, str] = {}
        for function in (self.sync_function, self.send_function, self.ingest_function):
            resolved = {k: str(v) for k, v in resources.resolver.resolve(function.environment).items()}
            environment |= resolved
        os.environ.update({**environment, "AWS_ENDPOINT_URL": self.moto_url})
        self.table_name = environment["TABLE_NAME"]
        _reset_warm_state()
        client_module._token_cache = client_module._TokenCache()  # a token of an earlier run's simulator: 403
        # The SP-API side on the simulated clock: what a test passes these constructors, given as defaults.
        defaults(rate_budget.RateBudget.__init__).update(
            {"clock": self.clock.epoch, "sleep": self.clock.sleep}
        )
        defaults(client_module.SpApiClient.__init__)["sleep"] = self.clock.sleep
        os.environ["POWERTOOLS_SERVICE_NAME"] = "sync_listings"
        self.sync = _load(f"peak_sync_{uuid.uuid4().hex[:6]}", "inventory/sync_listings")
        os.environ["POWERTOOLS_SERVICE_NAME"] = "send_listing_feed"
        self.send = _load(f"peak_send_{uuid.uuid4().hex[:6]}", "inventory/send_listing_feed")
        os.environ["POWERTOOLS_SERVICE_NAME"] = "ingest_notifications"
        self.ingest = _load(f"peak_ingest_{uuid.uuid4().hex[:6]}", "orders/ingest_notifications")
        logger.registered_handler.setStream(self.log)  # type: ignore[attr-defined]

    def _meter(self) -> None:
        import boto3
        from peak_meter import PartitionMeter, template_projections

        from oms.store import keys
        from oms.store.default import default_table

        self.meter = PartitionMeter(self.table_name, keys.INDEXES, template_projections(self.document))
        self.meter.on = True
        self.meter.reader = boto3.client("dynamodb", endpoint_url=self.moto_url, region_name=REGION)
        self.meter.attach(default_table().client)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=self.moto_url, region_name=REGION)
        description = boto3.client("dynamodb", endpoint_url=self.moto_url, region_name=REGION).describe_table(
            TableName=self.table_name
        )
        self.stream_arn = description["Table"]["LatestStreamArn"]
        self.iterators: dict[str, str] = {}
        sample = ROOT / "events" / "ingest_notifications" / "order_change.json"
        self.record = json.loads(sample.read_text())["Records"][0]

    # ------------------------------------------------------------------ 1. the burst

    def burst(self) -> list[Message]:
        from oms_local.simulator.buyer import Buyers

        buyers = Buyers(self.marketplace, rng=random.Random(self.seed + 1))
        placed, step = 0, 1.0 / ORDERS_PER_SECOND
        while len(self.delivered) < self.target:
            buyers.place_random_order()
            placed += 1
            self.clock.sleep(step)
            if placed % int(ORDERS_PER_SECOND) == 0:
                self.marketplace.run_due()
        for _ in range(3600):  # what the marketplace started finishes (payments, cancellations, late ones)
            if not self.marketplace.scheduler.pending():
                break
            self.clock.sleep(1)
            self.marketplace.run_due()
        self.placed = placed
        bodies = list(self.delivered)
        self.delivered.clear()
        # A standard queue hands messages out roughly, not strictly, in order.
        for start in range(0, len(bodies), 50):
            window = bodies[start : start + 50]
            self.rng.shuffle(window)
            bodies[start : start + 50] = window
        return [Message(body) for body in bodies]

    # ------------------------------------------------------------------ 2. the drain

    def invoke_ingest(self, invocation: Invocation, second: int) -> Invocation:
        records = [
            {
                **self.record,
                "messageId": m.id,
                "body": m.body,
                "md5OfBody": "",
                "attributes": {
                    **self.record.get("attributes", {}),
                    "ApproximateReceiveCount": str(m.receives),
                },
            }
            for m in invocation.messages
        ]
        self.meter.begin(second)
        SLEPT.seconds = 0.0
        started = time.thread_time()
        try:
            answer = self.ingest.lambda_handler(
                {"Records": records}, LambdaContext(aws_request_id=str(uuid.uuid4()))
            )
            invocation.failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        except Exception as error:  # the whole batch returns to the queue
            invocation.error = f"{type(error).__name__}: {error}"
            invocation.failed = {m.id for m in invocation.messages}
        invocation.cpu = time.thread_time() - started - self.meter.cpu_of_thread()
        invocation.requests = Counter(self.meter.requests_of_thread())
        invocation.slept = SLEPT.seconds
        return invocation

    def drain(self, messages: list[Message]) -> dict[str, Any]:
        start = self.drain_start = self.clock.epoch()
        self.sim.server.limiter.refill()  # Amazon's buckets full, as after a quiet night
        queue = QueueModel(messages, self.visibility, self.max_receives)
        busy = [0.0] * self.concurrency  # simulated seconds from start when each consumer is free
        now = 0.0
        stream = StreamLane(self, start)
        with counted_sleep(), concurrent.futures.ThreadPoolExecutor(self.concurrency) as pool:
            while True:
                queue.release(now)
                batches = [
                    Invocation(consumer, taken)
                    for consumer in range(self.concurrency)
                    if busy[consumer] <= now and (taken := queue.receive(self.batch_size))
                ]
                if batches:
                    self.rounds += 1
                    wall, second = time.monotonic(), int(now)
                    done = list(pool.map(self.invoke_ingest, batches, [second] * len(batches)))
                    self.ingest_wall += time.monotonic() - wall
                    if time.monotonic() - self.said > 30:
                        self.said = time.monotonic()
                        say(f"peak: {now:.1f} s simulated, {queue.handled} notifications handled")
                    for invocation in done:
                        busy[invocation.consumer] = now + invocation.seconds()
                        self.invocations.append(invocation)
                        queue.settle(invocation, busy[invocation.consumer])
                if queue.empty() and not any(b > now for b in busy):
                    while True:  # the stream's consumer works off what is left, whatever its window
                        stream.catch_up(start + now, final=True)
                        if not stream.read_more(start + now):
                            break
                    break
                stream.catch_up(start + now, final=False)  # it reads what the intake wrote up to now
                stream.send_due(start + now)
                candidates = [b for b in busy if b > now] + queue.next_visible()
                if stream.buffer:
                    candidates.append(stream.next_due() - start)
                now = max(now, min(candidates))
            feeds = self.settle_feeds(start, max(stream.last_end, start + now), stream)
        return {"drainSeconds": now, **queue.figures(), "lane": stream.figures(start), "feeds": feeds}

    def settle_feeds(self, start: float, after: float, stream: StreamLane) -> dict[str, Any]:
        """Amazon's clock runs on until it has processed every listings feed sent; each FEED_PROCESSING_FINISHED
        is handed to the real intake handler (one invocation each, as the queue would), whose settling may
        push again what moved while the feed waited. send_listing_feed runs on schedule meanwhile, until no
        quantity waits for a feed."""
        clock = self.clock
        clock.at = datetime.fromtimestamp(max(clock.epoch(), after), UTC)
        notices, settled_at, seconds = 0, None, 0.0
        for _ in range(4 * 3600):
            stream.send_due(clock.epoch())
            if not self.marketplace.scheduler.pending() and not self.delivered and not self.waiting():
                break
            clock.sleep(1.0)
            self.marketplace.run_due()
            while self.delivered:
                body = self.delivered.pop(0)
                invocation = self.invoke_ingest(Invocation(0, [Message(body)]), int(clock.epoch() - start))
                if invocation.failed:
                    raise RuntimeError(f"a feed's notification failed in the intake: {invocation.error}")
                clock.sleep(invocation.seconds())  # the budget's waits for patches sent again moved it too
                seconds += invocation.seconds()
                notices += 1
                settled_at = clock.epoch()
        return {
            "notifications": notices,
            "settledSeconds": round(settled_at - start, 1) if settled_at else None,
            "intakeSeconds": round(seconds, 2),
        }

    def waiting(self) -> bool:
        """Quantities wait for send_listing_feed's next feed."""
        from oms.store import keys
        from oms.store.default import default_table

        return bool(default_table().query_page(keys.wanted_listings(), limit=1).items)

    def listings_wrong(self) -> dict[str, Any]:
        """Every seller-fulfilled SKU the burst sold: the quantity Amazon shows against the one we have."""
        from oms.domain.listings import merchant_quantity
        from oms.inventory.stock import STOCK_ENTITY
        from oms.store import keys
        from oms.store.default import default_table

        skus = {
            line.product.sku
            for order in self.marketplace.orders.values()
            if not order.afn
            for line in order.lines
        }
        wrong: list[dict[str, Any]] = []
        checked = 0
        for sku in sorted(skus):
            rows = [
                r
                for r in default_table().query_all(keys.stock_rows_of(sku), consistent=True)
                if r.get("entity") == STOCK_ENTITY
            ]
            ours = merchant_quantity(rows)
            if ours is None:
                continue
            checked += 1
            amazon = self.marketplace.listing_quantity(sku)
            if amazon != ours:
                wrong.append({"sku": sku, "ours": ours, "amazon": amazon})
        return {"checked": checked, "wrong": len(wrong), "examples": wrong[:10]}


class QueueModel:
    """OrderNotificationsQueue as the event source sees it: a failed record is visible again a visibility
    timeout after its invocation ended; one received more than maxReceiveCount times goes to the DLQ."""

    def __init__(self, messages: list[Message], visibility: int, max_receives: int) -> None:
        self.visible = list(reversed(messages))  # pop() from the end: the queue's head
        self.delayed: list[tuple[float, int, Message]] = []  # (visible again at, n, message)
        self.sequence = 0
        self.dlq: list[Message] = []
        self.visibility, self.max_receives = visibility, max_receives
        self.handled = self.redelivered = 0

    def release(self, now: float) -> None:
        while self.delayed and self.delayed[0][0] <= now:
            self.visible.append(heapq.heappop(self.delayed)[2])

    def receive(self, count: int) -> list[Message]:
        taken: list[Message] = []
        while self.visible and len(taken) < count:
            message = self.visible.pop()
            message.receives += 1
            if message.receives > self.max_receives:
                self.dlq.append(message)  # the redrive policy moves it on this receive
                continue
            self.redelivered += message.receives > 1
            taken.append(message)
        return taken

    def settle(self, invocation: Invocation, ended: float) -> None:
        self.handled += len(invocation.messages) - len(invocation.failed)
        for message in invocation.messages:
            if message.id in invocation.failed:
                self.sequence += 1
                heapq.heappush(self.delayed, (ended + self.visibility, self.sequence, message))

    def empty(self) -> bool:
        return not self.visible and not self.delayed

    def next_visible(self) -> list[float]:
        return [self.delayed[0][0]] if self.delayed else []

    def figures(self) -> dict[str, Any]:
        return {
            "handled": self.handled,
            "redelivered": self.redelivered,
            "leftInQueue": len(self.visible) + len(self.delayed),
            "dlq": len(self.dlq),
        }


class StreamLane:
    """The table stream's consumer (SyncListingsFunction) and its SP-API calls, on the lane's own clock."""

    def __init__(self, run: PeakRun, start: float) -> None:
        self.run = run
        self.buffer: list[tuple[float, dict[str, Any]]] = []  # (written by, record)
        self.free_at = start  # the lane's clock (epoch seconds) when its last invocation ended
        self.invocations = 0
        self.failed_batches = 0
        self.to_destination = 0
        self.records = 0
        self.pushed = 0
        self.slept_in_budget = 0.0
        self.last_end = start
        self.attempts = 0
        self.wall = 0.0
        self.next_send = start + run.send_period  # send_listing_feed's next run (its schedule)
        self.sends = {"runs": 0, "feeds": 0, "fed": 0, "pushed": 0, "inFeed": 0}

    def _read(self) -> list[dict[str, Any]]:
        from oms_local.triggers import _plain, matches_pattern

        streams = self.run.streams
        if not self.run.iterators:
            shards = streams.describe_stream(StreamArn=self.run.stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                self.run.iterators[shard["ShardId"]] = streams.get_shard_iterator(
                    StreamArn=self.run.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        found = []
        for shard_id in list(self.run.iterators):
            while True:
                iterator = self.run.iterators[shard_id]
                answer = streams.get_records(ShardIterator=iterator, Limit=1000)
                self.run.iterators[shard_id] = answer.get("NextShardIterator") or iterator
                records = [
                    {**_plain(r), "eventSourceARN": self.run.stream_arn, "awsRegion": REGION}
                    for r in answer.get("Records", [])
                ]
                found += [
                    r
                    for r in records
                    if not self.run.patterns or any(matches_pattern(p, r) for p in self.run.patterns)
                ]
                if not answer.get("Records"):
                    break
        return found

    def read_more(self, intake_now: float) -> bool:
        more = [(intake_now, r) for r in self._read()]
        self.buffer += more
        return bool(more)

    def catch_up(self, intake_now: float, final: bool) -> None:
        """Read the stream up to the intake's present and run every batch that is due by then."""
        self.buffer += [(intake_now, r) for r in self._read()]
        while self.buffer:
            first = self.buffer[0][0]
            full = len(self.buffer) >= self.run.stream_batch
            due = max(self.free_at, first + (0 if full else self.run.stream_window))
            if due > intake_now and not final:
                return
            self.send_due(due)
            self._invoke(max(due, self.free_at))

    def send_due(self, until: float) -> None:
        """send_listing_feed's scheduled runs up to `until` (epoch seconds). Amazon's side has one clock here,
        so a run due while a stream batch was still sending starts when that batch ended, and the stream's
        next batch after it (they share the rate budget as the two functions would)."""
        while self.next_send <= until:
            at = max(self.next_send, self.free_at, self.run.clock.epoch())
            self._send(at)
            while self.next_send <= at:
                self.next_send += self.run.send_period

    def _send(self, at: float) -> None:
        clock = self.run.clock
        clock.at = datetime.fromtimestamp(at, UTC)
        self.run.meter.begin(lambda: int(clock.epoch() - self.run.drain_start))
        started = time.thread_time()
        wall = time.monotonic()
        context = LaneContext(clock, self.run.send_function.timeout, aws_request_id=str(uuid.uuid4()))
        with contextlib.redirect_stdout(self.run.log):
            answer = self.run.send.lambda_handler({"scheduledTime": clock.now().isoformat()}, context)
        cpu = time.thread_time() - started - self.run.meter.cpu_of_thread()
        self.wall += time.monotonic() - wall
        requests = self.run.meter.requests_of_thread()
        latency = sum(DYNAMODB_LATENCY.get(op, 0.006) * n for op, n in requests.items())
        self.free_at = clock.epoch() + LAMBDA_OVERHEAD + cpu + latency
        self.sends["runs"] += 1
        for name, key in (("feeds", "feeds"), ("fed", "fed"), ("pushed", "pushed"), ("inFeed", "in_feed")):
            self.sends[name] += int(answer.get(key, 0))
        if answer.get("fed") or answer.get("pushed"):
            self.last_end = max(self.last_end, self.free_at)

    def next_due(self) -> float:
        if not self.buffer:
            return self.free_at
        return max(self.free_at, self.buffer[0][0] + self.run.stream_window)

    def idle(self) -> bool:
        return not self.buffer

    def _invoke(self, at: float) -> None:
        clock = self.run.clock
        clock.at = datetime.fromtimestamp(at, UTC)
        batch = [r for _, r in self.buffer[: self.run.stream_batch]]
        self.run.meter.begin(lambda: int(clock.epoch() - self.run.drain_start))
        started = time.thread_time()
        wall = time.monotonic()
        context = LaneContext(clock, self.run.sync_function.timeout, aws_request_id=str(uuid.uuid4()))
        with contextlib.redirect_stdout(self.run.log):
            answer = self.run.sync.lambda_handler({"Records": batch}, context)
        cpu = time.thread_time() - started - self.run.meter.cpu_of_thread()
        self.wall += time.monotonic() - wall
        requests = self.run.meter.requests_of_thread()
        latency = sum(DYNAMODB_LATENCY.get(op, 0.006) * n for op, n in requests.items())
        # the SP-API calls' own round trips are not modelled; the budget's waits moved the clock already
        self.free_at = clock.epoch() + LAMBDA_OVERHEAD + cpu + latency
        self.last_end = self.free_at
        self.invocations += 1
        failed = [f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])]
        if not failed:
            self.records += len(batch)
            del self.buffer[: len(batch)]
            self.attempts = 0
            return
        self.failed_batches += 1
        first = next((i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), 0)
        self.records += first
        del self.buffer[:first]
        self.attempts += 1
        if 0 <= self.run.stream_retries < self.attempts:
            self.to_destination += len(self.buffer[: self.run.stream_batch])
            del self.buffer[: self.run.stream_batch]
            self.attempts = 0

    def figures(self, start: float) -> dict[str, Any]:
        return {
            "invocations": self.invocations,
            "records": self.records,
            "failedBatches": self.failed_batches,
            "recordsToOnFailure": self.to_destination,
            "caughtUpSeconds": round(self.last_end - start, 1),
            "wallSeconds": round(self.wall, 1),
            "sendListingFeed": dict(self.sends),
        }


# ---------------------------------------------------------------------------------- the run


def wrong_orders(run: PeakRun) -> list[dict[str, Any]]:
    """Every order as the marketplace has it, against the product's table (status, units shipped)."""
    import boto3
    from bench_shared import wrong_orders as orders_not_as_amazon_has_them
    from intake_common import no_paging

    from oms.store.table import Table

    table = Table(run.table_name, no_paging, client=boto3.client("dynamodb", endpoint_url=run.moto_url))
    return orders_not_as_amazon_has_them(table, run.marketplace)


@contextlib.contextmanager
def process_state_kept() -> Any:
    """The environment, the SP-API classes' defaults and the warm state as they were before the run
    (a test runs the bench in its own process)."""
    from oms.amazon import client as client_module
    from oms.amazon import rate_budget

    environment = dict(os.environ)
    budget_defaults = dict(defaults(rate_budget.RateBudget.__init__))
    client_defaults = dict(defaults(client_module.SpApiClient.__init__))
    try:
        yield
    finally:
        defaults(rate_budget.RateBudget.__init__).update(budget_defaults)
        defaults(client_module.SpApiClient.__init__).update(client_defaults)
        os.environ.clear()
        os.environ.update(environment)
        _reset_warm_state()


def measure(target: int, seed: int, work: Path, concurrency: int | None = None) -> dict[str, Any]:
    with process_state_kept():
        local_handler_environment()
        return _measure(target, seed, work, concurrency)


def _measure(target: int, seed: int, work: Path, concurrency: int | None) -> dict[str, Any]:
    with (work / "handlers.log").open("w") as log, own_moto(work / "moto.log") as moto_url:
        run = PeakRun(target, seed, moto_url, log, concurrency)
        began = time.monotonic()
        run.setup()
        try:
            say(f"peak: placing orders until {target} notifications are delivered")
            messages = run.burst()
            generated = time.monotonic()
            say(f"peak: {len(messages)} notifications for {run.placed} orders queued; draining")
            with contextlib.redirect_stdout(log):  # Powertools prints its metrics
                drained = run.drain(messages)
            wrong = wrong_orders(run)
            drained["listings"] = run.listings_wrong()
            return figures(run, messages, drained, wrong, generated - began, time.monotonic() - generated)
        finally:
            run.sim.server.stop()
            from oms.observability import logger

            logger.registered_handler.setStream(sys.stdout)  # type: ignore[attr-defined] # the log closes


def figures(
    run: PeakRun,
    messages: list[Message],
    drained: dict[str, Any],
    wrong: list[dict[str, Any]],
    generate_seconds: float,
    drain_wall: float,
) -> dict[str, Any]:
    sent = run.marketplace.courier.stats.as_dict()
    operations = {op: s.as_dict() for op, s in run.sim.server.stats.items() if s.requests}
    seconds = drained["drainSeconds"] or 0.0
    invocations = run.invocations
    durations = sorted(i.seconds() for i in invocations) or [0.0]
    errors = Counter(i.error.split(":")[0] for i in invocations if i.error)
    meter = run.meter
    return {
        "notifications": len(messages),
        "orders": run.placed,
        "courier": sent,
        "settings": {
            "batchSize": run.batch_size,
            "maximumConcurrency": run.concurrency,
            "concurrencyOverridden": run.concurrency_override is not None,
            "visibilityTimeout": run.visibility,
            "maxReceiveCount": run.max_receives,
            "streamBatchSize": run.stream_batch,
            "streamWindowSeconds": run.stream_window,
            "lambdaOverheadSeconds": LAMBDA_OVERHEAD,
            "dynamodbLatencySeconds": DYNAMODB_LATENCY,
            "seed": run.seed,
            "catalogue": f"{run.catalogue.source} ({len(run.catalogue.products)} products)",
        },
        "drainSeconds": round(seconds, 1),
        "notificationsPerSecond": round(len(messages) / seconds, 1) if seconds else None,
        "invocations": len(invocations),
        "rounds": run.rounds,
        "invocationSeconds": {
            "p50": round(durations[len(durations) // 2], 3),
            "p99": round(durations[int(len(durations) * 0.99)], 3),
        },
        "invocationErrors": dict(errors),
        "failedRecords": sum(len(i.failed) for i in invocations),
        "redelivered": drained["redelivered"],
        "leftInQueue": drained["leftInQueue"],
        "dlq": drained["dlq"],
        "handled": drained["handled"],
        "spApi": {
            "operations": operations,
            "throttled": sum(s["throttled"] for s in operations.values()),
            "lwaTokenRequests": run.sim.server.lwa_requests,
        },
        "stockSync": drained["lane"],
        "listingFeeds": {
            **drained["feeds"],
            "threshold": run.feed_threshold,
            "amazonCaughtUpSeconds": max(
                drained["lane"]["caughtUpSeconds"], drained["feeds"]["settledSeconds"] or 0.0
            ),
        },
        "listings": drained["listings"],
        "dynamodb": {
            "requests": dict(meter.all_requests),
            "refused": dict(meter.refused),
            "wcu": sum(meter.units.values()),
            "wcuPerNotification": round(sum(meter.units.values()) / max(len(messages), 1), 2),
            "partitions": per_order(meter.hottest(FAMILIES), run.placed),
        },
        "bestSellers": best_sellers(run, meter),
        "ordersRight": len(run.marketplace.orders) - len(wrong),
        "ordersWrong": wrong[:20],
        "ordersWrongCount": len(wrong),
        "wallSeconds": {
            "generate": round(generate_seconds, 1),
            "drain": round(drain_wall, 1),
            "intakeHandlers": round(run.ingest_wall, 1),
            "stockSync": drained["lane"]["wallSeconds"],
        },
    }


def best_sellers(run: PeakRun, meter: Any, count: int = 5) -> list[dict[str, Any]]:
    """The SKUs with the most seller-fulfilled order lines in the burst: lines, units, and the write units
    their partition (stock row, ledger, demand, counters) took per line."""
    lines: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for order in run.marketplace.orders.values():
        if order.afn:
            continue
        for line in order.lines:
            lines[line.product.sku] += 1
            units[line.product.sku] += line.quantity
    written: Counter[str] = Counter()
    for (partition, _), wcu in meter.units.items():
        if partition.startswith("table:SKU#"):
            written[partition.removeprefix("table:SKU#")] += wcu
    return [
        {
            "sku": sku,
            "lines": n,
            "units": units[sku],
            "wcu": written[sku],
            "wcuPerLine": round(written[sku] / n, 1),
        }
        for sku, n in lines.most_common(count)
    ]


def per_order(partitions: dict[str, dict[str, Any]], orders: int) -> dict[str, dict[str, Any]]:
    """Each hottest partition's units per order placed in the burst, and the orders a second into the whole
    account at which it would reach the per-partition limit with this mix (docs/scaling.md's column)."""
    from peak_meter import PARTITION_WCU

    for figures in partitions.values():
        units = figures.get("wcu", 0) / max(orders, 1)
        figures["wcuPerOrder"] = round(units, 2)
        figures["ordersPerSecondAtLimit"] = round(PARTITION_WCU / units) if units else None
    return partitions


def report(results: dict[str, Any]) -> str:
    from peak_meter import PARTITION_WCU

    spapi = results["spApi"]
    rows: list[tuple[str, Any, Any, Any]] = [
        ("notifications queued (orders)", f"{results['notifications']} ({results['orders']})", "", ""),
        ("drain time, simulated", f"{results['drainSeconds']} s", "", ""),
        ("notifications per second", f"{results['notificationsPerSecond']}", "", ""),
        (
            "consumers x batch",
            f"{results['settings']['maximumConcurrency']} x {results['settings']['batchSize']}",
            "--concurrency" if results["settings"].get("concurrencyOverridden") else "template",
            "",
        ),
        (
            "invocation p50 / p99 (modelled)",
            f"{results['invocationSeconds']['p50']} / {results['invocationSeconds']['p99']} s",
            "",
            "",
        ),
    ]
    for op, stats in sorted(spapi["operations"].items()):
        rows.append((f"SP-API {op}: calls (429)", f"{stats['requests']} ({stats['throttled']})", "", ""))
    rows += [
        ("SP-API calls throttled beyond burst", spapi["throttled"], 0, spapi["throttled"] == 0),
        (
            "stock pushes: invocations, failed batches",
            f"{results['stockSync']['invocations']}, {results['stockSync']['failedBatches']}",
            "",
            "",
        ),
        (
            "send_listing_feed (every minute): runs, feeds, SKUs fed / patched",
            "{runs}, {feeds}, {fed} / {pushed}".format(
                **{
                    "runs": 0,
                    "feeds": 0,
                    "fed": 0,
                    "pushed": 0,
                    **results["stockSync"].get("sendListingFeed", {}),
                }
            ),
            "",
            "",
        ),
        (
            "stock sync done (patches sent, feeds created)",
            f"{results['stockSync']['caughtUpSeconds']} s",
            "",
            "",
        ),
        (
            "listings feeds processed and settled",
            f"{results['listingFeeds']['settledSeconds'] or '-'} s",
            "",
            "",
        ),
        (
            "Amazon shows every quantity after",
            f"{results['listingFeeds']['amazonCaughtUpSeconds']} s",
            "",
            "",
        ),
        (
            "quantities Amazon shows wrong at the end",
            f"{results['listings']['wrong']} of {results['listings']['checked']}",
            0,
            results["listings"]["wrong"] == 0,
        ),
        ("records redelivered (retries)", results["redelivered"], "", ""),
        (
            "conflicts retried (canceled transactions)",
            results["dynamodb"]["refused"].get("TransactWriteItems", 0),
            "",
            "",
        ),
        (
            "left in queue / DLQ",
            f"{results['leftInQueue']} / {results['dlq']}",
            "0 / 0",
            results["leftInQueue"] == 0 and results["dlq"] == 0,
        ),
        (
            "orders right / wrong",
            f"{results['ordersRight']} / {results['ordersWrongCount']}",
            "all / 0",
            results["ordersWrongCount"] == 0,
        ),
        (
            "DynamoDB write units (per notification)",
            f"{results['dynamodb']['wcu']} ({results['dynamodb']['wcuPerNotification']})",
            "",
            "",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'measured':>22}  {'goal':>8}  met?"]
    for name, value, goal, met in rows:
        mark = "" if met == "" else ("yes" if met else "NO")
        lines.append(f"{name:<{width}}  {value!s:>22}  {goal!s:>8}  {mark}")
    lines.append("")
    lines.append(
        f"hottest partition of each kind: write units in its busiest simulated second (limit {PARTITION_WCU})"
    )
    parts = results["dynamodb"]["partitions"]
    width = max(len(k) for k in parts)
    lines.append(
        f"{'key':<{width}}  {'peak/s':>7}  {'s over':>6}  {'units over':>10}  {'units/order':>11}"
        f"  {'orders/s at limit':>17}  partition"
    )
    for label, p in parts.items():
        lines.append(
            f"{label:<{width}}  {p['peakWcuPerSecond']:>7}  {p['secondsOver']:>6}  {p['unitsOver']:>10}"
            f"  {p['wcuPerOrder']:>11}  {p['ordersPerSecondAtLimit'] or '-':>17}  {p['partition'] or '-'}"
        )
    sellers = results.get("bestSellers") or []
    if sellers:
        lines.append("")
        lines.append(
            "best sellers (seller-fulfilled lines): "
            + "; ".join(f"{b['sku']} {b['lines']} lines, {b['wcuPerLine']} units/line" for b in sellers)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=50_000, help="queued notifications [50000]")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--concurrency", type=int, help="consumers instead of the template's MaximumConcurrency (what if)"
    )
    parser.add_argument(
        "--feed-threshold",
        type=int,
        help="quantities a stock batch patches before it sends a listings feed (the product's: 150; "
        "1000000 for patches only, as before issue 15's feeds)",
    )
    args = parser.parse_args(argv)
    if args.feed_threshold is not None:
        from oms.inventory import listings_feed

        listings_feed.FEED_THRESHOLD = args.feed_threshold
    for module in (
        "boto3",
        "oms.amazon.client",
        "oms.orders.intake",
        "oms.inventory.listings",
        "oms.inventory.listings_feed",
        "oms.returns.refunds",
    ):
        importlib.import_module(module)  # imported once, here: threads importing one module can deadlock
    work = Path(tempfile.mkdtemp(prefix="oms-bench-peak-"))
    say(f"peak: work files in {work}")
    results = measure(args.notifications, args.seed, work, args.concurrency)
    results["startedAt"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    results["goals"] = GOALS
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report(results))
    print(f"\nfigures in {args.out}; wall time {results['wallSeconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
