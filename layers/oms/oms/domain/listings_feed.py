"""Amazon's JSON_LISTINGS_FEED for merchant-fulfilled quantities, pure: the document sent and the processing
report read back. No I/O.

The feed carries one PATCH message per SKU, the same `merge` of `/attributes/fulfillment_availability` that
patchListingsItem takes (oms.amazon.listings_api.quantity_patch), so a quantity means the same by either
path. Its shape follows Amazon's listings feed schema (header: sellerId, version "2.0"; messages: messageId,
sku, operationType, productType, patches). The processing report is JSON too: a header, a list of issues
(each naming the messageId it is about, a code, a severity and a message) and a summary; a message with an
issue of severity ERROR was not applied. Amazon takes up to 25,000 messages a feed (since May 2025).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_VERSION = "2.0"
MAX_MESSAGES = 25_000
PRODUCT_TYPE = "PRODUCT"  # a quantity-only patch does not depend on the product type
MERCHANT_CHANNEL = "DEFAULT"


def quantity_feed(seller_id: str, quantities: Sequence[tuple[str, int]]) -> bytes:
    """The feed document: message i+1 sets the i-th SKU's merchant-fulfilled quantity."""
    if not quantities:
        raise ValueError("a listings feed needs at least one SKU")
    if len(quantities) > MAX_MESSAGES:
        raise ValueError(f"a listings feed takes at most {MAX_MESSAGES} SKUs")
    document = {
        "header": {"sellerId": seller_id, "version": FEED_VERSION, "issueLocale": "en_US"},
        "messages": [
            {
                "messageId": number,
                "sku": sku,
                "operationType": "PATCH",
                "productType": PRODUCT_TYPE,
                "patches": [
                    {
                        "op": "merge",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": MERCHANT_CHANNEL, "quantity": quantity}],
                    }
                ],
            }
            for number, (sku, quantity) in enumerate(quantities, start=1)
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode()


@dataclass(frozen=True)
class FeedIssue:
    message_id: int | None
    code: str
    severity: str
    message: str


@dataclass
class ProcessingReport:
    processed: int = 0
    accepted: int = 0
    invalid: int = 0
    errors: dict[int, list[FeedIssue]] = field(default_factory=dict)  # messageId -> its ERROR issues
    feed_errors: list[FeedIssue] = field(default_factory=list)  # ERROR issues naming no message: all failed

    def refused(self, message_id: int) -> FeedIssue | None:
        """The first ERROR issue of a message (None: Amazon applied it)."""
        if self.feed_errors:
            return self.feed_errors[0]
        issues = self.errors.get(message_id)
        return issues[0] if issues else None


def read_processing_report(data: bytes) -> ProcessingReport:
    """Amazon's JSON processing report of a listings feed. A report that cannot be read raises ValueError."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"the listings feed's processing report is not JSON: {error}") from error
    if not isinstance(body, Mapping):
        raise ValueError("the listings feed's processing report is not a JSON object")
    summary = body.get("summary") or {}
    report = ProcessingReport(
        processed=int(summary.get("messagesProcessed", 0)),
        accepted=int(summary.get("messagesAccepted", 0)),
        invalid=int(summary.get("messagesInvalid", 0)),
    )
    for raw in body.get("issues") or []:
        issue = _issue(raw)
        if issue.severity != "ERROR":
            continue
        if issue.message_id is None:
            report.feed_errors.append(issue)
        else:
            report.errors.setdefault(issue.message_id, []).append(issue)
    return report


def _issue(raw: Any) -> FeedIssue:
    raw = raw if isinstance(raw, Mapping) else {}
    message_id = raw.get("messageId")
    return FeedIssue(
        message_id=int(message_id)
        if isinstance(message_id, int | str) and str(message_id).isdigit()
        else None,
        code=str(raw.get("code", "")),
        severity=str(raw.get("severity", "ERROR")),
        message=str(raw.get("message", "")),
    )
