"""Cost benchmark: dollars per million orders, counted, beside Amazon's sample flow and the floor.

    .venv/bin/python bench/cost.py [--orders 200] [--orders-per-hour 500] [--return-share 0.1]
                                   [--message-share 0.1]

N orders go through the intake benchmark's simulated day (bench/intake_sim.py: the simulator's
marketplace and buyers on a simulated clock, 500 orders an hour, duplicates, delays and changes, the
backstop every 15 simulated minutes) with moto as the local stack runs it, and the seller works them
through the product (bench/cost_day.py): labels bought through the API (recorded and confirmed at
Amazon), returns recorded, received, graded and refunded (Amazon's feed), buyers' mail stored as SES
would (S3 -> queue -> ingest_messages) and answered, order rules and a webhook subscription defined once
(deliveries to a loopback receiver), the dashboard's usual reads, the day's-end forms and reports.
Every function the table's stream or the queues trigger runs in this process on what the template
routes to it (oms_local.triggers' pollers, played synchronously once a simulated minute), and at the
end every scheduled function runs once on its schedule's event; its cost per run is multiplied by its
runs per hour of the seller's day.

Every request any boto3 client makes is counted by botocore hooks (bench/cost_meter.py), per capability
(the function running, or the API's use: shipping, returns, care, dashboard...); Lambda is billed from the
wall time of each handler call and the template's MemorySize (arm64); logs and EMF metrics from what the
functions print; SES per mail received and sent. Prices: bench/cost_prices.py. Fixed monthly charges
(custom metrics, schedules' runs) become per-order at --orders-per-hour; one-time work (the set-up, stock
received for a SKU, a SKU read from Amazon's catalogue the first time) is spread over a month of orders.
Amazon's usage plans refill on the simulated clock plus the real time a handler waits.

Index writes are counted for the template's projections and, beside them, for other projection plans
(ALL everywhere, as before decision 81's migration; KEYS_ONLY on more indexes): what each would cost on
the same writes.

Not driven: Amazon's own returns (sync_returns' reports; the seller-recorded return starts authorised,
so the authorise step is not billed), integrations' inbound webhooks, purchasing, audits."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib.util
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_shared import order_to_ship, package_to_ship
from cost_day import (
    DAMAGED_SHARE,
    MESSAGE_SHARE,
    RETURN_SHARE,
    RULES,
    STOCK_RECEIVED,
    WEBHOOK_EVENTS,
    LoopbackReceiver,
    api_event,
    shipping_setup,
)
from cost_meter import ALL, POLLING, BillMeter
from cost_prices import PRICES, chunks, lambda_dollars, per_million
from intake_common import REGION, ROOT, local_handler_environment, own_moto, say
from intake_sim import LambdaContext, SimulatedIntake

GOAL_DOLLARS = 10.0
KEYS = frozenset[str]()  # KEYS_ONLY: the entry holds the keys only
# Priced on the same writes. The template's first: gsi1 served by gsi1keys (KEYS_ONLY), once the release
# after it has deleted the old ALL-projected gsi1 (until then both are written); then what it was, and
# what KEYS_ONLY on the next indexes would save.
PLANS: dict[str, dict[str, Any]] = {
    "template (gsi1 KEYS_ONLY, gsi2-3 ALL)": {"gsi1": KEYS, "gsi2": ALL, "gsi3": ALL},
    "before (ALL x3)": {"gsi1": ALL, "gsi2": ALL, "gsi3": ALL},
    "KEYS_ONLY gsi1-2": {"gsi1": KEYS, "gsi2": KEYS, "gsi3": ALL},
    "KEYS_ONLY x3": {"gsi1": KEYS, "gsi2": KEYS, "gsi3": KEYS},
}
FIRST_SYNC = "once: first inventory sync (the FBA catalogue) and what it sets off"
FED_DIRECTLY = "IngestNotificationsFunction"  # the simulated day hands it Amazon's messages itself
PUMP_EVERY = timedelta(minutes=1)  # of simulated time: the stream and queues are played this often


class ShortPolls:
    """The queues' client for the pollers, asking without long polling: the bench plays them in turn."""

    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sqs, name)

    def receive_message(self, **kwargs: Any) -> Any:
        return self.sqs.receive_message(**{**kwargs, "WaitTimeSeconds": 0})


class NoPause:
    def pause(self, seconds: float) -> None:
        return None


def _load(function: Any) -> Any:
    path = function.code_uri / "app.py"
    name = f"cost_{function.folder}_{uuid.uuid4().hex[:6]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(function.code_uri))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(function.code_uri))
    return module


