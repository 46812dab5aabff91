"""Order intake at scale, through the local stack's queue: 300 orders with known life stories.

Every ORDER_CHANGE notification of every story (schema-valid: checked with the simulator's copy of
Amazon's schema), some of them twice, shuffled, with poison among them, goes into the
order-notifications queue of a stack started for this module (`oms local --no-simulator`). Once the
queue has drained, each order (GET /orders/{orderId}) must show its story's final state, each SKU's
stock row (GET /inventory/{sku}) what applying every order's final state once gives, and the DLQ must
hold the poison and nothing else.

The expectations are computed here with plain arithmetic from the stories, not with product code:
onHand = received - shipped; demand = units still to ship of open seller-fulfilled (MFN) orders;
reserved = min(demand, onHand); backordered = demand - reserved; available = onHand - reserved.

Size: about 700 messages. The local stack took 11 notifications a second here (2 cores) before every
change re-allocated its SKUs' units over their open orders and the catalogue joined the table stream's
readers on the one moto server; now 3 to 7, slower as moto's table grows, so 850 orders no longer
drained in minutes (bench/intake.py measures throughput; this test checks correctness). The test
prints its timing.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from oms_local import harness
from oms_local.simulator import contract
from tests.builders import order_change
from tests.e2e.support import Api, RunningStack, addressed_to, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]  # setup + ~5 min of draining + checks

ORDERS = 300  # ~700 messages with the duplicates and the poison
# The stories happened this past day and ship within two days of now: the stack runs on the machine's
# clock, so orders are as on time whatever day the test runs (a fixed past date made every order late).
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
DUPLICATE_SHARE = 0.10
SEED = 20261126
DRAIN_TIMEOUT = 420
OPEN = {"Pending", "PendingAvailability", "Unshipped", "PartiallyShipped"}
SKUS = [
    "E2E-MUG-BLUE",
    "E2E-MUG-RED",
    "E2E-TEAPOT",
    "E2E-CANDLE",
    "E2E-LANTERN",
    "E2E-COASTER-SET",
    "E2E-FRAME-A4",
    "Tasse bleue 250 ml",  # any SellerSKU text is a SKU, spaces included
]


# ------------------------------------------------------------------------------ stories


@dataclass(frozen=True)
class Step:
    status: str
    shipped: tuple[int, ...]  # units shipped so far, per line
    change_type: str = "OrderStatusChange"
    buyer_cancel: bool = False


@dataclass(frozen=True)
class Story:
    order_id: str
    channel: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    steps: tuple[Step, ...]

    @property
    def final(self) -> Step:
        return self.steps[-1]

    def item_id(self, line: int) -> str:
        return f"{self.order_id}-{line}"  # how tests.builders.order_change names the items

    def notifications(self, start_minute: int) -> list[dict[str, Any]]:
        return [
            order_change(
                self.order_id,
                step.status,
                [(sku, quantity, step.shipped[n]) for n, (sku, quantity) in enumerate(self.lines)],
                at=START + timedelta(minutes=start_minute + 7 * k, seconds=k),
                purchased=START - timedelta(minutes=1),
                ship_by=START + timedelta(days=3),
                deliver_by=START + timedelta(days=8),
                channel=self.channel,
                change_type=step.change_type,
                buyer_cancel=step.buyer_cancel,
            )
            for k, step in enumerate(self.steps)
        ]


def _partial(lines: tuple[tuple[str, int], ...], rng: random.Random) -> tuple[int, ...]:
    """Some but not all units shipped (the order has at least 2 units)."""
    total = sum(q for _, q in lines)
    goal = rng.randint(1, total - 1)
    shipped = []
    for _, quantity in lines:
        take = min(quantity, goal)
        shipped.append(take)
        goal -= take
    return tuple(shipped)


def make_story(order_id: str, rng: random.Random) -> Story:
    lines = tuple((sku, rng.choice((1, 1, 2, 3))) for sku in rng.sample(SKUS, rng.choice((1, 1, 1, 2, 2, 3))))
    none = tuple(0 for _ in lines)
    every = tuple(q for _, q in lines)
    many = sum(every) >= 2
    kind = rng.choices(
        [
            "open",
            "awaiting-payment",
            "paid-later",
            "preorder",
            "shipped",
            "partly-shipped",
            "shipped-in-two",
            "canceled",
            "buyer-canceled",
            "afn-shipped",
            "afn-open",
        ],
        weights=[14, 4, 10, 3, 18, 8, 10, 7, 7, 13, 10],
    )[0]
    if kind in ("partly-shipped", "shipped-in-two") and not many:
        kind = "shipped"
    partial = _partial(lines, rng) if many else none
    steps = {
        "open": [Step("Unshipped", none)],
        "awaiting-payment": [Step("Pending", none)],
        "paid-later": [Step("Pending", none), Step("Unshipped", none)],
        "preorder": [Step("PendingAvailability", none), Step("Pending", none), Step("Unshipped", none)],
        "shipped": [Step("Unshipped", none), Step("Shipped", every)],
        "partly-shipped": [Step("Unshipped", none), Step("PartiallyShipped", partial)],
        "shipped-in-two": [
            Step("Pending", none),
            Step("Unshipped", none),
            Step("PartiallyShipped", partial),
            Step("Shipped", every),
        ],
        "canceled": [Step("Pending", none), Step("Canceled", none)],
        "buyer-canceled": [
            Step("Unshipped", none),
            Step("Unshipped", none, "BuyerRequestedChange", buyer_cancel=True),
            Step("Canceled", none, "BuyerRequestedChange", buyer_cancel=True),
        ],
        "afn-shipped": [Step("Unshipped", none), Step("Shipped", every)],
        "afn-open": [Step("Pending", none), Step("Unshipped", none)],
    }[kind]
    return Story(order_id, "AFN" if kind.startswith("afn") else "MFN", lines, tuple(steps))


def shipped_units(story: Story) -> dict[str, int]:
    final = story.final
    units: dict[str, int] = Counter()
    for (sku, quantity), shipped in zip(story.lines, final.shipped, strict=True):
        units[sku] += quantity if final.status == "Shipped" else shipped
    return units


def needed_units(story: Story) -> dict[str, int]:
    final = story.final
    units: dict[str, int] = Counter()
    if final.status in OPEN:
        for (sku, quantity), shipped in zip(story.lines, final.shipped, strict=True):
            units[sku] += quantity - shipped
    return units


def expected_stock(stories: list[Story], received: dict[str, int]) -> dict[str, dict[str, int]]:
    """Each order's final state applied once, by hand: only seller-fulfilled orders touch local stock."""
    expected = {}
    for sku in SKUS:
        mfn = [s for s in stories if s.channel == "MFN"]
        on_hand = received[sku] - sum(shipped_units(s).get(sku, 0) for s in mfn)
        demand = sum(needed_units(s).get(sku, 0) for s in mfn)
        reserved = min(demand, max(on_hand, 0))
        expected[sku] = {
            "onHand": on_hand,
            "reserved": reserved,
            "backordered": demand - reserved,
            "available": max(on_hand - reserved, 0),
        }
    return expected


