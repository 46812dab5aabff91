"""Webhook signatures per scheme, checked in constant time: pure, no I/O.

- standard-webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds), `webhook-signature` = space-separated
  `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (several during a secret's rotation); the secret is
  `whsec_<base64 key>`.
- shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the body, keyed by the secret's text; the
  delivery is `X-Shopify-Webhook-Id`, its time `X-Shopify-Triggered-At` (not signed: checked when sent).
- github: `X-Hub-Signature-256` = `sha256=<hex HMAC-SHA256 of the body>`, keyed by the secret's text; the
  delivery is `X-GitHub-Delivery` (GitHub sends no time: a replay is caught by its delivery id alone).

Every candidate signature is compared with every valid key's, without stopping at the first match, and an
unknown integration is checked against a stand-in key: the work done does not depend on what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Scheme(StrEnum):
    STANDARD_WEBHOOKS = "standard-webhooks"
    SHOPIFY = "shopify"
    GITHUB = "github"


TOLERANCE = timedelta(minutes=5)
_STANDARD_PREFIX = "whsec_"


def shown_secret(scheme: Scheme, key: bytes) -> str:
    """The secret as the sender configures it: `whsec_<base64>` for Standard Webhooks, else hex text."""
    if scheme == Scheme.STANDARD_WEBHOOKS:
        return _STANDARD_PREFIX + base64.b64encode(key).decode()
    return key.hex()


def signing_key(scheme: Scheme, key: bytes) -> bytes:
    """The HMAC key the sender uses with the shown secret (Shopify and GitHub key by the secret's text)."""
    return key if scheme == Scheme.STANDARD_WEBHOOKS else shown_secret(scheme, key).encode()


def _mac(key: bytes, content: bytes) -> bytes:
    return hmac.new(key, content, hashlib.sha256).digest()


@dataclass(frozen=True)
class Verdict:
    signed: bool  # a given signature matches one of the keys
    fresh: bool  # the delivery's time (when the scheme gives one) is within TOLERANCE of now
    delivery_id: str
    sent_at: datetime | None

    @property
    def accepted(self) -> bool:
        return self.signed and self.fresh


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever case the sender or a proxy gave its name ('' when absent)."""
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), "")


def _matches(expected: Sequence[bytes], given: Sequence[bytes]) -> bool:
    found = False
    for mine in expected:
        for theirs in given:
            found |= hmac.compare_digest(mine, theirs)
    return found


def _decode_b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _body_id(body: bytes) -> str:
    """A delivery id when the sender gives none: the same body again is the same delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _fresh(sent_at: datetime | None, now: datetime) -> bool:
    return sent_at is None or abs(now - sent_at) <= TOLERANCE


def verify(
    scheme: Scheme, keys: Sequence[bytes], headers: Mapping[str, str], body: bytes, now: datetime
) -> Verdict:
    """Whether `body` with `headers` was signed with one of `keys` (raw keys; none: nothing matches)."""
    if scheme == Scheme.STANDARD_WEBHOOKS:
        return _standard(keys, headers, body, now)
    if scheme == Scheme.SHOPIFY:
        given = [_decode_b64(header(headers, "X-Shopify-Hmac-Sha256").strip())]
        expected = [_mac(signing_key(scheme, k), body) for k in keys]
        sent_at = _iso(header(headers, "X-Shopify-Triggered-At"))
        delivery = header(headers, "X-Shopify-Webhook-Id").strip() or _body_id(body)
        fresh = _fresh(sent_at, now) and not _unreadable_time(header(headers, "X-Shopify-Triggered-At"))
        return Verdict(_matches(expected, given), fresh, delivery, sent_at)
    signature = header(headers, "X-Hub-Signature-256").strip()
    hex_part = signature[len("sha256=") :] if signature.startswith("sha256=") else ""
    try:
        given = [bytes.fromhex(hex_part)]
    except ValueError:
        given = [b""]
    expected = [_mac(signing_key(scheme, k), body) for k in keys]
    delivery = header(headers, "X-GitHub-Delivery").strip() or _body_id(body)
    return Verdict(_matches(expected, given), True, delivery, None)


def _standard(keys: Sequence[bytes], headers: Mapping[str, str], body: bytes, now: datetime) -> Verdict:
    delivery = header(headers, "webhook-id").strip()
    stamp = header(headers, "webhook-timestamp").strip()
    try:
        sent_at: datetime | None = datetime.fromtimestamp(int(stamp), UTC)
    except (ValueError, OverflowError, OSError):
        sent_at = None
    content = f"{delivery}.{stamp}.".encode() + body
    expected = [_mac(k, content) for k in keys]
    given = [
        _decode_b64(part.split(",", 1)[1])
        for part in header(headers, "webhook-signature").split()
        if part.startswith("v1,")
    ]
    fresh = sent_at is not None and _fresh(sent_at, now)
    signed = _matches(expected, given or [b""]) and bool(delivery)
    return Verdict(signed, fresh, delivery or _body_id(body), sent_at)


def _iso(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _unreadable_time(text: str) -> bool:
    return bool(text.strip()) and _iso(text) is None


def sign(scheme: Scheme, key: bytes, body: bytes, *, delivery_id: str, sent_at: datetime) -> dict[str, str]:
    """The headers a sender adds: for tests, the CLI's `oms webhook send` and the docs' examples."""
    if scheme == Scheme.STANDARD_WEBHOOKS:
        stamp = str(int(sent_at.timestamp()))
        mac = _mac(key, f"{delivery_id}.{stamp}.".encode() + body)
        return {
            "webhook-id": delivery_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        }
    mac = _mac(signing_key(scheme, key), body)
    if scheme == Scheme.SHOPIFY:
        return {
            "X-Shopify-Hmac-Sha256": base64.b64encode(mac).decode(),
            "X-Shopify-Webhook-Id": delivery_id,
            "X-Shopify-Triggered-At": sent_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
    return {"X-Hub-Signature-256": "sha256=" + mac.hex(), "X-GitHub-Delivery": delivery_id}


def key_of_secret(scheme: Scheme, secret: str) -> bytes:
    """The raw key behind a shown secret (the sender's side: the CLI signs with the secret it was shown)."""
    if scheme == Scheme.STANDARD_WEBHOOKS:
        return base64.b64decode(secret.removeprefix(_STANDARD_PREFIX))
    return bytes.fromhex(secret)