class CostRun(SimulatedIntake):
    def __init__(self, count: int, seed: int, moto_url: str, catalogue: Any, meter: BillMeter) -> None:
        super().__init__(count, seed, moto_url, catalogue, meter)
        self.meter = meter
        self.handlers: dict[str, tuple[Any, Any]] = {}
        self.pollers: list[Any] = []
        self.failed_runs: dict[str, str] = {}
        self.pumped_at = self.clock.now()
        self.day_rng = random.Random(seed + 7)
        self.stocked: set[str] = set()
        self.api_answers: Counter[str] = Counter()  # "capability METHOD /path-kind status" -> count
        self.api_refusals: dict[str, Any] = {}  # the first answer of each kind of refusal
        self.reads: Counter[str] = Counter()  # the dashboard's reads made
        self.lifecycle: Counter[str] = Counter()  # what the seller's day did
        self.receiver = LoopbackReceiver()
        self.return_share, self.message_share = RETURN_SHARE, MESSAGE_SHARE
        self.catalogue_paused = False
        self.phase: str | None = None  # bills every invocation to this capability while set
        self.skus_read_in_day = 0  # products read from Amazon by read_catalogue during the day
        self.skus_left_unread = 0  # SKUs first seen by the day's-end schedules, not read here

    def setup(self) -> None:
        import boto3

        import oms_local.resources
        from oms_local.template import Template
        from oms_local.triggers import SqsPoller, StreamPoller, filter_patterns

        create = oms_local.resources.create_resources
        made: list[Any] = []

        def keep(*args: Any, **kwargs: Any) -> Any:  # the resources setup creates, for their resolver
            # deliveries to the bench's loopback receiver, as the local stack allows them
            kwargs["parameters"] = {**kwargs.get("parameters", {}), "WebhooksAllowLoopback": "true"}
            made.append(create(*args, **kwargs))
            return made[-1]

        oms_local.resources.create_resources = keep  # type: ignore[assignment]
        try:
            super().setup()
        finally:
            oms_local.resources.create_resources = create  # type: ignore[assignment]
        self.resources = made[0]
        self.meter.table = self.environment["TABLE_NAME"]
        self._amazon_on_real_time()
        self.marketplace.deliver_mail = self._deliver_mail
        template = self.template = Template()
        self.functions = {f.logical_id: f for f in template.functions()}
        streams = boto3.client("dynamodbstreams", endpoint_url=self.moto_url)
        sqs = boto3.client("sqs", endpoint_url=self.moto_url)
        table = boto3.client("dynamodb", endpoint_url=self.moto_url).describe_table(
            TableName=self.environment["TABLE_NAME"]
        )["Table"]
        for logical_id, function in self.functions.items():
            if logical_id == FED_DIRECTLY:
                continue
            for trigger in function.triggers:
                props = trigger.properties
                reports = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
                invoke = self._invoker(function)
                if trigger.type == "DynamoDB":
                    poller: Any = StreamPoller(
                        function=logical_id,
                        stream_arn=table["LatestStreamArn"],
                        batch_size=int(props.get("BatchSize", 100)),
                        max_retries=0,
                        report_failures=reports,
                        on_failure_url=None,
                        starting_position="TRIM_HORIZON",
                        region=REGION,
                        streams=streams,
                        sqs=sqs,
                        invoke=invoke,
                        say=say,
                        patterns=filter_patterns(props),
                        batching_window=0,
                    )
                elif trigger.type == "SQS":
                    queue = self._queue(sqs, props["Queue"])
                    if queue is None:
                        continue
                    poller = SqsPoller(
                        function=logical_id,
                        queue_url=queue[0],
                        queue_arn=queue[1],
                        batch_size=int(props.get("BatchSize", 10)),
                        report_failures=reports,
                        region=REGION,
                        sqs=ShortPolls(sqs),
                        invoke=invoke,
                        say=say,
                    )
                else:
                    continue
                poller.pause = NoPause().pause  # type: ignore[method-assign]
                self.pollers.append(poller)

    @staticmethod
    def _queue(sqs: Any, reference: Any) -> tuple[str, str] | None:
        """The queue a trigger names (GetAtt Queue.Arn), found by its logical id in the local name."""
        logical = reference["Fn::GetAtt"][0] if isinstance(reference, dict) else str(reference).split(".")[0]
        for url in sqs.list_queues().get("QueueUrls", []):
            if logical in url:
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
                return url, arn
        return None

    def _invoker(self, function: Any) -> Any:
        def invoke(_: str, event: Any) -> Any:
            return self.invoke(function.logical_id, event)

        return invoke

    def _amazon_on_real_time(self) -> None:
        """Amazon's usage plans refill on the simulated clock plus the real time that passed: a handler that
        waits for a token (on the real clock, as the product's rate budget does) finds it refilled, as on
        Amazon; before, the simulated clock stood still during a handler and the catalogue's reads failed."""
        from oms_local.simulator import contract
        from oms_local.simulator.ratelimit import RateLimiter
        from oms_local.simulator.server import OPERATIONS

        began = time.monotonic()

        def clock() -> float:
            return self.clock.epoch() + (time.monotonic() - began)

        self.sim.server.limiter = RateLimiter({op: contract.usage_plan(op) for op in OPERATIONS}, clock=clock)

    def _deliver_mail(self, raw: bytes) -> None:
        """A buyer's mail, stored where SES's receipt rule puts it (the bucket's notification tells the queue)."""
        rule = self.template.resources["BuyerMailRule"]["Properties"]["Rule"]
        prefix = rule["Actions"][0]["S3Action"]["ObjectKeyPrefix"]
        with self.meter.capability("care: SES stores the buyer's mail"):
            self.meter.capabilities["care: SES stores the buyer's mail"].requests["ses.ReceivedMail"] += 1
            self.resources.client("s3").put_object(
                Bucket=str(self.resources.refs["DocumentsBucket"]),
                Key=f"{prefix}{uuid.uuid4().hex}",
                Body=raw,
            )

    def invoke(self, logical_id: str, event: Any, capability: str | None = None) -> Any:
        """One invocation of a function's handler in this process, billed to its capability (the function's
        folder unless named)."""
        function = self.functions[logical_id]
        if logical_id not in self.handlers:
            resolved = self._resolve(function.environment)
            os.environ.update(resolved)
            with self.meter.capability(function.folder), contextlib.redirect_stdout(self.meter):  # type: ignore[type-var]
                self.handlers[logical_id] = (_load(function), resolved)
        module, resolved = self.handlers[logical_id]
        os.environ.update(resolved)
        context = LambdaContext(
            function_name=function.function_name if hasattr(function, "function_name") else logical_id,
            aws_request_id=str(uuid.uuid4()),
            memory_limit_in_mb=function.memory,
        )
        with (
            self.meter.capability(capability or self.phase or function.folder) as cap,
            contextlib.redirect_stdout(self.meter),
        ):  # type: ignore[type-var]
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return module.lambda_handler(event, context)
            finally:
                self.meter.invoked(time.perf_counter() - started, function.memory)
                cap.cpu_seconds += time.thread_time() - cpu

    def _resolve(self, environment: dict[str, Any]) -> dict[str, str]:
        return {k: str(v) for k, v in self.resources.resolver.resolve(environment).items()}

    # ------------------------------------------------------------ the product's functions

    def ingest(self, bodies: list[str]) -> list[str]:
        function = self.functions["IngestNotificationsFunction"]
        with self.meter.capability("amazon to the queue"):
            cap = self.meter.capabilities["amazon to the queue"]
            cap.requests["sqs.SendMessage (Amazon's, to the seller's queue)"] += len(bodies)
            cap.sqs_requests += sum(chunks(len(b.encode())) for b in bodies)
        with self.meter.capability(function.folder):
            cap = self.meter.capabilities[function.folder]
            cap.requests["sqs.ReceiveMessage+DeleteMessageBatch (the event source mapping)"] += 2
            cap.sqs_requests += 2
            started = time.perf_counter()
            try:
                return super().ingest(bodies)
            finally:
                self.meter.invoked(time.perf_counter() - started, function.memory)
                self.due_pump()

    def reconcile(self) -> None:
        function = self.functions["ReconcileOrdersFunction"]
        with self.meter.capability(function.folder), contextlib.redirect_stdout(self.meter):  # type: ignore[type-var]
            started = time.perf_counter()
            try:
                super().reconcile()
            finally:
                self.meter.invoked(time.perf_counter() - started, function.memory)
        self.due_pump()

    def due_pump(self) -> None:
        """The stream and queues played once a simulated minute (not after every step: that made 20 orders
        the practical limit); Lambda's pollers see the same records, in batches at least as full."""
        if self.clock.now() - self.pumped_at >= PUMP_EVERY:
            self.pumped_at = self.clock.now()
            self.pump()

    def pump(self) -> None:
        """What the stream and queues have for their functions, until nothing is left. The pollers' own
        requests (short polls of every queue, the bench's stand-in for the event source mappings' long
        polls) are billed to a row of their own, not to the function that happened to run before."""
        for _ in range(5):
            before = sum(c.invocations for c in self.meter.capabilities.values())
            for poller in self.pollers:
                if self.catalogue_paused and poller.function == "ReadCatalogueFunction":
                    continue
                with contextlib.suppress(Exception):
                    poller.tick()
            if sum(c.invocations for c in self.meter.capabilities.values()) == before:
                return

    # ------------------------------------------------------------ the seller's day (bench/cost_day.py)

    def api(
        self,
        capability: str,
        method: str,
        path: str,
        body: Any = None,
        query: dict[str, str] | None = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        """One request to the API function, as API Gateway sends it, billed to `capability`."""
        event = api_event(method, path, body, query)
        if key:
            event["headers"]["Idempotency-Key"] = key
            event["multiValueHeaders"]["Idempotency-Key"] = [key]
        answer = self.invoke("ApiFunction", event, capability=capability)
        status = int(answer["statusCode"])
        payload: Any = answer.get("body") or {}
        if "json" in str((answer.get("headers") or {}).get("Content-Type", "application/json")):
            with contextlib.suppress(ValueError, TypeError):
                payload = json.loads(payload) if payload else {}
        kind = f"{capability}: {method} {_path_kind(path)} {status}"
        self.api_answers[kind] += 1
        if status >= 400:
            self.api_refusals.setdefault(kind, payload)
        return status, payload

    def open_day(self) -> None:
        """What the seller sets up once: shipping setup, order rules, a webhook subscription."""
        self.api("once: shipping", "PUT", "/settings/shipping", shipping_setup())
        for number, rule in enumerate(RULES):
            self.api("once: rules", "POST", "/rules", {**rule, "position": 10 * (number + 1)})
        self.receiver.__enter__()
        self.api(
            "once: webhooks",
            "POST",
            "/webhooks/subscriptions",
            {"url": self.receiver.url, "events": WEBHOOK_EVENTS, "description": "the seller's ERP"},
            key="bench-erp",
        )

    def first_inventory_sync(self) -> None:
        """The seller's first inventory_sync brings their whole FBA catalogue in (hundreds of SKUs the
        simulator lists): one-time work, billed with all it sets off on the stream (listings, events) to
        FIRST_SYNC. The catalogue reads of those SKUs are left out (2 a second from Amazon: too slow for a
        bench) and priced per SKU from those read in the day (report())."""
        from oms_local.triggers import scheduled_event

        function = self.functions["InventorySyncFunction"]
        trigger = next(t for t in function.triggers if t.type in ("Schedule", "ScheduleV2"))
        event = scheduled_event(
            trigger.type, trigger.properties, when=self.clock.now(), region=REGION, schedule_arn="bench"
        )
        self.phase, self.catalogue_paused = FIRST_SYNC, True
        try:
            self._scheduled(function, FIRST_SYNC, event)
            self.pump()
        finally:
            self.phase, self.catalogue_paused = None, False
        for poller in self.pollers:  # the catalogue's reader moves past what the first sync wrote
            if poller.function != "ReadCatalogueFunction" or not hasattr(poller, "iterators"):
                continue
            invoke, poller.invoke = poller.invoke, lambda *_: None
            try:
                poller.tick()
                for shard_id in list(poller.iterators):
                    while True:
                        answer = poller.streams.get_records(
                            ShardIterator=poller.iterators[shard_id], Limit=1000
                        )
                        poller.iterators[shard_id] = (
                            answer.get("NextShardIterator") or poller.iterators[shard_id]
                        )
                        if not answer.get("Records"):
                            break
            finally:
                poller.invoke = invoke

    def arrive(self) -> None:
        """An order placed (the intake bench's mix), then what the seller and the buyer do with it."""
        known = set(self.marketplace.orders)
        super().arrive()
        for order_id in set(self.marketplace.orders) - known:
            self.lifecycle["orders"] += 1
            self.later(600, lambda o=order_id: self.read("order page", "GET", f"/orders/{o}"))
            if self.lifecycle["orders"] % 5 == 0:
                self.read(
                    "order list", "GET", "/orders", {"status": "Unshipped", "fulfillmentChannel": "MFN"}
                )
            if self.lifecycle["orders"] % 10 == 0:
                self.read("stock", "GET", "/inventory")
            if self.day_rng.random() < self.message_share:
                self.later(self.day_rng.uniform(1800, 4 * 3600), lambda o=order_id: self.buyer_writes(o))

    def read(self, what: str, method: str, path: str, query: dict[str, str] | None = None) -> None:
        self.reads[what] += 1
        self.api("dashboard", method, path, query=query)

    def ship(self, order_id: str, packages: int, attempt: int = 1) -> None:
        """The seller ships through the product: stock received for a SKU the first time, the order's page,
        a label bought through Amazon (some units first for a two-package order), confirmed at Amazon."""
        order = order_to_ship(self, order_id, packages, attempt)
        if order is None:
            return
        for line in order.lines:
            if line.product.sku not in self.stocked:
                self.stocked.add(line.product.sku)
                self.api(
                    "once: stock received (per SKU)",
                    "POST",
                    f"/inventory/{line.product.sku}/adjustments",
                    {"delta": STOCK_RECEIVED, "reason": "receipt", "reference": "PO-bench"},
                    key=f"receipt-{line.product.sku}",
                )
        self.read("order page", "GET", f"/orders/{order_id}")
        body: dict[str, Any] = {"buyLabel": True}
        first, some_units = package_to_ship(self, order, packages)
        if some_units:
            body["items"] = [{"orderItemId": i, "quantity": u} for i, u in first]
        status, answer = self.api("shipping", "POST", f"/orders/{order_id}/shipments", body)
        if status == 409 and "no offered service delivers" in str(answer):  # late already: the fastest
            status, rates = self.api("shipping", "GET", f"/orders/{order_id}/rates")
            offered = [r for r in (rates or {}).get("items", []) if not r.get("needsMoreInputs")]
            if status == 200 and offered:
                fastest = min(
                    offered, key=lambda r: str((r.get("deliveryWindow") or {}).get("latest") or "~")
                )
                body["shippingServiceId"] = fastest["shippingServiceId"]
                status, answer = self.api("shipping", "POST", f"/orders/{order_id}/shipments", body)
        if status == 409 and attempt < 5:  # the product has not seen the order unshipped yet
            self.later(300, lambda: self.ship(order_id, packages, attempt + 1))
            return
        if status != 201:
            return
        self.lifecycle["labels bought"] += 1
        if "items" not in body and self.day_rng.random() < self.return_share:
            self.later(self.day_rng.uniform(2 * 3600, 6 * 3600), lambda: self.buyer_returns(order_id))

    def buyer_returns(self, order_id: str) -> None:
        """The buyer sends a unit back: the seller records it; it arrives an hour later and is graded."""
        order = self.marketplace.snapshot(order_id)
        line = next((x for x in order.lines if x.shipped), None)
        if line is None:
            return
        body = {
            "orderId": order_id,
            "items": [{"sku": line.product.sku, "quantity": 1, "reason": "UNWANTED_ITEM"}],
        }
        status, answer = self.api("returns", "POST", "/returns", body, key=f"rma-{order_id}")
        if status != 201:
            return
        self.lifecycle["returns recorded"] += 1
        return_id = answer["returnId"]
        grade = "damaged" if self.day_rng.random() < DAMAGED_SHARE else "sellable"
        self.later(3600, lambda: self.receive(return_id, line.product.sku, grade))

    def receive(self, return_id: str, sku: str, grade: str) -> None:
        receipt = {"items": [{"sku": sku, "quantity": 1, "grade": grade}]}
        status, _ = self.api(
            "returns", "POST", f"/returns/{return_id}/receipts", receipt, key=f"scan-{return_id}"
        )
        if status != 201:
            return
        self.lifecycle[f"returns received ({grade})"] += 1
        self.later(1800, lambda: self.refund(return_id))

    def refund(self, return_id: str) -> None:
        status, _ = self.api("returns", "POST", f"/returns/{return_id}/refund", {}, key=f"refund-{return_id}")
        if status in (200, 201, 202):
            self.lifecycle["refunds asked"] += 1

    def buyer_writes(self, order_id: str) -> None:
        """A buyer's mail (the simulator's, as SES stores it); the seller answers within the hour."""
        from oms_local.simulator.marketplace import ApiError

        with contextlib.suppress(ApiError):
            self.marketplace.write_to_seller(order_id)
            self.lifecycle["buyer messages"] += 1
            self.later(self.day_rng.uniform(600, 3600), lambda: self.answer(order_id))

    def answer(self, order_id: str) -> None:
        status, page = self.api("care", "GET", "/messages", query={"orderId": order_id})
        for thread in (page or {}).get("items", [])[:1]:
            status, full = self.api("care", "GET", f"/messages/{thread['threadId']}")
            suggested = (full or {}).get("suggestedReply") or {}
            body = (
                suggested.get("body")
                or f"Thank you for writing about order {order_id}. We are looking into it."
            )
            status, _ = self.api(
                "care",
                "POST",
                f"/messages/{thread['threadId']}/replies",
                {"body": body},
                key=f"reply-{order_id}",
            )
            if status == 201:
                self.lifecycle["replies sent"] += 1

    def close_day(self) -> None:
        """The day's end: the end-of-day forms, an order report, what the stream and queues still hold."""
        self.pump()
        for carrier in ("UPS", "USPS"):
            self.api("shipping", "GET", "/reports/end-of-day", query={"carrier": carrier, "format": "pdf"})
        self.api("reports", "GET", "/reports/orders", query={"view": "all", "format": "csv"})
        self.api("reports", "GET", "/reports/returns", query={"format": "csv"})
        self.pump()
        self.lifecycle["webhook deliveries received"] = len(self.receiver.deliveries)
        self.receiver.__exit__()

    def schedules(self) -> dict[str, dict[str, Any]]:
        """Every scheduled function once, on its schedule's event; its runs per hour from the expression."""
        from datetime import timedelta

        from oms_local.triggers import ScheduleExpression, scheduled_event

        runs: dict[str, dict[str, Any]] = {}
        # SKUs the schedules meet first are left unread too (see first_inventory_sync).
        self.skus_read_in_day = self._skus()[1]
        self.catalogue_paused = True
        for function in self.functions.values():
            for trigger in function.triggers:
                if (
                    trigger.type not in ("Schedule", "ScheduleV2")
                    or function.logical_id == "ReconcileOrdersFunction"
                ):
                    continue
                props = trigger.properties
                expression = ScheduleExpression(
                    props.get("Schedule") or props["ScheduleExpression"],
                    props.get("ScheduleExpressionTimezone", "UTC"),
                )
                first = expression.next_after(self.clock.now())
                count, moment = 0, first
                while moment < first + timedelta(days=7):
                    moment, count = expression.next_after(moment), count + 1
                event = scheduled_event(
                    trigger.type, props, when=self.clock.now(), region=REGION, schedule_arn="bench"
                )
                name = f"{function.folder} ({trigger.name})"
                with self.meter.capability(name):
                    pass
                cap_before = self.meter.capabilities[function.folder]
                snapshot = (cap_before.invocations, cap_before.gb_seconds)
                try:
                    self._scheduled(function, name, event)
                except Exception as error:  # reported, the others go on
                    self.failed_runs[name] = f"{type(error).__name__}: {error}"[:200]
                runs[name] = {"runsPerHour": count / (7 * 24), "capability": name}
                del snapshot
        stocked, described = self._skus()
        self.skus_left_unread = max(stocked - described, 0)
        return runs

    def _skus(self) -> tuple[int, int]:
        """(SKUs with a stock row, products described from Amazon), read with the meter's own client."""
        stocked, described = set(), 0
        pages = self.meter.reader.get_paginator("scan").paginate(TableName=self.environment["TABLE_NAME"])
        for page in pages:
            for item in page["Items"]:
                sk = item["sk"]["S"]
                if sk.startswith("STOCK#"):
                    stocked.add(item["pk"]["S"])
                elif sk == "PRODUCT" and "amazon" in item:
                    described += 1
        return len(stocked), described

    def _scheduled(self, function: Any, name: str, event: Any) -> None:
        if function.logical_id not in self.handlers:
            resolved = self._resolve(function.environment)
            os.environ.update(resolved)
            with self.meter.capability(name), contextlib.redirect_stdout(self.meter):  # type: ignore[type-var]
                self.handlers[function.logical_id] = (_load(function), resolved)
        module, resolved = self.handlers[function.logical_id]
        os.environ.update(resolved)
        context = LambdaContext(aws_request_id=str(uuid.uuid4()), memory_limit_in_mb=function.memory)
        with self.meter.capability(name), contextlib.redirect_stdout(self.meter):  # type: ignore[type-var]
            started = time.perf_counter()
            try:
                module.lambda_handler(event, context)
            finally:
                self.meter.invoked(time.perf_counter() - started, function.memory)
        self.pump()


def _path_kind(path: str) -> str:
    """/orders/113-1234567-1234567/shipments -> /orders/{id}/shipments (for counting answers by route)."""
    parts = path.strip("/").split("/")
    return "/" + "/".join(
        p if i % 2 == 0 or p in ("test", "columns", "fields") else "{id}" for i, p in enumerate(parts)
    )


# ---------------------------------------------------------------------------------- dollars


def dollars(cap: Any, plan: str) -> dict[str, float]:
    s3_writes = s3_reads = secrets = cw = 0
    ses = 0.0
    from cost_prices import S3_WRITES

    for name, count in cap.requests.items():
        service, _, operation = name.partition(".")
        if service == "s3":
            if operation in S3_WRITES:
                s3_writes += count
            else:
                s3_reads += count
        elif service == "secretsmanager":
            secrets += count
        elif service in ("cloudwatch", "logs"):
            cw += count
        elif service in ("ses", "sesv2") and operation == "ReceivedMail":  # a buyer's mail: one 256 KB chunk
            ses += count * (PRICES["ses.mail_received"].dollars + PRICES["ses.chunk_received"].dollars)
        elif service in ("ses", "sesv2") and operation.startswith("Send"):
            ses += count * PRICES["ses.mail_sent"].dollars
    return {
        "lambda": lambda_dollars(cap.invocations, cap.gb_seconds),
        "dynamodb": (cap.table_wcu + cap.index_wcu.get(plan, 0.0)) * PRICES["dynamodb.write_unit"].dollars
        + cap.rcu * PRICES["dynamodb.read_unit"].dollars,
        "sqs": cap.sqs_requests * PRICES["sqs.request"].dollars,
        "eventbridge": cap.events * PRICES["eventbridge.event"].dollars,
        "s3": s3_writes * PRICES["s3.write_request"].dollars + s3_reads * PRICES["s3.read_request"].dollars,
        "secretsmanager": secrets * PRICES["secretsmanager.call"].dollars,
        "cloudwatch": cw * PRICES["cloudwatch.api_request"].dollars
        + cap.log_bytes / 1e9 * PRICES["logs.ingested_gb"].dollars,
        "ses": ses,
    }


# What each function or API use is billed to. "once: ..." is set-up and first-time per-SKU work: counted as
# if spread over a month of orders at --orders-per-hour (ONE_TIME), as a seller's bill would carry it.
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "intake": ("amazon to the queue", "ingest_notifications", "reconcile_orders"),
    "shipping": (
        "shipping",
        "once: shipping",
        "confirm_shipments",
        "daily_close",
        "ship_guard",
        "purge_buyer_data",
    ),
    "returns": ("returns", "submit_refunds", "sync_returns", "check_refunds"),
    "care": ("care", "care: SES stores the buyer's mail", "ingest_messages"),
    "rules": ("once: rules", "apply_rules"),
    "webhooks": ("once: webhooks", "deliver_webhooks", "process_webhooks", "receive_webhook"),
    "planning": ("plan_stock",),
    "reports": ("reports", "build_report"),
    "dashboard": ("dashboard",),
    "inventory (stock, listings, catalogue)": (
        "once: stock received (per SKU)",
        FIRST_SYNC,
        "sync_listings",
        "send_listing_feed",
        "read_catalogue",
        "inventory_sync",
    ),
    "events (table changes to the bus)": ("publish_events",),
    "queues (event source mappings)": (POLLING,),
}
ONE_TIME = ("once: ", "read_catalogue")  # read_catalogue from the stream: a SKU new to the product, read once
HOURS_A_MONTH = 730


