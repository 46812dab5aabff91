"""Part A of the intake benchmark: the local stack, end to end (see intake.py's docstring)."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake_common import STATUS_NAMES, OrderPlan, call_json, draw_plans, no_paging, say


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
            table = Table(outputs["TableName"], no_paging, client=self.stack.aws("dynamodb"))
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
