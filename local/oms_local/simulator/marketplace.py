"""The local marketplace: one seller's orders, listings and FBA stock, thread-safe and in memory.

It plays Amazon's side of the seller's day: orders are placed (by the buyer thread or the control
endpoint), Amazon moves them on by itself (payment authorised: Pending -> Unshipped; pre-orders
released; FBA orders shipped by Amazon; a buyer's cancel request accepted), the seller confirms
shipments and pushes quantities through the SP-API operations, and every status change is
announced with an ORDER_CHANGE notification handed to `notify`.

All state sits behind one lock; notifications are built under it (so each one shows the order as
it was at that change) and delivered after it is released (delivery may block on SQS).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from oms_local.simulator import contract, shapes, shipping
from oms_local.simulator.catalogue import Catalogue, Product, load_catalogue
from oms_local.simulator.config import CURRENCY, SimulatorConfig
from oms_local.simulator.entities import (
    CANCELED,
    FULFILLMENT_STATUS,
    OPEN,
    PARTIALLY_SHIPPED,
    PENDING,
    PENDING_AVAILABILITY,
    SHIPPED,
    UNSHIPPED,
    Address,
    Buyer,
    BuyerMessage,
    FbaStock,
    Line,
    Listing,
    Order,
    Package,
    ShippingLabel,
)
from oms_local.simulator.notifications import Courier, Notify
from oms_local.simulator.scheduler import Clock, Scheduler, utc_now

ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
SEARCH_TOKEN_LIFETIME = timedelta(hours=24)
INVENTORY_TOKEN_LIFETIME = timedelta(seconds=30)
INVENTORY_PAGE_SIZE = 50

STATUS_CHANGE = "OrderStatusChange"
BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"
BUYER_CANCEL_REASON = "Buyer Requested Cancel"
UNEXPECTED_PROBLEM = "unexpectedProblem"  # the messaging action for a delay or other problem

_TRANSIT_DAYS = {
    "NEXT_DAY": (1, 1),
    "SECOND_DAY": (1, 2),
    "EXPEDITED": (2, 3),
    "STANDARD": (3, 5),
    "FREE_ECONOMY": (5, 8),
}
_FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
          "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Mei")  # fmt: skip
_LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
         "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Nguyen", "Kim")  # fmt: skip
_PLACES = (
    ("Seattle", "WA", "98101", "206"), ("Portland", "OR", "97205", "503"), ("Austin", "TX", "78701", "512"),
    ("Denver", "CO", "80202", "303"), ("Chicago", "IL", "60601", "312"), ("Columbus", "OH", "43215", "614"),
    ("Atlanta", "GA", "30303", "404"), ("Brooklyn", "NY", "11201", "718"), ("Boston", "MA", "02108", "617"),
    ("Phoenix", "AZ", "85004", "602"), ("Ann Arbor", "MI", "48104", "734"), ("Raleigh", "NC", "27601", "919"),
)  # fmt: skip
_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Ave", "Lake Rd")


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


@dataclass(frozen=True)
class Confirmation:
    """A confirmShipment request body, checked as Amazon checks it."""

    marketplace_id: str
    reference: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    ship_date: datetime
    items: list[tuple[str, int]]

    @classmethod
    def read(cls, request: Any) -> Confirmation:
        problems = contract.request_body_problems("confirmShipment", request)
        if problems:
            raise invalid("Invalid Input", "; ".join(problems[:3]))
        try:
            detail = request["packageDetail"]
            confirmation = cls(
                marketplace_id=str(request["marketplaceId"]),
                reference=str(detail["packageReferenceId"]),
                carrier_code=str(detail["carrierCode"]),
                carrier_name=detail.get("carrierName"),
                shipping_method=detail.get("shippingMethod"),
                tracking_number=str(detail["trackingNumber"]),
                ship_date=datetime.fromisoformat(str(detail["shipDate"])),
                items=[(str(item["orderItemId"]), int(item["quantity"])) for item in detail["orderItems"]],
            )
        except (KeyError, TypeError, ValueError, AttributeError):  # without the models to check against
            raise invalid("Invalid Input", "The body does not match ConfirmShipmentRequest.") from None
        if not confirmation.reference.isdigit() or int(confirmation.reference) <= 0:
            raise invalid("Invalid Input", "packageReferenceId must be a positive number.")
        if confirmation.carrier_code == "Other" and not confirmation.carrier_name:
            raise invalid("Invalid Input", 'carrierName is required when carrierCode is "Other".')
        if confirmation.ship_date.tzinfo is None:
            return replace(confirmation, ship_date=confirmation.ship_date.replace(tzinfo=UTC))
        return confirmation


class Wanted(NamedTuple):
    """One line a buyer wants: SKU, units and (optionally) the unit price paid."""

    sku: str
    quantity: int
    price: Decimal | None = None


@dataclass
class OrderSearch:
    """searchOrders' parameters, parsed (see server.py); exactly one of the "after" bounds is set."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    statuses: set[str] = field(default_factory=set)  # FulfillmentStatus values
    fulfilled_by: set[str] = field(default_factory=set)  # MERCHANT, AMAZON
    marketplace_ids: set[str] = field(default_factory=set)
    max_results: int = 100
    pagination_token: str | None = None
    included: frozenset[str] = frozenset()

    def fingerprint(self) -> str:
        """The parameters a paginationToken is bound to (all but maxResultsPerPage and includedData)."""
        key = [
            _maybe_iso(self.created_after),
            _maybe_iso(self.created_before),
            _maybe_iso(self.updated_after),
            _maybe_iso(self.updated_before),
            sorted(self.statuses),
            sorted(self.fulfilled_by),
            sorted(self.marketplace_ids),
        ]
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]


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


