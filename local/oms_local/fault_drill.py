"""The fault drill: N orders through intake, shipping (a label bought through Amazon, the shipment confirmed)
and returns (received, refunded through the feed) on a local stack, with or without fault mode; then the
state a seller cares about, normalised, to compare a run with faults against a fault-free run of the same
seed. Used by tests/e2e/test_faults.py (small) and bench/faults.py (large).

The seller's side (this driver) behaves as a careful client: a 5xx, a dropped connection or a 409 "being
bought right now" is sent again, the same request with the same Idempotency-Key, until it answers.

What is normalised, and why (the two runs are two stacks with their own clocks and generators):
- ids the stacks or the marketplace generate (order ids, order item ids, return ids, shipment and label ids,
  tracking numbers, feed ids, ledger entry ids): replaced by the order's place in the run (order 3's return is
  "order#3/return"); the set of them still has to match one to one;
- times (every ISO timestamp and epoch second, TTLs): dropped, as the runs ran at different moments;
- how a shipment's label came (source, rate, service, carrier, label file, weight, estimated delivery): the
  cheapest on-time service depends on when it was bought, and a label whose answer was lost is recorded by hand;
- how a refund was sent: its feed id is recorded when createFeed answered; when that answer was lost, the
  refund is confirmed from Amazon's finances without it;
- the order's raw notification bookkeeping (which notification was applied last, its sequence, version
  counters): dropped, as a redelivered message legitimately bumps them.
Everything else is compared as it is: statuses, quantities, amounts, stock on hand / reserved / shipped,
ledger movements (kind and quantity per SKU), shipments (items, carrier, service), returns and refunds.
"""

from __future__ import annotations

import collections
import contextlib
import json
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from oms_local import harness, template
from oms_local.faults import count_by_kind
from oms_local.shipping_setup import ship_from_patch

SKUS = ("FLT-MUG-RED", "FLT-MUG-BLUE", "FLT-BOWL")
OPENING_STOCK = 100_000
RETURN_EVERY = 3  # every third order comes back and is refunded


class DrillFailed(AssertionError):
    pass


@dataclass
class Plan:
    """The seed's orders: (sku, quantity) each; every RETURN_EVERY-th one is returned."""

    orders: list[tuple[str, int]]

    @classmethod
    def of(cls, seed: int, count: int) -> Plan:
        rng = random.Random(seed)  # noqa: S311 - a workload, not a secret
        return cls([(rng.choice(SKUS), rng.randint(1, 3)) for _ in range(count)])


@dataclass
class DrillResult:
    state: dict[str, Any]  # normalised: what the two runs must agree on
    acted: dict[str, Any]  # the marketplace's count of what it acted on
    faults: dict[str, int]  # injected, by kind
    dead_letters: list[dict[str, Any]]  # messages in the DLQs at the end
    seconds: float
    seller_retries: int
    order_ids: list[str] = field(default_factory=list)
    labels_by_hand: int = 0  # purchases whose answer was lost, settled by the seller as the product asked
    seller_retried: dict[str, int] = field(
        default_factory=dict
    )  # the requests sent again, by answer and route


