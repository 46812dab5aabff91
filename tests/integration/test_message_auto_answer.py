"""A seller who opts in has "where is my order" about a shipped order answered at once with its tracking
number; anything else (not shipped, another intent, not opted in) waits for the seller."""

from __future__ import annotations

import pytest

from tests.api_calls import call_api
from tests.buyer_mail import amazon_mail
from tests.integration.test_buyer_messages import deliver, order, threads
from tests.integration.test_message_intents import TRACKING, _ship
from tests.integration.test_message_replies import seller, sent_mail

__all__ = ["order", "seller"]


@pytest.fixture
def opted_in(stack, context, order, seller) -> None:
    status, setup = call_api(stack, context, "PUT", "/messages/setup", {"autoAnswerWhereIsMyOrder": True})
    assert status == 200 and setup == {"autoAnswerWhereIsMyOrder": True}


def test_where_is_my_order_about_a_shipped_order_is_answered_with_its_tracking_number(
    stack, context, opted_in
):
    _ship(stack, context)
    deliver(stack, context, amazon_mail("Hello, where is my order?"))

    (thread,) = threads(stack, context)
    assert (thread["status"], thread["messagesOut"]) == ("answered", 1)
    (mail,) = sent_mail()
    assert TRACKING in mail.get_content()
    deliver(stack, context, amazon_mail("Hello, where is my order?"))  # delivered again: answered once
    assert len(sent_mail()) == 1


def test_before_shipping_or_about_anything_else_it_waits_for_the_seller(stack, context, opted_in):
    deliver(stack, context, amazon_mail("Hello, where is my order?", message_id="<1@m>"))
    assert threads(stack, context)[0]["status"] == "awaiting"  # not shipped: no tracking number to give
    _ship(stack, context)
    deliver(
        stack,
        context,
        amazon_mail("It arrived broken", message_id="<2@m>", sender="b@marketplace.amazon.com"),
    )
    assert sorted(t["status"] for t in threads(stack, context)) == ["awaiting", "awaiting"]
    assert sent_mail() == []


def test_without_the_seller_s_consent_nothing_is_answered(stack, context, order, seller):
    assert call_api(stack, context, "GET", "/messages/setup")[1] == {"autoAnswerWhereIsMyOrder": False}
    _ship(stack, context)
    deliver(stack, context, amazon_mail("Hello, where is my order?"))
    assert threads(stack, context)[0]["status"] == "awaiting"
    assert sent_mail() == []
