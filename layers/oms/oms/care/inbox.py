"""Buyers' messages in: a mail SES stored in the documents bucket becomes a message on its order's thread.

SES's receipt rule writes each raw mail under `INBOUND_PREFIX`; the bucket tells the buyer-messages queue,
and `ingest_messages` hands each object here. A mail is applied once (its Message-ID's marker is written in
the same transaction as the message and the thread's clock, so a second delivery changes nothing), and a
mail that cannot be a buyer's message (malformed, oversized, not from Amazon's relay, no or an unknown
order id) is quarantined with the reason: never lost, never shown as a buyer's message.

The message, its attachments' keys and the buyer's alias are buyer data (buyer-data table and `buyer/` in
the bucket), purged with the rest; the thread's clock in the main table holds no PII.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from oms.care.intents import OTHER, IntentRuleStore, classify
from oms.care.mail import (
    MAX_MAIL_BYTES,
    BadMail,
    BuyerMail,
    buyer_id_for,
    mail_id,
    message_hash,
    parse_buyer_mail,
    read_mail,
    thread_id_for,
)
from oms.care.threads import RESPONSE_HOURS, ThreadStatus, thread_item
from oms.domain.orders import Order
from oms.domain.types import iso_z
from oms.errors import AlreadyExists, NotFound, VersionConflict
from oms.shipping.buyer_data import retention_starts
from oms.store import keys
from oms.store.documents import BUYER_PREFIX, DocumentStore, document_key
from oms.store.orders import OrderRepository
from oms.store.table import Item, Table, Write, back_off, transact_tables

INBOUND_PREFIX = BUYER_PREFIX + "messages/inbound/"  # where SES's receipt rule writes (template.yaml)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Applied:
    outcome: str  # "stored", "duplicate", "quarantined", "ignored"
    thread_id: str | None = None
    reason: str | None = None


def mail_keys(body: str) -> list[str]:
    """The object keys an S3 event notification (an SQS message body) names; none for S3's test event."""
    event = json.loads(body)
    if not isinstance(event, dict) or event.get("Event") == "s3:TestEvent":
        return []
    return [
        unquote_plus(record["s3"]["object"]["key"])
        for record in event.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated")
    ]


