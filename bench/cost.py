"""Cost benchmark: dollars per million orders, counted, beside Amazon's sample flow and the floor.

    .venv/bin/python bench/cost.py [--orders 200] [--orders-per-hour 500]

N orders go through the intake benchmark's simulated day (bench/intake_sim.py: the simulator's
marketplace and buyers on a simulated clock, 500 orders an hour, duplicates, delays and changes, the
seller's shipments confirmed at Amazon, the backstop every 15 simulated minutes) with moto as the local
stack runs it. Besides the ingest function, every function the table's stream or the queues trigger
runs in this process on what the template routes to it (oms_local.triggers' pollers, played
synchronously every simulated minute), and at the end every scheduled function runs once on its
schedule's event; its cost per run is multiplied by its runs per hour of the seller's day.

Every request any boto3 client makes is counted by botocore hooks (bench/cost_meter.py), per capability
(the function running); Lambda is billed from the wall time of each handler call and the template's
MemorySize (arm64); logs and EMF metrics from what the functions print. Prices: bench/cost_prices.py.
Fixed monthly charges (custom metrics, secrets, schedules' runs) become per-order at --orders-per-hour.

Index writes are counted for the template's projections and, beside them, for other projection plans
(KEYS_ONLY everywhere): what each would cost on the same writes.

Not yet driven here (next steps of issue 15): the product's own shipping flow (labels, confirm_shipments
with pending confirmations), returns and refunds with their reports, order rules with rules defined,
webhook subscriptions with deliveries, API reads by the dashboard."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost_meter import ALL, BillMeter
from cost_prices import PRICES, chunks, lambda_dollars, per_million
from intake_common import REGION, ROOT, local_handler_environment, own_moto, say
from intake_sim import LambdaContext, SimulatedIntake

GOAL_DOLLARS = 10.0
PLANS: dict[str, dict[str, Any]] = {
    "template (ALL x3)": {"gsi1": ALL, "gsi2": ALL, "gsi3": ALL},
    "KEYS_ONLY x3": {"gsi1": frozenset(), "gsi2": frozenset(), "gsi3": frozenset()},
}
STREAM_FUNCTIONS = (
    "PublishEventsFunction",
    "SyncListingsFunction",
    "ReadCatalogueFunction",
    "SubmitRefundsFunction",
    "SyncReturnsFunction",
)
QUEUE_FUNCTIONS = (
    "ApplyRulesFunction",
    "DeliverWebhooksFunction",
    "ProcessWebhooksFunction",
    "BuildReportFunction",
)


POLLING = "queue polling (the bench's short polls)"


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
        self.minute = 0

    def setup(self) -> None:
        import boto3

        import oms_local.resources
        from oms_local.template import Template
        from oms_local.triggers import SqsPoller, StreamPoller, filter_patterns

        create = oms_local.resources.create_resources
        made: list[Any] = []

        def keep(*args: Any, **kwargs: Any) -> Any:  # the resources setup creates, for their resolver
            made.append(create(*args, **kwargs))
            return made[-1]

        oms_local.resources.create_resources = keep  # type: ignore[assignment]
        try:
            super().setup()
        finally:
            oms_local.resources.create_resources = create  # type: ignore[assignment]
        self.resources = made[0]
        self.meter.table = self.environment["TABLE_NAME"]
        template = Template()
        self.functions = {f.logical_id: f for f in template.functions()}
        streams = boto3.client("dynamodbstreams", endpoint_url=self.moto_url)
        sqs = boto3.client("sqs", endpoint_url=self.moto_url)
        table = boto3.client("dynamodb", endpoint_url=self.moto_url).describe_table(
            TableName=self.environment["TABLE_NAME"]
        )["Table"]
        for logical_id in (*STREAM_FUNCTIONS, *QUEUE_FUNCTIONS):
            function = self.functions[logical_id]
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

    def invoke(self, logical_id: str, event: Any) -> Any:
        """One invocation of a function's handler in this process, billed to its capability."""
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
        with self.meter.capability(function.folder) as cap, contextlib.redirect_stdout(self.meter):  # type: ignore[type-var]
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
                self.pump()

    def reconcile(self) -> None:
        function = self.functions["ReconcileOrdersFunction"]
        with self.meter.capability(function.folder), contextlib.redirect_stdout(self.meter):  # type: ignore[type-var]
            started = time.perf_counter()
            try:
                super().reconcile()
            finally:
                self.meter.invoked(time.perf_counter() - started, function.memory)
        self.pump()

    def pump(self) -> None:
        """What the stream and queues have for their functions, until nothing is left. The pollers' own
        requests (short polls of every queue, the bench's stand-in for the event source mappings' long
        polls) are billed to a row of their own, not to the function that happened to run before."""
        for _ in range(5):
            before = sum(c.invocations for c in self.meter.capabilities.values())
            for poller in self.pollers:
                with contextlib.suppress(Exception), self.meter.capability(POLLING):
                    poller.tick()
            if sum(c.invocations for c in self.meter.capabilities.values()) == before:
                return

    def schedules(self) -> dict[str, dict[str, Any]]:
        """Every scheduled function once, on its schedule's event; its runs per hour from the expression."""
        from datetime import timedelta

        from oms_local.triggers import ScheduleExpression, scheduled_event

        runs: dict[str, dict[str, Any]] = {}
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
        return runs

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


# ---------------------------------------------------------------------------------- dollars


def dollars(cap: Any, plan: str) -> dict[str, float]:
    s3_writes = s3_reads = secrets = cw = 0
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
    }


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
    }
    scheduled = set(schedules)
    for plan in PLANS:
        rows: dict[str, dict[str, float]] = {}
        for name, cap in sorted(meter.capabilities.items()):
            money = dollars(cap, plan)
            if name in scheduled:  # one run measured: its runs per million orders
                scale = schedules[name]["runsPerHour"] * hours_per_million
            else:
                scale = 1e6 / orders
            rows[name] = {k: v * scale for k, v in money.items()}
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
    services = ("lambda", "dynamodb", "sqs", "eventbridge", "s3", "secretsmanager", "cloudwatch")
    orders = results["orders"]
    print(
        f"\n$ per million orders ({orders} orders counted, {results['ordersPerHour']:.0f} orders/h for the "
        f"monthly and scheduled charges; notifications {results['notifications']})"
    )
    for plan, rows in results["plans"].items():
        print(f"\nindex projections: {plan}")
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
        "CPU share of wall time, stream and queue functions (MemorySize pays only where it is high): "
        + ", ".join(waiting)
    )
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
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cost.json")
    args = parser.parse_args(argv)
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
            try:
                run.setup()
                meter.on = True
                run.loop()
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
