"""Orders: how they are stored and found (the intake that writes them builds on this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oms.domain.orders import FulfillmentChannel, Order, OrderStatus
from oms.domain.types import iso_z
from oms.errors import InvalidInput, NotFound
from oms.store import keys
from oms.store.table import Item, Page, Table, Write

ENTITY = "Order"


def order_to_item(order: Order, version: int | None = None) -> Item:
    body = order.model_dump(mode="json", by_alias=True)
    return {
        **keys.order_key(order.order_id),
        **keys.order_index_keys(
            order_id=order.order_id,
            status=order.status.value,
            fulfillment_channel=order.fulfillment_channel.value,
            purchase_date=body["purchaseDate"],
            latest_ship_date=body.get("latestShipDate"),
        ),
        "entity": ENTITY,
        **({"version": version} if version is not None else {}),
        **body,
    }


def order_item_over(item: Item, order: Order) -> Item:
    """The stored `item` with `order` written over it: its index keys are the order's now (an index the
    order has left, such as the work queue's once shipped, loses its keys)."""
    kept = {k: v for k, v in item.items() if k not in keys.ORDER_INDEX_ATTRIBUTES}
    return {**kept, **order_to_item(order)}


def order_from_item(item: Item) -> Order:
    return Order.model_validate({k: v for k, v in item.items() if k in _ORDER_FIELDS})


_ORDER_FIELDS = {field.alias for field in Order.model_fields.values()}


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    fulfillment_channel: FulfillmentChannel | None = None
    ship_by: datetime | None = None
    purchased_from: datetime | None = None
    purchased_to: datetime | None = None

    def __post_init__(self) -> None:
        if self.purchased_from and self.purchased_to and self.purchased_from > self.purchased_to:
            raise InvalidInput.for_field("from", "must not be after 'to'")
        if self.ship_by and not self.status:
            raise InvalidInput.for_field("shipBy", "needs a status (e.g. status=Unshipped)")


class OrderRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, order_id: str) -> Order:
        item = self._table.get(keys.order_key(order_id))
        if item is None:
            raise NotFound(f"order {order_id} is not known here")
        return order_from_item(item)

    def add(self, order: Order) -> None:
        self._table.transact([Write.put_versioned(order_to_item(order), expected_version=None)])

    def list(self, where: OrderFilter, *, limit: int, next_token: str | None) -> Page:
        """Newest purchases first; with a status, soonest latest-ship-date first (the work queue)."""
        if where.status:
            query = keys.orders_by_status(
                where.status.value,
                where.fulfillment_channel.value if where.fulfillment_channel else None,
                iso_z(where.ship_by) if where.ship_by else None,
            )
        else:
            query = keys.orders_by_purchase_date(
                iso_z(where.purchased_from) if where.purchased_from else None,
                iso_z(where.purchased_to) if where.purchased_to else None,
            )
        page = self._table.query_page(query, limit=limit, next_token=next_token, scope=repr(where))
        page.items = [order_from_item(i).model_dump(mode="json", by_alias=True) for i in page.items]
        channel = where.fulfillment_channel.value if where.fulfillment_channel else None
        if where.status:
            page.items = [o for o in page.items if _purchased_within(o, where)]
        if channel and (not where.status or keys.channel_read_from_status_index(where.status.value, channel)):
            page.items = [o for o in page.items if o["fulfillmentChannel"] == channel]
        return page


def _purchased_within(order: dict[str, Any], where: OrderFilter) -> bool:
    purchased = order["purchaseDate"]
    return (not where.purchased_from or purchased >= iso_z(where.purchased_from)) and (
        not where.purchased_to or purchased <= iso_z(where.purchased_to)
    )