class Inbox:
    def __init__(
        self, table: Table, buyer_table: Table, documents: DocumentStore, *, retention_days: int
    ) -> None:
        self.table = table
        self.buyer_table = buyer_table
        self.documents = documents
        self.retention_days = retention_days

    def apply_object(self, key: str) -> Applied:
        """The mail SES stored at `key`, applied once (or quarantined once)."""
        if not key.startswith(INBOUND_PREFIX):
            return Applied("ignored", reason=f"{key} is not under {INBOUND_PREFIX}")
        head = self.documents.client.head_object(Bucket=self.documents.bucket, Key=key)
        received_at: datetime = head["LastModified"]  # when SES stored it: the buyer's clock starts here
        if int(head.get("ContentLength", 0)) > MAX_MAIL_BYTES:
            return self._quarantine(
                key,
                received_at,
                f"<oversized@{key}>",
                None,
                BadMail(
                    "oversized",
                    f"the mail has {int(head['ContentLength']):,} bytes; at most {MAX_MAIL_BYTES:,} are taken",
                ),
            )
        raw = self.documents.get(key)
        try:
            mail = parse_buyer_mail(raw)
        except BadMail as bad:
            try:
                parsed = read_mail(raw)
            except BadMail:
                parsed = None
            return self._quarantine(key, received_at, mail_id(parsed, raw), parsed, bad)
        try:
            order = OrderRepository(self.table).get(mail.order_id)
        except NotFound:
            return self._quarantine(
                key,
                received_at,
                mail.message_id,
                None,
                BadMail("unknown-order", f"order {mail.order_id} is not known here"),
                sender=mail.buyer_alias,
                subject=mail.subject,
            )
        return self._store(key, mail, order, received_at)

    # ------------------------------------------------------------------ a buyer's message

    def _store(self, key: str, mail: BuyerMail, order: Order, received_at: datetime) -> Applied:
        thread_id = thread_id_for(mail.order_id, mail.buyer_alias)
        if self.buyer_table.get(keys.mail_seen_key(mail.message_hash), consistent=True) is not None:
            return Applied("duplicate", thread_id)
        attachments = [
            {
                "filename": a.filename,
                "contentType": a.content_type,
                "size": len(a.content),
                "key": self.documents.put(
                    document_key(
                        "messages", "attachments", thread_id, mail.message_hash, a.filename, buyer_data=True
                    ),
                    a.content,
                    a.content_type,
                ),
            }
            for a in mail.attachments
        ]
        received = iso_z(received_at)
        purge_at = max(retention_starts(order, received_at), received_at) + timedelta(
            days=self.retention_days
        )
        purge = _purge_fields(purge_at, mail.order_id)
        message: Item = {
            **keys.thread_message_key(thread_id, received, mail.message_hash),
            **purge,
            "entity": "BuyerMessage",
            "messageId": mail.message_hash,
            "mailMessageId": mail.message_id,
            "threadId": thread_id,
            "orderId": mail.order_id,
            "direction": "in",
            "from": mail.buyer_alias,
            "subject": mail.subject,
            "text": mail.text,
            "receivedAt": received,
            "mailKey": key,
            "attachments": attachments,
            **({"sentAt": iso_z(mail.sent_at)} if mail.sent_at else {}),
        }
        buyer: Item = {
            **keys.thread_buyer_key(thread_id),
            **purge,
            "entity": "ThreadBuyer",
            "threadId": thread_id,
            "orderId": mail.order_id,
            "buyerAlias": mail.buyer_alias,
            **({"buyerName": mail.buyer_name} if mail.buyer_name else {}),
        }
        buyer_thread: Item = {
            **keys.buyer_thread_key(buyer_id_for(mail.buyer_alias), thread_id),
            **purge,
            "entity": "BuyerThread",
            "threadId": thread_id,
            "orderId": mail.order_id,
        }
        seen: Item = {
            **keys.mail_seen_key(mail.message_hash),
            **purge,
            "entity": "MailSeen",
            "threadId": thread_id,
        }
        clock = keys.response_clock_key(received, thread_id, mail.message_hash)
        clock_item: Item = {
            **clock,
            "entity": "ResponseClock",
            "threadId": thread_id,
            "orderId": mail.order_id,
            "receivedAt": received,
            "dueAt": iso_z(received_at + timedelta(hours=RESPONSE_HOURS)),
        }
        intent = classify(mail.text, mail.subject, order.status.value, IntentRuleStore(self.table).get())
        message["intent"] = intent
        for attempt in range(MAX_ATTEMPTS):
            current = self.table.get(keys.thread_key(thread_id), consistent=True)
            thread = _with_message(current, thread_id, mail.order_id, received_at, clock[keys.SK])
            if intent != OTHER or not thread.get("intent"):  # "thanks" after "where is it" keeps the latter
                thread["intent"] = intent
            try:
                transact_tables(
                    [
                        (
                            self.buyer_table,
                            [
                                Write.put_new(seen),
                                Write("Put", item=message),
                                Write("Put", item=buyer),
                                Write("Put", item=buyer_thread),
                            ],
                        ),
                        (
                            self.table,
                            [
                                Write.put_versioned(thread, current.get("version", 0) if current else None),
                                Write.put_new(clock_item),
                            ],
                        ),
                    ]
                )
                return Applied("stored", thread_id)
            except AlreadyExists as refused:
                if refused.failed_index == 0:
                    return Applied("duplicate", thread_id)
                back_off(attempt)  # the thread was created by a batch-mate meanwhile
            except VersionConflict:
                back_off(attempt)
        raise VersionConflict(f"thread {thread_id} kept changing; the message will be retried")

    # ------------------------------------------------------------------ quarantine

    def retry(self, quarantine_id: str) -> Applied:
        """Apply a quarantined mail again (its order has arrived since, the rules changed...): stored, it
        leaves the quarantine; still bad, it stays with the reason as it is now."""
        key = quarantine_key_of(quarantine_id)
        item = self.buyer_table.get(key, consistent=True)
        if item is None:
            raise NotFound(f"no quarantined mail {quarantine_id}")
        applied = self.apply_object(str(item["mailKey"]))
        if applied.outcome in ("stored", "duplicate"):
            self.buyer_table.delete(key)
        return applied

    def _quarantine(
        self,
        key: str,
        received_at: datetime,
        message_id: str,
        parsed: Any,
        bad: BadMail,
        *,
        sender: str | None = None,
        subject: str | None = None,
    ) -> Applied:
        if parsed is not None:
            sender = sender or _header(parsed, "From")
            subject = subject or _header(parsed, "Subject")
        digest = message_hash(message_id + "\n" + key)
        item: Item = {
            **keys.quarantined_key(iso_z(received_at), digest),
            **_purge_fields(received_at + timedelta(days=self.retention_days), digest),
            "entity": "QuarantinedMail",
            "quarantineId": quarantine_id(received_at, digest),
            "receivedAt": iso_z(received_at),
            "reason": bad.reason,
            "detail": bad.detail,
            "mailKey": key,
            **({"from": sender[:320]} if sender else {}),
            **({"subject": subject[:500]} if subject else {}),
        }
        self.buyer_table.put(item)  # the same mail quarantined twice is the same item, written again
        return Applied("quarantined", reason=bad.reason)


