"""Opaque next-page tokens that a caller can pass back but cannot forge into other keys.

A token carries DynamoDB's LastEvaluatedKey and the scope of the query that produced it, signed
with the stack's secret (HMAC-SHA256). A token from another query, an edited token or one signed
by another stack is refused as bad input instead of reading somewhere it should not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from oms.errors import InvalidNextToken

_SIGNATURE_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pagination secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._secret, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[
            :_SIGNATURE_BYTES
        ]

    def encode(self, last_key: dict[str, Any], scope: str) -> str:
        payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._sign(scope, payload))}"

    def decode(self, token: str, scope: str) -> dict[str, Any]:
        try:
            payload_text, signature_text = token.split(".")
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except (ValueError, binascii.Error):
            raise InvalidNextToken.for_field("nextToken", "is not a token this API issued") from None
        if not hmac.compare_digest(signature, self._sign(scope, payload)):
            raise InvalidNextToken.for_field("nextToken", "does not belong to this query")
        key = json.loads(payload)
        if not isinstance(key, dict):
            raise InvalidNextToken.for_field("nextToken", "is not a token this API issued")
        return key
