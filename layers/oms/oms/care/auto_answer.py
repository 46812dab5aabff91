"""Answering "where is my order" by itself, for a seller who opts in: when a buyer asks about an order that
has shipped, the suggested reply (the carrier and tracking number, from the seller's template or the
built-in one) goes out at once and the clock stops. Nothing else is answered without the seller.

It runs after the message is stored: a retried delivery finds the message applied and never answers twice;
a failure to send leaves the thread waiting for the seller, as any other message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oms.care.intents import suggested_reply
from oms.care.replies import send_reply
from oms.care.threads import ThreadStatus
from oms.domain.types import ApiModel
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Table
from oms.warehouse.settings import ShippingSettingsStore

WHERE_IS_MY_ORDER = "where-is-my-order"


class CareSetup(ApiModel):
    auto_answer_where_is_my_order: bool = False


class CareSetupStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self) -> CareSetup:
        item = self.table.get(keys.care_setup_key())
        return (
            CareSetup.model_validate({k: v for k, v in item.items() if k in _FIELDS}) if item else CareSetup()
        )

    def put(self, setup: CareSetup) -> CareSetup:
        self.table.put({**keys.care_setup_key(), "entity": "CareSetup", **setup.model_dump(by_alias=True)})
        return setup


_FIELDS = {field.alias for field in CareSetup.model_fields.values()}


def answer_if_shipped(
    table: Table, buyer_table: Table, ses: Any, thread_id: str, *, sender: str, now: datetime
) -> bool:
    """Send the tracking answer if the seller opted in, the thread waits on "where is my order" and the order
    has shipped; True when it went out."""
    if not sender or not CareSetupStore(table).get().auto_answer_where_is_my_order:
        return False
    thread = table.get(keys.thread_key(thread_id), consistent=True)
    if thread is None or thread.get("intent") != WHERE_IS_MY_ORDER:
        return False
    if thread.get("status") != ThreadStatus.AWAITING.value or thread.get("sendingReplies"):
        return False  # answered, or an answer already went to SES (a retried batch must not send it again)
    order = OrderRepository(table).get(str(thread["orderId"]))
    if not order.shipments:
        return False
    zone = ShippingSettingsStore(table).get().warehouse.time_zone
    suggestion = suggested_reply(table, order, WHERE_IS_MY_ORDER, zone)
    if suggestion is None or order.shipments[-1].tracking_number not in suggestion["body"]:
        return False  # only an answer that carries the tracking number goes out unread
    send_reply(table, buyer_table, ses, thread_id, suggestion["body"], sender=sender, now=now)
    return True