def poison_bodies(valid: dict[str, Any]) -> list[str]:
    """Messages that are not ORDER_CHANGE notifications a consumer can apply: not JSON, wrong types,
    required fields missing. Each is distinct, names an order of its own, and breaks Amazon's schema."""

    def broken(n: int, change: Callable[[dict[str, Any]], None]) -> str:
        document = json.loads(json.dumps(valid))
        document["NotificationMetadata"]["NotificationId"] = f"poison-{n}-{uuid.uuid4()}"
        document["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = f"POISON-{n:02d}"
        change(document)
        assert contract.notification_problems(document), f"poison {n} is valid under the schema"
        return json.dumps(document)

    def payload(document: dict[str, Any]) -> dict[str, Any]:
        return document["Payload"]["OrderChangeNotification"]

    def item(document: dict[str, Any]) -> dict[str, Any]:
        return payload(document)["Summary"]["OrderItems"][0]

    changes: list[Callable[[dict[str, Any]], None]] = [
        lambda d: item(d).update(Quantity="three"),
        lambda d: item(d).update(Quantity=2.5),
        lambda d: item(d).update(SellerSKU=12345),
        lambda d: item(d).update(IsBuyerRequestedCancel="maybe"),
        lambda d: payload(d)["Summary"].update(OrderStatus=7),
        lambda d: payload(d)["Summary"].update(OrderItems={"not": "a list"}),
        lambda d: payload(d)["Summary"].update(FulfillmentType="XYZ"),
        lambda d: d.update(Payload="not an object"),
        lambda d: d.update(NotificationMetadata=["not", "an", "object"]),
        lambda d: d.update(EventTime=1700000000),
        lambda d: d.pop("NotificationMetadata"),
        lambda d: d.pop("Payload"),
        lambda d: d["NotificationMetadata"].pop("NotificationId"),
        lambda d: payload(d).pop("AmazonOrderId"),
        lambda d: payload(d)["Summary"].pop("OrderItems"),
        lambda d: payload(d)["Summary"].pop("OrderStatus"),
    ]
    bodies = [broken(n, change) for n, change in enumerate(changes)]
    bodies += [
        "this is not json",
        '{"NotificationType": "ORDER_CHANGE", "Payload": ',  # cut short
        "[1, 2, 3]",
        "null",
    ]
    return bodies


@dataclass
class Scenario:
    stories: list[Story]
    received: dict[str, int]  # units given to each SKU before the notifications
    healthy: list[str]  # every valid message body sent, duplicates included
    poison: list[str]

    @property
    def messages(self) -> int:
        return len(self.healthy) + len(self.poison)


def build_scenario(outputs: dict[str, Any]) -> Scenario:
    rng = random.Random(SEED)
    run = uuid.uuid4().int % 10**7
    stories = [make_story(f"9{n % 100:02d}-{run:07d}-{n:07d}", rng) for n in range(ORDERS)]
    documents = [doc for n, story in enumerate(stories) for doc in story.notifications(start_minute=n)]
    for document in documents:
        addressed_to(document, outputs)  # this stack's application and seller: applied, not dropped
        contract.validate_notification(document)  # schema-valid, as Amazon sends them
    bodies = [json.dumps(document) for document in documents]
    healthy = bodies + rng.sample(bodies, round(len(bodies) * DUPLICATE_SHARE))
    # Stock: what gets shipped, plus a margin that leaves some SKUs short (backorders) and some plenty.
    mfn = [s for s in stories if s.channel == "MFN"]
    margins = [0, 1, 3, 6, 12, 25, 60, 200]
    received = {
        sku: sum(shipped_units(s).get(sku, 0) for s in mfn) + margins[n] for n, sku in enumerate(SKUS)
    }
    poison = poison_bodies(documents[0])
    return Scenario(stories, received, healthy, poison)


# ------------------------------------------------------------------------------ the stack


@pytest.fixture(scope="module")
def sqs(stack: RunningStack) -> Any:
    return harness.aws_client(stack.outputs, "sqs")


depth = harness.queue_depth


def read_all(sqs: Any, url: str) -> dict[str, str]:
    """Every message of a quiet queue (message id -> body), each received once and hidden meanwhile."""
    seen: dict[str, str] = {}
    while True:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=120, WaitTimeSeconds=0
        )
        messages = answer.get("Messages", [])
        if not messages:
            return seen
        seen.update((m["MessageId"], m["Body"]) for m in messages)


