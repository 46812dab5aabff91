"""Part B of the intake benchmark: N orders an hour of simulated time, in process (see intake.py's
docstring)."""

from __future__ import annotations

import contextlib
import heapq
import importlib.util
import itertools
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench_shared import order_to_ship, package_to_ship, wrong_orders
from intake_common import (
    ORDERS_PER_HOUR,
    RECONCILE_EVERY,
    REGION,
    ROOT,
    SEARCH_LAG,
    SELLER_SHIPS_AFTER,
    SHIP_SHARE,
    TWO_PACKAGES_SHARE,
    no_paging,
    say,
)
from intake_meter import DynamoMeter, Stored


class SimClock:
    """The simulated time every participant of part B reads."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def epoch(self) -> float:
        return self.at.timestamp()

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=max(seconds, 0))


@dataclass
class LambdaContext:
    function_name: str = "oms-bench-IngestNotificationsFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:oms-bench-ingest"
    aws_request_id: str = ""
    log_group_name: str = "/aws/lambda/oms-bench-ingest"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _reset_warm_state() -> None:
    from aws_lambda_powertools.utilities import parameters

    from oms.settings import forget_settings
    from oms.store import default

    forget_settings()
    default.default_table.cache_clear()
    default._page_tokens.cache_clear()
    parameters.clear_caches()


def _load_handler(name: str) -> Any:
    path = ROOT / "functions" / "orders" / "ingest_notifications" / "app.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class SimulatedIntake:
    """Part B: N orders at 500 an hour of simulated time, the handler and the backstop in process."""

    def __init__(self, count: int, seed: int, moto_url: str, catalogue: Any, log: Any) -> None:
        self.count, self.seed, self.moto_url, self.catalogue, self.log = count, seed, moto_url, catalogue, log
        self.rng = random.Random(seed)
        self.start = datetime.now(UTC).replace(microsecond=0)
        self.clock = SimClock(self.start)
        self.delivered: list[str] = []  # what the marketplace's courier handed to the queue, not yet consumed
        self.tasks: list[tuple[datetime, int, Callable[[], None]]] = []
        self.sequence = itertools.count()
        self.cpu: list[float] = []
        self.wall: list[float] = []
        self.batches: list[int] = []
        self.failures = 0
        self.runs: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ set-up

    def setup(self) -> None:
        from oms.amazon.client import Credentials, SpApiClient
        from oms.amazon.rate_budget import RateBudget
        from oms.observability import logger
        from oms.store import keys
        from oms.store.default import default_table
        from oms.store.table import Table
        from oms_local.resources import create_resources
        from oms_local.simulator import LOCAL_CREDENTIALS, Simulator, SimulatorConfig, contract
        from oms_local.simulator.buyer import Buyers
        from oms_local.simulator.ratelimit import RateLimiter
        from oms_local.simulator.server import OPERATIONS
        from oms_local.template import Template

        config = SimulatorConfig(
            seed=self.seed,
            search_lag_seconds=SEARCH_LAG.total_seconds(),
            validate_responses=False,  # its answers are checked against Amazon's models in part A
        )
        self.sim = Simulator(
            config, notify=self.delivered.append, catalogue=self.catalogue, clock=self.clock.now
        )
        # Amazon's usage plans on the simulated clock too (the bench moves the marketplace's with run_due).
        self.sim.server.limiter = RateLimiter(
            {op: contract.usage_plan(op) for op in OPERATIONS}, clock=self.clock.epoch
        )
        self.sim.server.start()
        self.marketplace = self.sim.marketplace
        self.buyers = Buyers(self.marketplace, rng=random.Random(self.seed + 1))
        template = Template()
        resources = create_resources(
            template,
            f"bench{self.count}-{uuid.uuid4().hex[:6]}",
            REGION,
            self.moto_url,
            parameters=self.sim.stack_parameters(),
            secret_values={"SpApiSecret": json.dumps(LOCAL_CREDENTIALS)},
        )
        function = template.function("IngestNotificationsFunction")
        self.environment = {k: str(v) for k, v in resources.resolver.resolve(function.environment).items()}
        os.environ.update({**self.environment, "AWS_ENDPOINT_URL": self.moto_url})
        _reset_warm_state()
        self.handler = _load_handler(f"bench_ingest_{self.count}_{uuid.uuid4().hex[:6]}")
        logger.registered_handler.setStream(self.log)  # type: ignore[attr-defined]
        shadow: dict[tuple[str, str], Stored] = {}
        self.ingest_meter = DynamoMeter(shadow, keys.INDEXES)
        self.ingest_meter.attach(default_table().client)
        self.backstop_table = Table(self.environment["TABLE_NAME"], no_paging)
        self.backstop_meter = DynamoMeter(shadow, keys.INDEXES)
        self.backstop_meter.attach(self.backstop_table.client)
        # Its own refresh token: the client caches access tokens per process, and this simulator's differ.
        credentials = Credentials("bench-client", "bench-secret", {"na": f"bench-refresh-{uuid.uuid4().hex}"})
        self.client = SpApiClient(
            credentials=lambda: credentials,
            budget=RateBudget(self.backstop_table, clock=self.clock.epoch, sleep=self.clock.sleep),
            endpoint_override=self.sim.url,
            lwa_url=self.sim.lwa_token_url,
            sleep=self.clock.sleep,
        )
        sample = ROOT / "events" / "ingest_notifications" / "order_change.json"
        self.record = json.loads(sample.read_text())["Records"][0]

    # ------------------------------------------------------------------ the marketplace's day

    def later(self, seconds: float, task: Callable[[], None]) -> None:
        heapq.heappush(self.tasks, (self.clock.now() + timedelta(seconds=seconds), next(self.sequence), task))

    def arrive(self) -> None:
        order_id = self.buyers.place_random_order()  # the simulator's mix; it schedules its own cancellations
        if order_id is None or self.marketplace.snapshot(order_id).afn or self.rng.random() >= SHIP_SHARE:
            return
        packages = 2 if self.rng.random() < TWO_PACKAGES_SHARE else 1
        self.later(self.rng.uniform(*SELLER_SHIPS_AFTER), lambda: self.ship(order_id, packages))

    def ship(self, order_id: str, packages: int, attempt: int = 1) -> None:
        """The seller confirms a shipment (all units, or some now and the rest later)."""
        from oms_local.simulator import MARKETPLACE_ID
        from oms_local.simulator.marketplace import ApiError

        order = order_to_ship(self, order_id, packages, attempt)
        if order is None:
            return
        lines, _ = package_to_ship(self, order, packages)
        body = {
            "marketplaceId": MARKETPLACE_ID,
            "packageDetail": {
                "packageReferenceId": str(len(order.packages) + 1),
                "carrierCode": "UPS",
                "trackingNumber": f"1Z{self.rng.randrange(10**15):015d}",
                "shipDate": self.clock.now().isoformat(),
                "orderItems": [{"orderItemId": item, "quantity": units} for item, units in lines],
            },
        }
        with contextlib.suppress(ApiError):  # a buyer's cancellation got there first
            self.marketplace.confirm_shipment(order_id, body)

    # ------------------------------------------------------------------ the product

    def ingest(self, bodies: list[str]) -> list[str]:
        """One invocation of the ingest handler with an SQS batch; returns the bodies it failed."""
        records = [
            {**self.record, "messageId": str(uuid.uuid4()), "body": body, "md5OfBody": ""} for body in bodies
        ]
        context = LambdaContext(aws_request_id=str(uuid.uuid4()))
        wall, cpu, metering = time.perf_counter(), time.thread_time(), self.ingest_meter.cpu
        with contextlib.redirect_stdout(self.log):  # Powertools prints its metrics
            answer = self.handler.lambda_handler({"Records": records}, context)
        self.cpu.append(time.thread_time() - cpu - (self.ingest_meter.cpu - metering))
        self.wall.append(time.perf_counter() - wall - (self.ingest_meter.cpu - metering))
        self.batches.append(len(bodies))
        failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        self.failures += len(failed)
        return [r["body"] for r in records if r["messageId"] in failed]

    def reconcile(self) -> None:
        from oms.amazon.rate_budget import BudgetExhausted
        from oms.orders.reconcile import sync_orders
        from oms_local.simulator import MARKETPLACE_ID

        self.ingest_meter.on = False
        before = sum(s.requests for s in self.sim.server.stats.values())
        run: dict[str, Any] = {"at": self.clock.now().isoformat()}
        try:
            report = sync_orders(
                self.backstop_table, self.client, MARKETPLACE_ID, job="reconcile_orders", now=self.clock.now()
            )
            run |= {"pages": report.pages, "orders": report.orders, **report.outcomes}
        except BudgetExhausted as exhausted:  # the product's answer: the next run resumes from its page
            run["budgetExhausted"] = str(exhausted)
        run["calls"] = sum(s.requests for s in self.sim.server.stats.values()) - before
        self.runs.append(run)
        self.ingest_meter.on = True

    # ------------------------------------------------------------------ the run

    def run(self) -> dict[str, Any]:
        self.setup()
        try:
            self.loop()
            return self.figures()
        finally:
            self.sim.server.stop()

    def loop(self) -> None:
        say(f"  B  N={self.count}: orders at {ORDERS_PER_HOUR}/h of simulated time, backstop every 15 min")
        interval = 3600 / ORDERS_PER_HOUR
        for n in range(self.count):
            heapq.heappush(
                self.tasks, (self.start + timedelta(seconds=n * interval), next(self.sequence), self.arrive)
            )
        next_run, last_change, published = self.start + RECONCILE_EVERY, self.start, 0
        retry: list[str] = []
        progress = time.monotonic()
        while True:
            while self.tasks and self.tasks[0][0] <= self.clock.now():
                heapq.heappop(self.tasks)[2]()
            self.marketplace.run_due()
            if self.marketplace.courier.stats.published != published:
                published, last_change = self.marketplace.courier.stats.published, self.clock.now()
            arrived, retry = retry + self.delivered[:], []
            self.delivered.clear()
            for begin in range(
                0, len(arrived), 10
            ):  # Lambda's batches: what arrived within a second, up to 10
                retry += self.ingest(arrived[begin : begin + 10])
            if self.clock.now() >= next_run:
                self.reconcile()
                next_run += RECONCILE_EVERY
                if time.monotonic() - progress > 20:
                    progress = time.monotonic()
                    say(
                        f"  B  N={self.count}: {self.clock.now() - self.start} simulated, {sum(self.batches)} notifications"
                    )
            quiet = not self.tasks and not self.marketplace.scheduler.pending() and not retry
            if quiet and self.runs and datetime.fromisoformat(self.runs[-1]["at"]) > last_change + SEARCH_LAG:
                return  # the last change has been read by the backstop too
            self.clock.at += timedelta(seconds=1)

    def wrong_orders(self) -> list[dict[str, Any]]:
        """Every order as the marketplace has it, against the product's table."""
        import boto3

        from oms.store.table import Table

        table = Table(self.environment["TABLE_NAME"], no_paging, client=boto3.client("dynamodb"))
        return wrong_orders(table, self.marketplace)

    def figures(self) -> dict[str, Any]:
        handled = sum(self.batches)
        wrong = self.wrong_orders()
        sent = self.marketplace.courier.stats.as_dict()
        operations = {op: s.as_dict() for op, s in self.sim.server.stats.items() if s.requests}
        warm = slice(1, None) if len(self.batches) > 1 else slice(None)
        return {
            "orders": self.count,
            "simulatedHours": round((self.clock.now() - self.start).total_seconds() / 3600, 2),
            "notifications": sent,
            "handled": handled,
            "invocations": len(self.batches),
            "meanBatch": round(handled / max(len(self.batches), 1), 2),
            "failedRecords": self.failures,
            "spApi": {
                "operations": operations,
                "callsPerOrder": sum(s["requests"] for s in operations.values()) / self.count,
                "throttled": sum(s["throttled"] for s in operations.values()),
                "lwaTokenRequests": self.sim.server.lwa_requests,
                "reconcileRuns": len(self.runs),
                "pages": sum(r.get("pages", 0) for r in self.runs),
                "runs": self.runs,
            },
            "naiveCallsPerOrder": 2 * sent["delivered"] / self.count,
            "ingest": self.ingest_meter.figures(handled, self.count),
            "backstop": self.backstop_meter.figures(handled, self.count),
            "cpuMsPerNotification": 1000 * sum(self.cpu[warm]) / max(sum(self.batches[warm]), 1),
            "cpuMsColdFirstInvocation": round(1000 * self.cpu[0], 1) if self.cpu else None,
            "wallMsPerNotification": 1000 * sum(self.wall) / max(handled, 1),
            "ordersRight": self.count - len(wrong),
            "ordersWrong": wrong[:20],
            "orderCounts": self.marketplace.order_counts(),
        }
