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
   (functions/ingest_notifications/app.py) in this process. Every 15 simulated minutes the
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
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import importlib.util
import itertools
import json
import math
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "intake.json"
REGION = "us-east-1"
ORDERS_PER_HOUR = 500
RECONCILE_EVERY = timedelta(minutes=15)
SEARCH_LAG = timedelta(seconds=120)  # Amazon's: searchOrders sees changes two minutes late
SELLER_SHIPS_AFTER = (15 * 60.0, 2 * 3600.0)  # seconds after payment
SHIP_SHARE, TWO_PACKAGES_SHARE = 0.95, 0.2  # of seller-fulfilled orders that are not canceled
GOALS = {"calls": 0.1, "throttles": 0, "writes": 3}
STATUS_NAMES = {  # Orders API v2026-01-01 fulfillmentStatus -> the status notifications and the product use
    "PENDING_AVAILABILITY": "PendingAvailability",
    "PENDING": "Pending",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- DynamoDB meter


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return 1 + math.ceil(len(digits) / 2)


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one AttributeValue (wire shape) by DynamoDB's item-size rules, without its name."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(_number_size(n) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in (item or {}).items())


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class Stored:
    item: dict[str, Any]  # wire shape
    size: int


@dataclass
class DynamoMeter:
    """Counts one client's DynamoDB requests and the capacity units they cost (computed, see above).

    Its hooks run inside the caller's requests; `cpu` is their own CPU time, which the bench takes
    off the handler's."""

    shadow: dict[tuple[str, str], Stored]  # every item written so far, by (pk, sk)
    indexes: dict[str, tuple[str, str]]
    requests: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    transact_items: int = 0
    table_wcu: float = 0.0
    index_wcu: float = 0.0
    rcu: float = 0.0
    entity_writes: Counter[str] = field(default_factory=Counter)
    entity_bytes: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    on: bool = True

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb", self._keep_params)
        client.meta.events.register("after-call.dynamodb", self._count)

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    @property
    def write_requests(self) -> int:
        return sum(
            self.requests[op]
            for op in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
        )

    @staticmethod
    def _key(item: dict[str, Any]) -> tuple[str, str]:
        return item["pk"]["S"], item["sk"]["S"]

    def _index_wcu(self, old: Stored | None, new: Stored | None) -> float:
        units = 0.0
        for pk, sk in self.indexes.values():
            had = old is not None and pk in old.item and sk in old.item
            has = new is not None and pk in new.item and sk in new.item
            if old is not None and new is not None and had and has:
                if (old.item[pk], old.item[sk]) != (new.item[pk], new.item[sk]):
                    units += _kb(old.size) + _kb(new.size)  # delete the old entry, put the new one
                elif old.item != new.item:
                    units += _kb(max(old.size, new.size))
            elif new is not None and has:
                units += _kb(new.size)
            elif old is not None and had:
                units += _kb(old.size)
        return units

    def _write(self, item: dict[str, Any] | None, key: tuple[str, str], factor: int, applied: bool) -> None:
        old = self.shadow.get(key)
        new = None if item is None else Stored(item, item_size(item))
        if new is not None:
            entity = item.get("entity", {}).get("S", "?") if item else "?"
            self.entity_writes[entity] += 1
            self.entity_bytes[entity] += new.size
        self.table_wcu += factor * _kb(max(old.size if old else 0, new.size if new else 0))
        if applied:
            self.index_wcu += self._index_wcu(old, new)
            if new is None:
                self.shadow.pop(key, None)
            else:
                self.shadow[key] = new

    def _read(self, items: list[dict[str, Any]], requested: int, consistent: bool) -> None:
        units = sum(math.ceil(max(item_size(i), 1) / 4096) for i in items) + (requested - len(items))
        self.rcu += units if consistent else units / 2

    def _count(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if not self.on:
            return
        started = time.thread_time()
        try:
            self._tally(
                model.name, context.get("bench_params") or {}, parsed, http_response.status_code < 300
            )
        finally:
            self.cpu += time.thread_time() - started

    def _tally(self, operation: str, params: dict[str, Any], parsed: dict[str, Any], ok: bool) -> None:
        self.requests[operation] += 1
        if not ok:
            self.refused[operation] += 1
        if operation == "TransactWriteItems":
            actions = params.get("TransactItems", [])
            self.transact_items += len(actions)
            for action in actions:
                ((kind, body),) = action.items()
                if kind == "Put":
                    self._write(body["Item"], self._key(body["Item"]), 2, ok)
                elif kind in ("Delete", "Update", "ConditionCheck"):
                    key = self._key(body["Key"])
                    current = self.shadow.get(key)
                    after = (
                        None if kind == "Delete" or current is None else current.item
                    )  # updates: size kept
                    self._write(after, key, 2, ok and kind != "ConditionCheck")
        elif operation == "PutItem":
            self._write(params["Item"], self._key(params["Item"]), 1, ok)
        elif operation == "GetItem":
            self._read([parsed["Item"]] if "Item" in parsed else [], 1, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                self._read(found, len(request["Keys"]), bool(request.get("ConsistentRead")))
        elif operation == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            units = math.ceil(max(size, 1) / 4096)
            self.rcu += units if params.get("ConsistentRead") else units / 2

    def figures(self, notifications: int, orders: int) -> dict[str, Any]:
        requests = sum(self.requests.values())
        return {
            "requests": requests,
            "requestsByOperation": dict(self.requests),
            "refusedByOperation": dict(self.refused),
            "writeRequests": self.write_requests,
            "transactItems": self.transact_items,
            "tableWcu": self.table_wcu,
            "indexWcu": self.index_wcu,
            "rcu": self.rcu,
            "requestsPerNotification": requests / max(notifications, 1),
            "writeRequestsPerNotification": self.write_requests / max(notifications, 1),
            "itemsWrittenPerNotification": self.transact_items / max(notifications, 1),
            "wcuPerNotification": (self.table_wcu + self.index_wcu) / max(notifications, 1),
            "tableWcuPerNotification": self.table_wcu / max(notifications, 1),
            "indexWcuPerNotification": self.index_wcu / max(notifications, 1),
            "rcuPerNotification": self.rcu / max(notifications, 1),
            "meanItemBytes": {e: round(self.entity_bytes[e] / n) for e, n in self.entity_writes.items()},
            "requestsPerOrder": requests / max(orders, 1),
            "wcuPerOrder": (self.table_wcu + self.index_wcu) / max(orders, 1),
        }


# ---------------------------------------------------------------------------------- the bench's moto


@contextlib.contextmanager
def own_moto(log: Path) -> Iterator[str]:
    """A moto server as the local stack runs it (oms_local.moto_process), for part B's tables."""
    from oms_local import moto_process

    with log.open("ab") as output, moto_process.running(stdout=output, stderr=subprocess.STDOUT) as url:
        yield url


# ---------------------------------------------------------------------------------- HTTP helpers

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy


def _open(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 60
) -> Any:
    request = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    return _opener.open(request, timeout=timeout)


def call_json(
    url: str,
    body: Any = None,
    *,
    post: bool = False,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if (post or body is not None) else None
    try:
        with _open(url, data, {"Content-Type": "application/json", **(headers or {})}, timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


# ---------------------------------------------------------------------------------- the buyers' mix


@dataclass
class OrderPlan:
    """One order the buyers' mix draws (oms_local.simulator.buyer): what the control endpoint takes."""

    items: list[tuple[str, int]]
    afn: bool
    prime: bool
    business: bool
    status: str
    cancel: str | None  # "buyer", "payment" or None


def draw_plans(count: int, seed: int) -> list[OrderPlan]:
    """Baskets and shares of the simulator's BuyerMix, drawn without a running marketplace."""
    from oms_local.simulator import SimulatorConfig
    from oms_local.simulator.buyer import BuyerMix, Buyers
    from oms_local.simulator.marketplace import Marketplace

    rng = random.Random(seed)
    buyers = Buyers(Marketplace(SimulatorConfig(seed=seed)), rng=rng)
    mix = BuyerMix()
    plans = []
    for _ in range(count):
        afn = rng.random() < mix.afn_share
        items = [(w.sku, w.quantity) for w in buyers.basket(afn)]
        prime = rng.random() < (mix.prime_afn if afn else mix.prime_mfn)
        business = rng.random() < mix.business_share
        cancel = None
        if rng.random() < mix.cancel_share:
            cancel = "buyer" if rng.random() < mix.buyer_cancel_share else "payment"
        roll = rng.random()
        if cancel == "payment" or mix.preorder_share <= roll < mix.preorder_share + mix.pending_share:
            status = "Pending"
        elif roll < mix.preorder_share:
            status = "PendingAvailability"
        else:
            status = "Unshipped"
        plans.append(OrderPlan(items, afn, prime, business, status, cancel))
    return plans


# ---------------------------------------------------------------------------------- part A: the stack


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    state_dir: Path
    outputs: dict[str, Any]

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.outputs["AwsEndpointUrl"],
            region_name=self.outputs["Region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def sim(self, path: str, body: Any = None, *, post: bool = False) -> Any:
        status, answer = call_json(self.outputs["SpApiEndpoint"] + path, body, post=post)
        if status >= 300:
            raise RuntimeError(f"simulator {path}: {status} {answer}")
        return answer

    def moto_rss_mb(self) -> float | None:
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, ValueError):
                if not entry.name.isdigit():
                    continue
                stat = (entry / "stat").read_text()
                parent = int(stat[stat.rindex(")") + 2 :].split()[1])
                command = (entry / "cmdline").read_bytes()
                if parent == self.process.pid and b"moto_process" in command:
                    for line in (entry / "status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            return int(line.split()[1]) / 1024
        return None


@contextlib.contextmanager
def local_stack(work: Path, env: dict[str, str]) -> Iterator[Stack]:
    from oms_local.harness import running_stack

    with running_stack(work / "stack", env=env) as stack:
        yield Stack(stack.process, stack.state_dir, stack.outputs)


def queue_depth(sqs: Any, url: str) -> int:
    from oms_local.harness import queue_depth as depth_of

    return depth_of(sqs, url)


class Consumers:
    """`workers` concurrent consumers work off a backlog of `calls` notifications with one getOrder
    each: the product's client (shared RateBudget in the table), then a plain client (no budget)."""

    def __init__(self, stack: Stack, order_ids: list[str], workers: int, calls: int) -> None:
        from oms_local.simulator import LOCAL_CREDENTIALS

        self.stack, self.workers, self.calls = stack, workers, calls
        self.backlog = [order_ids[n % len(order_ids)] for n in range(calls)]
        self.credentials: dict[str, Any] = dict(LOCAL_CREDENTIALS)  # what the stack put in its SpApiSecret
        self.local = threading.local()

    def run(self) -> dict[str, Any]:
        say(
            f"  A  {self.workers} consumers, {self.calls} getOrder calls: the product's client (shared budget)"
        )
        product = self.drain(self.with_product_client)
        say(f"  A  ... {product}; now a plain client (no budget)")
        naive = self.drain(self.with_plain_client)
        say(f"  A  ... {naive}")
        return {"workers": self.workers, "product": product, "naive": naive}

    def throttled(self) -> int:
        return int(self.stack.sim("/_simulator/stats")["operations"]["getOrder"]["throttled"])

    def drain(self, consume: Callable[[str], str]) -> dict[str, Any]:
        work: queue.Queue[str] = queue.Queue()
        for order_id in self.backlog:
            work.put(order_id)
        outcomes: Counter[str] = Counter()
        lock = threading.Lock()

        def consumer() -> None:
            while True:
                try:
                    order_id = work.get_nowait()
                except queue.Empty:
                    return
                outcome = consume(order_id)
                with lock:
                    outcomes[outcome] += 1
                if outcome == "deferred":  # the message returns to the queue and comes back later
                    work.put(order_id)

        self.stack.sim("/_simulator/ratelimits/refill", {}, post=True)  # both start from a full bucket
        before, started = self.throttled(), time.monotonic()
        threads = [threading.Thread(target=consumer) for _ in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            "calls": self.calls,
            "throttled": self.throttled() - before,
            "outcomes": dict(outcomes),
            "seconds": round(time.monotonic() - started, 1),
        }

    def with_product_client(self, order_id: str) -> str:
        from oms.amazon.client import Credentials, SpApiClient, SpApiError
        from oms.amazon.orders_api import INCLUDED_DATA, GetOrderResponse
        from oms.amazon.rate_budget import BudgetExhausted, RateBudget
        from oms.store.table import Table

        outputs = self.stack.outputs
        if not hasattr(self.local, "client"):  # one client per consumer, as one per Lambda container
            local = self.credentials
            credentials = Credentials(local["clientId"], local["clientSecret"], local["refreshTokens"])
            table = Table(outputs["TableName"], _no_paging, client=self.stack.aws("dynamodb"))
            self.local.client = SpApiClient(
                credentials=lambda: credentials,
                budget=RateBudget(table),
                endpoint_override=outputs["SpApiEndpoint"],
                lwa_url=outputs["LwaTokenUrl"],
            )
        try:
            self.local.client.call(
                "getOrder",
                GetOrderResponse,
                path={"orderId": order_id},
                query={"includedData": INCLUDED_DATA},
            )
        except BudgetExhausted:
            return "deferred"
        except SpApiError as error:
            return f"error {error.status}"
        return "ok"

    def with_plain_client(self, order_id: str) -> str:
        """Amazon's sample solution: a call per notification, no shared budget, a 429 fails the message."""
        import urllib3

        outputs = self.stack.outputs
        if not hasattr(self.local, "http"):
            self.local.http = urllib3.PoolManager(retries=False)
            answer = self.local.http.request(
                "POST",
                outputs["LwaTokenUrl"],
                fields={
                    "grant_type": "refresh_token",
                    "refresh_token": self.credentials["refreshTokens"]["na"],
                    "client_id": self.credentials["clientId"],
                    "client_secret": self.credentials["clientSecret"],
                },
                encode_multipart=False,
            )
            self.local.token = json.loads(answer.data)["access_token"]
        answer = self.local.http.request(
            "GET",
            f"{outputs['SpApiEndpoint']}/orders/2026-01-01/orders/{order_id}",
            headers={"x-amz-access-token": self.local.token, "accept": "application/json"},
        )
        return "ok" if answer.status < 300 else f"error {answer.status}"


class StackRun:
    """Part A: orders of the buyers' mix through the local stack, end to end."""

    def __init__(
        self, count: int, seed: int, workers: int, calls: int, work: Path, env: dict[str, str]
    ) -> None:
        self.count, self.seed, self.workers, self.calls = count, seed, workers, calls
        self.work, self.env = work, env
        self.first_empty: dict[str, float] = {}
        self.started = time.monotonic()

    def run(self) -> dict[str, Any]:
        plans = draw_plans(self.count, self.seed)
        with local_stack(self.work, self.env) as stack:
            self.stack, self.sqs = stack, stack.aws("sqs")
            stack.sim("/_simulator/config", {"searchLagSeconds": 0}, post=True)
            stack.sim("/_simulator/stats/reset", {}, post=True)
            say(f"  A  local stack up ({stack.outputs['ApiUrl']}); placing {self.count} orders")
            self.started = time.monotonic()
            order_ids = self.place(plans)
            watcher = threading.Thread(target=self.watch_first_empty, daemon=True)
            watcher.start()
            rate_test = Consumers(stack, order_ids, self.workers, self.calls).run()
            say("  A  waiting for the marketplace's own changes and the queue to drain")
            drained = self.wait_settled(order_ids)
            watcher.join(timeout=1)
            wrong = self.check(order_ids)
            stats = stack.sim("/_simulator/stats")
            dead = queue_depth(self.sqs, stack.outputs["OrderNotificationsDlqUrl"])
            say("  A  running reconcile_orders once over every order")
            reconcile = self.reconcile_once()
            delivered, seconds = self.first_empty.get("delivered"), self.first_empty.get("seconds")
            say("  A  done")
            return {
                "orders": self.count,
                "notifications": stats["notifications"],
                "deliveredPerOrder": stats["notifications"]["delivered"] / self.count,
                "drainedSeconds": round(drained, 1),
                "backlog": {
                    "delivered": delivered,
                    "seconds": round(seconds, 1) if seconds else None,
                    "perSecond": round(delivered / seconds, 2) if delivered and seconds else None,
                },
                "ordersRight": self.count - len(wrong),
                "ordersWrong": wrong,
                "deadLettered": dead,
                "reconcile": reconcile,
                "consumers": rate_test,
                "motoRssMb": stack.moto_rss_mb(),
                "orderCounts": stats["orders"],
            }

    def place(self, plans: list[OrderPlan]) -> list[str]:
        placed: list[tuple[str, OrderPlan]] = []
        for plan in sorted(plans, key=lambda p: not p.afn):  # FBA first: Amazon ships them 30-180 s later
            body = {
                "items": [{"sku": sku, "quantity": quantity} for sku, quantity in plan.items],
                "afn": plan.afn,
                "prime": plan.prime,
                "business": plan.business,
                # a pre-order waits minutes for its release here: it starts at the next step
                "status": "Pending" if plan.status == "PendingAvailability" else plan.status,
            }
            order_id = self.stack.sim("/_simulator/orders", body, post=True)["orderId"]
            placed.append((order_id, plan))
            if plan.cancel == "payment":  # declined before the payment would have been authorised
                self.stack.sim(
                    f"/_simulator/orders/{order_id}/cancel", {"reason": "Payment Declined"}, post=True
                )
        for order_id, plan in placed:
            if plan.cancel == "buyer":
                with contextlib.suppress(RuntimeError):  # Amazon shipped it first
                    self.stack.sim(
                        f"/_simulator/orders/{order_id}/cancel", {"buyerRequested": True}, post=True
                    )
        return [order_id for order_id, _ in placed]

    def depth(self) -> int:
        return queue_depth(self.sqs, self.stack.outputs["OrderNotificationsQueueUrl"])

    def watch_first_empty(self) -> None:
        """The backlog's throughput: notifications delivered by the moment the queue first ran empty."""
        while time.monotonic() - self.started < 900:
            if self.depth() == 0:
                delivered = self.stack.sim("/_simulator/stats")["notifications"]["delivered"]
                self.first_empty.update(seconds=time.monotonic() - self.started, delivered=delivered)
                return
            time.sleep(0.5)

    def marketplace_status(self, order_id: str) -> tuple[str, str]:
        fulfillment = self.stack.sim(f"/_simulator/orders/{order_id}")["order"]["fulfillment"]
        return fulfillment["fulfillmentStatus"], fulfillment["fulfilledBy"]

    def wait_settled(self, order_ids: list[str]) -> float:
        """Until the marketplace made every change it makes by itself, delivered every notification,
        and the queue (in flight and delayed messages included) stayed empty."""
        unsettled, quiet = set(order_ids), 0
        while quiet < 2:
            if time.monotonic() - self.started > 900:
                raise RuntimeError("the local stack did not drain within 15 minutes")
            time.sleep(2)
            for order_id in list(unsettled):
                status, by = self.marketplace_status(order_id)
                if status in ("SHIPPED", "CANCELLED") or (status == "UNSHIPPED" and by == "MERCHANT"):
                    unsettled.discard(order_id)
            sent = self.stack.sim("/_simulator/stats")["notifications"]
            done = sent["delivered"] + sent["dropped"] >= sent["published"] + sent["duplicated"]
            quiet = quiet + 1 if (done and not unsettled and self.depth() == 0) else 0
        return time.monotonic() - self.started

    def check(self, order_ids: list[str]) -> list[dict[str, Any]]:
        outputs = self.stack.outputs
        token = {"Authorization": f"Bearer {outputs['ApiToken']}"}
        wrong = []
        for order_id in order_ids:
            expected = STATUS_NAMES[self.marketplace_status(order_id)[0]]
            status, order = call_json(f"{outputs['ApiUrl']}/orders/{order_id}", headers=token)
            got = order.get("status") if status == 200 else status
            if got != expected:
                wrong.append({"orderId": order_id, "expected": expected, "got": got})
        return wrong

    def reconcile_once(self) -> dict[str, Any]:
        outputs = self.stack.outputs
        before = self.stack.sim("/_simulator/stats")["operations"]
        started = time.monotonic()
        status, answer = call_json(
            f"{outputs['LocalConsoleUrl']}/_local/invoke/ReconcileOrdersFunction",
            None,
            post=True,
            headers={"Authorization": f"Bearer {outputs['ApiToken']}"},
            timeout=900,
        )
        after = self.stack.sim("/_simulator/stats")["operations"]
        made = {op: after[op]["requests"] - before[op]["requests"] for op in after}
        return {
            "httpStatus": status,
            "answer": answer,
            "spApiCalls": {op: n for op, n in made.items() if n},
            "seconds": round(time.monotonic() - started, 1),
        }


# ---------------------------------------------------------------------------------- part B: in process


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

    from oms.settings import get_settings
    from oms.store import default

    get_settings.cache_clear()
    default.default_table.cache_clear()
    default._page_tokens.cache_clear()
    parameters.clear_caches()


def _load_handler(name: str) -> Any:
    path = ROOT / "functions" / "ingest_notifications" / "app.py"
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
            parameters={"SpApiEndpoint": self.sim.url, "LwaTokenUrl": self.sim.lwa_token_url},
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
        self.backstop_table = Table(self.environment["TABLE_NAME"], _no_paging)
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
        from oms_local.simulator.entities import PARTIALLY_SHIPPED, PENDING, PENDING_AVAILABILITY, UNSHIPPED
        from oms_local.simulator.marketplace import ApiError

        order = self.marketplace.snapshot(order_id)
        if order.status in (PENDING, PENDING_AVAILABILITY) and attempt < 20:
            self.later(900, lambda: self.ship(order_id, packages, attempt + 1))
            return
        if order.status not in (UNSHIPPED, PARTIALLY_SHIPPED):
            return  # canceled meanwhile
        lines = [
            (line.order_item_id, line.quantity - line.shipped)
            for line in order.lines
            if line.quantity > line.shipped
        ]
        if packages == 2 and sum(units for _, units in lines) >= 2:
            item, units = lines[0]
            lines = [(item, units - 1)] if len(lines) == 1 else lines[:1]
            self.later(self.rng.uniform(600, 3600), lambda: self.ship(order_id, 1))
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

        from oms.store import keys
        from oms.store.table import Table

        table = Table(self.environment["TABLE_NAME"], _no_paging, client=boto3.client("dynamodb"))
        wrong = []
        for order_id, order in self.marketplace.orders.items():
            item = table.get(keys.order_key(order_id))
            expected = (order.status, sorted((line.order_item_id, line.shipped) for line in order.lines))
            got = None
            if item is not None:
                got = (
                    item["status"],
                    sorted((i["orderItemId"], i.get("quantityShipped", 0)) for i in item["items"]),
                )
            if got != expected:
                wrong.append({"orderId": order_id, "expected": expected, "got": got})
        return wrong

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


def _no_paging() -> Any:
    raise RuntimeError("nothing here reads a page of a query")


def _suppress(kind: type[BaseException], action: Callable[[], None]) -> None:
    with contextlib.suppress(kind):
        action()


# ---------------------------------------------------------------------------------- the report


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def report(results: dict[str, Any]) -> str:
    sizes = [int(n) for n in results["inProcess"]]
    parts = [results["inProcess"][str(n)] for n in sizes]
    stack = results.get("stack")
    rows: list[tuple[str, list[str], str, str]] = []

    def row(name: str, values: list[Any], goal: str = "", met: bool | None = None, digits: int = 3) -> None:
        rows.append(
            (name, [_fmt(v, digits) for v in values], goal, "" if met is None else ("yes" if met else "NO"))
        )

    calls = [p["spApi"]["callsPerOrder"] for p in parts]
    row(
        "SP-API calls per order, product [1]",
        calls,
        f"<= {GOALS['calls']}",
        all(c <= GOALS["calls"] for c in calls),
        4,
    )
    row("SP-API calls per order, naive [2]", [p["naiveCallsPerOrder"] for p in parts], digits=2)
    row(
        "  notifications delivered per order (incl. duplicates)",
        [p["notifications"]["delivered"] / p["orders"] for p in parts],
        digits=2,
    )
    row(
        "  backstop runs / searchOrders pages [1]",
        [f"{p['spApi']['reconcileRuns']} / {p['spApi']['pages']}" for p in parts],
    )
    row(
        "  429s seen by the backstop [1]",
        [p["spApi"]["throttled"] for p in parts],
        "0",
        all(p["spApi"]["throttled"] == 0 for p in parts),
    )
    if stack:
        rate = stack["consumers"]
        same = [f"{rate['product']['throttled']} of {rate['product']['calls']}*"] * len(parts)
        row(
            f"429s, {rate['workers']} concurrent consumers, product client [3]",
            same,
            "0",
            rate["product"]["throttled"] == 0,
        )
        naive = [f"{rate['naive']['throttled']} of {rate['naive']['calls']}*"] * len(parts)
        row(f"429s, {rate['workers']} concurrent consumers, naive client [3]", naive)
    writes = [p["ingest"]["writeRequestsPerNotification"] for p in parts]
    row(
        "DynamoDB write requests per notification [4]",
        writes,
        f"<= {GOALS['writes']}",
        all(w <= GOALS["writes"] for w in writes),
        2,
    )
    row(
        "DynamoDB requests per notification, all [4]",
        [p["ingest"]["requestsPerNotification"] for p in parts],
        digits=2,
    )
    row(
        "  items written per notification (in transactions)",
        [p["ingest"]["itemsWrittenPerNotification"] for p in parts],
        digits=2,
    )
    row(
        "DynamoDB write units per notification [5]",
        [p["ingest"]["wcuPerNotification"] for p in parts],
        digits=2,
    )
    row(
        "  of which table (transactional) / GSIs",
        [
            f"{p['ingest']['tableWcuPerNotification']:.2f} / {p['ingest']['indexWcuPerNotification']:.2f}"
            for p in parts
        ],
    )
    row("  read units per notification", [p["ingest"]["rcuPerNotification"] for p in parts], digits=2)
    row("DynamoDB requests per order, intake [4]", [p["ingest"]["requestsPerOrder"] for p in parts], digits=2)
    row("DynamoDB write units per order, intake [5]", [p["ingest"]["wcuPerOrder"] for p in parts], digits=2)
    row(
        "  + backstop: requests / write units per order",
        [f"{p['backstop']['requestsPerOrder']:.2f} / {p['backstop']['wcuPerOrder']:.2f}" for p in parts],
    )
    row("Handler CPU ms per notification, warm [6]", [p["cpuMsPerNotification"] for p in parts], digits=2)
    row(
        "  handler wall ms per notification (moto on loopback)",
        [p["wallMsPerNotification"] for p in parts],
        digits=1,
    )
    row(
        "Orders right after the run (table vs marketplace)",
        [f"{p['ordersRight']}/{p['orders']}" for p in parts],
        "all",
        all(p["ordersRight"] == p["orders"] for p in parts),
    )
    if stack:
        row(
            f"Local stack end to end, {stack['orders']} orders [7]",
            [f"{stack['ordersRight']}/{stack['orders']} right*"] * len(parts),
            "all",
            stack["ordersRight"] == stack["orders"] and not stack["deadLettered"],
        )
        backlog = stack["backlog"]
        row(
            "  local stack throughput, notifications/s [7]",
            [f"{_fmt(backlog['perSecond'], 2)}*"] * len(parts),
        )

    headers = ["figure", *[f"N={n}" for n in sizes], "goal", "met?"]
    table = [headers, *[[name, *values, goal, met] for name, values, goal, met in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = []
    for n, line in enumerate(table):
        lines.append(
            " | ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)
            )
        )
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def notes(results: dict[str, Any], out: Path) -> str:
    stack = results.get("stack")
    first = next(iter(results["inProcess"].values()))
    text = [
        "",
        f"How each figure was obtained (details: {out}):",
        f"[1] In process on simulated time (part B): orders arrive at {ORDERS_PER_HOUR}/h; the product's backstop"
        f" (oms.orders.reconcile.sync_orders, SpApiClient + RateBudget) runs every {RECONCILE_EVERY.seconds // 60} min against"
        " the simulator's SP-API and reads the orders updated since its last run (5 min overlap, up to 100 a page);"
        " runs continue until the last change has been read, so the tail after the last arrival is included."
        " Calls = every SP-API request the simulator saw / N; the ingest path itself makes none.",
        "[2] getOrder + getOrderItems for every notification the marketplace delivered (duplicates included), / N.",
    ]
    if stack:
        rate = stack["consumers"]
        text.append(
            f"[3] * Measured once, in the local-stack run (part A): {rate['workers']} threads work off a backlog of"
            f" {rate['product']['calls']} notifications with one getOrder each (Amazon: 0.5/s, burst 30). Product client:"
            f" the shared RateBudget in the stack's table ({rate['product']['seconds']} s; a consumer whose wait would"
            " exceed 10 s gives its message back, as a Lambda would); plain client: one attempt each"
            f" ({rate['naive']['seconds']} s). 429s counted by the simulator. The figure does not depend on N."
        )
    text += [
        "[4] botocore after-call hooks on the handler's DynamoDB client; the handler (functions/ingest_notifications)"
        " runs in this process on every delivered notification, in the batches that arrive within a second"
        f" (mean batch {first['meanBatch']}). Write requests = TransactWriteItems + Put/Update/Delete/BatchWrite.",
        "[5] Computed from the written items by DynamoDB's size rules (moto reports no capacity): 2 WCU per started KB"
        " of each transaction item (larger of old and new; canceled transactions, i.e. duplicates, counted as"
        " charged), plus 1 WCU per started KB for every GSI entry written (2 when its key moves).",
        "[6] time.thread_time() around each handler call, first (cold) call excluded; moto runs in another process.",
    ]
    if stack:
        text.append(
            f"[7] * The local stack (oms local --no-simulator) with {stack['orders']} orders of the buyers' mix placed"
            " through POST /_simulator/orders: every order checked with GET /orders/{orderId} once the marketplace"
            f" had made its own changes and the queue had drained ({stack['drainedSeconds']} s);"
            f" throughput = {stack['backlog']['delivered']} notifications delivered by the time the queue first ran"
            f" empty ({stack['backlog']['seconds']} s, with the 429 test alongside). One reconcile_orders run read"
            f" {stack['reconcile']['spApiCalls']} for {stack['orders']} orders. moto's RSS at the end:"
            f" {_fmt(stack['motoRssMb'], 0)} MB."
        )
    return "\n".join(text)


# ---------------------------------------------------------------------------------- main


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
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "POWERTOOLS_SERVICE_NAME": "ingest_notifications",
            "POWERTOOLS_METRICS_NAMESPACE": "AmazonSellerOms",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
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
