"""Buyers writing to the seller, as Amazon's Buyer-Seller Messaging delivers it: an e-mail from the buyer's
stable anonymised address at marketplace.amazon.<tld>, the order id in the subject, the buyer's text between
Amazon's markers, sometimes a photo; SES stores the raw mail (RFC 5322) in the stack's bucket, which is
what `deliver_mail` does locally (the local stack writes it under the template's receipt-rule prefix).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from oms_local.simulator.entities import Order
from oms_local.simulator.market_core import ApiError, MarketCore, invalid

DeliverMail = Callable[[bytes], None]
SHIPPED = ("Shipped", "PartiallyShipped")
SELLER_ADDRESS = "support@seller.example"
# a tiny valid JPEG header stands in for the buyer's photo of a damaged item
PHOTO = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")

INTENTS: dict[str, tuple[str, str]] = {
    # intent: (subject's topic, the buyer's text; {item} is the first item's title)
    "where-is-my-order": (
        "Shipping inquiry",
        "Hello, I ordered {item} and it has not arrived yet. Where is my order? Can you tell me when it comes?",
    ),
    "return": (
        "Return request",
        "Hi, I would like to return {item}. It is not what I expected. How do I send it back?",
    ),
    "cancel": (
        "Order cancellation request",
        "Please cancel my order for {item}, I ordered it by mistake. Thank you.",
    ),
    "damaged": (
        "Item arrived damaged",
        "The {item} arrived broken, the box was crushed. Photo attached. What can you do?",
    ),
    "question": (
        "Question about your item",
        "Before it ships: does {item} come gift wrapped, and can you leave it with my neighbour?",
    ),
    "thanks": ("Thank you", "Got {item} today, all good. Thanks a lot!"),
}


def buyer_alias(order: Order, tld: str = "com") -> str:
    """Amazon gives each buyer a stable anonymised address; here, one per buyer name."""
    token = hashlib.sha256(order.buyer.email.encode()).hexdigest()[:14]
    return f"{token}@marketplace.amazon.{tld}"


def likely_intent(order: Order, roll: float) -> str:
    """What a buyer of this order would write about now."""
    if order.status in SHIPPED:
        return ("where-is-my-order", "return", "damaged", "thanks")[int(roll * 4) % 4]
    return ("question", "cancel", "where-is-my-order")[int(roll * 3) % 3]


def compose(order: Order, intent: str, *, sent: datetime, message_id: str | None = None) -> tuple[str, bytes]:
    """(Message-ID, the raw mail) of the buyer of `order` writing with `intent`."""
    topic, text = INTENTS[intent]
    first = order.lines[0].product.title if order.lines else "my item"
    name = order.buyer.name.split()[0] if order.buyer.name else "Amazon customer"
    mail = EmailMessage()
    message_id = message_id or make_msgid(domain="marketplace.amazon.com")
    mail["Message-ID"] = message_id
    mail["Date"] = format_datetime(sent)
    mail["From"] = f'"{name} - Amazon Marketplace" <{buyer_alias(order)}>'
    mail["To"] = SELLER_ADDRESS
    mail["Subject"] = f"{topic} from Amazon customer {name} (Order: {order.order_id})"
    mail["X-SES-Spam-Verdict"] = "PASS"
    mail["X-SES-Virus-Verdict"] = "PASS"
    mail.set_content(
        f"------------- Begin message -------------\n\n{text.format(item=first)}\n\n"
        f"------------- End message -------------\n\n"
        f"Order ID: {order.order_id}\n"
        "You can reply to this message through Amazon's Buyer-Seller Messaging.\n"
    )
    if intent == "damaged":
        mail.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="damaged.jpg")
    return message_id, bytes(mail)


class BuyerMailApi(MarketCore):
    """The buyers' side of Buyer-Seller Messaging: mail to the seller, delivered as SES would."""

    deliver_mail: DeliverMail | None = None

    def write_to_seller(self, order_id: str, intent: str | None = None) -> dict[str, str]:
        if intent is not None and intent not in INTENTS:
            raise invalid("Invalid Input", f"intent must be one of {', '.join(INTENTS)}")
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise ApiError(404, "NotFound", f"no order {order_id} in this marketplace")
            chosen = intent or likely_intent(order, self.rng.random())
            message_id, raw = compose(order, chosen, sent=self.clock())
        if self.deliver_mail is None:
            raise invalid("Invalid Input", "this marketplace has nowhere to deliver mail (no stack)")
        self.deliver_mail(raw)
        return {"orderId": order_id, "intent": chosen, "messageId": message_id, "from": buyer_alias(order)}

    def write_about_random_order(self) -> dict[str, str] | None:
        """The buyer thread: someone writes about one of their orders."""
        with self._lock:
            candidates = sorted(o.order_id for o in self.orders.values() if o.status != "Canceled")
        if not candidates or self.deliver_mail is None:
            return None
        return self.write_to_seller(self.rng.choice(candidates))
