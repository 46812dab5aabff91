"""A buyer's e-mail as Amazon's Buyer-Seller Messaging relays it, read with the standard library's parser.

Amazon sends each buyer message from a stable anonymised address at marketplace.amazon.<tld> (one per
buyer), with the order id in the subject (or, for some templates, the body). What the seller needs is the
new text: the quoted history below it is cut, and attachments are kept apart (stored in S3 by the caller).
Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

# SES receives up to 40 MB; Amazon's messaging takes attachments up to 10 MB in all (plus the text).
MAX_MAIL_BYTES = 12 * 1024 * 1024
MAX_TEXT_CHARS = 50_000  # what is kept of one message's text (Amazon's own limit for a reply is 4,000)
ORDER_ID = re.compile(r"\b(\d{3}-\d{7}-\d{7})\b")
# Amazon's relay: marketplace.amazon.com, .co.uk, .de, .com.mx, .co.jp ... (Buyer-Seller Messaging)
RELAY_DOMAIN = re.compile(r"^marketplace\.amazon\.[a-z]{2,3}(\.[a-z]{2})?$")
# Where the quoted history starts: "On ... wrote:", Outlook's separator, Amazon's own marker lines.
_QUOTE_STARTS = (
    re.compile(r"^\s*On .{3,200} wrote:\s*$"),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{5,}\s*(Original message|Message original|Ursprüngliche Nachricht)", re.IGNORECASE),
    re.compile(r"^\s*From: .+$"),
    re.compile(r"^\s*_{10,}\s*$"),
)
# SES's verdicts on the delivered mail: a FAIL means it cannot be taken as Amazon's relay
_VERDICTS = ("X-SES-Spam-Verdict", "X-SES-Virus-Verdict")
# Amazon wraps the buyer's own words in marker lines; when they are there, only what is between counts
_AMAZON_BEGIN = re.compile(r"^\s*-{5,}\s*Begin message\s*-{5,}\s*$", re.IGNORECASE | re.MULTILINE)
_AMAZON_END = re.compile(r"^\s*-{5,}\s*End message\s*-{5,}\s*$", re.IGNORECASE | re.MULTILINE)


class BadMail(ValueError):
    """A mail that is not a buyer's message this product can take; the reason is shown in quarantine."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # malformed, oversized, not-from-amazon, no-order-id, unknown-order
        self.detail = detail


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class BuyerMail:
    message_id: str
    buyer_alias: str  # the anonymised relay address, lower case
    buyer_name: str | None
    subject: str
    order_id: str
    sent_at: datetime | None
    text: str  # the new text, quoted history cut
    in_reply_to: str | None
    attachments: tuple[Attachment, ...]

    @property
    def message_hash(self) -> str:
        return message_hash(self.message_id)


def message_hash(message_id: str) -> str:
    """A short stable id for a mail, from its Message-ID (duplicates of one delivery share it)."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:24]


def buyer_id_for(buyer_alias: str) -> str:
    """A buyer's id here: their alias's hash (Amazon keeps one alias per buyer and seller), never the alias."""
    return hashlib.sha256(buyer_alias.lower().encode()).hexdigest()[:20]


def thread_id_for(order_id: str, buyer_alias: str) -> str:
    """One thread per order and buyer alias: the same two always give the same thread."""
    return hashlib.sha256(f"{order_id}\n{buyer_alias.lower()}".encode()).hexdigest()[:20]


def read_mail(raw: bytes) -> EmailMessage:
    """The parsed mail, or BadMail(oversized/malformed)."""
    if len(raw) > MAX_MAIL_BYTES:
        raise BadMail("oversized", f"the mail has {len(raw):,} bytes; at most {MAX_MAIL_BYTES:,} are taken")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise BadMail("malformed", "the mail has no headers")
    if message.defects and not message.get("From"):
        raise BadMail("malformed", f"the mail cannot be read: {message.defects[0].__class__.__name__}")
    return message


def fallback_id(raw: bytes) -> str:
    """An id for a mail without a Message-ID (or unreadable): its content's hash, stable across deliveries."""
    return "<sha256-" + hashlib.sha256(raw).hexdigest() + "@unidentified>"


def mail_id(message: EmailMessage | None, raw: bytes) -> str:
    if message is not None:
        try:
            value = str(message.get("Message-ID") or "").strip()
        except Exception:  # a broken header is as good as none
            value = ""
        if value:
            return value
    return fallback_id(raw)


def parse_buyer_mail(raw: bytes) -> BuyerMail:
    """The buyer's message in `raw` (RFC 5322 bytes), or BadMail naming why it cannot be one."""
    message = read_mail(raw)
    try:
        return _buyer_mail(message, raw)
    except BadMail:
        raise
    except (
        ValueError,
        TypeError,
        LookupError,
        AttributeError,
    ) as error:  # headers or parts that do not parse
        raise BadMail("malformed", f"the mail cannot be read: {error}") from None


def _buyer_mail(message: EmailMessage, raw: bytes) -> BuyerMail:
    for header in _VERDICTS:
        if str(message.get(header, "")).strip().upper() == "FAIL":
            raise BadMail("not-from-amazon", f"SES's {header} is FAIL")
    address = _sender(message)
    subject = str(message.get("Subject") or "").strip()
    text = _text(message)
    found = ORDER_ID.search(subject) or ORDER_ID.search(text)
    if found is None:
        raise BadMail("no-order-id", "neither the subject nor the text names an Amazon order id")
    sent_at = None
    if message.get("Date"):
        try:
            sent_at = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            sent_at = None
    in_reply_to = str(message.get("In-Reply-To") or "").strip() or None
    return BuyerMail(
        message_id=mail_id(message, raw),
        buyer_alias=address.addr_spec.lower(),
        buyer_name=address.display_name or None,
        subject=subject[:500],
        order_id=found.group(1),
        sent_at=sent_at,
        text=strip_quoted(text)[:MAX_TEXT_CHARS],
        in_reply_to=in_reply_to,
        attachments=tuple(_attachments(message)),
    )


def _sender(message: EmailMessage) -> Address:
    header = message.get("From")
    addresses: tuple[Address, ...] = tuple(getattr(header, "addresses", ())) if header is not None else ()
    if len(addresses) != 1:
        raise BadMail("malformed", "the mail has no single From address")
    address: Address = addresses[0]
    if not RELAY_DOMAIN.match(address.domain.lower()):
        raise BadMail(
            "not-from-amazon", f"the sender {address.addr_spec} is not Amazon's relay (marketplace.amazon.*)"
        )
    return address


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = _html_text(content)
    return content.replace("\r\n", "\n")


def _html_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    from html import unescape

    return unescape(text)


def strip_quoted(text: str) -> str:
    """The buyer's new words: between Amazon's begin and end markers when present, and above the quoted
    history (cut at the first quote marker or the first `>` line)."""
    begin = _AMAZON_BEGIN.search(text)
    if begin is not None:
        end = _AMAZON_END.search(text, begin.end())
        text = text[begin.end() : end.start() if end else len(text)]
    kept: list[str] = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">") or any(start.match(line) for start in _QUOTE_STARTS):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _attachments(message: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        found.append(
            Attachment(
                filename=part.get_filename() or f"attachment-{len(found) + 1}",
                content_type=part.get_content_type(),
                content=content,
            )
        )
    return found