def _business_days_after(day: date, days: int) -> date:
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


class Marketplace:
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

    def stop(self) -> None:
        self.scheduler.stop()

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
            listing = Listing(product, quantity=self.rng.randint(10, 120), created=now, updated=now)
            self.listings[product.sku] = listing
            if product.fba:
                self.fba[product.sku] = FbaStock(
                    product,
                    fulfillable=self.rng.randint(20, 300),
                    inbound_shipped=self.rng.choice((0, 0, 0, 24, 48)),
                    reserved_processing=self.rng.choice((0, 0, 1, 2)),
                    unfulfillable=self.rng.choice((0, 0, 0, 1)),
                    updated=now,
                )
        return listing

    # ------------------------------------------------------------------ placing orders

    def new_order_id(self) -> str:
        while True:
            order_id = (
                f"{self.rng.choice(('111', '112', '113', '114'))}-"
                f"{self.rng.randrange(10**7):07d}-{self.rng.randrange(10**7):07d}"
            )
            if order_id not in self.orders:
                return order_id

    def _new_item_id(self) -> str:
        while True:
            item_id = str(self.rng.randrange(10**13, 10**14))
            if item_id not in self._item_ids:
                self._item_ids.add(item_id)
                return item_id

    def _windows(
        self, created: datetime, *, afn: bool, prime: bool, level: str, ship_by: datetime | None
    ) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
        if ship_by is None:
            handling = 1 if (prime or afn) else self.rng.choice((1, 2, 2, 2, 3))
            ship_by = _end_of(_business_days_after(created.date(), handling))
        ship_from = min(created, ship_by)
        fastest, slowest = _TRANSIT_DAYS.get(level, (3, 5))
        day = ship_by.date()
        deliver_from = datetime.combine(day + timedelta(days=fastest), time(0, 0), UTC)
        return (ship_from, ship_by), (deliver_from, _end_of(day + timedelta(days=slowest)))

    def _buyer(self, business: bool) -> tuple[Buyer, Address]:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        city, state, postal, area = self.rng.choice(_PLACES)
        company = (
            f"{last} {self.rng.choice(('Supply', 'Studio', 'Trading', 'Design'))} LLC" if business else None
        )
        handle = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(14))
        buyer = Buyer(name=f"{first} {last}", email=f"{handle}@marketplace.amazon.com", company=company)
        address = Address(
            name=f"{first} {last}",
            line1=f"{self.rng.randint(10, 9999)} {self.rng.choice(_STREETS)}",
            line2=self.rng.choice((None, None, None, f"Apt {self.rng.randint(1, 40)}")),
            city=city,
            state=state,
            postal_code=postal,
            phone=f"+1 {area}-555-{self.rng.randint(100, 199):04d}",
            company=company,
            address_type="COMMERCIAL" if business else "RESIDENTIAL",
        )
        return buyer, address

    def place_order(
        self,
        items: Sequence[Wanted | tuple[str, int]],
        *,
        afn: bool = False,
        prime: bool = False,
        business: bool = False,
        status: str = UNSHIPPED,
        ship_by: datetime | None = None,
        service_level: str | None = None,
    ) -> str:
        """Place an order (as a buyer would) and announce it; returns its orderId.

        `status` is where it starts: Unshipped (paid at once), Pending (payment authorisation
        follows after a while) or PendingAvailability (a pre-order, released later).
        """
        wanted = [Wanted(*item) for item in items]
        if not wanted:
            raise ValueError("an order needs at least one item")
        if status not in (UNSHIPPED, PENDING, PENDING_AVAILABILITY):
            raise ValueError(f"an order starts Unshipped, Pending or PendingAvailability, not {status!r}")
        for want in wanted:
            if not want.sku or want.quantity < 1:
                raise ValueError(f"bad item {want!r}: a SKU and a quantity of at least 1")
        with self._lock:
            now = self.clock()
            level = service_level or ("SECOND_DAY" if prime else "STANDARD")
            ship_window, delivery_window = self._windows(
                now, afn=afn, prime=prime, level=level, ship_by=ship_by
            )
            buyer, address = self._buyer(business)
            lines = []
            for want in wanted:
                product = self.catalogue.ensure(want.sku, price=want.price)
                self._list(product, now)
                lines.append(Line(self._new_item_id(), product, want.quantity, want.price or product.price))
            order = Order(
                order_id=self.new_order_id(),
                created=now,
                updated=now,
                status=status,
                afn=afn,
                prime=prime,
                business=business,
                preorder=status == PENDING_AVAILABILITY,
                service_level=level,
                ship_window=ship_window,
                delivery_window=delivery_window,
                buyer=buyer,
                address=address,
                lines=lines,
            )
            self.orders[order.order_id] = order
            if afn:
                self._reserve_fba(order, now)
            outbox = [self._notice(order, STATUS_CHANGE, "New Order")]
            self._plan(order)
        self._publish(outbox)
        return order.order_id

    def _plan(self, order: Order) -> None:
        """Schedule what Amazon does next with an order by itself."""
        order_id = order.order_id
        if order.status == PENDING_AVAILABILITY:
            self._later(self.config.preorder_seconds, lambda: self._advance(order_id, PENDING_AVAILABILITY))
        elif order.status == PENDING:
            self._later(self.config.pending_seconds, lambda: self._advance(order_id, PENDING))
        elif order.status == UNSHIPPED and order.afn:
            self._later(self.config.afn_ship_seconds, lambda: self._ship_afn(order_id))

    def _advance(self, order_id: str, expected: str) -> None:
        with self._lock:
            order = self.orders[order_id]
            if order.status != expected:
                return  # canceled meanwhile
            order.status = PENDING if expected == PENDING_AVAILABILITY else UNSHIPPED
            order.updated = self.clock()
            reason = "Preorder Released" if expected == PENDING_AVAILABILITY else "Payment Authorized"
            outbox = [self._notice(order, STATUS_CHANGE, reason)]
            self._plan(order)
        self._publish(outbox)

    def _reserve_fba(self, order: Order, now: datetime) -> None:
        for line in order.lines:
            stock = self.fba.get(line.product.sku)
            if stock is None:
                stock = self.fba[line.product.sku] = FbaStock(line.product, fulfillable=0)
            if stock.fulfillable < line.quantity:  # an inbound shipment is received just in time
                stock.fulfillable += line.quantity + self.rng.randint(24, 96)
            stock.fulfillable -= line.quantity
            stock.reserved_orders += line.quantity
            stock.updated = now

    def _ship_afn(self, order_id: str) -> None:
        with self._lock:
            order = self.orders[order_id]
            if order.status != UNSHIPPED:
                return
            now = self.clock()
            for line in order.lines:
                stock = self.fba.get(line.product.sku)
                if stock is not None:
                    stock.reserved_orders = max(0, stock.reserved_orders - line.unshipped)
                    stock.updated = now
                line.shipped = line.quantity
            order.status = SHIPPED
            order.updated = now
            outbox = [self._notice(order, STATUS_CHANGE, "Order Shipped")]
        self._publish(outbox)

    # ------------------------------------------------------------------ cancellations

    def cancel_order(self, order_id: str, *, buyer_requested: bool, reason: str | None = None) -> str:
        """Cancel an order, or (a buyer asking about an MFN order that is Unshipped) request it.

        A buyer's request on a seller-fulfilled, paid order is announced as BuyerRequestedChange
        with IsBuyerRequestedCancel, and the seller accepts it a few seconds later unless the
        order has shipped by then. Anything else is canceled at once. Returns the status after.
        """
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise ApiError(404, "NotFound", f"Order {order_id} was not found.")
            if order.status not in OPEN or order.units_shipped:
                raise ApiError(
                    409, "Conflict", f"Order {order_id} is {order.status}; it can no longer be canceled."
                )
            now = self.clock()
            if buyer_requested:
                for line in order.lines:
                    line.cancel_requested = True
                    line.cancel_reason = reason or "Order placed by mistake"
                if order.status == UNSHIPPED and not order.afn:
                    order.updated = now
                    outbox = [self._notice(order, BUYER_REQUESTED_CHANGE, BUYER_CANCEL_REASON)]
                    self._later(
                        self.config.buyer_cancel_accept_seconds, lambda: self._accept_cancel(order_id)
                    )
                else:
                    outbox = [self._cancel(order, "BUYER", BUYER_REQUESTED_CHANGE, BUYER_CANCEL_REASON, now)]
            else:
                by = "AMAZON" if order.afn or order.status in (PENDING, PENDING_AVAILABILITY) else "MERCHANT"
                outbox = [self._cancel(order, by, STATUS_CHANGE, reason or "Order Canceled", now)]
            status = order.status
        self._publish(outbox)
        return status

    def _accept_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self.orders[order_id]
            if order.status not in OPEN or order.units_shipped:
                return  # shipped before the seller saw the request
            outbox = [self._cancel(order, "MERCHANT", STATUS_CHANGE, BUYER_CANCEL_REASON, self.clock())]
        self._publish(outbox)

    def _cancel(self, order: Order, by: str, change_type: str, reason: str, now: datetime) -> dict[str, Any]:
        if order.afn:
            for line in order.lines:
                stock = self.fba.get(line.product.sku)
                if stock is not None:
                    stock.reserved_orders = max(0, stock.reserved_orders - line.unshipped)
                    stock.fulfillable += line.unshipped
                    stock.updated = now
        for line in order.lines:
            line.canceled_by = by
            line.cancel_reason = line.cancel_reason or reason
        order.status = CANCELED
        order.updated = now
        return self._notice(order, change_type, reason)

    # ------------------------------------------------------------------ Orders API

    def _order(self, order_id: str) -> Order:
        if not ORDER_ID.match(order_id):
            raise invalid("Invalid Input", f"{order_id!r} is not an Amazon order id (3-7-7 digits).")
        order = self.orders.get(order_id)
        if order is None:
            raise ApiError(404, "NotFound", f"Order {order_id} was not found.")
        return order

    def get_order(self, order_id: str, included: Iterable[str] = shapes.INCLUDED_DATA) -> dict[str, Any]:
        """getOrder's body: {"order": Order} (all includedData unless told otherwise)."""
        with self._lock:
            return {
                "order": shapes.order_json(self._order(order_id), self.marketplace_id, frozenset(included))
            }

    def search_orders(self, search: OrderSearch) -> dict[str, Any]:
        """searchOrders' body: a page of orders in time order, with a nextToken while more follow."""
        with self._lock:
            now = self.clock()
            newest = now - timedelta(seconds=self.config.search_lag_seconds)
            by_creation = search.created_after is not None
            after = search.created_after if by_creation else search.updated_after
            before = search.created_before if by_creation else search.updated_before
            if after is None:
                raise invalid("Exactly one of createdAfter and lastUpdatedAfter must be given.")
            if before is not None:
                if before < after:
                    raise invalid("The before date must not be earlier than the after date.")
                if before > newest:
                    raise invalid(
                        "The before date must be at least "
                        f"{self.config.search_lag_seconds:g} seconds before the time of the request."
                    )
            cursor: tuple[str, str] | None = None
            issued = now
            if search.pagination_token:
                token = _read_token(
                    search.pagination_token,
                    "paginationToken",
                    search.fingerprint(),
                    SEARCH_TOKEN_LIFETIME,
                    now,
                )
                try:
                    issued = datetime.fromisoformat(str(token["t"]))
                    before = datetime.fromisoformat(str(token["b"]))
                    cursor = (str(token["k"][0]), str(token["k"][1]))
                except (KeyError, IndexError, TypeError, ValueError):
                    raise invalid("Invalid paginationToken.") from None
            if before is None:
                before = newest

            def key(order: Order) -> tuple[str, str]:
                moment = order.created if by_creation else order.updated
                return (moment.strftime("%Y-%m-%dT%H:%M:%S.%f"), order.order_id)

            wanted_marketplace = not search.marketplace_ids or self.marketplace_id in search.marketplace_ids
            matches = sorted(
                (
                    order
                    for order in self.orders.values()
                    if wanted_marketplace
                    and after <= (order.created if by_creation else order.updated) <= before
                    and (not search.statuses or FULFILLMENT_STATUS[order.status] in search.statuses)
                    and (
                        not search.fulfilled_by
                        or ("AMAZON" if order.afn else "MERCHANT") in search.fulfilled_by
                    )
                    and (cursor is None or key(order) > cursor)
                ),
                key=key,
            )
            page = matches[: search.max_results]
            body: dict[str, Any] = {
                "orders": [shapes.order_json(o, self.marketplace_id, search.included) for o in page]
            }
            if len(matches) > len(page):
                body["pagination"] = {
                    "nextToken": _encode_token(
                        {
                            "k": list(key(page[-1])),
                            "b": before.isoformat(),
                            "f": search.fingerprint(),
                            "t": issued.isoformat(),
                        }
                    )
                }
            body["createdBefore" if by_creation else "lastUpdatedBefore"] = shapes.iso(before)
            return body

    def confirm_shipment(self, order_id: str, request: Any) -> None:
        """confirmShipment: record the package; the order ships when all its units have."""
        confirmation = Confirmation.read(request)
        with self._lock:
            order = self._order(order_id)
            if confirmation.marketplace_id != self.marketplace_id:
                raise invalid(
                    "Invalid Input", f"Order {order_id} belongs to marketplace {self.marketplace_id}."
                )
            if order.afn:
                raise invalid("Invalid Input", "Shipments of Amazon-fulfilled orders cannot be confirmed.")
            if order.status not in (UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED):
                raise invalid("Invalid Input", f"Order {order_id} is {order.status} and cannot be shipped.")
            units: dict[str, int] = {}
            for item_id, quantity in confirmation.items:
                line = order.line(item_id)
                if line is None:
                    raise invalid("Invalid Input", f"Order {order_id} has no item {item_id}.")
                if quantity < 1:
                    raise invalid("Invalid Input", "Each item's quantity must be at least 1.")
                units[item_id] = units.get(item_id, 0) + quantity
            if not units:
                raise invalid("Invalid Input", "A package must hold at least one item.")
            others = [p for p in order.packages if p.reference_id != confirmation.reference]  # an edit
            for line in order.lines:
                in_others = sum(n for p in others for item_id, n in p.items if item_id == line.order_item_id)
                if in_others + units.get(line.order_item_id, 0) > line.quantity:
                    raise invalid(
                        "Invalid Input",
                        f"Item {line.order_item_id}: more units confirmed than ordered ({line.quantity}).",
                    )
            now = self.clock()
            package = Package(
                reference_id=confirmation.reference,
                carrier_code=confirmation.carrier_code,
                carrier_name=confirmation.carrier_name,
                shipping_method=confirmation.shipping_method,
                tracking_number=confirmation.tracking_number,
                ship_date=confirmation.ship_date,
                created=now,
                items=list(units.items()),
            )
            order.packages = [*others, package]
            for line in order.lines:
                line.shipped = sum(
                    n for p in order.packages for item_id, n in p.items if item_id == line.order_item_id
                )
            before = order.status
            order.status = SHIPPED if order.units_shipped == order.units else PARTIALLY_SHIPPED
            order.updated = now
            outbox = []
            if order.status != before:
                reason = "Order Shipped" if order.status == SHIPPED else "Order Partially Shipped"
                outbox.append(self._notice(order, STATUS_CHANGE, reason))
        self._publish(outbox)

    # ------------------------------------------------------------------ Merchant Fulfillment (Buy Shipping)

    def _shipment_request(self, operation: str, request: Any) -> tuple[Order, dict[str, Any], Decimal]:
        """The request's order and ShipmentRequestDetails, checked as Amazon checks them, and the
        package's weight in pounds. Refusals are 400s, as Buy Shipping answers them."""
        problems = contract.request_body_problems(operation, request)
        if problems:
            raise invalid("Invalid Input", "; ".join(problems[:3]))
        try:
            details = request["ShipmentRequestDetails"]
            order_id = str(details["AmazonOrderId"])
            items = [(str(item["OrderItemId"]), int(item["Quantity"])) for item in details["ItemList"]]
            weight = details["Weight"]
            weight_pounds = shipping.pounds(float(weight["Value"]), str(weight["Unit"]))
            dimensions = details["PackageDimensions"]
            options = details["ShippingServiceOptions"]
            _ = bool(options["CarrierWillPickUp"]), str(options["DeliveryExperience"])
        except (KeyError, TypeError, ValueError, AttributeError):  # without the models to check against
            raise invalid(
                "Invalid Input", "The body does not match the ShipmentRequestDetails model."
            ) from None
        order = self.orders.get(order_id)
        if order is None:
            raise invalid("Invalid Input", f"Order {order_id} was not found for this seller.")
        if order.afn:
            raise invalid("Invalid Input", f"Order {order_id} is fulfilled by Amazon; it needs no label.")
        if order.status not in (UNSHIPPED, PARTIALLY_SHIPPED):
            raise invalid(
                "Invalid Input", f"Order {order_id} is {order.status}; labels are sold for unshipped orders."
            )
        if weight_pounds <= 0:
            raise invalid("Invalid Input", "Weight.Value must be above 0.")
        if "PredefinedPackageDimensions" not in dimensions and not all(
            float(dimensions.get(side) or 0) > 0 for side in ("Length", "Width", "Height")
        ):
            raise invalid(
                "Invalid Input", "PackageDimensions needs a Length, Width and Height above 0 and a Unit."
            )
        if not items:
            raise invalid("Invalid Input", "ItemList must hold at least one item.")
        units: dict[str, int] = {}
        for item_id, quantity in items:
            line = order.line(item_id)
            if line is None:
                raise invalid("Invalid Input", f"Order {order_id} has no item {item_id}.")
            if quantity < 1:
                raise invalid("Invalid Input", "Each item's Quantity must be at least 1.")
            units[item_id] = units.get(item_id, 0) + quantity
            if units[item_id] > line.unshipped:
                raise invalid(
                    "Invalid Input",
                    f"Item {item_id}: {units[item_id]} units asked for, {line.unshipped} left to ship.",
                )
        return order, details, weight_pounds

    def eligible_shipping_services(self, request: Any) -> dict[str, Any]:
        """getEligibleShipmentServices: the services (cheap and slow to fast and dear) for the package."""
        with self._lock:
            order, details, weight_pounds = self._shipment_request("getEligibleShipmentServices", request)
            now = self.clock()
            services = [
                shipping.service_json(
                    plan,
                    order_id=order.order_id,
                    weight_pounds=weight_pounds,
                    options=details["ShippingServiceOptions"],
                    now=now,
                    currency=CURRENCY,
                )
                for plan in shipping.SERVICES
            ]
        return {
            "payload": {
                "ShippingServiceList": services,
                "RejectedShippingServiceList": [],
                "TemporarilyUnavailableCarrierList": [],
                "TermsAndConditionsNotAcceptedCarrierList": [],
            }
        }

    def create_shipment(self, request: Any) -> dict[str, Any]:
        """createShipment: sell the label of an offered service. The order does not ship until the
        seller confirms the shipment (confirmShipment), as with Amazon."""
        with self._lock:
            order, details, weight_pounds = self._shipment_request("createShipment", request)
            service_id = str(request.get("ShippingServiceId", ""))
            plan = shipping.SERVICE_PLANS.get(service_id)
            if plan is None:
                raise invalid(
                    "Invalid Input",
                    f"ShippingServiceId {service_id!r} is not offered; offered: "
                    + ", ".join(shipping.SERVICE_PLANS),
                )
            now = self.clock()
            offered = now  # what was offered then is what is sold (its ship date and delivery estimate)
            offer_text = request.get("ShippingServiceOfferId")
            if offer_text is not None:
                offer = shipping.read_offer_id(str(offer_text))
                if offer is None or offer["o"] != order.order_id or offer["s"] != service_id:
                    raise invalid(
                        "Invalid Input",
                        "ShippingServiceOfferId is not an offer of this service for this order.",
                    )
                offered = datetime.fromisoformat(offer["t"])
            service = shipping.service_json(
                plan,
                order_id=order.order_id,
                weight_pounds=weight_pounds,
                options=details["ShippingServiceOptions"],
                now=offered,
                currency=CURRENCY,
            )
            tracking = shipping.tracking_id(plan, self.rng, self.seller_id)
            ship_to = shipping.address_json(order.address)
            document = shipping.label_pdf(
                plan=plan,
                tracking=tracking,
                ship_from=details["ShipFromAddress"],
                ship_to=ship_to,
                order_id=order.order_id,
            )
            items = [(str(i["OrderItemId"]), int(i["Quantity"])) for i in details["ItemList"]]
            label = ShippingLabel(
                shipment_id=self._uuid(),
                service_id=plan.service_id,
                service_name=plan.name,
                carrier_name=plan.carrier_name,
                carrier_code=plan.carrier_code,
                tracking_id=tracking,
                rate=shipping.rate(plan, weight_pounds),
                ship_date=datetime.fromisoformat(service["ShipDate"]),
                latest_delivery=datetime.fromisoformat(service["LatestEstimatedDeliveryDate"]),
                created=now,
                items=items,
                file_type="application/pdf",
                size_bytes=len(document),
            )
            order.labels.append(label)
        return {
            "payload": {
                "ShipmentId": label.shipment_id,
                "AmazonOrderId": order.order_id,
                "ItemList": [{"OrderItemId": i, "Quantity": n} for i, n in items],
                "ShipFromAddress": details["ShipFromAddress"],
                "ShipToAddress": ship_to,
                "PackageDimensions": details["PackageDimensions"],
                "Weight": details["Weight"],
                "Insurance": shipping.amount_json(Decimal(0), CURRENCY),
                "ShippingService": service,
                "Label": {
                    "Dimensions": {
                        "Length": shipping.LABEL_LENGTH_INCHES,
                        "Width": shipping.LABEL_WIDTH_INCHES,
                        "Unit": "inches",
                    },
                    "FileContents": shipping.file_contents(document, label.file_type),
                    "LabelFormat": "PDF",
                },
                "Status": "Purchased",
                "TrackingId": tracking,
                "CreatedDate": shipping.iso(now),
            }
        }

    # ------------------------------------------------------------------ Messaging

    def _messaging_order(self, order_id: str, marketplace_ids: Sequence[str]) -> Order:
        if list(marketplace_ids) != [self.marketplace_id]:
            raise invalid(
                "Invalid Input",
                f"marketplaceIds is required and takes one marketplace ({self.marketplace_id}).",
            )
        return self._order(order_id)

    @staticmethod
    def _message_types(order: Order) -> list[str]:
        """What the seller may send: a note about an unexpected problem, on open or shipped MFN orders."""
        return [] if order.afn or order.status == CANCELED else [UNEXPECTED_PROBLEM]

    def messaging_actions(self, order_id: str, marketplace_ids: Sequence[str]) -> dict[str, Any]:
        """getMessagingActionsForOrder: HAL links to the message types allowed for the order."""
        with self._lock:
            order = self._messaging_order(order_id, marketplace_ids)
            kinds = self._message_types(order)
        base = f"/messaging/v1/orders/{order_id}"
        query = f"?marketplaceIds={self.marketplace_id}"
        return {
            "_links": {
                "actions": [{"href": f"{base}/messages/{kind}{query}", "name": kind} for kind in kinds],
                "self": {"href": base + query},
            }
        }

    def send_unexpected_problem(self, order_id: str, marketplace_ids: Sequence[str], request: Any) -> None:
        """createUnexpectedProblem: the message is kept on the order (the control view shows it)."""
        problems = contract.request_body_problems("createUnexpectedProblem", request)
        if problems or not isinstance(request, dict) or not isinstance(request.get("text"), str):
            raise invalid("Invalid Input", "; ".join(problems[:3]) or "text is required.")
        with self._lock:
            order = self._messaging_order(order_id, marketplace_ids)
            if UNEXPECTED_PROBLEM not in self._message_types(order):
                raise invalid("Invalid Input", f"{UNEXPECTED_PROBLEM} is not available for order {order_id}.")
            order.messages.append(BuyerMessage(UNEXPECTED_PROBLEM, request["text"], self.clock()))

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

    # ------------------------------------------------------------------ FBA Inventory, Listings

    def inventory_summaries(
        self,
        *,
        skus: Sequence[str] = (),
        start: datetime | None = None,
        details: bool = False,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """getInventorySummaries' body: FBA stock by SKU, 50 a page."""
        fingerprint = hashlib.sha256(
            json.dumps([sorted(skus), _maybe_iso(start), details]).encode()
        ).hexdigest()[:16]
        with self._lock:
            now = self.clock()
            after = ""
            if next_token:
                token = _read_token(next_token, "nextToken", fingerprint, INVENTORY_TOKEN_LIFETIME, now)
                after = str(token.get("a", ""))
            wanted = set(skus)
            rows = sorted(
                (
                    stock
                    for sku, stock in self.fba.items()
                    if (not wanted or sku in wanted)
                    and (start is None or (stock.updated is not None and stock.updated >= start))
                    and sku > after
                ),
                key=lambda stock: stock.product.sku,
            )
            page = rows[:INVENTORY_PAGE_SIZE]
            body: dict[str, Any] = {
                "payload": {
                    "granularity": {"granularityType": "Marketplace", "granularityId": self.marketplace_id},
                    "inventorySummaries": [shapes.inventory_summary(stock, details) for stock in page],
                }
            }
            if len(rows) > len(page):
                body["pagination"] = {
                    "nextToken": _encode_token(
                        {"a": page[-1].product.sku, "f": fingerprint, "t": now.isoformat()}
                    )
                }
            return body

    def set_fba_stock(self, sku: str, **quantities: int) -> dict[str, Any]:
        """Control: set FBA quantities of a SKU (fulfillable, inbound_shipped, ...), stocking it in FBA."""
        with self._lock:
            now = self.clock()
            product = self.catalogue.ensure(sku)
            self._list(product, now)
            stock = self.fba.get(sku) or FbaStock(product, fulfillable=0)
            for name, value in quantities.items():
                if not hasattr(stock, name) or name in ("product", "updated") or value < 0:
                    raise ValueError(f"cannot set {name}={value!r}")
                setattr(stock, name, int(value))
            stock.updated = now
            self.fba[sku] = stock
            return shapes.inventory_summary(stock, details=True)

    def _seller(self, seller_id: str) -> None:
        if seller_id != self.seller_id:
            raise ApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                f"Unknown sellerId {seller_id}.",
            )

    def get_listing(
        self, seller_id: str, sku: str, included: Iterable[str] = ("summaries",)
    ) -> dict[str, Any]:
        """getListingsItem's body (an Item)."""
        self._seller(seller_id)
        with self._lock:
            listing = self.listings.get(sku)
            if listing is None:
                raise ApiError(
                    404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {self.marketplace_id}"
                )
            return shapes.listing_json(
                listing,
                self.marketplace_id,
                frozenset(included),
                self.fba.get(sku),
                image_link=self.image_link(listing.product),
            )

    def image_link(self, product: Product) -> str:
        """Where the product's main image is served (the simulator's own HTTP server)."""
        return f"{self.image_base}/_simulator/images/{product.asin}.svg"

    def product_by_asin(self, asin: str) -> Product | None:
        with self._lock:
            return next((p for p in self.catalogue.products.values() if p.asin == asin), None)

    def catalog_item(
        self, asin: str, marketplace_ids: Sequence[str], included: Iterable[str]
    ) -> dict[str, Any]:
        """getCatalogItem's body (an Item): the product's summary, main image and dimensions."""
        if marketplace_ids != [self.marketplace_id]:
            raise invalid(
                f"marketplaceIds is required and takes this seller's marketplace ({self.marketplace_id})."
            )
        product = self.product_by_asin(asin)
        if product is None:
            raise ApiError(
                404, "NotFound", f"Requested item '{asin}' not found in marketplace {self.marketplace_id}."
            )
        return shapes.catalog_item_json(
            product, self.marketplace_id, frozenset(included), self.image_link(product)
        )

    def listing_quantity(self, sku: str) -> int | None:
        with self._lock:
            listing = self.listings.get(sku)
            return None if listing is None else listing.quantity

    def search_listings(
        self,
        seller_id: str,
        *,
        identifiers: Sequence[str] = (),
        identifiers_type: str | None = None,
        included: Iterable[str] = ("summaries",),
        page_size: int = 10,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        """searchListingsItems' body (ItemSearchResults): the seller's listings by SKU (or ASIN), in SKU order."""
        self._seller(seller_id)
        included = frozenset(included)
        fingerprint = hashlib.sha256(
            json.dumps([sorted(identifiers), identifiers_type, sorted(included), page_size]).encode()
        ).hexdigest()[:16]
        with self._lock:
            now = self.clock()
            offset = 0
            if page_token:
                offset = int(
                    _read_token(page_token, "pageToken", fingerprint, SEARCH_TOKEN_LIFETIME, now).get("o", 0)
                )
            wanted = set(identifiers)
            found = sorted(
                (
                    listing
                    for listing in self.listings.values()
                    if not wanted
                    or (listing.product.asin if identifiers_type == "ASIN" else listing.product.sku) in wanted
                ),
                key=lambda listing: listing.product.sku,
            )
            page = found[offset : offset + page_size]
            body: dict[str, Any] = {
                "numberOfResults": len(found),
                "items": [
                    shapes.listing_json(
                        listing, self.marketplace_id, included, self.fba.get(listing.product.sku)
                    )
                    for listing in page
                ],
            }
            if offset + page_size < len(found):
                body["pagination"] = {
                    "nextToken": _encode_token(
                        {"o": offset + page_size, "f": fingerprint, "t": now.isoformat()}
                    )
                }
            return body

    def patch_listing(
        self,
        seller_id: str,
        sku: str,
        request: Any,
        *,
        included: Iterable[str] = ("issues",),
        preview: bool = False,
    ) -> dict[str, Any]:
        """patchListingsItem: JSON patches of top-level attributes; fulfillment_availability sets the MFN quantity."""
        self._seller(seller_id)
        problems = contract.request_body_problems("patchListingsItem", request)
        if not problems and not (isinstance(request, dict) and isinstance(request.get("patches"), list)):
            problems = ["the body must hold a list of patches"]  # only reachable without the models
        if problems:
            raise ApiError(400, "InvalidInput", "Invalid input", "; ".join(problems[:3]))
        issues: list[dict[str, Any]] = []
        changes: list[tuple[str, str, list[dict[str, Any]]]] = []
        for patch in request["patches"]:
            path, op, value = str(patch.get("path", "")), patch.get("op"), patch.get("value") or []
            name = path.removeprefix("/attributes/")
            if not path.startswith("/attributes/") or not name or "/" in name:
                issues.append(
                    _issue("Only top-level attributes (/attributes/<name>) can be patched.", name or path)
                )
                continue
            if name == "fulfillment_availability" and op != "delete":
                entries = [v for v in value if v.get("fulfillment_channel_code") == "DEFAULT"]
                quantities = [v.get("quantity") for v in entries]
                if not entries or not all(
                    isinstance(q, int) and not isinstance(q, bool) and q >= 0 for q in quantities
                ):
                    issues.append(
                        _issue(
                            "fulfillment_availability needs fulfillment_channel_code DEFAULT "
                            "and a quantity that is a whole number of at least 0.",
                            name,
                        )
                    )
                    continue
            changes.append((name, op, value))
        status = "INVALID" if issues else ("VALID" if preview else "ACCEPTED")
        included = frozenset(included)
        with self._lock:
            now = self.clock()
            product = self.catalogue.product(sku)
            if status == "ACCEPTED":
                product = self.catalogue.ensure(sku)  # a SKU the catalogue lacks is listed by the patch
                listing = self._list(product, now)
                for name, op, value in changes:
                    self._apply(listing, name, op, value)
                listing.updated = now
            body: dict[str, Any] = {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex}
            if "issues" in included:
                body["issues"] = issues
            if "identifiers" in included:
                body["identifiers"] = (
                    [{"marketplaceId": self.marketplace_id, "asin": product.asin}] if product else []
                )
            return body

    @staticmethod
    def _apply(listing: Listing, name: str, op: str, value: list[dict[str, Any]]) -> None:
        if name == "fulfillment_availability":
            if op == "delete":
                listing.quantity = 0
            else:
                listing.quantity = next(
                    int(v["quantity"]) for v in value if v.get("fulfillment_channel_code") == "DEFAULT"
                )
            return
        if op == "delete":
            listing.attributes.pop(name, None)
        elif op == "merge" and isinstance(listing.attributes.get(name), list):
            listing.attributes[name] = [*listing.attributes[name], *value]  # type: ignore[misc]
        else:
            listing.attributes[name] = value

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


def _issue(message: str, attribute: str) -> dict[str, Any]:
    return {
        "code": "90220",
        "message": message,
        "severity": "ERROR",
        "attributeNames": [attribute],
        "categories": ["INVALID_ATTRIBUTE"],
    }
