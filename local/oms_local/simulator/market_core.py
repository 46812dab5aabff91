"""The local marketplace's state and plumbing, shared by the modules of its Amazon APIs.

One seller's orders, listings and FBA stock, thread-safe and in memory. All state sits behind one lock;
notifications are built under it (so each one shows the order as it was at that change) and delivered
after it is released (delivery may block on SQS). Each Amazon API the simulator answers is a module of
its own (orders_api, merchant_fulfillment_api, messaging_api, fba_inventory_api, listings_api,
catalog_items_api; Amazon's own moves in order_lifecycle) whose class extends MarketCore;
marketplace.Marketplace composes them.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from oms_local.simulator import shapes
from oms_local.simulator.catalogue import Catalogue, Product, load_catalogue
from oms_local.simulator.config import SimulatorConfig
from oms_local.simulator.entities import FbaStock, Listing, Order
from oms_local.simulator.notifications import Courier, Notify
from oms_local.simulator.scheduler import Clock, Scheduler, utc_now

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
SEARCH_TOKEN_LIFETIME = timedelta(hours=24)

STATUS_CHANGE = "OrderStatusChange"


class ApiError(Exception):
    """An SP-API error answer: HTTP status and Amazon's {"errors": [{"code", "message", "details"}]}."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" ({details})" if details else ""))
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"errors": [error]}


def invalid(message: str, details: str | None = None) -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


