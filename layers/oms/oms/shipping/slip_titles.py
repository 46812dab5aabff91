"""Titles for the paperwork of orders that have none yet: an order's items carry Amazon's title once the
backstop has read it, and the catalogue's once read_catalogue has; a batch printed before both (minutes
after the order) asks Amazon for the order's own titles (getOrder), so no packing slip or pick list goes out
with an empty Item column."""

from __future__ import annotations

from collections.abc import Sequence

from oms.amazon.client import SpApiClient
from oms.amazon.orders_api import order_item_titles
from oms.domain.orders import Order
from oms.observability import logger


def with_order_titles(client: SpApiClient | None, orders: Sequence[Order]) -> list[Order]:
    """The orders, their untitled items titled from Amazon's getOrder (one call per such order); an order
    Amazon does not answer for keeps its items as they are (the slip prints the SKU, as before)."""
    titled: list[Order] = []
    for order in orders:
        if client is None or all(item.title for item in order.items):
            titled.append(order)
            continue
        try:
            titles = order_item_titles(client, order.order_id, order.marketplace_id)
        except Exception:  # the slip still prints; the batch is not worth failing for a title
            logger.warning("no item titles from Amazon for the paperwork", extra={"orderId": order.order_id})
            titled.append(order)
            continue
        items = [
            item
            if item.title
            else item.model_copy(update={"title": titles.get(item.order_item_id) or titles.get(item.sku)})
            for item in order.items
        ]
        titled.append(order.model_copy(update={"items": items}))
    return titled