def send_all(sqs: Any, url: str, bodies: list[str]) -> None:
    for start in range(0, len(bodies), 10):
        chunk = bodies[start : start + 10]
        answer = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(chunk)]
        )
        assert not answer.get("Failed"), answer["Failed"]


def get_all(outputs: dict[str, Any], paths: list[str]) -> dict[str, tuple[int, Any]]:
    """GET every path, four at a time (the local API runs four workers), one session per thread."""
    local = threading.local()

    def get(path: str) -> tuple[str, tuple[int, Any]]:
        if not hasattr(local, "api"):
            local.api = Api(outputs)
        response = local.api.get(path)
        return path, (response.status_code, response.json())

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(get, paths))


# ------------------------------------------------------------------------------ the test


def test_shuffled_duplicated_notifications_with_poison_leave_exactly_the_right_orders_and_stock(
    stack: RunningStack, sqs: Any
) -> None:
    outputs = stack.outputs
    scenario = build_scenario(outputs)
    api = Api(outputs)
    queue, dlq = outputs["OrderNotificationsQueueUrl"], outputs["OrderNotificationsDlqUrl"]

    for sku, units in scenario.received.items():  # the seller lists the SKU and receives stock, by API
        response = api.request("PUT", f"/inventory/{quote(sku, safe='')}", json={"reorderPoint": 2})
        assert response.status_code == 200, response.text
        if units:
            response = api.request(
                "POST",
                f"/inventory/{quote(sku, safe='')}/adjustments",
                json={"delta": units, "reason": "receipt", "reference": "e2e-intake-at-scale"},
            )
            assert response.status_code == 201, response.text

    messages = scenario.healthy + scenario.poison
    random.Random(SEED + 1).shuffle(messages)
    started = time.monotonic()
    send_all(sqs, queue, messages)
    sent = time.monotonic()

    def settled() -> bool:
        return depth(sqs, queue) == 0 and depth(sqs, dlq) >= len(scenario.poison)

    drained = wait_for(settled, timeout=DRAIN_TIMEOUT, interval=0.5)  # two queue reads a poll
    elapsed = time.monotonic() - started
    timing = (
        f"{scenario.messages} messages ({len(scenario.healthy)} valid incl. duplicates, "
        f"{len(scenario.poison)} poison) for {ORDERS} orders: sent in {sent - started:.1f}s, "
        f"queue drained and poison dead-lettered after {elapsed:.1f}s "
        f"({len(scenario.healthy) / elapsed:.1f} valid notifications/s)"
    )
    print(f"\n{timing}")
    assert drained, f"not settled after {DRAIN_TIMEOUT}s: {timing}; the DLQ holds {depth(sqs, dlq)}"

    time.sleep(3)  # anything healthy wrongly dead-lettered would arrive with the last poison
    dead = read_all(sqs, dlq)
    assert Counter(dead.values()) == Counter(scenario.poison), (
        "the DLQ must hold the poison and only the poison, each once: "
        f"missing {Counter(scenario.poison) - Counter(dead.values())}, "
        f"unexpected {Counter(dead.values()) - Counter(scenario.poison)}"
    )

    answers = get_all(outputs, [f"/orders/{story.order_id}" for story in scenario.stories])
    wrong = {}
    for story in scenario.stories:
        status, order = answers[f"/orders/{story.order_id}"]
        expected_items = sorted(
            (story.item_id(n), sku, quantity, story.final.shipped[n])
            for n, (sku, quantity) in enumerate(story.lines)
        )
        if status != 200:
            wrong[story.order_id] = f"GET answered {status}: {order}"
            continue
        seen = (
            order["status"],
            order["fulfillmentChannel"],
            sorted((i["orderItemId"], i["sku"], i["quantity"], i["quantityShipped"]) for i in order["items"]),
        )
        if seen != (story.final.status, story.channel, expected_items):
            wrong[story.order_id] = f"expected {story.final.status} {expected_items}, got {seen}"
    assert not wrong, f"{len(wrong)} of {ORDERS} orders are wrong: {dict(list(wrong.items())[:5])}"

    poisoned = get_all(outputs, [f"/orders/POISON-{n:02d}" for n in range(len(scenario.poison))])
    assert all(status == 404 for status, _ in poisoned.values()), "a poison message was applied"

    rows = get_all(outputs, [f"/inventory/{quote(sku, safe='')}" for sku in SKUS])
    expected = expected_stock(scenario.stories, scenario.received)
    stock = {}
    for sku in SKUS:
        status, row = rows[f"/inventory/{quote(sku, safe='')}"]
        assert status == 200, f"{sku}: {status} {row}"
        stock[sku] = {name: row[name] for name in ("onHand", "reserved", "backordered", "available")}
    assert stock == expected
    assert any(row["backordered"] for row in expected.values()), "the scenario should leave a SKU short"
