"""POST /webhooks/{integrationId}: verify, remember the delivery, queue it, answer fast.

Kept small for a quick cold start (the receiver function imports this module and what it needs only).
Every refusal for a reason that touches the secret (unknown integration, bad signature, stale time) is the
same 401 body after the same work, answered no sooner than REFUSAL_FLOOR_SECONDS after arrival (a read that
finds the integration takes longer than one that does not); the reason goes to the log and a metric, never
to the sender.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from oms.domain.types import iso_z, utc_now
from oms.errors import Conflict
from oms.integrations.records import valid_keys
from oms.integrations.signatures import Scheme, header, verify
from oms.observability import logger, metrics
from oms.store import conditional, keys
from oms.store.table import Table

# SQS takes 256 KiB a message: a body of 180 KiB still fits when it must travel base64-encoded (4/3).
MAX_BODY_BYTES = 180 * 1024
REPLAY_WINDOW = timedelta(days=7)  # a delivery id is remembered this long
# Every refusal answers no sooner than this after the request arrived: an unknown integration (a read that
# finds nothing) and a bad signature or a stale time (a read that finds it) then take the same time.
REFUSAL_FLOOR_SECONDS = 0.05
_STAND_IN_KEY = b"\x00" * 32  # checked against when the integration is unknown: the same work either way
# What an SQS message body may hold (XML 1.0 characters); anything else travels base64-encoded.
_SQS_TEXT = re.compile("^[\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")

UNAUTHORIZED = {
    "error": {
        "code": "Unauthorized",
        "message": "the webhook's signature could not be verified for this endpoint",
        "details": [],
    }
}
TOO_LARGE = {
    "error": {
        "code": "PayloadTooLarge",
        "message": f"the body is larger than {MAX_BODY_BYTES} bytes",
        "details": [],
    }
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


SendToQueue = Callable[[str, dict[str, dict[str, str]]], None]


def receive(
    table: Table,
    master_key: Callable[[], bytes],
    send: SendToQueue,
    integration_id: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> Answer:
    """One webhook: 413 if too large; 401 unless signed with the integration's key and fresh; 200 for a
    delivery already queued (nothing more happens); else queued for the processor and 202."""
    started = time.monotonic()
    now = now or utc_now()
    if len(body) > MAX_BODY_BYTES:
        _refused("TooLarge")
        return Answer(413, TOO_LARGE)
    item = table.get(keys.integration_key(integration_id[:128]))  # read even for a made-up id: same time
    scheme = Scheme(item["scheme"]) if item else _scheme_of(headers)
    master = master_key()  # read (from the warm cache) whether or not the integration is known
    candidates = valid_keys(master, item, now) if item else [_STAND_IN_KEY]
    verdict = verify(scheme, candidates, headers, body, now)
    if item is None or item.get("entity") != "Integration" or not verdict.accepted:
        reason = "UnknownIntegration" if item is None else ("BadSignature" if not verdict.signed else "Stale")
        _refused(reason)
        logger.info("webhook refused", extra={"integrationId": integration_id[:64], "reason": reason})
        time.sleep(max(0.0, REFUSAL_FLOOR_SECONDS - (time.monotonic() - started)))
        return Answer(401, UNAUTHORIZED)
    delivery_id = _short(verdict.delivery_id)
    marker = keys.inbound_delivery_key(integration_id, delivery_id)
    epoch = int(now.timestamp())
    try:
        table.transact(
            [
                conditional.inbound_delivery_claim(
                    marker,
                    now=iso_z(now),
                    expires_at=epoch + int(REPLAY_WINDOW.total_seconds()),
                    now_epoch=epoch,
                )
            ]
        )
    except Conflict:
        metrics.add_metric(name="WebhooksReplayed", unit=MetricUnit.Count, value=1)
        return Answer(200, {"received": True, "deliveryId": delivery_id, "duplicate": True})
    send(*_message(item, delivery_id, body, now))
    table.transact([conditional.inbound_delivery_queued(marker, at=iso_z(now))])
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    return Answer(202, {"received": True, "deliveryId": delivery_id})


def _short(delivery_id: str) -> str:
    """A delivery id fit for a key (DynamoDB's sort key holds 1 KB): a long one is known by its hash."""
    if len(delivery_id.encode()) <= 200:
        return delivery_id
    return "sha256:" + hashlib.sha256(delivery_id.encode()).hexdigest()


def _scheme_of(headers: Mapping[str, str]) -> Scheme:
    """The scheme an unknown integration's sender seems to use: checked as it would be, the same work."""
    if header(headers, "X-Hub-Signature-256"):
        return Scheme.GITHUB
    if header(headers, "X-Shopify-Hmac-Sha256"):
        return Scheme.SHOPIFY
    return Scheme.STANDARD_WEBHOOKS


def _refused(reason: str) -> None:
    metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"WebhooksRefused{reason}", unit=MetricUnit.Count, value=1)


def _message(item: Mapping[str, Any], delivery_id: str, body: bytes, now: datetime) -> tuple[str, dict]:
    """The queued message: the body as sent (text, or base64 when it is not SQS-safe text) and what the
    processor needs to know about it as attributes."""
    try:
        text, encoding = body.decode("utf-8"), "text"
        if not _SQS_TEXT.match(text):
            raise UnicodeDecodeError("utf-8", body, 0, 1, "not SQS text")
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode(), "base64"
    attributes = {
        "integrationId": item["integrationId"],
        "kind": item["kind"],
        "deliveryId": delivery_id,
        "receivedAt": iso_z(now),
        "encoding": encoding,
    }
    return text or json.dumps(None), {
        name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
    }
