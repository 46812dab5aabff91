"""Shipping MFN orders through the local stack, as a seller's day goes: orders arrive, are batched, labelled,
shipped and confirmed to Amazon; the deadline guard flags what is slipping; account health and the end-of-day
form add it up.

A stack of its own (`oms local --no-simulator`), used over HTTP with the stack's token and through the `oms`
CLI. Every order is placed in the local marketplace with `oms simulate order` and reaches the table through
the notification queue. The orders (all placed by the module fixture, so their notifications travel together):

- `packed`: 2 units, the usual handling time: batched, a label bought through Amazon, shipped and confirmed;
- `overdue`: its latest ship date passed minutes ago, left unshipped: the guard flags it atRisk and late
  (a deadline still ahead is atRisk or not depending on the hour, the weekday and holidays in the
  warehouse's calendar; one that has passed is atRisk whenever the test runs);
- `shipped_late`: its latest ship date passed minutes ago, shipped now with a UPS tracking number;
- `shipped_in_time`: due within the minute, shipped at once with a USPS tracking number;
- `canceled`: canceled by the seller before shipping.

The tests run in file order and build on one another, like the steps of one day.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from pypdf import PdfReader

from oms.store import keys
from oms.warehouse.settings import ShippingSettings
from oms_local import harness
from tests.builders import WAREHOUSE_SETTINGS
from tests.e2e.support import Api, RunningStack, oms, wait_for

pytestmark = pytest.mark.e2e

ARRIVAL_TIMEOUT = 30
IN_TIME_SECONDS = 40
RUN = uuid.uuid4().hex[:6].upper()
SKU = f"SHIP-MUG-{RUN}"  # the packed order's
OTHER_SKU = f"SHIP-CUP-{RUN}"  # every other order's
RECEIVED = 10
WAREHOUSE_ZONE = ZoneInfo("America/New_York")
WAREHOUSE = WAREHOUSE_SETTINGS
UPS_TRACKING = "1Z999AA10123456784"  # passes UPS's check digit
USPS_TRACKING = "9400111899223100000000"


@dataclass
class Day:
    """What the seller did so far, for the later steps to check."""

    stack: RunningStack
    api: Api
    orders: dict[str, str] = field(default_factory=dict)  # role -> orderId
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> the shipment answered

    @property
    def where(self) -> tuple[str, ...]:
        return ("--port", str(self.stack.port), "--state-dir", str(self.stack.state_dir))

    def order(self, role: str) -> dict[str, Any]:
        answer = self.api.get(f"/orders/{self.orders[role]}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def stock(self, sku: str) -> dict[str, Any]:
        answer = self.api.get(f"/inventory/{quote(sku, safe='')}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def download(self, url: str) -> bytes:
        answer = self.api.session.get(url, timeout=30)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:200]}"
        return answer.content

    def simulator(self, path: str, method: str = "GET", body: Any = None) -> dict[str, Any]:
        answer = self.api.session.request(
            method, f"{self.stack.outputs['SpApiEndpoint']}/_simulator{path}", json=body, timeout=10
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


def _place(day: Day, sku: str, quantity: int, ship_by: datetime | None = None) -> str:
    extra = ("--ship-by", ship_by.isoformat()) if ship_by else ()
    placed = oms("simulate", "order", "--sku", sku, "--quantity", str(quantity), *extra, *day.where)
    assert placed.returncode == 0, placed.stderr
    return placed.stdout.strip()


@pytest.fixture(scope="module")
def day(stack: RunningStack) -> Iterator[Day]:
    """The warehouse set up, stock received, and the day's orders arrived through the queue."""
    api = Api(stack.outputs)
    day = Day(stack, api)
    setup = api.request("PUT", "/settings/shipping", json=WAREHOUSE)
    assert setup.status_code == 200, setup.text
    for sku in (SKU, OTHER_SKU):
        path = f"/inventory/{quote(sku, safe='')}"
        policy = api.request("PUT", path, json={"channel": "MFN"})
        assert policy.status_code == 200, policy.text
        received = api.request(
            "POST",
            f"{path}/adjustments",
            json={"delta": RECEIVED, "reason": "receipt", "reference": f"PO-{RUN}"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert received.status_code in (200, 201), received.text

    # Amazon delivers at least once: make it deliver every notification twice, and none late.
    day.simulator("/config", "POST", {"duplicateProbability": 1.0, "delayProbability": 0.0})
    now = datetime.now(UTC).replace(microsecond=0)
    wanted = {
        # due shortly: shipped first thing, so it ships in time and its latest ship date passes during the day
        "shipped_in_time": (OTHER_SKU, 1, now + timedelta(seconds=IN_TIME_SECONDS)),
        "packed": (SKU, 2, None),
        "overdue": (OTHER_SKU, 1, now - timedelta(minutes=10)),
        "shipped_late": (OTHER_SKU, 1, now - timedelta(minutes=5)),
        "canceled": (OTHER_SKU, 1, None),
    }
    with ThreadPoolExecutor(len(wanted)) as pool:  # each `oms` call is a Python start-up: run them together
        placed = dict(zip(wanted, pool.map(lambda w: _place(day, *w), wanted.values()), strict=True))
    day.orders.update(placed)
    for role, order_id in day.orders.items():
        arrived = wait_for(
            lambda o=order_id: api.get(f"/orders/{o}").status_code == 200, ARRIVAL_TIMEOUT, 0.5
        )
        assert arrived, f"the {role} order {order_id} did not arrive through the queue in {ARRIVAL_TIMEOUT}s"
    try:
        yield day
    finally:
        api.session.close()


def _is_pdf(data: bytes, tmp_path: Path, name: str) -> PdfReader:
    """A valid PDF: the magic number, pages pypdf opens, and a first page that renders to a non-blank PNG."""
    assert data.startswith(b"%PDF"), data[:40]
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(data)
    rendered = subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(source), str(tmp_path / name)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    (png,) = tmp_path.glob(f"{name}*.png")
    assert _inked(png), f"page 1 of {name}.pdf renders blank"
    return reader


def _inked(png: Path) -> bool:
    """Whether a rendered page has dark pixels (pdftoppm draws on white)."""
    with Image.open(png) as image:
        darkest, _ = image.convert("L").getextrema()
    return darkest < 128


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _text(reader: PdfReader) -> str:
    return "".join(page.extract_text() or "" for page in reader.pages)


# ------------------------------------------------------------------------------ the day


def test_orders_shipped_with_tracking_bought_elsewhere_are_confirmed(day: Day) -> None:
    for role, carrier, tracking in (
        ("shipped_in_time", "USPS", USPS_TRACKING),
        ("shipped_late", "UPS", UPS_TRACKING),
    ):
        answer = day.api.request(
            "POST",
            f"/orders/{day.orders[role]}/shipments",
            json={"carrier": carrier, "trackingNumber": tracking},
        )
        assert answer.status_code == 201, answer.text
        day.shipments[role] = answer.json()["shipment"]
        assert day.shipments[role]["confirmation"]["status"] == "confirmed"
        assert answer.json()["order"]["status"] == "Shipped"
    in_time = day.order("shipped_in_time")
    assert _at(in_time["shipments"][0]["shipDate"]) <= _at(in_time["latestShipDate"]), (
        f"the stack was too slow: the order due {IN_TIME_SECONDS}s after it was placed shipped after that"
    )
    stock = day.stock(OTHER_SKU)
    assert stock["onHand"] == RECEIVED - 2  # the two shipped units, once each


def test_an_mfn_order_arrives_and_its_batch_has_a_valid_pick_list_and_packing_slip(
    day: Day, tmp_path: Path
) -> None:
    order = day.order("packed")
    assert order["status"] == "Unshipped" and order["fulfillmentChannel"] == "MFN"
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [(SKU, 2)]
    assert day.stock(SKU)["onHand"] == RECEIVED and day.stock(SKU)["reserved"] == 2

    answer = day.api.request("POST", "/batches", json={"orderIds": [day.orders["packed"]]})

    assert answer.status_code == 201, answer.text
    batch = answer.json()
    assert batch["orderIds"] == [day.orders["packed"]]
    assert [(line["sku"], line["units"], line["orderIds"]) for line in batch["lines"]] == [
        (SKU, 2, [day.orders["packed"]])
    ]
    pick_list = _is_pdf(day.download(batch["pickListUrl"]), tmp_path, "pick-list")
    assert SKU in _text(pick_list)
    slips = _is_pdf(day.download(batch["packingSlipsUrl"]), tmp_path, "packing-slips")
    assert day.orders["packed"] in _text(slips) and SKU in _text(slips)


def test_a_label_bought_through_amazon_ships_the_order_and_amazon_shows_it_shipped(
    day: Day, tmp_path: Path
) -> None:
    order_id = day.orders["packed"]

    answer = day.api.request("POST", f"/orders/{order_id}/shipments", json={"buyLabel": True})

    assert answer.status_code == 201, answer.text
    shipment, order = answer.json()["shipment"], answer.json()["order"]
    day.shipments["packed"] = shipment
    assert shipment["source"] == "buyShipping"
    assert shipment["confirmation"]["status"] == "confirmed", shipment["confirmation"]
    assert shipment["trackingNumber"] and shipment["carrier"]
    assert order["status"] == "Shipped"
    label = _is_pdf(day.download(shipment["labelUrl"]), tmp_path, "label")
    assert shipment["trackingNumber"] in _text(label)

    seen = day.simulator(f"/orders/{order_id}")
    assert seen["order"]["fulfillment"]["fulfillmentStatus"] == "SHIPPED", seen["order"]
    assert [p["trackingNumber"] for p in seen["order"].get("packages", [])] == [shipment["trackingNumber"]]
    assert [bought["trackingId"] for bought in seen["labels"]] == [shipment["trackingNumber"]], seen["labels"]

    stock = day.stock(SKU)
    assert (stock["onHand"], stock["reserved"]) == (RECEIVED - 2, 0)


def test_amazons_shipped_notification_does_not_take_the_units_off_the_shelf_again(day: Day) -> None:
    # The confirmation makes the marketplace announce the order Shipped (twice): wait until intake has seen it.
    ingest_log = day.stack.state_dir / "logs" / "ingest_notifications.log"
    order_id = day.orders["packed"]

    def shipped_notification_seen() -> bool:
        if not ingest_log.exists():
            return False
        for line in ingest_log.read_text(errors="replace").splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("orderId") == order_id and entry.get("status") == "Shipped":
                return True
        return False

    assert wait_for(shipped_notification_seen, ARRIVAL_TIMEOUT, 0.5), (
        f"intake never applied the Shipped notification of {order_id}:\n{harness.tail(ingest_log)}"
    )
    sqs = harness.aws_client(day.stack.outputs, "sqs")
    queue = day.stack.outputs["OrderNotificationsQueueUrl"]
    assert wait_for(lambda: harness.queue_depth(sqs, queue) == 0, ARRIVAL_TIMEOUT, 0.5), (
        "the queue did not drain"
    )
    wait_for(lambda: False, 2, 1)  # the duplicate's turn

    stock = day.stock(SKU)
    assert (stock["onHand"], stock["reserved"]) == (RECEIVED - 2, 0)
    assert day.order("packed")["status"] == "Shipped"
    ledger = day.api.get(f"/inventory/{quote(SKU, safe='')}/ledger")
    assert ledger.status_code == 200, ledger.text
    moved = [
        (entry["reason"], entry["delta"])
        for entry in ledger.json()["items"]
        if entry["reference"] == order_id and entry["delta"]
    ]
    assert moved == [("shipment", -2)], ledger.json()


def test_a_seller_canceled_order_is_canceled(day: Day) -> None:
    day.simulator(f"/orders/{day.orders['canceled']}/cancel", "POST", {"buyerRequested": False})
    assert wait_for(lambda: day.order("canceled")["status"] == "Canceled", ARRIVAL_TIMEOUT, 0.5)
    assert day.stock(OTHER_SKU)["reserved"] == 1  # only the overdue order still holds a unit
    assert day.stock(OTHER_SKU)["onHand"] == RECEIVED - 2


def test_the_guard_flags_an_order_near_its_latest_ship_date(day: Day) -> None:
    order_id = day.orders["overdue"]
    # Intake weighs every order as it arrives, so this one came flagged already. Clear the flags as they
    # were while it still had time, so that what the guard run below finds is its own doing.
    dynamodb = harness.aws_client(day.stack.outputs, "dynamodb")
    dynamodb.update_item(
        TableName=day.stack.outputs["TableName"],
        Key={k: {"S": v} for k, v in keys.order_key(order_id).items()},
        UpdateExpression="SET flags = :none",
        ExpressionAttributeValues={":none": {"L": []}},
    )
    assert day.order("overdue")["flags"] == []

    result = oms("invoke", "ShipGuardFunction", *day.where)

    assert result.returncode == 0, result.stdout + result.stderr
    counts = json.loads(result.stdout)
    assert (counts["checked"], counts["flagged"]) == (1, 1), counts  # the one order still awaiting shipment
    flags = day.order("overdue")["flags"]
    assert "atRisk" in flags and "late" in flags, flags


def _hand_count(orders: list[dict[str, Any]], now: datetime) -> dict[str, tuple[int, int]]:
    """Amazon's definitions (oms/shipping/account_health.py's docstring), counted by hand: name -> (numerator, denominator)."""

    def at(text: str | None) -> datetime | None:
        return _at(text) if text else None

    counts = {name: [0, 0] for name in ("lsr10", "lsr30", "cancel", "tracking", "delivery")}
    for order in orders:
        shipped = min((at(s["shipDate"]) for s in order["shipments"]), default=None)
        canceled = order["status"] == "Canceled"
        lsd = at(order.get("latestShipDate"))
        for name, days in (("lsr10", 10), ("lsr30", 30)):
            if lsd and now - timedelta(days=days) <= lsd <= now and not canceled:
                counts[name][1] += 1
                counts[name][0] += (shipped is not None and shipped > lsd) or shipped is None
        if now - timedelta(days=7) <= at(order["purchaseDate"]) <= now:
            counts["cancel"][1] += 1
            counts["cancel"][0] += (
                canceled and shipped is None and "buyerRequestedCancel" not in order["flags"]
            )
        if shipped and now - timedelta(days=30) <= shipped <= now:
            counts["tracking"][1] += 1
            counts["tracking"][0] += bool(order["shipments"]) and all(
                s["trackingNumber"] for s in order["shipments"]
            )
        ldd = at(order.get("latestDeliveryDate"))
        if ldd and now - timedelta(days=14) <= ldd <= now and shipped:
            counts["delivery"][1] += 1  # none of today's orders is due for delivery yet
    return {name: (hit, total) for name, (hit, total) in counts.items()}


def test_account_health_matches_a_hand_count_of_the_same_orders(day: Day) -> None:
    due = _at(day.order("shipped_in_time")["latestShipDate"])
    wait = (due - datetime.now(UTC)).total_seconds() + 1
    if wait > 0:  # its latest ship date must have passed for it to count
        wait_for(lambda: False, wait, min(wait, 1))

    answer = day.api.get("/metrics/account-health")

    assert answer.status_code == 200, answer.text
    health = answer.json()
    now = _at(health["asOf"])
    orders = [day.order(role) for role in day.orders]
    by_hand = _hand_count(orders, now)
    served = {
        "lsr10": health["lateShipmentRate"],
        "lsr30": health["lateShipmentRate30d"],
        "cancel": health["preFulfillmentCancelRate"],
        "tracking": health["validTrackingRate"],
        "delivery": health["onTimeDeliveryRate"],
    }
    assert {name: (m["numerator"], m["denominator"]) for name, m in served.items()} == by_hand
    # What the day's orders make of it: overdue and shipped_late late, shipped_in_time on time;
    # the seller's cancel counts; three orders shipped, all tracked; nothing due for delivery yet.
    assert by_hand == {
        "lsr10": (2, 3),
        "lsr30": (2, 3),
        "cancel": (1, 5),
        "tracking": (3, 3),
        "delivery": (0, 0),
    }
    for name, metric in served.items():
        hit, total = by_hand[name]
        expected = round(hit / total, 4) if total else None
        assert metric["value"] == expected, (name, metric)
    # The projections: if what is flagged ships late, the overdue order, due for delivery later, arrives late.
    projected = {name: m["projected"] for name, m in served.items()}
    assert projected == {
        "lsr10": round(2 / 3, 4),
        "lsr30": round(2 / 3, 4),
        "cancel": round(1 / 5, 4),
        "tracking": 1.0,
        "delivery": 0.0,
    }
    assert served["delivery"]["meetsTarget"] is None
    assert served["lsr10"]["meetsTarget"] is False and served["tracking"]["meetsTarget"] is True


def _pickup_day(shipped_at: str, carrier: str) -> date:
    """The warehouse day of the carrier pickup a package leaves with (its end-of-day form's day)."""
    setup = ShippingSettings.model_validate(WAREHOUSE)
    calendar = setup.calendar
    return calendar.local(setup.pickup(carrier).next_pickup(calendar, _at(shipped_at))).date()


def test_the_end_of_day_form_lists_the_days_packages(day: Day) -> None:
    label = day.shipments["packed"]
    carrier = label["carrier"]
    shipped_on = _pickup_day(label["shipDate"], carrier)
    expected = sorted(
        (day.orders[role], s["trackingNumber"])
        for role, s in day.shipments.items()
        if s["carrier"] == carrier and _pickup_day(s["shipDate"], carrier) == shipped_on
    )

    answer = day.api.get(
        "/reports/end-of-day", params={"carrier": carrier, "format": "json", "date": shipped_on.isoformat()}
    )

    assert answer.status_code == 200, answer.text
    form = answer.json()
    assert form["carrier"] == carrier and form["date"] == shipped_on.isoformat()
    assert sorted((p["orderId"], p["trackingNumber"]) for p in form["packages"]) == expected
    assert form["packageCount"] == len(expected)

    as_csv = day.api.get(
        "/reports/end-of-day", params={"carrier": carrier, "format": "csv", "date": shipped_on.isoformat()}
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted((row["order-id"], row["tracking-number"]) for row in rows) == expected, as_csv.text
