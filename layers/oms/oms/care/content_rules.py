"""Amazon's rules for what a seller may write to a buyer through Buyer-Seller Messaging, checked before
anything is sent: a reply that breaks one is refused (422 naming the rule) and nothing goes out.

Amazon's Communication Guidelines: no links except those needed to complete the order (this product sends
none), no e-mail addresses or phone-like contact details that take the buyer off Amazon, no marketing or
promotional content (coupons, discounts, other products, "visit our store"), no asking for positive
reviews or feedback in exchange for anything, and a message the buyer can read (not empty, not huge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oms.errors import FieldProblem, OmsError

MAX_REPLY_CHARS = (
    4000  # what this product sends in one reply; Amazon's relay takes up to 10 MB with attachments
)

_LINK = re.compile(
    r"(https?://|\bwww\.|\b[a-z0-9-]+\.(com|net|org|co|io|shop|store|biz|info|ly|me|us|uk|de)\b(/\S*)?)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
_MARKETING = re.compile(
    r"\b(coupon|discount|promo(tion(al)?)?( code)?|special offer|\d+\s?% off|buy now|sale ends|"
    r"visit our (store|shop|website)|follow us|newsletter|our other products|"
    r"(positive|5[- ]star|five[- ]star) (review|feedback|rating)|leave (us )?a (good|positive) review)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContentRule:
    name: str  # as the 422 names it
    says: str  # the rule in the seller's words


EMPTY = ContentRule("not-empty", "a reply needs some text")
SIZE = ContentRule("size-limit", f"a reply has at most {MAX_REPLY_CHARS:,} characters")
LINKS = ContentRule("no-links", "Amazon does not allow links (web addresses) in messages to buyers")
EMAILS = ContentRule("no-email-addresses", "Amazon does not allow e-mail addresses in messages to buyers")
MARKETING = ContentRule(
    "no-marketing", "Amazon does not allow marketing or promotional wording, or asking for positive reviews"
)


class ContentRuleBroken(OmsError):
    """A reply that Amazon's rules do not allow: nothing was sent."""

    status = 422
    code = "ContentRuleBroken"

    def __init__(self, rule: ContentRule, found: str | None) -> None:
        where = f": {found!r}" if found else ""
        super().__init__(f"{rule.says}{where}", [FieldProblem("body", rule.name)])
        self.rule = rule


def check_reply(text: str) -> None:
    """Raise ContentRuleBroken naming the first rule `text` breaks (in the order a seller fixes them)."""
    if not text.strip():
        raise ContentRuleBroken(EMPTY, None)
    if len(text) > MAX_REPLY_CHARS:
        raise ContentRuleBroken(SIZE, f"{len(text):,} characters")
    for rule, pattern in ((EMAILS, _EMAIL), (LINKS, _LINK), (MARKETING, _MARKETING)):
        found = pattern.search(text)
        if found:
            raise ContentRuleBroken(rule, found.group(0))
