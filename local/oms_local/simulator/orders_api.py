"""The Orders API (searchOrders, getOrder, confirmShipment) of the local marketplace."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from oms_local.simulator import contract, shapes
from oms_local.simulator.entities import (
    FULFILLMENT_STATUS,
    PARTIALLY_SHIPPED,
    SHIPPED,
    UNSHIPPED,
    Order,
    Package,
)
from oms_local.simulator.market_core import (
    SEARCH_TOKEN_LIFETIME,
    STATUS_CHANGE,
    MarketCore,
    _encode_token,
    _maybe_iso,
    _read_token,
    invalid,
)


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


class OrdersApi(MarketCore):
    """getOrder, searchOrders and confirmShipment."""

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
