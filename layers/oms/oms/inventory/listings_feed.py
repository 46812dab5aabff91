"""A burst's listing quantities sent to Amazon in bulk: one JSON_LISTINGS_FEED instead of thousands of patches.

patchListingsItem takes 5 SKUs a second, so after a Prime Day burst the last quantities reached Amazon
minutes late (an hour, estimated, at 50,000 notifications: docs/scaling.md). `sync_with_feeds` (function
sync_listings) plans each changed SKU of a stream batch once, with its latest quantity (oms.inventory.listings:
Amazon already holding it, or a feed on its way carrying it, means nothing to send), then:

- up to `feed_threshold` quantities (default 150: 30 seconds of patches): one patchListingsItem each, as before;
- more: the SKUs running lowest (at most `low_stock` units, the ones a buyer can oversell; at most
  `feed_threshold` of them) are still patched at once, and the rest go in one JSON_LISTINGS_FEED per
  marketplace (createFeedDocument, the upload, createFeed). When the shared budget has no token now for
  createFeed (Amazon: 0.0083 a second after a burst of 15) or for a listings feed (Amazon: 5 per 5 minutes
  and region), the low ones are still patched and the rest wait for the next feed: one marker per SKU
  (LISTINGS#WANTED), and `send_wanted` (function send_listing_feed, every minute) sends every SKU waiting
  in one feed with its latest quantity, so a burst's many batches make one feed a minute between them
  instead of patching at 5 a second (decision 106).

The feed is recorded (FEED#<id>, LISTINGS: each SKU's quantity) and each Listing record names it
(`pendingFeed`) only after createFeed answered; the stream batch is acknowledged after that. A crash before
(between the upload and createFeed included) leaves the batch unacknowledged: it comes again and plans again
from the current rows, so nothing is lost; a document uploaded and never named in a feed is simply never
processed. A crash after createFeed and before the record sends the same quantities in a second feed (Amazon
processes a seller's feeds in order; a quantity is absolute, so twice is harmless) and the first feed's
notification finds no record and is ignored.

`apply_feed_finished` (FEED_PROCESSING_FINISHED, or `settle_pending_feeds`: inventory_sync asks getFeed about a
feed still pending after SETTLE_AFTER, its notification lost or late) settles it through `settle_feed`, once:
each feed has a PendingListingFeed marker from before its record until it is settled, and a settler first
takes the marker's lease (SETTLING). It reads the JSON processing
report: a SKU whose message has an ERROR issue is flagged on its Listing record (`refusal`, counted as
ListingPushesRefused, as a refused patch is) and tried again at its next change or inventory_sync's read-back;
the others are recorded as what Amazon shows (a feed Amazon did not process, FATAL or CANCELLED, is sent again
whole). Then every SKU of the feed whose quantity moved again while the
feed waited (or was patched meanwhile, which the feed, processed later, would undo) is sent again: patched,
or in a follow-up feed when there are many.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from oms.amazon.client import region_of
from oms.amazon.feeds_api import (
    FeedProcessingFinishedPayload,
    create_feed,
    get_feed,
    read_feed_document,
    upload_feed_document,
)
from oms.amazon.notifications import Notification, Outcome
from oms.amazon.rate_budget import BudgetExhausted, BudgetUnavailable
from oms.domain.listings_feed import CONTENT_TYPE, FEED_TYPE, quantity_feed, read_processing_report
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, VersionConflict
from oms.inventory.listings import BatchResult, ListingSync, Push, PushReport, changed_skus
from oms.observability import logger, metrics
from oms.store import conditional, keys
from oms.store.table import Item

FEED_ENTITY = "ListingFeed"
PENDING_FEED_ENTITY = "PendingListingFeed"
FINISHED = frozenset({"DONE", "CANCELLED", "FATAL"})  # getFeed's processingStatus once Amazon is done
SETTLE_AFTER = timedelta(minutes=5)  # a feed's notification is waited for this long before getFeed is asked
SETTLING = timedelta(minutes=10)  # a settler's lease on the feed: one that died is taken over after it
WANTED_ENTITY = "WantedListing"
FEED_THRESHOLD = 150  # more quantities than 30 s of patches (Amazon's 5 a second) go in a feed
LOW_STOCK = 5  # quantities at or below this are patched at once even in a burst: they are what oversells
FEED_WAIT = 1.0  # seconds a feed call may wait for the shared budget before the batch is patched instead
MAX_FEED_SKUS = 5_000  # per feed record (an item holds each SKU's quantity; DynamoDB's 400 KB per item)


class FeedUnavailable(Exception):
    """No createFeedDocument or createFeed token now: send the quantities one patch each instead."""


# --------------------------------------------------------------------------- the stream batch


def sync_with_feeds(
    sync: ListingSync,
    records: list[Mapping[str, Any]],
    *,
    keep_going: Callable[[], bool] = lambda: True,
    feed_threshold: int | None = None,
    low_stock: int | None = None,
) -> BatchResult:
    """Each changed SKU of the batch planned once; a large plan goes mostly in a listings feed. The first
    patch that fails (or the first left when time runs short) is reported, and the batch retried from it."""
    feed_threshold = FEED_THRESHOLD if feed_threshold is None else feed_threshold
    low_stock = LOW_STOCK if low_stock is None else low_stock
    report = PushReport()
    skus = changed_skus(records)
    if not skus:
        return BatchResult(report, None)
    first = next(iter(skus.values()))
    planned: list[tuple[str, Push]] = []  # (sequence number of the SKU's first record, push)
    for sku, sequence in skus.items():
        if not keep_going():  # nothing sent yet: the whole batch comes again
            logger.info("time is short; the batch is retried", extra={"sku": sku})
            return BatchResult(report, first)
        try:
            planned += [(sequence, push) for push in sync.plan(sku, report)]
        except Exception:
            logger.exception("reading a SKU's quantity failed; the batch is retried", extra={"sku": sku})
            return BatchResult(report, first)
    if len(planned) > feed_threshold:
        urgent, bulk = split_urgent(planned, feed_threshold=feed_threshold, low_stock=low_stock)
        try:
            send_feeds(sync, [push for _, push in bulk], report)
        except FeedUnavailable as why:
            logger.info(
                "no feed token now; the quantities wait for the next feed", extra={"reason": str(why)}
            )
            try:
                want(sync, [push for _, push in bulk], report)
            except Exception:
                logger.exception("leaving quantities for the next feed failed; the batch is retried")
                return BatchResult(report, first)
        except Exception:
            logger.exception("sending a listings feed failed; the batch is retried")
            return BatchResult(report, first)
        planned = urgent
    return _patch_all(sync, planned, report, keep_going)


def split_urgent(
    planned: Sequence[tuple[str, Push]], *, feed_threshold: int, low_stock: int
) -> tuple[list[tuple[str, Push]], list[tuple[str, Push]]]:
    """(patched now, in stream order; sent in a feed): the lowest quantities, at most `low_stock` units and
    at most `feed_threshold` of them, are patched; the rest go in the feed."""
    low = sorted(
        (i for i, (_, push) in enumerate(planned) if push.quantity <= low_stock),
        key=lambda i: (planned[i][1].quantity, i),
    )[:feed_threshold]
    chosen = set(low)
    urgent = [planned[i] for i in range(len(planned)) if i in chosen]
    bulk = [planned[i] for i in range(len(planned)) if i not in chosen]
    return urgent, bulk


def _patch_all(
    sync: ListingSync,
    planned: Sequence[tuple[str, Push]],
    report: PushReport,
    keep_going: Callable[[], bool],
) -> BatchResult:
    for sequence, push in planned:
        if not keep_going():
            logger.info("time is short; the rest of the batch is retried", extra={"sku": push.sku})
            return BatchResult(report, sequence)
        try:
            sync.patch(push.sku, push.marketplace_id, push.quantity, report, record=push.record)
        except Exception:
            logger.exception(
                "pushing a listing quantity failed; retried from its record", extra={"sku": push.sku}
            )
            return BatchResult(report, sequence)
    return BatchResult(report, None)


# --------------------------------------------------------------------------- sending a feed


def send_feeds(sync: ListingSync, pushes: Sequence[Push], report: PushReport) -> list[str]:
    """One JSON_LISTINGS_FEED per marketplace (and per MAX_FEED_SKUS): its id. Raises FeedUnavailable when
    the budget has no token for the first feed now; any other failure raises (the batch is retried)."""
    by_marketplace: dict[str, list[Push]] = defaultdict(list)
    for push in pushes:
        by_marketplace[push.marketplace_id].append(push)
    sent: list[str] = []
    for marketplace_id, group in by_marketplace.items():
        for start in range(0, len(group), MAX_FEED_SKUS):
            sent.append(send_feed(sync, marketplace_id, group[start : start + MAX_FEED_SKUS], report))
    return sent


def send_feed(sync: ListingSync, marketplace_id: str, pushes: Sequence[Push], report: PushReport) -> str:
    content = quantity_feed(sync.seller_id, [(push.sku, push.quantity) for push in pushes])
    region = region_of(marketplace_id)
    if sync.client.token_wait(region, "createFeed") > FEED_WAIT:  # spend no feed token or document on it
        raise FeedUnavailable("no createFeed token now")
    try:
        sync.client.take(region, FEED_TYPE, max_wait=FEED_WAIT)  # 5 per 5 minutes
        document_id = upload_feed_document(
            sync.client, marketplace_id, content, content_type=CONTENT_TYPE, max_wait=FEED_WAIT
        )
        feed_id = create_feed(sync.client, marketplace_id, FEED_TYPE, document_id, max_wait=FEED_WAIT)
    except BudgetExhausted as error:
        raise FeedUnavailable(str(error)) from error
    now = iso_z(utc_now())
    # the marker first: a feed recorded is always found by settle_pending_feeds (a marker without its record,
    # left by a crash in between, is deleted there)
    sync.table.put(
        {
            **keys.pending_listing_feed_key(now, feed_id),
            "entity": PENDING_FEED_ENTITY,
            "feedId": feed_id,
            "sentAt": now,
        }
    )
    sync.table.put(
        {
            **keys.listing_feed_key(feed_id),
            "entity": FEED_ENTITY,
            "feedId": feed_id,
            "marketplaceId": marketplace_id,
            "documentId": document_id,
            "skus": [[push.sku, push.quantity] for push in pushes],  # message i+1 is skus[i]
            "sentAt": now,
            "pendingMarker": True,
        }
    )
    for push in pushes:
        base = push.record or _new_record(push.sku, marketplace_id)
        sync.table.put({**base, "pendingFeed": {"feedId": feed_id, "quantity": push.quantity, "at": now}})
    report.fed += len(pushes)
    report.feeds += 1
    metrics.add_metric(name="ListingFeedsSent", unit=MetricUnit.Count, value=1)
    logger.info("listing quantities sent in a feed", extra={"feedId": feed_id, "skus": len(pushes)})
    return feed_id


def _new_record(sku: str, marketplace_id: str) -> Item:
    from oms.inventory.listings import LISTING_ENTITY

    return {
        **keys.listing_key(sku, marketplace_id),
        "entity": LISTING_ENTITY,
        "sku": sku,
        "marketplaceId": marketplace_id,
    }


# --------------------------------------------------------------------------- the next feed (every minute)


def want(sync: ListingSync, pushes: Sequence[Push], report: PushReport) -> None:
    """Leave each SKU of `pushes` for the next listings feed: a marker per SKU (its quantity is read again
    when the feed is made), written before the stream batch is acknowledged, so a crash loses none."""
    wanted_by = uuid.uuid4().hex
    now = iso_z(utc_now())
    skus = list(dict.fromkeys(push.sku for push in pushes))
    for sku in skus:
        sync.table.put(
            {
                **keys.wanted_listing_key(sku),
                "entity": WANTED_ENTITY,
                "sku": sku,
                "wantedBy": wanted_by,
                "at": now,
            }
        )
    report.wanted += len(skus)


def send_wanted(
    sync: ListingSync,
    *,
    keep_going: Callable[[], bool] = lambda: True,
    feed_threshold: int | None = None,
    low_stock: int | None = None,
) -> PushReport:
    """Every SKU waiting for a listings feed, planned with its latest quantity and sent as a stream batch's
    would be: past `feed_threshold` the low ones patched and the rest in one feed per marketplace, else
    patched. A SKU's marker goes once its quantity is sent (or Amazon has it); a SKU not sent (no feed token
    now, a patch failed, time ran short) keeps it for the next run, and one wanted again since keeps it too."""
    feed_threshold = FEED_THRESHOLD if feed_threshold is None else feed_threshold
    low_stock = LOW_STOCK if low_stock is None else low_stock
    report = PushReport()
    markers: dict[str, Item] = {}
    planned: list[tuple[str, Push]] = []
    for marker in sync.table.query_all(keys.wanted_listings(), consistent=True):
        if not keep_going():
            break
        sku = str(marker["sku"])
        markers[sku] = marker
        planned += [(sku, push) for push in sync.plan(sku, report)]
    unsent: set[str] = set()
    if len(planned) > feed_threshold:
        urgent, bulk = split_urgent(planned, feed_threshold=feed_threshold, low_stock=low_stock)
        try:
            send_feeds(sync, [push for _, push in bulk], report)
        except FeedUnavailable as why:
            logger.info("no feed token now; the quantities wait for the next run", extra={"reason": str(why)})
            unsent |= {sku for sku, _ in bulk}
        planned = urgent
    for index, (sku, push) in enumerate(planned):
        if not keep_going():
            unsent |= {sku for sku, _ in planned[index:]}
            break
        try:
            sync.patch(push.sku, push.marketplace_id, push.quantity, report, record=push.record)
        except Exception:
            logger.exception(
                "pushing a listing quantity failed; it waits for the next run", extra={"sku": sku}
            )
            unsent |= {sku for sku, _ in planned[index:]}
            break
    for sku, marker in markers.items():
        if sku in unsent:
            continue
        with contextlib.suppress(VersionConflict):  # wanted again since: the next run sends it
            sync.table.transact(
                [conditional.delete_wanted_listing(keys.wanted_listing_key(sku), marker["wantedBy"])]
            )
    metrics.add_metric(name="ListingQuantitiesWaiting", unit=MetricUnit.Count, value=len(unsent))
    return report


# --------------------------------------------------------------------------- the feed's result


def apply_feed_processing_finished(
    envelope: Notification, *, seller_id: str, marketplaces: list[str]
) -> Outcome:
    """The notification router's entry (the ingest function's table and SP-API client)."""
    from oms.amazon.client import default_client
    from oms.store.default import default_table

    sync = ListingSync(default_table(), default_client(), seller_id=seller_id, marketplaces=marketplaces)
    return apply_feed_finished(sync, envelope)


def is_listings_feed(envelope: Notification) -> bool:
    return FeedProcessingFinishedPayload.model_validate(envelope.payload).notification.feed_type == FEED_TYPE


def apply_feed_finished(sync: ListingSync, envelope: Notification) -> Outcome:
    finished = FeedProcessingFinishedPayload.model_validate(envelope.payload).notification
    record = sync.table.get(keys.listing_feed_key(finished.feed_id), consistent=True)
    if record is None:
        logger.info("a listings feed this stack did not record finished", extra={"feedId": finished.feed_id})
        return Outcome.STALE
    changed = settle_feed(
        sync,
        record,
        processing_status=finished.processing_status,
        report_document_id=finished.result_feed_document_id,
    )
    return Outcome.APPLIED if changed else Outcome.DUPLICATE


def settle_feed(
    sync: ListingSync, record: Item, *, processing_status: str, report_document_id: str | None
) -> bool:
    """Each SKU of the feed recorded as accepted or refused, then those that moved since sent again.
    False when the feed was settled before (a second notification, or the pending feeds' pass), or is being
    settled now by another caller (its lease on the feed's pending marker)."""
    if record.get("settledAt"):
        return False
    feed_id, marketplace_id = str(record["feedId"]), str(record["marketplaceId"])
    marker = _pending_marker(record)
    if marker is not None:
        now = utc_now()
        lease = conditional.settlement_lease(
            marker, holder=uuid.uuid4().hex, until=iso_z(now + SETTLING), now=iso_z(now)
        )
        try:
            sync.table.transact([lease])
        except (AlreadyExists, VersionConflict):
            return False  # settled meanwhile (the marker is gone), or another caller settles it now
        fresh = sync.table.get(keys.listing_feed_key(feed_id), consistent=True)
        if fresh is None or fresh.get("settledAt"):  # settled between the read and the lease
            sync.table.delete(marker)
            return False
        record = fresh
    entries = [(str(sku), int(quantity)) for sku, quantity in record["skus"]]
    refusals: dict[int, tuple[str, str]] = {}
    if processing_status == "DONE" and report_document_id:
        report = read_processing_report(read_feed_document(sync.client, marketplace_id, report_document_id))
        for number in range(1, len(entries) + 1):
            issue = report.refused(number)
            if issue is not None:
                refusals[number] = (issue.code or "ERROR", issue.message)
    processed = processing_status == "DONE"  # CANCELLED or FATAL: nothing of it was applied
    outcome = PushReport()
    again: list[str] = []
    for number, (sku, quantity) in enumerate(entries, start=1):
        listing = sync.last_accepted(sku, marketplace_id)
        pending = (listing or {}).get("pendingFeed") or {}
        if pending and pending.get("feedId") != feed_id:
            continue  # a later feed carries this SKU; Amazon processes it after this one
        if not processed:  # sent again, whole, by patches or another feed
            if listing is not None:
                sync.table.put(_without_pending(listing) or {})
            again.append(sku)
            continue
        if number in refusals:
            code, message = refusals[number]
            sync.record_refusal(
                sku, marketplace_id, quantity, _without_pending(listing), code=code, message=message
            )
            outcome.refused += 1
            continue
        sync.remember(sku, marketplace_id, quantity, submission_id=feed_id)  # what Amazon shows now
        outcome.pushed += 1
        again.append(sku)
    sync.table.put(
        {**record, "settledAt": iso_z(utc_now()), "accepted": outcome.pushed, "refused": outcome.refused}
    )
    metrics.add_metric(name="ListingQuantitiesPushed", unit=MetricUnit.Count, value=outcome.pushed)
    logger.info(
        "listings feed settled",
        extra={
            "feedId": feed_id,
            "status": processing_status,
            "accepted": outcome.pushed,
            "refused": outcome.refused,
        },
    )
    resend(sync, again)
    if marker is not None:
        try:
            sync.table.delete(marker)
        except Exception:  # the feed is settled: the next pass finds its marker and deletes it
            logger.exception("deleting a settled listings feed's marker failed", extra={"feedId": feed_id})
    return True


def _pending_marker(record: Item) -> dict[str, str] | None:
    """The feed's pending marker (feeds sent before markers existed have none)."""
    if not record.get("pendingMarker"):
        return None
    return keys.pending_listing_feed_key(str(record["sentAt"]), str(record["feedId"]))


def settle_pending_feeds(
    sync: ListingSync, *, now: datetime | None = None, keep_going: Callable[[], bool] = lambda: True
) -> dict[str, int]:
    """The listings feeds sent more than SETTLE_AFTER ago and still not settled (their FEED_PROCESSING_FINISHED
    lost or late): getFeed, and each one Amazon finished settled from its processing report exactly as the
    notification would (`settle_feed`, once). Stops when the budget runs dry; a failure leaves the feed for the
    next run."""
    now = now or utc_now()
    counts = {"pending": 0, "settled": 0, "waiting": 0, "failed": 0}
    for marker in sync.table.query_all(
        keys.pending_listing_feeds(iso_z(now - SETTLE_AFTER)), consistent=True
    ):
        if not keep_going():
            break
        counts["pending"] += 1
        feed_id = str(marker["feedId"])
        try:
            record = sync.table.get(keys.listing_feed_key(feed_id), consistent=True)
            # never recorded (a crash between the marker and the record), or settled: only the marker is left
            if record is None or record.get("settledAt"):
                sync.table.delete(keys.pending_listing_feed_key(str(marker["sentAt"]), feed_id))
                continue
            feed = get_feed(sync.client, str(record["marketplaceId"]), feed_id)
            if feed.processing_status not in FINISHED:
                counts["waiting"] += 1  # still in Amazon's queue: the next run asks again
                continue
            if settle_feed(
                sync,
                record,
                processing_status=feed.processing_status,
                report_document_id=feed.result_feed_document_id,
            ):
                counts["settled"] += 1
                logger.info("a listings feed settled without its notification", extra={"feedId": feed_id})
        except BudgetExhausted as error:
            if not isinstance(error, BudgetUnavailable):
                logger.info("pending listings feeds: the rate budget is spent until the next run")
                break
            counts["failed"] += 1
        except Exception as error:
            counts["failed"] += 1
            logger.warning(
                "settling a pending listings feed failed; the next run tries again",
                extra={"feedId": feed_id, "error": f"{type(error).__name__}: {error}"},
            )
    if counts["settled"]:
        metrics.add_metric(name="ListingFeedsSettledByCheck", unit=MetricUnit.Count, value=counts["settled"])
    return counts


def resend(sync: ListingSync, skus: Iterable[str]) -> PushReport:
    """The SKUs whose quantity moved while their feed waited, sent again (patched, or in a feed when many,
    or left for the next feed when there is no feed token now).
    A failure here is logged, not raised: the feed's result is recorded, and the SKU's next change or
    inventory_sync's read-back sends it."""
    report = PushReport()
    try:
        planned = [push for sku in skus for push in sync.plan(sku, report)]
        if len(planned) > FEED_THRESHOLD:
            try:
                send_feeds(sync, planned, report)
            except FeedUnavailable:  # the next feed (send_listing_feed, within a minute) takes them
                want(sync, planned, report)
            return report
        for push in planned:
            sync.patch(push.sku, push.marketplace_id, push.quantity, report, record=push.record)
    except Exception:
        logger.exception("sending quantities again after a feed failed; their next change sends them")
    return report


def _without_pending(listing: Item | None) -> Item | None:
    if listing is None:
        return None
    return {k: v for k, v in listing.items() if k != "pendingFeed"}
