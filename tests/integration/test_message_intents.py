"""What the buyer wants, through the stack: each message gets an intent from the seller's rules, and the
thread a suggested reply filled with the order's facts ("where is my order" for a shipped order: its
tracking number)."""

from __future__ import annotations

from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.buyer_mail import ORDER_ID, amazon_mail
from tests.integration.test_buyer_messages import deliver, order, threads

__all__ = ["order"]
TRACKING = "1Z999AA10123456784"


def _ship(stack, context) -> None:
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), "MUG-RED", StockPolicy())
    adjust_stock(default_table(), "MUG-RED", 5, reason="receipt", reference="PO-1", actor="test")
    body = {"carrier": "UPS", "trackingNumber": TRACKING}
    status, answer = call_api(stack, context, "POST", f"/orders/{ORDER_ID}/shipments", body)
    assert status in (200, 201), answer


def test_where_is_my_order_for_a_shipped_order_suggests_its_tracking_number(stack, context, order):
    _ship(stack, context)
    deliver(stack, context, amazon_mail("Hello, where is my order? It has not arrived yet."))

    (thread,) = threads(stack, context)
    assert thread["intent"] == "where-is-my-order"
    full = call_api(stack, context, "GET", f"/messages/{thread['threadId']}")[1]
    suggestion = full["suggestedReply"]
    assert TRACKING in suggestion["body"] and "UPS" in suggestion["body"] and ORDER_ID in suggestion["body"]
    assert suggestion["templateId"] is None  # built in: the seller has no template for it


def test_before_shipping_the_suggestion_gives_the_promised_day_not_a_tracking_number(stack, context, order):
    deliver(stack, context, amazon_mail("Where is my order?"))
    (thread,) = threads(stack, context)
    body = call_api(stack, context, "GET", f"/messages/{thread['threadId']}")[1]["suggestedReply"]["body"]
    assert "being prepared" in body and "tracking" not in body


def test_the_seller_s_template_for_the_intent_wins_and_rules_can_be_edited(stack, context, order):
    template = {
        "name": "Cancel",
        "intent": "cancel",
        "bodies": {"en": "Order {{orderId}} is canceled for you."},
    }
    assert call_api(stack, context, "PUT", "/messages/templates/cancel", template)[0] == 200
    rules = call_api(stack, context, "GET", "/messages/intent-rules")[1]
    assert [r["intent"] for r in rules["rules"]][:2] == ["damaged", "cancel"]
    rules["rules"].insert(0, {"intent": "cancel", "keywords": ["annuler"]})
    assert call_api(stack, context, "PUT", "/messages/intent-rules", rules)[0] == 200

    deliver(stack, context, amazon_mail("Je voudrais annuler, merci"))
    (thread,) = threads(stack, context)
    assert thread["intent"] == "cancel"
    suggestion = call_api(stack, context, "GET", f"/messages/{thread['threadId']}")[1]["suggestedReply"]
    assert suggestion == {
        "templateId": "cancel",
        "language": "en",
        "body": f"Order {ORDER_ID} is canceled for you.",
    }
    bad = {"rules": [{"intent": "complaint", "keywords": ["x"]}]}
    assert call_api(stack, context, "PUT", "/messages/intent-rules", bad)[0] == 400
