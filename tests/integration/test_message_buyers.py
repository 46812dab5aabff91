"""One buyer across their orders: Amazon keeps one alias per buyer, so their threads, the orders they wrote
about and those orders' returns come together (never keyed by the alias itself)."""

from __future__ import annotations

from oms.amazon.notifications import Notification
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import order_change
from tests.buyer_mail import ALIAS, ORDER_ID, amazon_mail
from tests.integration.test_buyer_messages import deliver, order, threads
from tests.integration.test_message_intents import _ship

__all__ = ["order"]
SECOND = "113-7654321-1234567"


def test_a_buyer_s_threads_orders_and_returns_come_together(stack, context, order):
    _ship(stack, context)
    status, ret = call_api(
        stack,
        context,
        "POST",
        "/returns",
        {"orderId": ORDER_ID, "items": [{"sku": "MUG-RED", "quantity": 1, "reason": "DEFECTIVE"}]},
    )
    assert status == 201, ret
    document = order_change(SECOND, "Unshipped", [("MUG-BLUE", 2, 0)])
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    deliver(stack, context, amazon_mail("It broke", message_id="<1@m>"))
    deliver(stack, context, amazon_mail("And this one?", order_id=SECOND, message_id="<2@m>"))
    deliver(
        stack, context, amazon_mail("Someone else", message_id="<3@m>", sender="zz@marketplace.amazon.com")
    )

    mine = [t for t in threads(stack, context) if t["buyerAlias"] == ALIAS]
    (buyer_id,) = {t["buyerId"] for t in mine}
    assert ALIAS not in buyer_id
    status, buyer = call_api(stack, context, "GET", f"/messages/buyers/{buyer_id}")

    assert status == 200
    assert buyer["buyerAlias"] == ALIAS
    assert sorted(t["orderId"] for t in buyer["threads"]) == sorted([ORDER_ID, SECOND])
    by_order = {o["orderId"]: o for o in buyer["orders"]}
    assert set(by_order) == {ORDER_ID, SECOND}
    assert [r["returnId"] for r in by_order[ORDER_ID]["returns"]] == [ret["returnId"]]
    assert by_order[SECOND]["returns"] == [] and by_order[SECOND]["items"][0]["quantity"] == 2
    assert call_api(stack, context, "GET", "/messages/buyers/0000")[0] == 404
