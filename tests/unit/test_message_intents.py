"""What the buyer wants, from rules a seller can read: keywords and, optionally, the order's state."""

from __future__ import annotations

import pytest

from oms.care.intents import DEFAULT_RULES, IntentRule, IntentRules, classify


@pytest.mark.parametrize(
    "text, status, intent",
    [
        ("Hello, where is my order? It has not arrived.", "Shipped", "where-is-my-order"),
        ("Can you give me the tracking number?", "Shipped", "where-is-my-order"),
        ("I would like to return it, how do I send it back?", "Shipped", "return"),
        ("Please cancel my order, I ordered by mistake.", "Unshipped", "cancel"),
        ("The mug arrived broken, photo attached.", "Shipped", "damaged"),
        ("It arrived damaged and I want to return it", "Shipped", "damaged"),  # the first rule wins
        ("Please ship to my new address instead", "Unshipped", "address-change"),
        ("Got it today, thanks a lot!", "Shipped", "other"),
        ("Is this returnable?", "Unshipped", "other"),  # whole words: "returnable" is not "return"
    ],
)
def test_the_default_rules_name_what_the_buyer_wants(text, status, intent):
    assert classify(text, "Inquiry from Amazon customer", status, DEFAULT_RULES) == intent


def test_a_rule_may_ask_for_an_order_state():
    rules = IntentRules(
        rules=[
            IntentRule(intent="cancel", keywords=["stop"], order_statuses=["Unshipped", "Pending"]),
            IntentRule(intent="return", keywords=["stop"]),
        ]
    )
    assert classify("please stop it", "", "Unshipped", rules) == "cancel"
    assert classify("please stop it", "", "Shipped", rules) == "return"


def test_the_subject_counts_too():
    assert classify("see subject", "Item arrived damaged", "Shipped", DEFAULT_RULES) == "damaged"


def test_an_unknown_intent_is_refused():
    with pytest.raises(ValueError):
        IntentRule(intent="complaint", keywords=["bad"])
