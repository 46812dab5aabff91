"""Answers out: a reply checked against Amazon's content rules, sent through SES from the seller's registered
address to the buyer's alias (Amazon's relay passes it on) with the threading headers, recorded on the
thread in the same transaction that stops its clock.

A crash must never lose a reply the buyer got, nor send one twice, so a reply goes in three steps:
1. recorded as "sending" (the reply, its mark on the thread, and the Idempotency-Key's record: one
   transaction over both tables); a retry with the same key finds it there and sends nothing;
2. handed to SES (refused by SES: marked not sent, and the key freed for the same request again);
3. marked sent in the transaction that stops the clocks of the messages it answers.
A reply left "sending" (the function died between 2 and 3) may have reached the buyer: the thread shows it
in doubt until the seller settles it (`settle_reply`). Its clocks keep running meanwhile (nothing proves it
went out); settled as sent, they stop at the moment it was handed to SES, so an answer that went out in
time never counts late; settled as not sent, they run on and the seller writes again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from botocore.exceptions import ClientError

from oms.care.clock import ATTEMPTS, answered_thread
from oms.care.content_rules import check_reply
from oms.care.mail import message_hash
from oms.care.threads import thread_item
from oms.domain.types import iso_z
from oms.errors import AlreadyExists, Busy, Conflict, FieldProblem, NotFound
from oms.store import keys
from oms.store.table import Item, Table, Write, back_off, transact_tables

MAX_REFERENCES = 20  # the last messages named in References (RFC 5322 allows more; mail clients cut)
SENDING, SENT, NOT_SENT = "sending", "sent", "not-sent"
# Longer than the API function's 29-second timeout: a reply still "sending" after this was interrupted.
IN_FLIGHT = timedelta(seconds=60)
KEY_KEPT = timedelta(hours=24)  # as long as the API's other Idempotency-Keys


class ReplyInDoubt(Conflict):
    code = "ReplyInDoubt"


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


def _view(reply: Item) -> dict[str, Any]:
    return {
        name: reply.get(name)
        for name in (
            "messageId",
            "direction",
            "from",
            "subject",
            "text",
            "status",
            "sentAt",
            "inReplyTo",
            "sesMessageId",
        )
        if reply.get(name) is not None
    }


def send_reply(
    table: Table,
    buyer_table: Table,
    ses: Any,
    thread_id: str,
    text: str,
    *,
    sender: str,
    now: datetime,
    key: str | None = None,
    request_hash: str = "",
) -> dict[str, Any]:
    """Check, send and record a reply on the thread; the thread's clock stops. Returns the reply. `key` (the
    caller's Idempotency-Key, scoped) with the request's hash makes a retry answer the first reply, never
    send a second one."""
    if table.get(keys.thread_key(thread_id)) is None:
        raise NotFound(f"thread {thread_id} is not known here")
    if key is not None:
        first = _first_reply(table, buyer_table, thread_id, key, request_hash, now)
        if first is not None:
            return first
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
        "status": SENDING,
        "from": sender,
        "subject": str(mail["Subject"]),
        "text": text,
        "receivedAt": at,
        **({"inReplyTo": str(mail["In-Reply-To"])} if mail["In-Reply-To"] else {}),
    }
    try:
        _record_sending(table, buyer_table, reply, key, request_hash, now)
    except AlreadyExists:  # the same key, in a request running beside this one
        first = _first_reply(table, buyer_table, thread_id, str(key), request_hash, now)
        if first is not None:
            return first
        raise
    try:
        # the recipient is the To header (the buyer's alias): SES reads it from the mail when given no Destinations
        sent = ses.send_raw_email(Source=sender, RawMessage={"Data": bytes(mail)})
    except ClientError:
        # SES refused it: nothing went out; the same request may be sent again
        _settle(table, buyer_table, thread_id, digest, NOT_SENT, forget_key=key)
        raise
    return _settle(table, buyer_table, thread_id, digest, SENT, ses_message_id=sent.get("MessageId"))


def settle_reply(
    table: Table, buyer_table: Table, thread_id: str, message_id: str, *, sent: bool, now: datetime
) -> dict[str, Any]:
    """The seller's word on a reply left "sending" (it may have reached the buyer): sent (found in Seller
    Central's sent messages: the clocks it answered stop when it was handed to SES) or not sent (kept on
    the thread as not sent; the clock runs on). A reply settled already is returned as it is."""
    thread = table.get(keys.thread_key(thread_id), consistent=True)
    if thread is None:
        raise NotFound(f"thread {thread_id} is not known here")
    entry = _sending_entry(thread, message_id)
    if entry is not None and now - _at(str(entry["startedAt"])) < IN_FLIGHT:
        raise Conflict("this reply is still being sent; look again in a minute")
    if entry is None and _reply_item(buyer_table, thread_id, message_id) is None:
        raise NotFound(f"reply {message_id} is not on thread {thread_id}")
    return _settle(table, buyer_table, thread_id, message_id, SENT if sent else NOT_SENT)


def _sending_entry(thread: Item, message_id: str) -> dict[str, Any] | None:
    return next((e for e in thread.get("sendingReplies") or [] if e.get("messageId") == message_id), None)


def _reply_item(buyer_table: Table, thread_id: str, message_id: str) -> Item | None:
    return next(
        (
            m
            for m in buyer_table.query_all(keys.thread_messages(thread_id), consistent=True)
            if m.get("messageId") == message_id and m.get("direction") == "out"
        ),
        None,
    )


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _record_sending(
    table: Table, buyer_table: Table, reply: Item, key: str | None, request_hash: str, now: datetime
) -> None:
    """Step 1: the reply as "sending", its mark on the thread (with the clocks it answers) and the key's
    record, in one transaction."""
    thread_id = str(reply["threadId"])
    for attempt in range(ATTEMPTS):
        thread = table.get(keys.thread_key(thread_id), consistent=True)
        if thread is None:
            raise NotFound(f"thread {thread_id} is not known here")
        entry = {
            "messageId": reply["messageId"],
            "startedAt": reply["receivedAt"],
            "answers": list(thread.get("pendingClocks") or []),
        }
        marked = thread_item({**thread, "sendingReplies": [*(thread.get("sendingReplies") or []), entry]})
        writes = [Write.put_versioned(marked, int(thread.get("version", 0)))]
        if key is not None:
            writes.append(
                Write.put_new(
                    {
                        **keys.reply_request_key(key),
                        "entity": "ReplyRequest",
                        "threadId": thread_id,
                        "messageId": reply["messageId"],
                        "requestHash": request_hash,
                        keys.TTL_ATTRIBUTE: int((now + KEY_KEPT).timestamp()),
                    }
                )
            )
        try:
            transact_tables([(table, writes), (buyer_table, [Write.put_new(reply)])])
            return
        except Conflict as refused:
            if refused.failed_index == 1:  # the key's record: the same key, in a request beside this one
                raise AlreadyExists("this Idempotency-Key was used already") from None
            back_off(attempt)
    raise Busy(f"thread {thread_id} kept changing; try again")


def _settle(
    table: Table,
    buyer_table: Table,
    thread_id: str,
    message_id: str,
    outcome: str,
    *,
    ses_message_id: str | None = None,
    forget_key: str | None = None,
) -> dict[str, Any]:
    """Step 3 (or the seller's word): the reply's outcome and the thread's mark taken off, in one
    transaction; sent, the clocks it answers stop at the moment it was handed to SES."""
    for attempt in range(ATTEMPTS):
        thread = table.get(keys.thread_key(thread_id), consistent=True)
        reply = _reply_item(buyer_table, thread_id, message_id)
        if thread is None or reply is None:
            raise NotFound(f"reply {message_id} is not on thread {thread_id}")
        entry = _sending_entry(thread, message_id)
        if entry is None:  # settled already (a retry, or the seller and the sender at once)
            return _view(reply)
        rest = [e for e in thread.get("sendingReplies") or [] if e is not entry]
        version = int(thread.get("version", 0))
        if outcome == SENT:
            started = _at(str(entry["startedAt"]))
            marked, clock_writes = answered_thread(
                thread, started, answers=entry.get("answers") or [], sendingReplies=rest
            )
            reply = {
                **reply,
                "status": SENT,
                "sentAt": entry["startedAt"],
                **({"sesMessageId": ses_message_id} if ses_message_id else {}),
            }
            buyer_writes = [Write("Put", item=reply)]
        else:
            marked, clock_writes = thread_item({**thread, "sendingReplies": rest}), []
            reply = {**reply, "status": NOT_SENT}  # kept on the thread, shown as not sent
            buyer_writes = [Write("Put", item=reply)]
        writes = [Write.put_versioned(marked, version), *clock_writes]
        if forget_key is not None:
            writes.append(Write.delete(keys.reply_request_key(forget_key)))
        try:
            transact_tables([(table, writes), (buyer_table, buyer_writes)])
        except Conflict:
            back_off(attempt)
            continue
        return _view(reply)
    raise Busy(f"thread {thread_id} kept changing; try again")


def _first_reply(
    table: Table, buyer_table: Table, thread_id: str, key: str, request_hash: str, now: datetime
) -> dict[str, Any] | None:
    """A retry's answer: the reply its Idempotency-Key started, or None when the key is new."""
    record = table.get(keys.reply_request_key(key), consistent=True)
    if record is None:
        return None
    if record.get("threadId") != thread_id or record.get("requestHash") != request_hash:
        raise Conflict("this Idempotency-Key was used for a different reply")
    reply = _reply_item(buyer_table, thread_id, str(record["messageId"]))
    if reply is None:
        raise Conflict("the reply this Idempotency-Key sent was purged with the buyer's data")
    if reply.get("status", SENT) == SENT:
        return _view(reply)
    if reply.get("status") == NOT_SENT:
        raise Conflict("the reply this Idempotency-Key started was not sent: send it as a new reply")
    if reply.get("status") == SENDING and now - _at(str(reply["receivedAt"])) < IN_FLIGHT:
        raise Conflict("a reply with this Idempotency-Key is still being sent; retry shortly")
    raise ReplyInDoubt(
        "this reply's sending was interrupted and it may have reached the buyer: look for it in Seller "
        "Central's sent messages, then mark it sent or not sent on the thread",
        [FieldProblem("messageId", str(reply["messageId"]))],
    )