class Seller:
    def __init__(self, outputs: dict[str, Any], deadline: float, scale: float = 1.0) -> None:
        self.outputs = outputs
        self.deadline = deadline
        self.scale = scale  # the phases' time limits are for 100 orders: a larger run waits longer
        self.retries = 0
        self.retried: collections.Counter[str] = collections.Counter()  # why, by answer
        self._local = threading.local()  # a session per packing station (thread)
        self._lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
            session.headers["Authorization"] = f"Bearer {self.outputs['ApiToken']}"
        return session

    def call(self, method: str, path: str, ok: tuple[int, ...], **kwargs: Any) -> Any:
        """The request until it answers one of `ok` (5xx, dropped, 409 "right now" and 429 are sent again)."""
        last = ""
        while time.monotonic() < self.deadline:
            try:
                answer = self.session.request(method, self.outputs["ApiUrl"] + path, timeout=30, **kwargs)
            except requests.RequestException as error:
                last = repr(error)
                why = type(error).__name__
            else:
                if answer.status_code in ok:
                    return answer.json() if answer.content else None
                last = f"{answer.status_code} {answer.text[:1000]}"
                busy = answer.status_code == 409 and (
                    "right now" in answer.text or "retry shortly" in answer.text
                )
                if answer.status_code < 500 and answer.status_code != 429 and not busy:
                    raise DrillFailed(f"{method} {path}: {last}")
                why = f"{answer.status_code} {method} {re.sub(r'/[^/]*[0-9][^/]*', '/{id}', path)}"
            with self._lock:
                self.retries += 1
                self.retried[why] += 1
            time.sleep(0.5)
        raise DrillFailed(f"{method} {path} never answered {ok}: {last}")

    def simulator(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.session.request(
            method, f"{self.outputs['SpApiEndpoint']}/_simulator{path}", json=body, timeout=30
        )
        if answer.status_code >= 300:
            raise DrillFailed(f"simulator {method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json()

    def wait(self, what: str, condition: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
        limit = timeout * self.scale
        value = harness.wait_for(condition, min(limit, max(self.deadline - time.monotonic(), 1)), interval)
        if not value:
            raise DrillFailed(f"timed out waiting for {what}")
        return value


def run(
    state_dir: Path,
    *,
    orders: int,
    faults: float,
    seed: int,
    timeout: float = 600,
    stations: int = 1,
    say: Callable[[str], None] = lambda text: None,
    starting: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
) -> DrillResult:
    """One run of the drill on a stack of its own (started and stopped here). `starting`: held while the stack
    starts (two runs side by side start their stacks one at a time: a start cold-starts every function).
    `stations`: packing stations shipping (and receiving returns) at once, each a client of its own."""
    started = time.monotonic()
    tell = say
    say = lambda text: tell(f"{time.monotonic() - started:6.1f}s  {text}")  # noqa: E731
    plan = Plan.of(seed, orders)
    with starting():
        stack = harness.start_stack(
            state_dir,
            # the same seed, the same marketplace (its FBA stock above all) in both runs
            args=("--no-simulator", "--faults", str(faults), "--faults-seed", str(seed), "--seed", str(seed)),
            timeout=120,
        )
    say("stack started")
    try:
        seller = Seller(stack.outputs, time.monotonic() + timeout, scale=max(1.0, orders / 100))
        result = _drive(stack, seller, plan, say, stations)
        result.faults = count_by_kind(state_dir / "faults.jsonl")
        result.seconds = time.monotonic() - started
        result.seller_retries = seller.retries
        result.seller_retried = dict(seller.retried.most_common())
        return result
    finally:
        stack.stop()


def _drive(
    stack: harness.StackProcess, seller: Seller, plan: Plan, say: Callable[[str], None], stations: int
) -> DrillResult:
    _set_up(seller)
    order_ids = [
        seller.simulator("POST", "/orders", {"sku": sku, "quantity": quantity})["orderId"]
        for sku, quantity in plan.orders
    ]
    say(f"{len(order_ids)} orders placed")

    waiting = set(order_ids)

    def arrived() -> bool:
        waiting.difference_update({o for o in list(waiting) if _status(seller, o) is not None})
        return not waiting

    seller.wait("every order to arrive", arrived, 300, 2)
    say("every order arrived")
    # the backstop prices the orders (refunds need the prices): run it now, beside the shipping, as a 429 on
    # searchOrders empties its bucket for 3 minutes (one call every 180 s) and the run fails until then
    priced = _Background(lambda: _invoke(stack, seller, "reconcile_orders"))
    by_hand = sum(_each(stations, lambda order_id: _ship(seller, order_id), order_ids))
    say(f"every order shipped ({by_hand} labels whose answer was lost recorded by hand)")

    last_nudge = [time.monotonic()]
    unconfirmed = set(order_ids)

    def confirmed() -> bool:
        if time.monotonic() - last_nudge[0] > 15:  # the confirm_shipments schedule (every 5 minutes), sooner
            _invoke(stack, seller, "confirm_shipments")
            last_nudge[0] = time.monotonic()
        for order_id in sorted(unconfirmed):
            order = seller.call("GET", f"/orders/{order_id}", (200,))
            shipments = order.get("shipments") or []
            if shipments and all(
                (s.get("confirmation") or {}).get("status") == "confirmed" for s in shipments
            ):
                unconfirmed.discard(order_id)
        return not unconfirmed

    seller.wait("every shipment confirmed", confirmed, 600, 3)  # an outcome left unwritten: a 5-minute lease
    say("every shipment confirmed")
    priced.join()
    say("the orders priced by the backstop")
    _return_and_refund(stack, seller, plan, order_ids, say, stations)
    # the inventory backstop's schedule (every 30 minutes) comes round only in a longer run, and brings Amazon's
    # FBA figures into the stock rows and ledgers: both runs end with one run of it, so both hold them
    _invoke(stack, seller, "inventory_sync")
    say("the inventory backstop ran")
    # the nightly plan's hourly schedule likewise (the 1,000-order bench: it ran in both runs, and died on a
    # read in the faulty one): both runs end with the day's plan made over
    _invoke(stack, seller, "plan_stock", event={"again": True})
    say("the stock plan ran")
    _quiet(stack)
    dynamodb = harness.aws_client(stack.outputs, "dynamodb")
    items = _scan(dynamodb, stack.outputs["TableName"])
    return DrillResult(
        state=normalise(items, order_ids),
        acted=_acted(seller.simulator("GET", "/acted"), order_ids),
        faults={},
        dead_letters=_dead_letters(stack),
        seconds=0.0,
        seller_retries=0,
        order_ids=order_ids,
        labels_by_hand=by_hand,
    )


def _set_up(seller: Seller) -> None:
    """The marketplace's fixed world, the warehouse, and opening stock of every SKU."""
    # the marketplace as a fixed world: no random duplicates, delays, refusals or search lag
    seller.simulator(
        "POST",
        "/config",
        {
            "duplicateProbability": 0.0,
            "delayProbability": 0.0,
            "refundRefusalProbability": 0.0,
            "searchLagSeconds": 0,
        },
    )
    seller.call("PATCH", "/settings/shipping", (200,), json=ship_from_patch())
    for sku in SKUS:
        path = f"/inventory/{quote(sku, safe='')}"
        seller.call("PUT", path, (200,), json={"channel": "MFN"})
        seller.call(
            "POST",
            f"{path}/adjustments",
            (200, 201),
            json={"delta": OPENING_STOCK, "reason": "receipt", "reference": "opening"},
            headers={"Idempotency-Key": f"opening-{sku}"},
        )


def _return_and_refund(
    stack: harness.StackProcess,
    seller: Seller,
    plan: Plan,
    order_ids: list[str],
    say: Callable[[str], None],
    stations: int = 1,
) -> None:
    """Every RETURN_EVERY-th order returned, received and refunded, until Amazon's finances confirm it."""
    returned = list(enumerate(order_ids[::RETURN_EVERY]))

    def come_back(numbered: tuple[int, str]) -> tuple[str, str]:
        index, order_id = numbered
        sku, quantity = plan.orders[order_ids.index(order_id)]
        recorded = seller.call(
            "POST",
            "/returns",
            (200, 201),
            json={
                "orderId": order_id,
                "items": [{"sku": sku, "quantity": quantity, "reason": "UNWANTED_ITEM"}],
            },
            headers={"Idempotency-Key": f"return-{index}"},
        )
        seller.call(
            "POST",
            f"/returns/{recorded['returnId']}/receipts",
            (200, 201),
            json={"items": [{"sku": sku, "quantity": quantity, "grade": "sellable"}]},
            headers={"Idempotency-Key": f"receipt-{index}"},
        )
        seller.call(
            "POST",
            f"/returns/{recorded['returnId']}/refund",
            (200, 202),
            json={},
            headers={"Idempotency-Key": f"refund-{index}"},
        )
        return order_id, str(recorded["returnId"])

    return_ids = dict(_each(stations, come_back, returned))
    say(f"{len(return_ids)} returns received and refunds asked for")

    last_check = [time.monotonic()]
    unrefunded = set(return_ids.values())

    def refunded() -> bool:
        if time.monotonic() - last_check[0] > 30:  # the check_refunds schedule (every 15 minutes), sooner: it
            _invoke(stack, seller, "check_refunds")  # sends a refund whose sender died after claiming it
            last_check[0] = time.monotonic()
        for return_id in sorted(unrefunded):
            refund = seller.call("GET", f"/returns/{return_id}", (200,)).get("refund") or {}
            if refund.get("status") in ("submitted", "confirmed"):
                unrefunded.discard(return_id)
        return not unrefunded

    # the product's own waits may add up here: a refund whose createFeed got no answer waits 5 minutes for the
    # refund check, then createFeed after a 429 waits 2 (Amazon's one every 2 minutes), getFeeds 45 s
    seller.wait("every refund submitted", refunded, 900, 3)
    say("every refund submitted")
    # then confirmed from Amazon's finances (the refund check; 5 to 20 s after the feed here), in both runs:
    # a run that ends with one refund submitted and the other confirmed differs only by when it stopped
    unconfirmed_refunds = set(return_ids.values())

    def refunds_confirmed() -> bool:
        _invoke(stack, seller, "check_refunds")
        for return_id in sorted(unconfirmed_refunds):
            refund = seller.call("GET", f"/returns/{return_id}", (200,)).get("refund") or {}
            if refund.get("status") == "confirmed":
                unconfirmed_refunds.discard(return_id)
        return not unconfirmed_refunds

    seller.wait("every refund confirmed", refunds_confirmed, 300, 5)
    say("every refund confirmed")


def _status(seller: Seller, order_id: str) -> str | None:
    answer = seller.session.get(f"{seller.outputs['ApiUrl']}/orders/{order_id}", timeout=30)
    return str(answer.json().get("status")) if answer.status_code == 200 else None


def _ship(seller: Seller, order_id: str) -> int:
    """Buy the label and ship; a request that died is sent again (the product must not buy twice). When the
    product says Amazon may have sold a label whose answer was lost, the seller does what it asks: looks at
    the labels Amazon sold for the order (Seller Central; here the marketplace's own view) and records that
    one by hand, or says buyAgain when there is none. Returns how many labels were settled by hand."""
    body: dict[str, Any] = {"buyLabel": True}
    while True:
        try:
            seller.call("POST", f"/orders/{order_id}/shipments", (200, 201), json=body)
            return 0
        except DrillFailed as refused:
            why = str(refused)
            order = seller.call("GET", f"/orders/{order_id}", (200,))
            if order.get("shipments"):  # 409 "fully shipped": an earlier attempt shipped it, its answer lost
                return 0
            if "buyAgain" not in why:
                raise
        labels = seller.simulator("GET", f"/orders/{quote(order_id, safe='')}")["labels"]
        if not labels:  # none sold for that purchase: buy, naming it (a retry of this buys at most once)
            body = {"buyLabel": True, "buyAgain": re.findall(r'buyAgain\\?": \\?"([0-9a-f]+)', why)[0]}
            continue
        label = labels[-1]
        by_hand = {"carrier": label["carrierName"], "trackingNumber": label["trackingId"]}
        seller.call("POST", f"/orders/{order_id}/shipments", (200, 201), json=by_hand)
        return 1


def _invoke(
    stack: harness.StackProcess, seller: Seller, function: str, event: dict[str, Any] | None = None
) -> None:
    """`oms invoke FUNCTION` (with `event`, else a schedule's) until one run ends without failing (a run may
    meet the faults)."""
    sent = stack.state_dir / f"{function}-event.json" if event is not None else None
    if sent is not None:
        sent.write_text(json.dumps(event))
    # a try may take what Lambda gives the function (its Timeout in the template, where the local runtime ends
    # it). A fixed 3 minutes took a 740-SKU stock plan on a loaded machine (7 minutes) for a failure, and each
    # try after it started another plan beside the first, until the 12 minutes were spent
    per_try = template.Template().function(function).timeout + 60

    def ran() -> bool:
        try:
            result = subprocess.run(  # noqa: S603 - our own interpreter and CLI
                [
                    *(sys.executable, "-m", "oms_tools.cli", "invoke", function),
                    *("--port", str(stack.port), "--state-dir", str(stack.state_dir)),
                    *(("--event", str(sent)) if sent is not None else ()),
                ],
                capture_output=True,
                text=True,
                timeout=per_try,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False  # tried again, as a run that failed
        return result.returncode == 0

    # a few seconds between tries: each is a process of its own (the CLI), and a run refused by the budget
    # (a 429 emptied it) fails at once until a token is there. 12 minutes, or two whole tries if longer: after
    # a 429 on searchOrders each try of the backstop waits for Amazon's next token (one in 180 s), and a try
    # that then meets a DynamoDB fault past the SDK's retries has spent it (seed 3 ran past 5 minutes)
    seller.wait(f"{function} to run once without failing", ran, max(720, 2 * per_try), 5)


def _each(stations: int, work: Callable[[Any], Any], things: list[Any]) -> list[Any]:
    """`work` on every one of `things`, `stations` at a time; the results in `things`' order."""
    if stations <= 1:
        return [work(thing) for thing in things]
    with ThreadPoolExecutor(stations) as pool:
        return list(pool.map(work, things))


class _Background:
    """`work` in a thread; join() waits for it and raises what it raised."""

    def __init__(self, work: Callable[[], None]) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                work()
            except BaseException as error:  # handed to join()
                self._error = error

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _quiet(stack: harness.StackProcess, settle: float = 6.0) -> None:
    """Until the queues are empty and the table stops changing (the stream readers are done)."""
    sqs = harness.aws_client(stack.outputs, "sqs")
    urls = [v for k, v in stack.outputs.items() if k.endswith("QueueUrl") and "Dlq" not in k]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if all(harness.queue_depth(sqs, url) == 0 for url in urls):
            time.sleep(settle)
            if all(harness.queue_depth(sqs, url) == 0 for url in urls):
                return
        time.sleep(1)


def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    plain = TypeDeserializer()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        items += [{k: plain.deserialize(v) for k, v in item.items()} for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _dead_letters(stack: harness.StackProcess) -> list[dict[str, Any]]:
    sqs = harness.aws_client(stack.outputs, "sqs")
    found = []
    for name, url in stack.outputs.items():
        if not (name.endswith("QueueUrl") and "Dlq" in name):
            continue
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
                "Messages", []
            )
            if not messages:
                break
            found += [{"queue": name, "body": m["Body"]} for m in messages]
    return found


# ---------------------------------------------------------------------------------- normalising

# What a seller's state is made of, by the entity each item names.
COMPARED = ("Order", "Stock", "LedgerEntry", "Shipment", "Return", "Refund", "LabelClaim")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_ISO_IN = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?")
# fields whose values the marketplace or the product generates: replaced wherever they appear
_GENERATED = frozenset(
    {"orderItemId", "id", "trackingNumber", "returnId", "receiptId", "refundId", "feedId", "amazonShipmentId"}
)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DROPPED_KEYS = re.compile(
    r"(^|_)(attempts|ttl|expires|version|sequence|last_?notification|notification_?id|applied|updated|created"
    # a refund's feed id: recorded when createFeed answered; when its answer was lost, Amazon's finances confirm
    # the refund without it (how the refund was sent, as how a label was recorded)
    r"|feed_?id"
    # the change an order's state was last learned from: a notification, or the backstop's reading of the
    # Orders API when the faults delayed the notification past it (the same state, learned another way)
    r"|change_?id)",
    re.IGNORECASE,
)


def normalise(items: list[dict[str, Any]], order_ids: list[str]) -> dict[str, Any]:
    """The seller's state with generated ids and times taken out (see the module's docstring)."""
    names = {order_id: f"order#{i}" for i, order_id in enumerate(order_ids)}
    generated: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k in _GENERATED and isinstance(v, str) and v:
                    generated.add(v)
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    for item in items:
        collect(item)
    pattern = re.compile("|".join(re.escape(v) for v in sorted(generated, key=len, reverse=True)) or "(?!)")

    def clean(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            shipment = "trackingNumber" in value
            return {
                k: clean(v, k)
                for k, v in sorted(value.items())
                if not _DROPPED_KEYS.search(k) and k not in _SKIP and not (shipment and k in _HOW_RECORDED)
            }
        if isinstance(value, list):
            return [clean(v, key) for v in value]
        if isinstance(value, str):
            if _ISO.match(value):
                return "<time>"
            for order_id, name in names.items():
                value = value.replace(order_id, name)
            return _ISO_IN.sub("<time>", _UUID.sub("<id>", pattern.sub("<id>", value)))
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 1_500_000_000:
            return "<epoch>"
        return value

    state: dict[str, list[Any]] = {}
    for item in items:
        entity = str(item.get("entity") or item.get("type") or "")
        if entity not in COMPARED:
            continue
        state.setdefault(entity, []).append(clean(item))
    return {
        entity: sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
        for entity, rows in sorted(state.items())
    }


# a shipment's label as bought through the API, or recorded by hand after Amazon's answer was lost; and its
# carrier: Buy Shipping's cheapest on-time service depends on when the label is bought (a faulty run buys later)
_HOW_RECORDED = frozenset(
    {
        "source",
        "rate",
        "service",
        "labelKey",
        "weightGrams",
        "estimatedDelivery",
        "amazonShipmentId",
        "carrierName",
        "carrier",
    }
)
_SKIP = frozenset({"gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"})


def _acted(view: dict[str, Any], order_ids: list[str]) -> dict[str, Any]:
    names = {order_id: f"order#{i}" for i, order_id in enumerate(order_ids)}

    def rename(key: str) -> str:
        for order_id, name in names.items():
            key = key.replace(order_id, name)
        return key

    return {
        operation: {rename(k): n for k, n in sorted(counts.items())}
        for operation, counts in {**view["acted"], "refundPostings": view["refundPostings"]}.items()
    }


def differences(clean: DrillResult, faulty: DrillResult, limit: int = 20) -> list[str]:
    """Where the faulty run's state differs from the fault-free run's (empty: the same)."""
    found: list[str] = []
    for entity in sorted(set(clean.state) | set(faulty.state)):
        a, b = clean.state.get(entity, []), faulty.state.get(entity, [])
        if a != b:
            only_a = [r for r in a if r not in b]
            only_b = [r for r in b if r not in a]
            paired = [
                f"{_row_name(x)}: {'; '.join(_field_differences(x, y))}"
                for x in only_a
                for y in only_b
                if _row_name(x) == _row_name(y)
            ]
            found.append(
                f"{entity}: {len(a)} rows without faults, {len(b)} with; "
                + (
                    "; ".join(paired)
                    if paired
                    else f"only without: {json.dumps(only_a[:2], default=str)[:600]}; "
                    f"only with: {json.dumps(only_b[:2], default=str)[:600]}"
                )
            )
    return found[:limit]


def _row_name(row: Any) -> str:
    return f"{row.get('pk')}|{row.get('sk')}" if isinstance(row, dict) else ""


def _field_differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two normalised rows differ, field by field (without faults -> with)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            line
            for key in sorted(set(a) | set(b))
            for line in _field_differences(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            line
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for line in _field_differences(x, y, f"{path}[{i}]")
        ]
    if a == b:
        return []
    return [f"{path or '.'}: {json.dumps(a, default=str)[:200]} -> {json.dumps(b, default=str)[:200]}"]


def sent_twice(result: DrillResult) -> dict[str, dict[str, int]]:
    """What Amazon acted on twice: a label sold twice for the same order and units, an order confirmed as two
    packages (the drill ships each order as one), an order refunded twice. A confirmation sent again for the
    same package is not here: Amazon takes it as an edit of that package (`repeated_confirmations`)."""
    found: dict[str, dict[str, int]] = {}
    labels = {k: n for k, n in result.acted.get("createShipment", {}).items() if n > 1}
    if labels:
        found["createShipment"] = labels
    packages: dict[str, int] = {}
    for key in result.acted.get("confirmShipment", {}):
        order = json.loads(key)[0]
        packages[order] = packages.get(order, 0) + 1
    if any(n > 1 for n in packages.values()):
        found["confirmShipment"] = {k: n for k, n in packages.items() if n > 1}
    refunds = {k: n for k, n in result.acted.get("refundPostings", {}).items() if n > 1}
    if refunds:
        found["refundPostings"] = refunds
    return found


def repeated_confirmations(result: DrillResult) -> int:
    """Confirmations sent again for a package Amazon already had (harmless edits; counted for the report)."""
    return sum(n - 1 for n in result.acted.get("confirmShipment", {}).values())


def new_seed() -> int:
    return uuid.uuid4().int % 10_000


def scheduled_run(letter: dict[str, Any]) -> bool:
    """A schedule's run that failed, recorded in the failure queue (its event is the schedule's time and
    execution id, no work): what it had to do is in the table, and its next run (a minute to 15 minutes on)
    does it; the state comparison shows whether anything was lost."""
    try:
        record = json.loads(str(letter["body"]))
    except ValueError:
        return False
    payload = record.get("requestPayload") if isinstance(record, dict) else None
    return isinstance(payload, dict) and set(payload) == {"scheduledTime", "executionId"}


def not_poison(clean: DrillResult, faulty: DrillResult) -> list[dict[str, Any]]:
    """The faulty run's dead letters that are not poison. A message is poison when it fails by itself, faults
    or not: the fault-free run of the same seed, where nothing else fails, dead-lettered the same message too
    (the same queue and body, with order ids named by their place and times and generated ids taken out). Any
    other dead letter is work the faults made the product give up on: lost. A schedule's failed run is not a
    message and carries no work (`scheduled_run`): counted apart."""

    def key(result: DrillResult, letter: dict[str, Any]) -> tuple[str, str]:
        body = str(letter["body"])
        for index, order_id in enumerate(result.order_ids):
            body = body.replace(order_id, f"order#{index}")
        return str(letter["queue"]), _ISO_IN.sub("<time>", _UUID.sub("<id>", body))

    expected: dict[tuple[str, str], int] = {}
    for letter in clean.dead_letters:
        expected[key(clean, letter)] = expected.get(key(clean, letter), 0) + 1
    lost = []
    for letter in faulty.dead_letters:
        if scheduled_run(letter):
            continue
        found = key(faulty, letter)
        if expected.get(found):
            expected[found] -= 1
        else:
            lost.append(letter)
    return lost
