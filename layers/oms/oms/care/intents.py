"""What the buyer wants: rules a seller can read and edit (keywords, and optionally the order's state),
the first that matches names the message's intent; and the suggested reply for it, from the seller's
template for that intent or a built-in one, filled with the order's facts.

A rule matches when the buyer's words contain any of its keywords (case ignored, whole words or phrases)
and, if it names order statuses, the order is in one of them. Rules are tried in order; none: `other`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from oms.care.content_rules import ContentRuleBroken, check_reply
from oms.care.locale import body_in
from oms.care.templates import DEFAULT_LANGUAGE, Templates, order_facts, render
from oms.domain.orders import Order
from oms.domain.types import ApiModel
from oms.errors import InvalidInput
from oms.store import keys
from oms.store.table import Table

INTENTS = ("where-is-my-order", "return", "cancel", "damaged", "address-change", "other")
OTHER = "other"


class IntentRule(ApiModel):
    intent: str = Field(pattern="^(" + "|".join(INTENTS) + ")$")
    keywords: list[str] = Field(min_length=1, max_length=50)
    order_statuses: list[str] | None = Field(
        default=None, description="only when the order is in one of these states (e.g. Shipped)"
    )


class IntentRules(ApiModel):
    rules: list[IntentRule] = Field(max_length=100)


DEFAULT_RULES = IntentRules(
    rules=[
        IntentRule(intent="damaged", keywords=["damaged", "broken", "crushed", "cracked", "defective", "not working"]),
        IntentRule(intent="cancel", keywords=["cancel", "cancellation", "by mistake", "don't want", "do not want"]),
        IntentRule(intent="address-change", keywords=["change my address", "wrong address", "new address", "address change"]),
        IntentRule(intent="return", keywords=["return", "send it back", "refund", "exchange"]),
        IntentRule(
            intent="where-is-my-order",
            keywords=["where is my order", "where is it", "not arrived", "hasn't arrived", "has not arrived",
                      "not received", "tracking", "when will", "shipping status", "still waiting"],
        ),
    ]
)  # fmt: skip

# Built-in answers when the seller has no template for the intent (English; the seller's own win).
BUILT_IN: dict[str, tuple[str, ...]] = {
    # the first that the order can fill is suggested
    "where-is-my-order": (
        "Hello, your order {{orderId}} ({{items}}) is on its way with {{carrier}}, tracking number "
        "{{trackingNumber}}. It is expected by {{expectedDelivery}}.",
        "Hello, your order {{orderId}} ({{items}}) is being prepared and will reach you by {{expectedDelivery}}.",
    ),
    "return": ("Hello, sorry it did not work out. {{returnInstructions}}",),
    "damaged": (
        "Hello, we are sorry your order {{orderId}} arrived damaged. {{returnInstructions}} We will refund "
        "or replace it as soon as it is on its way back.",
    ),
    "cancel": (
        "Hello, we have received your request to cancel order {{orderId}}. If it has not shipped yet we will "
        "cancel it; you can also request the cancellation from Your Orders on Amazon.",
    ),
    "address-change": (
        "Hello, for your security we can only ship to the address on order {{orderId}}. Please cancel it and "
        "order again with the new address if it has not shipped yet.",
    ),
}


def _matches(keyword: str, text: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(keyword.lower()) + r"(?!\w)", text) is not None


def classify(text: str, subject: str, order_status: str | None, rules: IntentRules) -> str:
    """The intent of the first rule the buyer's words (and the order's state) match; else `other`."""
    words = f"{subject}\n{text}".lower()
    for rule in rules.rules:
        if rule.order_statuses and order_status not in rule.order_statuses:
            continue
        if any(_matches(k, words) for k in rule.keywords):
            return rule.intent
    return OTHER


class IntentRuleStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self) -> IntentRules:
        item = self.table.get(keys.intent_rules_key())
        return IntentRules.model_validate({"rules": item["rules"]}) if item else DEFAULT_RULES

    def put(self, rules: IntentRules) -> IntentRules:
        body = rules.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.table.put({**keys.intent_rules_key(), "entity": "IntentRules", **body})
        return rules


def suggested_reply(
    table: Table, order: Order, intent: str, zone: str, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any] | None:
    """The seller's template for the intent in the buyer's language (else a built-in answer, in English),
    filled from the order and within Amazon's content rules; None when nothing fits (e.g. `other`)."""
    candidates: list[tuple[str | None, str, str]] = [
        (t["templateId"], *body_in(t["bodies"], language))
        for t in Templates(table).list()
        if t.get("intent") == intent
    ]
    candidates += [(None, DEFAULT_LANGUAGE, text) for text in BUILT_IN.get(intent, ())]
    for template_id, chosen, text in candidates:
        try:
            body = render(text, order_facts(order, zone, chosen))
            check_reply(body)
        except (InvalidInput, ContentRuleBroken):
            continue
        return {"templateId": template_id, "language": chosen, "body": body}
    return None
