"""Deliveries signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature v1), with the
`standardwebhooks` library's signer, so any Standard Webhooks verifier accepts them."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not one
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks writes them."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    message_id: str, sent_at: datetime, body: bytes, signing_secrets: Sequence[str]
) -> dict[str, str]:
    """The three headers of one delivery; after a rotation both secrets sign it (space-separated
    signatures), so a receiver still holding the previous secret verifies it until it switches."""
    signatures = " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in signing_secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
    }