def quarantine_id(received_at: datetime, digest: str) -> str:
    """The id a seller sees: when it came (to the second, UTC) and the mail's digest, so it names its key."""
    return received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + digest


def quarantine_key_of(quarantine_id: str) -> dict[str, str]:
    """The quarantined mail's key from its id; NotFound for an id this product never made."""
    stamp, _, digest = quarantine_id.partition("-")
    try:
        received = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise NotFound(f"no quarantined mail {quarantine_id}") from None
    if not digest:
        raise NotFound(f"no quarantined mail {quarantine_id}")
    return keys.quarantined_key(iso_z(received), digest)


def _with_message(
    current: Item | None, thread_id: str, order_id: str, received_at: datetime, clock: str
) -> Item:
    """The thread's clock after a buyer's message: waiting for an answer, due 24 hours after the oldest
    message not yet answered (whose clocks it keeps, to stop them with the answer)."""
    received = iso_z(received_at)
    waiting_since = received
    pending, flags = [clock], []
    if current and current.get("status") == ThreadStatus.AWAITING.value:
        waiting_since = min(str(current["waitingSince"]), received)
        pending = sorted({*current.get("pendingClocks", []), clock})
        flags = list(current.get("flags") or [])  # the oldest unanswered message still sets the due time
    return thread_item(
        {
            **(current or {}),
            "threadId": thread_id,
            "orderId": order_id,
            "status": ThreadStatus.AWAITING.value,
            "waitingSince": waiting_since,
            "dueAt": iso_z(datetime.fromisoformat(waiting_since) + timedelta(hours=RESPONSE_HOURS)),
            "firstMessageAt": (current or {}).get("firstMessageAt", received),
            "lastMessageAt": max(str((current or {}).get("lastMessageAt", received)), received),
            "messagesIn": int((current or {}).get("messagesIn", 0)) + 1,
            "pendingClocks": pending,
            "flags": flags,
        }
    )


def _purge_fields(purge_at: datetime, label: str) -> Item:
    """What puts a buyer-data item under the purge: its due time in the purge index, and a TTL."""
    return {
        **keys.buyer_due_index_keys(label, iso_z(purge_at)),
        keys.TTL_ATTRIBUTE: int(purge_at.timestamp()),
    }


def _header(message: Any, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a broken header reads as none
        return None
    return str(value).strip() or None if value is not None else None