def capability_of(name: str) -> str:
    """The capability a meter row belongs to ("ship_guard (Schedule)" is ship_guard's)."""
    base = name.split(" (", maxsplit=1)[0] if not name.startswith(("once: ", "care: ")) else name
    for capability, names in CAPABILITIES.items():
        if name in names or base in names:
            return capability
    return "other"


def one_time(name: str) -> bool:
    return name.startswith("once: ") or name == "read_catalogue"


def report(
    run: CostRun, meter: BillMeter, schedules: dict[str, dict[str, Any]], orders_per_hour: float
) -> dict[str, Any]:
    orders = run.count
    hours_per_million = 1e6 / orders_per_hour
    sent = run.marketplace.courier.stats.as_dict()
    results: dict[str, Any] = {
        "orders": orders,
        "ordersPerHour": orders_per_hour,
        "notifications": sent,
        "plans": {},
        "prices": {k: vars(v) for k, v in PRICES.items()},
        "failedScheduledRuns": run.failed_runs,
        "lifecycle": dict(run.lifecycle),
        "dashboardReads": dict(run.reads),
        "apiAnswers": dict(sorted(run.api_answers.items())),
        "apiRefusals": run.api_refusals,
        "oneTimeMonthOrders": orders_per_hour * HOURS_A_MONTH,
        "catalogue": {"skusReadInTheDay": run.skus_read_in_day, "skusLeftUnread": run.skus_left_unread},
    }
    scheduled = set(schedules)
    for plan in PLANS:
        rows: dict[str, dict[str, float]] = {}
        for name, cap in sorted(meter.capabilities.items()):
            money = dollars(cap, plan)
            if name in scheduled:  # one run measured: its runs per million orders
                scale = schedules[name]["runsPerHour"] * hours_per_million
            elif one_time(name):  # once a month: a month of orders carries it
                scale = 1e6 / (orders_per_hour * HOURS_A_MONTH)
            else:
                scale = 1e6 / orders
            rows[name] = {k: v * scale for k, v in money.items()}
        read = rows.get("read_catalogue")
        if read and run.skus_read_in_day and run.skus_left_unread:
            rows["read_catalogue (SKUs first seen at the day's end, extrapolated)"] = {
                k: v / run.skus_read_in_day * run.skus_left_unread for k, v in read.items()
            }
        metrics = set().union(*(c.metric_names for c in meter.capabilities.values()))
        rows["custom metrics (a month each)"] = {
            "cloudwatch": len(metrics) * PRICES["cloudwatch.metric_month"].dollars * hours_per_million / 730
        }
        results["plans"][plan] = rows
    # Amazon's sample flow: per notification delivered, a Standard state machine (start, getOrder,
    # getOrderItems, store, end: 5 transitions), two Lambda calls (128 MB, 300 ms each: one SP-API
    # round trip), one PutItem of the order (1 KB, no index), the queue's receive and delete.
    per_notification = (
        5 * PRICES["stepfunctions.transition"].dollars
        + lambda_dollars(2, 2 * 0.3 * 128 / 1024)
        + PRICES["dynamodb.write_unit"].dollars
        + 3 * PRICES["sqs.request"].dollars
    )
    results["sampleFlow"] = per_million(per_notification * sent["delivered"], orders)
    # The floor: each distinct change written once, 1 write unit per started KB of the order, no index,
    # and Amazon's message into the queue once.
    sizes = [s for (t, pk, sk), s in _order_sizes(meter).items()]
    mean_kb = max(1, round(sum(sizes) / max(len(sizes), 1) / 1024 + 0.5)) if sizes else 1
    results["floor"] = per_million(
        sent["published"] * (mean_kb * PRICES["dynamodb.write_unit"].dollars + PRICES["sqs.request"].dollars),
        orders,
    )
    results["meanOrderBytes"] = round(sum(sizes) / max(len(sizes), 1))
    return results


