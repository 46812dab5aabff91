"""The Feeds API (2021-06-30) of the local marketplace, for order adjustments (POST_PAYMENT_ADJUSTMENT_DATA):
the document upload to a presigned-like URL, createFeed, processing a few seconds later, the XML processing
report, FEED_PROCESSING_FINISHED, and the refund event Finances shows later (finances_api).

Amazon's checks are played: an adjustment of an unknown order or item, of an order Amazon fulfilled, or of
more than the buyer paid (item price per line, and the order's total, less what was refunded before) is an
error result in the processing report; so is a small random share (`refund_refusal_probability`) and the
next N adjustments after POST /_simulator/refunds/refuse {"count": N}.

Listings feeds (JSON_LISTINGS_FEED, issue 15): each PATCH message sets a listing's merchant-fulfilled quantity
as patchListingsItem does, after Amazon's queue (`listings_feed_queue_seconds` plus
`listings_feed_seconds_per_message`); the processing report is Amazon's JSON one (header, issues naming their
messageId with severity ERROR, summary). A message that is not a quantity patch of a SKU, or names a SKU in
`refuse_listing_skus` (POST /_simulator/listings/refuse {"skus": [...]}: a test's lever), is an ERROR issue and
changes nothing. Other feed types are taken and processed as DONE with an empty report.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml import ElementTree as SafeET

from oms_local.simulator import contract, shapes
from oms_local.simulator.config import DOCUMENTS_PATH
from oms_local.simulator.entities import Order
from oms_local.simulator.market_core import ApiError, MarketCore, invalid

ADJUSTMENT_FEED = "POST_PAYMENT_ADJUSTMENT_DATA"
LISTINGS_FEED = "JSON_LISTINGS_FEED"
LISTINGS_FEEDS_PER_WINDOW, LISTINGS_FEED_WINDOW = 5, timedelta(minutes=5)
# The processing report's codes the simulator uses (Amazon's reports carry a numeric code with the words).
AMOUNT_TOO_HIGH = "18028"
NOT_ADJUSTABLE = "18027"
RANDOM_REFUSAL = "25"


@dataclass
class FeedDocument:
    document_id: str
    content_type: str
    content: bytes | None = None  # None until uploaded


@dataclass
class FeedRecord:
    feed_id: str
    feed_type: str
    marketplace_ids: list[str]
    created: datetime
    input_document_id: str
    status: str = "IN_QUEUE"
    started: datetime | None = None
    ended: datetime | None = None
    result_document_id: str | None = None


@dataclass
class RefundPosting:
    """A refund Amazon made to a buyer, shown in Finances (RefundEventList) from `posted`."""

    order_id: str
    posted: datetime
    items: list[tuple[str, str, str, dict[str, Decimal]]]  # (sku, order item id, adjustment id, charges)


@dataclass
class FeedsState:
    documents: dict[str, FeedDocument] = field(default_factory=dict)
    feeds: dict[str, FeedRecord] = field(default_factory=dict)
    refunds: list[RefundPosting] = field(default_factory=list)
    refuse_next: int = 0
    refuse_listing_skus: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FeedsApi(MarketCore):
    """createFeedDocument, createFeed, getFeed, getFeedDocument and the documents' bytes."""

    @property
    def feeds_state(self) -> FeedsState:
        state = self.__dict__.get("_feeds_state")
        if state is None:
            state = self.__dict__.setdefault("_feeds_state", FeedsState())
        return state

    def _document_url(self, document_id: str) -> str:
        return f"{self.image_base}{DOCUMENTS_PATH}{document_id}"

    def create_feed_document(self, request: Any) -> dict[str, Any]:
        problems = contract.request_body_problems("createFeedDocument", request)
        if problems:
            raise invalid("Invalid Input", "; ".join(problems[:3]))
        document_id = f"amzn1.tortuga.4.na.{self._uuid()}"
        with self.feeds_state.lock:
            self.feeds_state.documents[document_id] = FeedDocument(document_id, str(request["contentType"]))
        return {"feedDocumentId": document_id, "url": self._document_url(document_id)}

    def put_document(self, document_id: str, content: bytes) -> bool:
        """The upload to the URL createFeedDocument gave (no token, like S3's presigned URL)."""
        with self.feeds_state.lock:
            document = self.feeds_state.documents.get(document_id)
            if document is None or ".report." in document_id:  # reports are Amazon's to write
                return False
            document.content = content
            return True

    def get_document(self, document_id: str) -> bytes | None:
        with self.feeds_state.lock:
            document = self.feeds_state.documents.get(document_id)
            return document.content if document else None

    def create_feed(self, request: Any) -> dict[str, Any]:
        problems = contract.request_body_problems("createFeed", request)
        if problems:
            raise invalid("Invalid Input", "; ".join(problems[:3]))
        if list(request["marketplaceIds"]) != [self.marketplace_id]:
            raise invalid(
                "Invalid Input", f"marketplaceIds takes this seller's marketplace ({self.marketplace_id})."
            )
        with self.feeds_state.lock:
            document = self.feeds_state.documents.get(request["inputFeedDocumentId"])
            if document is None or document.content is None:
                raise invalid("Invalid Input", "inputFeedDocumentId names no uploaded feed document.")
            if request["feedType"] == LISTINGS_FEED:  # Amazon: 5 listings feeds per 5 minutes and region
                recent = [
                    f
                    for f in self.feeds_state.feeds.values()
                    if f.feed_type == LISTINGS_FEED and f.created > self.clock() - LISTINGS_FEED_WINDOW
                ]
                if len(recent) >= LISTINGS_FEEDS_PER_WINDOW:
                    raise ApiError(
                        429, "QuotaExceeded", "You exceeded your quota for the requested resource."
                    )
            feed_id = str(50_000_000_000 + len(self.feeds_state.feeds) + 1 + self.rng.randint(0, 999) * 1000)
            while feed_id in self.feeds_state.feeds:
                feed_id = str(int(feed_id) + 1)
            self.feeds_state.feeds[feed_id] = FeedRecord(
                feed_id,
                request["feedType"],
                list(request["marketplaceIds"]),
                self.clock(),
                document.document_id,
            )
        self._later(
            self._processing_seconds(request["feedType"], document), lambda: self._process_feed(feed_id)
        )
        return {"feedId": feed_id}

    def _processing_seconds(self, feed_type: str, document: FeedDocument) -> tuple[float, float]:
        if feed_type != LISTINGS_FEED:
            return self.config.feed_processing_seconds
        messages = (document.content or b"").count(b'"messageId"')
        extra = messages * self.config.listings_feed_seconds_per_message
        low, high = self.config.listings_feed_queue_seconds
        return (low + extra, high + extra)

    def refuse_listings(self, skus: list[str]) -> list[str]:
        """Messages of listings feeds naming these SKUs come back with an ERROR issue (a test's lever)."""
        with self.feeds_state.lock:
            self.feeds_state.refuse_listing_skus |= set(skus)
            return sorted(self.feeds_state.refuse_listing_skus)

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        with self.feeds_state.lock:
            feed = self.feeds_state.feeds.get(feed_id)
            if feed is None:
                raise ApiError(404, "NotFound", f"Feed {feed_id} was not found.")
            body: dict[str, Any] = {
                "feedId": feed.feed_id,
                "feedType": feed.feed_type,
                "marketplaceIds": feed.marketplace_ids,
                "createdTime": shapes.iso(feed.created),
                "processingStatus": feed.status,
            }
            if feed.started:
                body["processingStartTime"] = shapes.iso(feed.started)
            if feed.ended:
                body["processingEndTime"] = shapes.iso(feed.ended)
            if feed.result_document_id:
                body["resultFeedDocumentId"] = feed.result_document_id
            return body

    def get_feeds(
        self, feed_types: list[str], created_since: str | None, next_token: str | None
    ) -> dict[str, Any]:
        """getFeeds: the seller's feeds of the types asked, created since the time given, newest first (one
        page: the simulator never holds more than a page's worth in a test)."""
        if next_token:
            raise invalid("Invalid Input", "nextToken is not valid.")
        if not feed_types:
            raise invalid("Invalid Input", "feedTypes is required unless nextToken is given.")
        since = datetime.fromisoformat(created_since.replace("Z", "+00:00")) if created_since else None
        with self.feeds_state.lock:
            ids = [
                f.feed_id
                for f in sorted(self.feeds_state.feeds.values(), key=lambda f: f.created, reverse=True)
                if f.feed_type in feed_types and (since is None or f.created >= since)
            ]
        return {"feeds": [self.get_feed(feed_id) for feed_id in ids[:100]]}

    def get_feed_document(self, document_id: str) -> dict[str, Any]:
        with self.feeds_state.lock:
            if document_id not in self.feeds_state.documents:
                raise ApiError(404, "NotFound", f"Feed document {document_id} was not found.")
        return {"feedDocumentId": document_id, "url": self._document_url(document_id)}

    def refuse_adjustments(self, count: int) -> int:
        """The next `count` order adjustments come back refused (a test's or a demo's lever)."""
        with self.feeds_state.lock:
            self.feeds_state.refuse_next = count
            return count

    # ------------------------------------------------------------------ processing

    def _process_feed(self, feed_id: str) -> None:
        now = self.clock()
        with self.feeds_state.lock:
            feed = self.feeds_state.feeds[feed_id]
            document = self.feeds_state.documents[feed.input_document_id]
            content = document.content or b""
        results: list[tuple[str, str, str]] = []  # (message id, code, description) of each error
        processed = 0
        if feed.feed_type == ADJUSTMENT_FEED:
            processed, results = self._adjust(content, now)
        report_id = f"amzn1.tortuga.4.na.report.{self._uuid()}"
        if feed.feed_type == LISTINGS_FEED:
            report = self._listings_feed(feed_id, content, now)
        else:
            report = processing_report(feed_id, self.seller_id, processed, results)
        with self.feeds_state.lock:
            self.feeds_state.documents[report_id] = FeedDocument(report_id, "text/xml", report)
            feed.started, feed.ended, feed.status = now, now, "DONE"
            feed.result_document_id = report_id
        notice = {
            "notificationVersion": "2020-09-04",
            "notificationType": "FEED_PROCESSING_FINISHED",
            "payloadVersion": "2020-09-04",
            "eventTime": shapes.iso_ms(now),
            "payload": {
                "feedProcessingFinishedNotification": {
                    "sellerId": self.seller_id,
                    "accountId": f"amzn1.merchant.o.{self.seller_id}",
                    "feedId": feed_id,
                    "feedType": feed.feed_type,
                    "processingStatus": "DONE",
                    "resultFeedDocumentId": report_id,
                }
            },
            "notificationMetadata": {
                "applicationId": self.application_id,
                "subscriptionId": self.subscription_id,
                "publishTime": shapes.iso_ms(now),
                "notificationId": self._uuid(),
            },
        }
        self._publish([notice])

    def _listings_feed(self, feed_id: str, content: bytes, now: datetime) -> bytes:
        """Each PATCH message applied as patchListingsItem would; the JSON processing report."""
        issues: list[dict[str, Any]] = []
        processed = accepted = 0
        try:
            body = json.loads(content)
            messages = body["messages"]
            if not isinstance(messages, list):
                raise TypeError("messages is not a list")
        except (ValueError, KeyError, TypeError) as error:
            issues.append(
                {"code": "100001", "severity": "ERROR", "message": f"The feed is not valid JSON: {error}"}
            )
            messages = []
        with self.feeds_state.lock:
            refused = set(self.feeds_state.refuse_listing_skus)
        for message in messages:
            processed += 1
            message_id = message.get("messageId") if isinstance(message, dict) else None
            problem = self._listing_message(message, refused, now)
            if problem:
                issues.append(
                    {
                        "messageId": message_id,
                        "code": problem[0],
                        "severity": "ERROR",
                        "message": problem[1],
                        **({"sku": message["sku"]} if isinstance(message, dict) and "sku" in message else {}),
                    }
                )
            else:
                accepted += 1
        report = {
            "header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed_id},
            "issues": issues,
            "summary": {
                "errors": sum(1 for i in issues if i["severity"] == "ERROR"),
                "warnings": 0,
                "messagesProcessed": processed,
                "messagesAccepted": accepted,
                "messagesInvalid": processed - accepted,
            },
        }
        return json.dumps(report).encode()

    def _listing_message(self, message: Any, refused: set[str], now: datetime) -> tuple[str, str] | None:
        if not isinstance(message, dict) or not isinstance(message.get("sku"), str):
            return "100002", "The message names no SKU."
        sku = message["sku"]
        if message.get("operationType") != "PATCH":
            return "100003", "The simulator takes PATCH messages only."
        quantities = [
            entry.get("quantity")
            for patch in message.get("patches") or []
            if isinstance(patch, dict)
            and patch.get("path") == "/attributes/fulfillment_availability"
            and patch.get("op") in ("merge", "replace")
            for entry in patch.get("value") or []
            if isinstance(entry, dict) and entry.get("fulfillment_channel_code") == "DEFAULT"
        ]
        if len(quantities) != 1 or not isinstance(quantities[0], int) or isinstance(quantities[0], bool):
            return (
                "90220",
                "fulfillment_availability needs fulfillment_channel_code DEFAULT and a whole quantity.",
            )
        if quantities[0] < 0:
            return "90220", "The quantity must be at least 0."
        if sku in refused:
            return "4000003", f"The listing for SKU '{sku}' cannot be updated now. Please try again later."
        with self._lock:
            product = self.catalogue.ensure(sku)
            listing = self._list(product, now)
            listing.quantity = quantities[0]
            listing.updated = now
        return None

    def _adjust(self, content: bytes, now: datetime) -> tuple[int, list[tuple[str, str, str]]]:
        try:
            root = SafeET.fromstring(content)
        except SafeET.ParseError as error:
            return 1, [("0", "5000", f"The XML you submitted is ill-formed: {error}")]
        processed = 0
        errors: list[tuple[str, str, str]] = []
        for message in root.findall("Message"):
            processed += 1
            message_id = (message.findtext("MessageID") or "0").strip()
            adjustment = message.find("OrderAdjustment")
            problem = (
                self._apply_adjustment(adjustment, now)
                if adjustment is not None
                else (
                    NOT_ADJUSTABLE,
                    "The message has no OrderAdjustment.",
                )
            )
            if problem:
                errors.append((message_id, *problem))
        return processed, errors

    def _apply_adjustment(self, adjustment: Any, now: datetime) -> tuple[str, str] | None:
        order_id = (adjustment.findtext("AmazonOrderID") or "").strip()
        with self._lock:
            order = self.orders.get(order_id)
            if order is None or order.afn:
                return NOT_ADJUSTABLE, f"Order {order_id} cannot be adjusted by this seller."
            items, problem = self._adjusted_items(order, adjustment)
            if problem:
                return problem
            with self.feeds_state.lock:
                if self.feeds_state.refuse_next > 0:
                    self.feeds_state.refuse_next -= 1
                    return RANDOM_REFUSAL, "The adjustment could not be processed. Please try again later."
            if self.rng.random() < self.config.refund_refusal_probability:
                return RANDOM_REFUSAL, "The adjustment could not be processed. Please try again later."
            # Finances shows it later (up to 48 hours at Amazon; seconds here, tunable)
            posted = now + timedelta(seconds=self.rng.uniform(*self.config.refund_posting_seconds))
            with self.feeds_state.lock:
                self.feeds_state.refunds.append(RefundPosting(order_id, posted, items))
        return None

    def _adjusted_items(
        self, order: Order, adjustment: Any
    ) -> tuple[list[tuple[str, str, str, dict[str, Decimal]]], tuple[str, str] | None]:
        lines = {line.order_item_id: line for line in order.lines}
        before = self._refunded(order.order_id)
        items: list[tuple[str, str, str, dict[str, Decimal]]] = []
        total = Decimal(0)
        for item in adjustment.findall("AdjustedItem"):
            code = (item.findtext("AmazonOrderItemCode") or "").strip()
            line = lines.get(code)
            if line is None:
                return [], (NOT_ADJUSTABLE, f"Order item {code} is not in order {order.order_id}.")
            charges: dict[str, Decimal] = {}
            for component in item.findall("ItemPriceAdjustments/Component"):
                try:
                    amount = Decimal((component.findtext("Amount") or "").strip())
                except InvalidOperation:
                    return [], (NOT_ADJUSTABLE, "An Amount is not a number.")
                kind = (component.findtext("Type") or "").strip()
                charges[kind] = charges.get(kind, Decimal(0)) + amount
            paid = line.unit_price * line.shipped
            principal = charges.get("Principal", Decimal(0)) + before.get((code, "Principal"), Decimal(0))
            if principal > paid:
                return [], (
                    AMOUNT_TOO_HIGH,
                    f"The refund amount for order item {code} exceeds the amount charged ({paid:.2f}).",
                )
            total += sum((v for k, v in charges.items() if k != "RestockingFee"), Decimal(0))
            adjustment_id = (item.findtext("MerchantAdjustmentItemID") or code).strip()
            items.append((line.product.sku, code, adjustment_id, charges))
        charged = sum(
            (line.unit_price * line.shipped for line in order.lines), Decimal(0)
        ) + shapes._shipping_charge(order)
        if total + before.get(("", "total"), Decimal(0)) > charged:
            return [], (
                AMOUNT_TOO_HIGH,
                f"The refund amount exceeds the amount charged for order {order.order_id}.",
            )
        return items, None

    def _refunded(self, order_id: str) -> dict[tuple[str, str], Decimal]:
        """What was refunded on the order so far: per (order item, component), and ("", "total")."""
        done: dict[tuple[str, str], Decimal] = {}
        with self.feeds_state.lock:
            postings = [p for p in self.feeds_state.refunds if p.order_id == order_id]
        for posting in postings:
            for _, code, _, charges in posting.items:
                for kind, amount in charges.items():
                    done[(code, kind)] = done.get((code, kind), Decimal(0)) + amount
                    if kind != "RestockingFee":
                        done[("", "total")] = done.get(("", "total"), Decimal(0)) + amount
        return done


def processing_report(
    feed_id: str, seller_id: str, processed: int, errors: list[tuple[str, str, str]]
) -> bytes:
    """Amazon's XML processing report: a summary and one Result per message with an error."""
    envelope = ET.Element("AmazonEnvelope")
    envelope.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    envelope.set("xsi:noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = seller_id
    ET.SubElement(envelope, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    report = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(report, "DocumentTransactionID").text = feed_id
    ET.SubElement(report, "StatusCode").text = "Complete"
    summary = ET.SubElement(report, "ProcessingSummary")
    failed = len({message_id for message_id, _, _ in errors})
    for name, value in (
        ("MessagesProcessed", processed),
        ("MessagesSuccessful", processed - failed),
        ("MessagesWithError", failed),
        ("MessagesWithWarning", 0),
    ):
        ET.SubElement(summary, name).text = str(value)
    for message_id, code, description in errors:
        result = ET.SubElement(report, "Result")
        ET.SubElement(result, "MessageID").text = message_id
        ET.SubElement(result, "ResultCode").text = "Error"
        ET.SubElement(result, "ResultMessageCode").text = code
        ET.SubElement(result, "ResultDescription").text = description
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(envelope, encoding="utf-8")
