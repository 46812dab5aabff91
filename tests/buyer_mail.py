"""Buyers' mail as Amazon's Buyer-Seller Messaging relays it and SES stores it (RFC 5322 bytes)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

ORDER_ID = "112-1234567-7654321"
ALIAS = "x8kq2lmn4ybz7r@marketplace.amazon.com"


def amazon_mail(
    text: str = "Hello, where is my order? It has not arrived.",
    *,
    order_id: str = ORDER_ID,
    sender: str = f'"Jane - Amazon Marketplace" <{ALIAS}>',
    message_id: str = "<0100018c-buyer-1@marketplace.amazon.com>",
    subject: str | None = None,
    sent: datetime | None = None,
    quoted: str | None = None,
    photo: bytes | None = None,
    html: bool = False,
    headers: dict[str, str] | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["Message-ID"] = message_id
    if sent is not None:
        mail["Date"] = format_datetime(sent)
    mail["From"] = sender
    mail["To"] = "support@seller.example"
    mail["Subject"] = (
        subject if subject is not None else f"Inquiry from Amazon customer Jane (Order: {order_id})"
    )
    mail["X-SES-Spam-Verdict"] = "PASS"
    mail["X-SES-Virus-Verdict"] = "PASS"
    for name, value in (headers or {}).items():
        del mail[name]
        mail[name] = value
    body = (
        f"------------- Begin message -------------\n\n{text}\n\n------------- End message -------------\n\n"
        f"Order ID: {order_id}\nYou can reply through Amazon's Buyer-Seller Messaging.\n"
    )
    if quoted is not None:
        body = f"{text}\n\nOn Mon, 23 Nov 2026 at 10:00, Seller <support@seller.example> wrote:\n> {quoted}\n"
    if html:
        mail.set_content(f"<html><body><p>{body.replace(chr(10), '<br>')}</p></body></html>", subtype="html")
    else:
        mail.set_content(body)
    if photo is not None:
        mail.add_attachment(photo, maintype="image", subtype="jpeg", filename="damaged.jpg")
    return bytes(mail)
