"""The buyer's language, as Amazon's Messaging API tells it (getAttributes, answered by the local marketplace
in process, in Amazon's shape): the suggested reply and a template reply are in it, read once per thread."""

from __future__ import annotations

import pytest

from oms.amazon.notifications import Notification
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import order_change
from tests.buyer_mail import amazon_mail
from tests.integration.amazon_side import amazon_fixture, calls, simulator_fixture
from tests.integration.test_buyer_messages import deliver, threads
from tests.integration.test_message_replies import SELLER, sent_mail

__all__ = ["amazon_fixture", "simulator_fixture"]
TEMPLATE = {
    "name": "Return",
    "intent": "return",
    "bodies": {
        "en": "Order {{orderId}}: {{returnInstructions}}",
        "de": "Bestellung {{orderId}}: {{returnInstructions}}",
    },
}


@pytest.fixture
def german_buyer(stack, context, amazon, monkeypatch) -> str:
    """An order in the local marketplace whose buyer prefers German, known here, and the buyer's message."""
    order_id = amazon.marketplace.place_order([("85123A", 1)], afn=False)
    amazon.marketplace.buyer_locales = {order_id: "de-DE"}
    document = order_change(order_id, "Unshipped", [("85123A", 1, 0)])
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    stack.environment["SUPPORT_EMAIL_ADDRESS"] = SELLER
    monkeypatch.setenv("SUPPORT_EMAIL_ADDRESS", SELLER)
    stack.client("ses").verify_email_identity(EmailAddress=SELLER)
    assert call_api(stack, context, "PUT", "/messages/templates/return", TEMPLATE)[0] == 200
    deliver(stack, context, amazon_mail("I want to return it", order_id=order_id))
    return order_id


def test_the_suggested_reply_and_a_template_reply_are_in_the_buyer_s_language(
    stack, context, amazon, german_buyer
):
    (thread,) = threads(stack, context)
    full = call_api(stack, context, "GET", f"/messages/{thread['threadId']}")[1]

    assert full["buyerLocale"] == "de-DE"
    assert full["suggestedReply"]["language"] == "de"
    assert full["suggestedReply"]["body"].startswith(f"Bestellung {german_buyer}: Sie können")
    status, _ = call_api(
        stack, context, "POST", f"/messages/{thread['threadId']}/replies", {"templateId": "return"}
    )
    assert status == 201
    assert sent_mail()[0].get_content().startswith(f"Bestellung {german_buyer}")
    assert calls(amazon, "GetAttributes") == 1  # kept with the buyer's alias after the first read
