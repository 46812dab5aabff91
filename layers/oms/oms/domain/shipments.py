"""Shipments of seller-fulfilled orders: which units a new shipment may take, and what the order becomes.

Pure rules, no I/O. A shipment recorded here is the seller's word: units never un-ship, and Amazon's
own count of shipped units (from its notifications) only ever adds to what this product knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import Field

from oms.domain.orders import (
    ALL_SHIPPED,
    FulfillmentChannel,
    Order,
    OrderFlag,
    OrderStatus,
    Shipment,
    ShipmentItem,
)
from oms.domain.types import ApiModel
from oms.errors import Conflict, InvalidInput


class RequestedItem(ApiModel):
    order_item_id: str = Field(min_length=1)
    quantity: int = Field(gt=0)


def remaining_units(order: Order) -> dict[str, int]:
    """Units per order item still to ship: not shipped yet, whether recorded here or reported by Amazon (a
    seller may also confirm in Seller Central; those units must not be confirmed again)."""
    if order.status in ALL_SHIPPED:
        return {item.order_item_id: 0 for item in order.items}
    return {item.order_item_id: max(item.quantity - item.quantity_shipped, 0) for item in order.items}


def allocate(order: Order, requested: Sequence[RequestedItem] | None) -> list[ShipmentItem]:
    """The units a new shipment takes: the requested ones (a split shipment) or all that remain.

    Refuses (409) what cannot ship: an order Amazon ships, a canceled or pending one, one already
    fully shipped here, or more units than remain; names the field for unknown order items.
    """
    if order.fulfillment_channel != FulfillmentChannel.MFN:
        raise Conflict(f"order {order.order_id} is fulfilled by Amazon (AFN): Amazon ships it")
    if order.status == OrderStatus.CANCELED:
        raise Conflict(f"order {order.order_id} is canceled")
    if order.status in (OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY):
        raise Conflict(f"order {order.order_id} is {order.status.value}: Amazon does not let it ship yet")
    if order.status == OrderStatus.UNFULFILLABLE:
        raise Conflict(f"order {order.order_id} is unfulfillable")
    left = remaining_units(order)
    if not any(left.values()):
        raise Conflict(
            f"order {order.order_id} is already fully shipped (recorded here or reported by Amazon)"
        )
    by_id = {item.order_item_id: item for item in order.items}
    if requested is None:
        return [
            ShipmentItem(order_item_id=i, sku=by_id[i].sku, quantity=units)
            for i, units in left.items()
            if units
        ]
    if not requested:
        raise InvalidInput.for_field("items", "name at least one order item, or leave items out to ship all")
    wanted: dict[str, int] = {}
    for index, item in enumerate(requested):
        if item.order_item_id not in by_id:
            raise InvalidInput.for_field(
                f"items[{index}].orderItemId",
                f"{item.order_item_id!r} is not an item of order {order.order_id}; "
                f"its items are {', '.join(sorted(by_id))}",
            )
        wanted[item.order_item_id] = wanted.get(item.order_item_id, 0) + item.quantity
    for item_id, units in wanted.items():
        if units > left[item_id]:
            raise Conflict(
                f"order item {item_id} has {left[item_id]} unit(s) left to ship; {units} requested"
            )
    return [ShipmentItem(order_item_id=i, sku=by_id[i].sku, quantity=u) for i, u in wanted.items()]


def with_shipment(order: Order, shipment: Shipment) -> Order:
    """The order after a new package: its units added to the units shipped so far, the status to match."""
    adding = {item.order_item_id: item.quantity for item in shipment.items}
    items = [
        item.model_copy(
            update={
                "quantity_shipped": min(
                    item.quantity_shipped + adding.get(item.order_item_id, 0), item.quantity
                )
            }
        )
        for item in order.items
    ]
    return _status_of_units(
        order.model_copy(update={"items": items, "shipments": [*order.shipments, shipment]})
    )


def never_unshipped(order: Order, before: Order) -> Order:
    """The order as Amazon now reports it, with no unit shipped before (here or there) counted unshipped.

    Amazon's notifications may lag behind a shipment recorded here, or arrive out of order: shipped units
    only ever grow, and an order whose units have all shipped is Shipped."""
    prior = {item.order_item_id: item.quantity_shipped for item in before.items}
    items = [
        item.model_copy(
            update={"quantity_shipped": max(item.quantity_shipped, prior.get(item.order_item_id, 0))}
        )
        for item in order.items
    ]
    return _status_of_units(order.model_copy(update={"items": items}))


def _status_of_units(order: Order) -> Order:
    status = order.status
    if status not in ALL_SHIPPED and status != OrderStatus.CANCELED:
        if order.items and all(item.quantity_shipped >= item.quantity for item in order.items):
            status = OrderStatus.SHIPPED
        elif any(item.quantity_shipped for item in order.items):
            status = OrderStatus.PARTIALLY_SHIPPED
    flags = order.flags
    if status in ALL_SHIPPED:  # nothing left to be late with
        flags = [f for f in flags if f not in (OrderFlag.AT_RISK, OrderFlag.LATE)]
    return order.model_copy(update={"status": status, "flags": flags})


def first_ship_date(order: Order) -> datetime | None:
    return min((s.ship_date for s in order.shipments), default=None)


def same_package(order: Order, carrier: str, tracking_number: str) -> Shipment | None:
    """The shipment already recorded with this carrier and tracking number (a repeated request)."""
    return next(
        (s for s in order.shipments if s.carrier == carrier and s.tracking_number == tracking_number), None
    )
