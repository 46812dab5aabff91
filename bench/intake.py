"""Order-intake benchmark: what taking in N orders costs, next to the naive approach.

    .venv/bin/python bench/intake.py [--orders 500,5000] [--stack-orders 500] [--calls 50]

Prints one table (figure | N=... | goal | met?) with notes on how each figure was obtained, and
writes every figure, per reconcile run included, to bench/results/intake.json.

Two parts: the local stack, end to end, with real time (A), and N orders an hour of simulated
time in process (B), because "500 orders an hour" cannot be waited for and 5,000 orders through
the stack's worker processes take longer than a benchmark should.

A. The local stack, end to end (`oms local --no-simulator` as a subprocess, like the e2e tests):
   --stack-orders orders with the simulated buyers' mix are placed through the simulator's control
   endpoint; the marketplace notifies (duplicates and delays included) into the queue; the bench
   waits until the marketplace has made every change it will make by itself (payments, FBA
   shipments, accepted cancellations), every notification was delivered and the queue and its
   in-flight messages are empty, then checks every order with GET /orders/{orderId}, runs the
   reconcile function once (POST /_local/invoke/ReconcileOrdersFunction, searchLagSeconds 0) and
   reads /_simulator/stats. While the queue's backlog is worked off, 10 concurrent consumers call
   getOrder for a backlog of --calls notifications, first with the product's client
   (oms.amazon.client.SpApiClient with the RateBudget over the stack's table), then with a plain
   client (no shared budget, one attempt per notification); the simulator's per-operation stats
   count the 429s. Throughput: notifications delivered by the moment the queue first ran empty,
   over that time. Part A mostly waits (FBA orders ship 30-180 s after they are placed), so it
   runs in a thread alongside part B.

B. In process, one run per N, on simulated time: the simulator's own Marketplace and buyer mix
   (oms_local.simulator, with its HTTP SP-API on loopback) on a clock the bench moves: orders
   arrive at 500 an hour (one every 7.2 s), the marketplace moves them on by itself, the seller
   ships most seller-fulfilled orders 15 min to 2 h after they are placed (some in two packages), and
   every notification the courier delivers (duplicates and delays included) is handed, in the
   batches that arrive within one second, to the ingest function's own handler
   (functions/orders/ingest_notifications/app.py) in this process. Every 15 simulated minutes the
   product's backstop runs (oms.orders.reconcile.sync_orders with the product's SpApiClient and
   RateBudget on the simulated clock), until the last change has been read. DynamoDB is a moto
   server as the local stack runs it (oms_local.moto_process), with the template's resources.
   Each N runs in a process of its own, side by side (and beside part A).
   - DynamoDB requests: botocore after-call hooks on the clients the code uses (default_table()'s
     for the handler, a second Table for the backstop), counted per operation.
   - Write units: computed from the written items per DynamoDB's item-size rules (moto does not
     report consumed capacity): TransactWriteItems costs 2 WCU per started KB of each item (the
     larger of the old and new item), canceled transactions counted as charged (an upper bound);
     each global secondary index whose entry is written costs 1 WCU per started KB (2 writes when
     its key changes). Read units likewise (strongly consistent: 1 RCU per started 4 KB).
   - Handler CPU: time.thread_time() around each handler call (the simulator's server thread runs
     in this process too, so process_time would count it), warm calls only (the first, with the
     imports of a cold start, is reported apart).
   - SP-API calls per order, product: every call the backstop made (the simulator's per-operation
     stats) over N, from the first order until the run that read the last change; ingest makes no
     SP-API call. Naive: getOrder + getOrderItems (Amazon's sample solution, Orders v0) for every
     notification delivered, duplicates included.

The code: intake_stack.py (part A), intake_sim.py (part B), intake_meter.py (the DynamoDB meter),
intake_report.py (the table and notes), intake_common.py (settings, HTTP, the buyers' mix); this file
runs the parts side by side.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from intake_common import (
    GOALS,
    ORDERS_PER_HOUR,
    RECONCILE_EVERY,
    RESULTS,
    SEARCH_LAG,
    SELLER_SHIPS_AFTER,
    local_handler_environment,
    own_moto,
    say,
)
from intake_report import notes, report
from intake_sim import SimulatedIntake
from intake_stack import StackRun

_SHARED_MODULES = (
    "boto3",
    "urllib3",
    "oms.amazon.client",
    "oms.amazon.orders_api",
    "oms.amazon.rate_budget",
    "oms.store.table",
    "oms_local.simulator",
    "oms_local.simulator.buyer",
    "oms_local.simulator.catalogue",
    "oms_local.simulator.marketplace",
    "oms_local.stack",
)


class Background(threading.Thread):
    """Part A in a thread of its own; its failure is reported with the results, part B goes on."""

    def __init__(self, stack_run: StackRun) -> None:
        super().__init__(name="part-a")
        self.stack_run = stack_run
        self.result: dict[str, Any] | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.result = self.stack_run.run()
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
            say(f"  A  failed: {self.error}")


def run_part_b(count: int, seed: int, work: Path) -> dict[str, Any]:
    """One N, in this process, with a moto of its own."""
    from oms_local.simulator.catalogue import load_catalogue

    catalogue = load_catalogue()
    with (
        (work / f"handler-{count}.log").open("w") as log,
        own_moto(work / f"moto-{count}.log") as moto_url,
    ):
        started = time.monotonic()
        part = SimulatedIntake(count, seed + count, moto_url, catalogue, log).run()
        part["seconds"] = round(time.monotonic() - started, 1)
    say(f"  B  N={count} done in {part['seconds']} s")
    return part


def run_part_b_processes(sizes: list[int], seed: int, work: Path) -> dict[str, Any]:
    """Every N in a process of its own, side by side: each is a ping-pong between this code and its
    moto that keeps about one core busy, and the handler's environment is per process anyway."""
    children = []
    for count in sizes:
        say(f"B. in process, N={count}")
        out = work / f"part-b-{count}.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--part-b", str(count)]
        command += ["--seed", str(seed), "--work", str(work), "--out", str(out)]
        children.append((count, out, subprocess.Popen(command, stdin=subprocess.DEVNULL)))
    parts = {}
    for count, out, child in children:
        if child.wait() != 0:
            raise RuntimeError(f"part B with N={count} failed (exit {child.returncode}); see above")
        parts[str(count)] = json.loads(out.read_text())
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", default="500,5000", help="comma list of N for part B [500,5000]")
    parser.add_argument(
        "--stack-orders", type=int, default=500, help="orders through the local stack (part A; 0: skip)"
    )
    parser.add_argument("--consumers", type=int, default=10, help="concurrent consumers in the 429 test [10]")
    parser.add_argument("--calls", type=int, default=50, help="getOrder calls in the 429 test [50]")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--part-b", type=int, help=argparse.SUPPRESS)  # one N, for run_part_b_processes
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    # The handler runs in this process with the environment the template gives it (set per run).
    local_handler_environment()
    if args.part_b:
        part = run_part_b(args.part_b, args.seed, args.work)
        args.out.write_text(json.dumps(part, default=str) + "\n")
        return 0
    sizes = [int(n) for n in args.orders.split(",") if n.strip()]
    work = Path(tempfile.mkdtemp(prefix="oms-bench-intake-"))
    say(f"bench: work files in {work}")
    began = time.monotonic()
    results: dict[str, Any] = {
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "settings": {
            "ordersPerHour": ORDERS_PER_HOUR,
            "reconcileEveryMinutes": RECONCILE_EVERY.seconds // 60,
            "searchLagSeconds": SEARCH_LAG.seconds,
            "sellerShipsAfterSeconds": SELLER_SHIPS_AFTER,
            "seed": args.seed,
        },
        "goals": GOALS,
        "inProcess": {},
    }
    for module in _SHARED_MODULES:  # imported once, here: two threads importing one module can deadlock
        importlib.import_module(module)
    part_a = Background(
        StackRun(args.stack_orders, args.seed, args.consumers, args.calls, work, dict(os.environ))
    )
    if args.stack_orders:  # mostly waiting for the marketplace and the stack: alongside part B
        say(f"A. the local stack, end to end, {args.stack_orders} orders")
        part_a.start()
    results["inProcess"] = run_part_b_processes(sizes, args.seed, work)
    if args.stack_orders:
        part_a.join()
        results["stack"], results["stackError"] = part_a.result, part_a.error
    results["seconds"] = round(time.monotonic() - began, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report(results))
    print(notes(results, args.out))
    print(f"\n{results['seconds']} s in all; figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