def _order_sizes(meter: BillMeter) -> dict[tuple[str, str, str], int]:
    from intake_meter import item_size

    return {k: item_size(v) for k, v in meter.shadow.items() if k[1].startswith("ORDER#") and k[2] == "ORDER"}


def print_report(results: dict[str, Any], meter: BillMeter) -> None:
    services = ("lambda", "dynamodb", "sqs", "eventbridge", "s3", "secretsmanager", "cloudwatch", "ses")
    orders = results["orders"]
    print(
        f"\n$ per million orders ({orders} orders counted, {results['ordersPerHour']:.0f} orders/h for the "
        f"monthly and scheduled charges; notifications {results['notifications']})"
    )
    print(f"the seller's day: {results['lifecycle']}; dashboard reads {results['dashboardReads']}")
    print(
        f"one-time work (set-up, stock received per SKU, catalogue read per new SKU) counted over a month: "
        f"{results['oneTimeMonthOrders']:,.0f} orders; catalogue: {results['catalogue']['skusReadInTheDay']} "
        f"SKUs read in the day, {results['catalogue']['skusLeftUnread']} first seen by the day's-end "
        f"schedules left unread (their cost extrapolated per SKU)"
    )
    for plan, rows in results["plans"].items():
        by_capability: dict[str, Counter[str]] = {}
        for name, money in rows.items():
            capability = (
                "custom metrics (a month each)" if name.startswith("custom metrics") else capability_of(name)
            )
            by_capability.setdefault(capability, Counter()).update(money)
        print(f"\nby capability, index projections: {plan}")
        print("| capability | " + " | ".join(services) + " | total |")
        print("| --- " * (len(services) + 2) + "|")
        for capability, money in sorted(by_capability.items(), key=lambda kv: -sum(kv[1].values())):
            print(
                f"| {capability} | "
                + " | ".join(f"{money.get(s, 0):.2f}" for s in services)
                + f" | {sum(money.values()):.2f} |"
            )
        everything = sum((Counter(m) for m in rows.values()), Counter[str]())
        total = sum(everything.values())
        print(
            "| **all** | "
            + " | ".join(f"{everything.get(s, 0):.2f}" for s in services)
            + f" | **{total:.2f}** |"
        )
        print(
            f"| goal | | | | | | | | | <= {GOAL_DOLLARS:.0f} ({'met' if total <= GOAL_DOLLARS else 'NOT met'}) |"
        )
        print(f"| Amazon's sample flow (same notifications) | | | | | | | | | {results['sampleFlow']:.2f} |")
        print(f"| the floor | | | | | | | | | {results['floor']:.2f} |")
    for plan, rows in results["plans"].items():
        print(f"\nby function, index projections: {plan}")
        print("| capability | " + " | ".join(services) + " | total |")
        print("| --- " * (len(services) + 2) + "|")
        totals = Counter[str]()
        for name, money in rows.items():
            totals.update(money)
            print(
                f"| {name} | "
                + " | ".join(f"{money.get(s, 0):.3f}" for s in services)
                + f" | {sum(money.values()):.3f} |"
            )
        total = sum(totals.values())
        print(
            "| **all** | " + " | ".join(f"{totals.get(s, 0):.3f}" for s in services) + f" | **{total:.2f}** |"
        )
        print(f"goal <= ${GOAL_DOLLARS:.0f}: {'met' if total <= GOAL_DOLLARS else 'NOT met'}")
    print(
        f"\nAmazon's sample flow (Step Functions per notification, getOrder + getOrderItems): "
        f"${results['sampleFlow']:.2f} per million orders (its SP-API calls are not billed in dollars, "
        f"but throttled: see bench/intake.py)"
    )
    print(
        f"the floor (each distinct change written once, no index, its message queued once): "
        f"${results['floor']:.2f} per million orders; mean order item {results['meanOrderBytes']} bytes"
    )
    ingest = meter.capabilities.get("ingest_notifications")
    notifications = results["notifications"]["delivered"]
    if ingest and notifications:
        for plan in PLANS:
            units = (ingest.table_wcu + ingest.index_wcu.get(plan, 0)) / notifications
            print(
                f"write units per notification delivered ({plan}): {units:.1f} "
                f"(table {ingest.table_wcu / notifications:.1f}, indexes {ingest.index_wcu.get(plan, 0) / notifications:.1f})"
            )
        by_entity = sorted(ingest.entity_wcu.items(), key=lambda kv: -kv[1])
        print(
            "ingest's write units by item (table + template's indexes), per notification: "
            + ", ".join(f"{entity} {units / notifications:.1f}" for entity, units in by_entity)
        )
    waiting = [
        f"{name} {cap.cpu_seconds / cap.seconds:.0%}"
        for name, cap in sorted(meter.capabilities.items())
        if cap.cpu_seconds and cap.seconds
    ]
    print(
        "CPU share of wall time per capability (MemorySize pays only where it is high): " + ", ".join(waiting)
    )
    refused = {k: v for k, v in results["apiAnswers"].items() if int(k.rsplit(" ", 1)[1]) >= 400}
    if refused:
        print("API requests refused (the first answer of each kind is in the results file):")
        for kind, count in refused.items():
            print(f"  {kind}: {count}")
    if results["failedScheduledRuns"]:
        print("scheduled runs that failed here (their cost is what they did before failing):")
        for name, error in results["failedScheduledRuns"].items():
            print(f"  {name}: {error}")
    print(
        "prices (us-east-1): "
        + "; ".join(f"{k} ${p.dollars:.10g}/{p.per} ({p.as_of})" for k, p in PRICES.items())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--orders-per-hour", type=float, default=500)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--return-share", type=float, default=RETURN_SHARE, help="of shipped orders")
    parser.add_argument("--message-share", type=float, default=MESSAGE_SHARE, help="of orders")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cost.json")
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 PID: where a slow run is
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: its moto server stops too
    local_handler_environment()
    import boto3

    from oms.store import keys
    from oms_local.simulator.catalogue import load_catalogue

    work = Path(tempfile.mkdtemp(prefix="oms-bench-cost-"))
    meter = BillMeter("", keys.INDEXES, PLANS)
    with own_moto(work / "moto.log") as moto_url:
        meter.reader = boto3.client("dynamodb", endpoint_url=moto_url)  # made before the hooks: not counted
        with meter.installed():
            run = CostRun(args.orders, args.seed, moto_url, load_catalogue(), meter)
            run.return_share, run.message_share = args.return_share, args.message_share
            try:
                run.setup()
                meter.on = True
                run.first_inventory_sync()
                run.open_day()
                run.loop()
                run.close_day()
                schedules = run.schedules()
            finally:
                run.sim.server.stop()
    results = report(run, meter, schedules, args.orders_per_hour)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_report(results, meter)
    print(f"\nfigures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
