"""The buyer's language for an answer: Amazon's Messaging API tells it (getAttributes: a locale tag such as
"de-DE"), read once per thread and kept with the buyer's alias (buyer data, purged with it)."""

from __future__ import annotations

from oms.amazon.client import SpApiClient, SpApiError
from oms.amazon.messaging_api import buyer_locale
from oms.domain.orders import Order
from oms.errors import NotFound
from oms.observability import logger
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Table

DEFAULT_LOCALE = "en-US"


def buyer_language(buyer_table: Table, client: SpApiClient | None, thread_id: str, order: Order) -> str:
    """The thread's buyer's locale: kept, else asked of Amazon (and kept), else English."""
    buyer = buyer_table.get(keys.thread_buyer_key(thread_id))
    if buyer and buyer.get("locale"):
        return str(buyer["locale"])
    if client is None:
        return DEFAULT_LOCALE
    try:
        locale = buyer_locale(client, order.order_id, order.marketplace_id)
    # an answer in English beats none (Amazon unreachable, credentials not set yet): the seller can pick another
    except (SpApiError, RuntimeError) as error:
        logger.warning(
            "buyer's language not read from Amazon", extra={"orderId": order.order_id, "error": str(error)}
        )
        return DEFAULT_LOCALE
    if locale and buyer:
        buyer_table.put({**buyer, "locale": locale})
    return locale or DEFAULT_LOCALE


def thread_language(table: Table, buyer_table: Table, client: SpApiClient | None, thread_id: str) -> str:
    """The locale of the thread's buyer (its order read for Amazon's call)."""
    thread = table.get(keys.thread_key(thread_id))
    if thread is None:
        raise NotFound(f"thread {thread_id} is not known here")
    order = OrderRepository(table).get(str(thread["orderId"]))
    return buyer_language(buyer_table, client, thread_id, order)


def body_in(bodies: dict[str, str], language: str | None) -> tuple[str, str]:
    """(language, text) of the template text for `language` ("de-DE": de-DE, else de), else English, else
    its first."""
    for wanted in (language, (language or "")[:2], "en", "en-US"):
        if wanted and wanted in bodies:
            return wanted, bodies[wanted]
    first = next(iter(bodies))
    return first, bodies[first]
