"""Amazon's side of an order's life in the local marketplace: buyers place orders (the buyer thread or
the control endpoint), and Amazon moves them on by itself (payment authorised: Pending -> Unshipped;
pre-orders released; FBA orders shipped by Amazon; a buyer's cancel request accepted). Every status
change is announced with an ORDER_CHANGE notification."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from oms_local.simulator.entities import (
    CANCELED,
    OPEN,
    PENDING,
    PENDING_AVAILABILITY,
    SHIPPED,
    UNSHIPPED,
    Address,
    Buyer,
    FbaStock,
    Line,
    Order,
)
from oms_local.simulator.market_core import STATUS_CHANGE, ApiError, MarketCore

BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"
BUYER_CANCEL_REASON = "Buyer Requested Cancel"

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


class Wanted(NamedTuple):
    """One line a buyer wants: SKU, units and (optionally) the unit price paid."""

    sku: str
    quantity: int
    price: Decimal | None = None


def _business_days_after(day: date, days: int) -> date:
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


class OrderLifecycle(MarketCore):
    """Orders placed, moved on and canceled as Amazon does it."""

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
