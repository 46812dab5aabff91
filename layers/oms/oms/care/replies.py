"""Answers out: a reply checked against Amazon's content rules, sent through SES from the seller's registered
address to the buyer's alias (Amazon's relay passes it on) with the threading headers, recorded on the
thread in the same transaction that stops its clock.

SES sends first, then the reply is recorded: a reply is never shown as sent when it was not. The record
and the stopped clock are one transaction over both tables, retried on collision.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from oms.care.clock import stop_clock
from oms.care.content_rules import check_reply
from oms.care.mail import message_hash
from oms.domain.types import iso_z
from oms.errors import Conflict, NotFound
from oms.store import keys
from oms.store.table import Item, Table, Write

MAX_REFERENCES = 20  # the last messages named in References (RFC 5322 allows more; mail clients cut)


class NoSenderAddress(Conflict):
    code = "NoSenderAddress"


def reply_mail(
    *, sender: str, alias: str, text: str, inbound: list[Item], now: datetime
) -> tuple[str, EmailMessage]:
    """(Message-ID, the mail) of a reply on a thread whose buyer messages are `inbound`, oldest first."""
    mail = EmailMessage()
    domain = sender.rsplit("@", 1)[-1] or None
    message_id = make_msgid(domain=domain)
    mail["Message-ID"] = message_id
    mail["Date"] = format_datetime(now)
    mail["From"] = sender
    mail["To"] = alias
    last = inbound[-1] if inbound else {}
    subject = str(last.get("subject") or "Your order")
    mail["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    ids = [str(m["mailMessageId"]) for m in inbound if m.get("mailMessageId")]
    if ids:
        mail["In-Reply-To"] = ids[-1]
        mail["References"] = " ".join(ids[-MAX_REFERENCES:])
    mail.set_content(text)
    return message_id, mail


def send_reply(
    table: Table, buyer_table: Table, ses: Any, thread_id: str, text: str, *, sender: str, now: datetime
) -> dict[str, Any]:
    """Check, send and record a reply on the thread; the thread's clock stops. Returns the reply."""
    if table.get(keys.thread_key(thread_id)) is None:
        raise NotFound(f"thread {thread_id} is not known here")
    check_reply(text)
    if not sender:
        raise NoSenderAddress(
            "replies go from the seller's registered address: set the stack's SupportEmailAddress parameter"
        )
    buyer = buyer_table.get(keys.thread_buyer_key(thread_id), consistent=True)
    if buyer is None:
        raise Conflict(
            "the buyer's address on this thread was purged with their data; answer in Seller Central"
        )
    messages = list(buyer_table.query_all(keys.thread_messages(thread_id), consistent=True))
    inbound = [m for m in messages if m.get("direction") == "in"]
    message_id, mail = reply_mail(
        sender=sender, alias=str(buyer["buyerAlias"]), text=text, inbound=inbound, now=now
    )
    # the recipient is the To header (the buyer's alias): SES reads it from the mail when given no Destinations
    sent = ses.send_raw_email(Source=sender, RawMessage={"Data": bytes(mail)})
    at = iso_z(now)
    digest = message_hash(message_id)
    reply: Item = {
        **keys.thread_message_key(thread_id, at, digest),
        # under the purge with the rest of the thread's buyer data
        **keys.same_purge(buyer),
        "entity": "BuyerMessage",
        "messageId": digest,
        "mailMessageId": message_id,
        "threadId": thread_id,
        "orderId": buyer.get("orderId"),
        "direction": "out",
        "from": sender,
        "subject": str(mail["Subject"]),
        "text": text,
        "receivedAt": at,
        "sentAt": at,
        "sesMessageId": sent.get("MessageId"),
        **({"inReplyTo": str(mail["In-Reply-To"])} if mail["In-Reply-To"] else {}),
    }
    stop_clock(table, thread_id, now, answered=True, more=[(buyer_table, [Write("Put", item=reply)])])
    return {
        name: reply.get(name)
        for name in (
            "messageId",
            "direction",
            "from",
            "subject",
            "text",
            "sentAt",
            "inReplyTo",
            "sesMessageId",
        )
        if reply.get(name) is not None
    }