def _maybe_iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _read_token(
    token: str, name: str, fingerprint: str, lifetime: timedelta, now: datetime
) -> dict[str, Any]:
    """A pagination token this marketplace issued for the same parameters, not yet expired."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        issued = datetime.fromisoformat(str(data["t"]))
        belongs = data["f"] == fingerprint
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise invalid(f"Invalid {name}.") from None
    if not belongs:
        raise invalid(f"{name} does not belong to these request parameters.")
    if issued.tzinfo is None or now - issued > lifetime:
        raise invalid(f"{name} has expired.")
    return dict(data)


class MarketCore:
    """What every API of the marketplace reads and changes: its orders, listings and FBA stock."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        catalogue: Catalogue | None = None,
        notify: Notify | None = None,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.catalogue = catalogue or load_catalogue(self.config.dataset, self.config.max_rows)
        self.image_base = ""  # the simulator server's URL, set when it starts serving
        self.rng = rng or random.Random(self.config.seed)  # noqa: S311 - simulation, not security
        self.clock = clock
        self.log = log
        self.scheduler = Scheduler(clock, on_error=log)
        self.courier = Courier(notify, self.scheduler, self.config, random.Random(self.rng.random()), log)  # noqa: S311
        self.application_id = f"amzn1.sellerapps.app.{self._uuid()}"
        self.subscription_id = self._uuid()
        self.orders: dict[str, Order] = {}
        self.listings: dict[str, Listing] = {}
        self.fba: dict[str, FbaStock] = {}
        self._item_ids: set[str] = set()
        self._lock = threading.RLock()
        now = clock()
        for product in self.catalogue.products.values():
            self._list(product, now)

    # ------------------------------------------------------------------ plumbing

    @property
    def seller_id(self) -> str:
        return self.config.seller_id

    @property
    def marketplace_id(self) -> str:
        return self.config.marketplace_id

    @property
    def notify(self) -> Notify | None:
        return self.courier.notify

    @notify.setter
    def notify(self, notify: Notify | None) -> None:
        self.courier.notify = notify

    def start(self) -> None:
        """Start the marketplace's clock (deferred steps and late notifications)."""
        self.scheduler.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.scheduler.stop(timeout)

    def run_due(self) -> int:
        return self.scheduler.run_due()

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _later(self, bounds: tuple[float, float], task: Callable[[], None]) -> None:
        self.scheduler.after(self.rng.uniform(*bounds), task)

    def _publish(self, outbox: Iterable[dict[str, Any]]) -> None:
        for document in outbox:
            self.courier.publish(document)

    def _notice(self, order: Order, change_type: str, reason: str) -> dict[str, Any]:
        # An order's changes happen one after another at Amazon, each at a later EventTime. A clock that
        # moves in steps (a bench's simulated second) can make two at one instant, whose random PublishTimes
        # would then order them backwards: the second is a millisecond later.
        if order.noticed is not None and order.updated <= order.noticed:
            order.updated = order.noticed + timedelta(milliseconds=1)
        order.noticed = order.updated
        return shapes.order_change(
            order,
            change_type=change_type,
            reason=reason,
            when=order.updated,
            published=order.updated + timedelta(milliseconds=self.rng.randint(30, 1200)),
            seller_id=self.seller_id,
            marketplace_id=self.marketplace_id,
            application_id=self.application_id,
            subscription_id=self.subscription_id,
            notification_id=self._uuid(),
        )

    def _list(self, product: Product, now: datetime) -> Listing:
        listing = self.listings.get(product.sku)
        if listing is None:
            rng = self._opening(product.sku)
            listing = Listing(product, quantity=rng.randint(10, 120), created=now, updated=now)
            self.listings[product.sku] = listing
            if product.fba:
                self.fba[product.sku] = FbaStock(
                    product,
                    fulfillable=rng.randint(20, 300),
                    inbound_shipped=rng.choice((0, 0, 0, 24, 48)),
                    reserved_processing=rng.choice((0, 0, 1, 2)),
                    unfulfillable=rng.choice((0, 0, 0, 1)),
                    updated=now,
                )
        return listing

    def _opening(self, sku: str) -> random.Random:
        """The draws of a SKU's opening listing and FBA stock. Seeded, from the seed and the SKU alone: a SKU
        first listed when an order for it comes opens the same however much else happened before (the fault
        drill's two runs of one seed differ in everything the faults made happen twice)."""
        if self.config.seed is None:
            return self.rng
        return random.Random(f"{self.config.seed}:opening:{sku}")  # noqa: S311 - simulation, not security

    def _order(self, order_id: str) -> Order:
        if not ORDER_ID.match(order_id):
            raise invalid("Invalid Input", f"{order_id!r} is not an Amazon order id (3-7-7 digits).")
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, "NotFound", f"Order {order_id} was not found.")
        return order

    def _seller(self, seller_id: str) -> None:
        if seller_id != self.seller_id:
            raise ApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                f"Unknown sellerId {seller_id}.",
            )

    def image_link(self, product: Product) -> str:
        """Where the product's main image is served (the simulator's own HTTP server)."""
        return f"{self.image_base}/_simulator/images/{product.asin}.svg"

    # ------------------------------------------------------------------ views

    def order_counts(self) -> dict[str, Any]:
        with self._lock:
            by_status: dict[str, int] = {}
            for order in self.orders.values():
                by_status[order.status] = by_status.get(order.status, 0) + 1
            return {
                "total": len(self.orders),
                "afn": sum(o.afn for o in self.orders.values()),
                "prime": sum(o.prime for o in self.orders.values()),
                "byStatus": by_status,
            }

    def snapshot(self, order_id: str) -> Order:
        """The order record itself (tests and the buyer thread; do not change it)."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise KeyError(order_id)
            return order

    def seller_activity(self, order_id: str) -> dict[str, Any]:
        """The labels bought and the messages sent for an order (the control view; not an SP-API shape)."""
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise ApiError(404, "NotFound", f"Order {order_id} was not found.")
            return {
                "labels": [
                    {
                        "shipmentId": label.shipment_id,
                        "trackingId": label.tracking_id,
                        "carrierCode": label.carrier_code,
                        "carrierName": label.carrier_name,
                        "serviceId": label.service_id,
                        "serviceName": label.service_name,
                        "rate": shapes.money(label.rate),
                        "shipDate": shapes.iso(label.ship_date),
                        "latestDeliveryDate": shapes.iso(label.latest_delivery),
                        "createdTime": shapes.iso(label.created),
                        "items": [{"orderItemId": i, "quantity": n} for i, n in label.items],
                        "fileType": label.file_type,
                        "sizeBytes": label.size_bytes,
                    }
                    for label in order.labels
                ],
                "messages": [
                    {"type": message.kind, "text": message.text, "sentTime": shapes.iso(message.sent)}
                    for message in order.messages
                ],
            }
