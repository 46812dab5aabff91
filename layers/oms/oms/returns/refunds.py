"""Refunding a return through Amazon, exactly once: recorded pending, sent as an order adjustment feed,
settled by the feed's processing report, confirmed by Amazon's finances.

1. `request_refund` (POST /returns/{returnId}/refund): the refund, pending, written with the return (and an
   open-refund marker, and the order's returns item re-versioned so two returns of one order never together
   refund more than was paid) in one transaction; a retry with the same Idempotency-Key finds it there.
2. `submit_refund` (the submit_refunds function, from the table's stream; the refund check as backstop):
   claims the refund (a versioned write) BEFORE createFeed, then uploads the XML, creates the feed and
   records the feed id with a feed -> return marker. A refund found claimed without a feed id is never sent
   again: the crash came between the claim and the write, so the feed may exist (docs/decisions.md).
3. `apply_feed_finished` (FEED_PROCESSING_FINISHED) reads the processing report: accepted -> submitted and
   the return refunded (the refund clock stops); an error -> refused with Amazon's words, kept on the return,
   which a new POST sends again.
4. `check_refunds` (schedule): submitted refunds confirmed once Amazon's finances show the refund event;
   pending ones whose notification was lost settled from getFeed; unsent ones sent; interrupted ones
   confirmed from finances, or refused after 48 hours with nothing there (then safe to send again).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from oms.amazon.client import SpApiClient, SpApiError
from oms.amazon.feeds_api import (
    FeedProcessingFinishedPayload,
    create_feed,
    feeds_since,
    get_feed,
    read_feed_document,
    upload_feed_document,
)
from oms.amazon.finances_api import refund_events, refund_posted
from oms.amazon.notifications import Notification, Outcome
from oms.amazon.rate_budget import BudgetExhausted, BudgetUnavailable
from oms.domain.refunds import (
    FEED_TYPE,
    RefundAsk,
    adjustment_feed,
    claimed,
    confirmed,
    plan_refund,
    read_processing_report,
    refund_total,
    refused,
    requested,
    same_request,
    sent,
    submitted,
    unclaimed,
)
from oms.domain.returns import RefundStatus, Return
from oms.domain.types import utc_now
from oms.errors import Busy, Conflict
from oms.observability import logger, metrics
from oms.returns.records import ReturnRecords, return_item
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Item, Table, Write, back_off, from_dynamo

_ATTEMPTS = 30
FINANCES_WAIT = timedelta(hours=48)  # Amazon posts a refund event up to 48 hours after the refund
UNSENT_AFTER = timedelta(minutes=2)  # a pending refund the stream has not sent by then is sent by the check
CLAIM_GRACE = timedelta(minutes=5)  # longer than the sender's timeout: a claim this old has no sender left
FINISHED = frozenset({"DONE", "CANCELLED", "FATAL"})
_WRITER = "claimedBy"  # on the return item only until its next write: which sender's claim it is

Change = Callable[[Return], Return | None]


def refund_id_for(idempotency_key: str | None) -> str:
    if idempotency_key:
        return "RF-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12].upper()
    return "RF-" + uuid.uuid4().hex[:12].upper()


def _open_marker(ret: Return) -> Write:
    return Write(
        "Put",
        item={**keys.open_refund_key(ret.return_id), "entity": "OpenRefund", "returnId": ret.return_id},
    )


def _change(
    table: Table,
    return_id: str,
    change: Change,
    extra: Callable[[Return], list[Write]],
    *,
    writer: str | None = None,
) -> Return | None:
    """Apply `change` to the return with a versioned write (and `extra` writes) in one transaction, reading it
    again after a collision; None when `change` says there is nothing to do. `writer` (a one-off id) is kept on
    the item, so a collision with the caller's own write (applied, its answer lost, sent again by the SDK) is
    known as such: the change was made, by this caller."""
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        ret, version = records.read(return_id)
        after = change(ret)
        if after is None:
            return None
        item = {**return_item(after), **({_WRITER: writer} if writer else {})}
        try:
            table.transact([Write.put_versioned(item, version), *extra(after)])
        except Conflict:
            if (
                writer
                and (table.get(keys.return_key(return_id), consistent=True) or {}).get(_WRITER) == writer
            ):
                return after
            back_off(attempt)
            continue
        return after
    raise Busy(f"return {return_id} is changing too fast; try again")


# --- 1. the request ---------------------------------------------------------------------------------


def request_refund(
    table: Table, return_id: str, ask: RefundAsk, *, actor: str, refund_id: str
) -> tuple[Return, bool]:
    """Record the refund pending. (the return, True) when recorded now; (the return, False) for a retry of
    the same request (same refund id). 409 when refunded or being refunded already, or more than was paid."""
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        ret, version = records.read(return_id)
        if ret.refund is not None and ret.refund.refund_id == refund_id:
            if not same_request(ret.refund, ask, ret.received()):
                raise Conflict("this Idempotency-Key was used for a different refund")
            return ret, False
        order = OrderRepository(table).get(ret.order_id)
        marker = table.get(keys.order_returns_key(ret.order_id), consistent=True) or {}
        others = [r for r in records.of_order(ret.order_id, marker) if r.return_id != return_id]
        before = sum((refund_total(other) for other in others), Decimal(0))
        refund = plan_refund(
            ret, order, ask, refund_id=refund_id, at=utc_now(), actor=actor, refunded_before=before
        )
        after = requested(ret, refund)
        writes = [Write.put_versioned(return_item(after), version), _open_marker(after)]
        if marker:  # two returns of one order refunded at once: the second reads the first's refund
            writes.append(Write.put_versioned(marker, int(marker.get("version", 0))))
        try:
            table.transact(writes)
        except Conflict:
            back_off(attempt)
            continue
        return after, True
    raise Busy(f"return {return_id} is changing too fast; try again")


# --- 2. sending -------------------------------------------------------------------------------------


def submit_refund(
    table: Table, client: SpApiClient, return_id: str, *, seller_id: str, sender: str | None = None
) -> str:
    """Send the return's pending refund to Amazon once. What happened: "sent", "refused", "nothing" (no
    pending unsent refund), "interrupted" (claimed before and never recorded: left to the refund check).
    `sender`: who sends, when a retry of the same sender is known to come only after the try before it ended
    (a stream record: Lambda retries a batch once its invocation failed or timed out)."""
    if sender:
        _retake_dead_claim(table, client, return_id, sender)
    now = utc_now()
    outcome = {"claim": "", "marketplace": ""}

    def claim(ret: Return) -> Return | None:
        refund = ret.refund
        if refund is None or refund.status is not RefundStatus.PENDING or refund.feed_id:
            outcome["claim"] = "nothing"
            return None
        if refund.claimed_at is not None:
            outcome["claim"] = "interrupted"
            return None
        # read before the claim: a read that fails (throttled) leaves nothing claimed, so the stream's retry
        # sends it at once instead of leaving it to the refund check's grace period
        outcome["marketplace"] = (
            outcome["marketplace"] or OrderRepository(table).get(ret.order_id).marketplace_id
        )
        return claimed(ret, now)

    # the claim names its sender: when the SDK's retry of the claim meets the claim itself (applied, its answer
    # lost), the sender knows it is its own and sends, instead of leaving it as an interrupted sender's for the
    # refund check's 5-minute grace (found by the fault drill)
    ret = _change(table, return_id, claim, lambda after: [], writer=sender or uuid.uuid4().hex)
    if ret is None:
        return outcome["claim"]
    assert ret.refund is not None
    marketplace = outcome["marketplace"]
    refund_id = ret.refund.refund_id
    try:
        document = upload_feed_document(
            client, marketplace, adjustment_feed(ret.refund, order_id=ret.order_id, seller_id=seller_id)
        )
    except Exception:
        # createFeed not reached (a dropped connection or a timeout on the document): no feed can exist, so the
        # claim is given back and the stream's retry sends it, not the refund check 5 minutes on
        _change(table, return_id, lambda r: _if_ours(r, refund_id, unclaimed), lambda after: [])
        raise
    try:
        feed_id = create_feed(client, marketplace, FEED_TYPE, document)
    except (BudgetExhausted, SpApiError) as error:
        definite = isinstance(error, BudgetExhausted) or error.status < 500 or error.operation != "createFeed"
        if not definite:  # a 5xx from createFeed may have made the feed: never send it again
            logger.error("createFeed failed after it may have run", extra={"returnId": return_id})
            return "interrupted"
        if isinstance(error, SpApiError) and error.operation == "createFeed" and error.status != 429:
            # Amazon's code, not its message (which may echo what was sent): the message goes to the log
            logger.warning("createFeed refused", extra={"returnId": return_id, "error": str(error)})
            why = f"Amazon refused the adjustment feed (createFeed {error.status} {error.code})"
            _finish(
                table, return_id, refund_id, lambda r: _if_ours(r, refund_id, lambda x: refused(x, now, why))
            )
            return "refused"
        _change(table, return_id, lambda r: _if_ours(r, refund_id, unclaimed), lambda after: [])
        raise
    except Exception:
        # createFeed may have been reached (a timeout after sending): keep the claim, never send twice
        logger.exception("sending the refund stopped", extra={"returnId": return_id})
        return "interrupted"
    _change(
        table,
        return_id,
        lambda r: _if_ours(r, refund_id, lambda x: sent(x, feed_id)),
        lambda after: [
            Write(
                "Put",
                item={
                    **keys.refund_feed_key(feed_id),
                    "entity": "RefundFeed",
                    "feedId": feed_id,
                    "returnId": return_id,
                    "refundId": refund_id,
                },
            )
        ],
    )
    logger.info("refund sent to Amazon", extra={"returnId": return_id, "feedId": feed_id})
    return "sent"


def _retake_dead_claim(table: Table, client: SpApiClient, return_id: str, sender: str) -> None:
    """A claim this same sender left (its try died between the claim and recording the feed: a timeout, an
    out-of-memory kill) has no sender alive any more, so the refund check's grace is not needed: when Amazon
    lists no adjustment feed nobody here recorded since the claim, createFeed was never reached and the claim
    is given back, to send now. A stray feed may be that try's: left to the refund check (Amazon's finances)."""
    item = table.get(keys.return_key(return_id), consistent=True) or {}
    refund = item.get("refund") or {}
    if item.get(_WRITER) != sender or not refund.get("claimedAt") or refund.get("feedId"):
        return
    ret = ReturnRecords(table).get(return_id)
    if ret.refund is None or ret.refund.claimed_at is None:
        return
    claim, refund_id = ret.refund.claimed_at, ret.refund.refund_id
    marketplace = OrderRepository(table).get(ret.order_id).marketplace_id
    if not _no_stray_feed(table, client, marketplace, claim):
        return
    logger.info("a claim this sender left when it died is given back", extra={"returnId": return_id})
    _give_back(table, return_id, refund_id, claim)


def _give_back(table: Table, return_id: str, refund_id: str | None, claim: datetime) -> None:
    """The refund's claim made at `claim` released, if it is still that claim of that refund."""
    _change(
        table,
        return_id,
        lambda r: _if_ours(
            r, refund_id, lambda x: unclaimed(x) if x.refund and x.refund.claimed_at == claim else x
        ),
        lambda after: [],
    )


def _if_ours(ret: Return, refund_id: str | None, change: Callable[[Return], Return]) -> Return | None:
    """The change, when the return's refund is still the pending one it was made for."""
    refund = ret.refund
    if refund is None or refund.refund_id != refund_id or refund.status is not RefundStatus.PENDING:
        return None
    return change(ret)


def _finish(table: Table, return_id: str, refund_id: str | None, change: Change) -> Return | None:
    """A refund's last change (refused or confirmed): its open marker goes in the same transaction."""

    def apply(ret: Return) -> Return | None:
        refund = ret.refund
        if (
            refund is None
            or refund.refund_id != refund_id
            or refund.status
            in (
                RefundStatus.REFUSED,
                RefundStatus.CONFIRMED,
            )
        ):
            return None
        return change(ret)

    return _change(table, return_id, apply, lambda after: [Write.delete(keys.open_refund_key(return_id))])


# --- 3. the processing report -----------------------------------------------------------------------


def apply_feed_processing_finished(envelope: Notification) -> Outcome:
    """The notification router's entry (the ingest function's table and SP-API client)."""
    from oms.amazon.client import default_client
    from oms.store.default import default_table

    return apply_feed_finished(default_table(), default_client(), envelope)


def apply_feed_finished(table: Table, client: SpApiClient, envelope: Notification) -> Outcome:
    """FEED_PROCESSING_FINISHED: for an adjustment feed of ours, its report settles the refund once."""
    finished = FeedProcessingFinishedPayload.model_validate(envelope.payload).notification
    marker = table.get(keys.refund_feed_key(finished.feed_id), consistent=True)
    if finished.feed_type != FEED_TYPE or marker is None:
        logger.info("a feed not sent by the refunds finished", extra={"feedId": finished.feed_id})
        return Outcome.STALE
    changed = settle_feed(
        table,
        client,
        marker,
        processing_status=finished.processing_status,
        report_document_id=finished.result_feed_document_id,
    )
    return Outcome.APPLIED if changed else Outcome.DUPLICATE


def settle_feed(
    table: Table, client: SpApiClient, marker: Item, *, processing_status: str, report_document_id: str | None
) -> bool:
    """Submitted or refused by the feed's outcome; False when the refund was settled before."""
    return_id, refund_id, feed_id = marker["returnId"], marker["refundId"], marker["feedId"]
    ret = ReturnRecords(table).get(return_id)
    if ret.refund is None or ret.refund.feed_id != feed_id or ret.refund.status is not RefundStatus.PENDING:
        return False
    if processing_status == "DONE" and report_document_id:
        marketplace = OrderRepository(table).get(ret.order_id).marketplace_id
        report = read_processing_report(read_feed_document(client, marketplace, report_document_id))
        accepted, reason = report.accepted, report.reason
    else:
        accepted, reason = False, f"Amazon did not process the adjustment feed ({processing_status})"
    now = utc_now()
    if accepted:
        after = _change(
            table, return_id, lambda r: _if_ours(r, refund_id, lambda x: submitted(x, now)), lambda a: []
        )
    else:
        why = reason or "Amazon refused the adjustment"
        after = _finish(
            table, return_id, refund_id, lambda r: _if_ours(r, refund_id, lambda x: refused(x, now, why))
        )
    return after is not None


# --- 4. the check -----------------------------------------------------------------------------------


def check_refunds(
    table: Table, client: SpApiClient, *, seller_id: str, now: datetime | None = None
) -> dict[str, int]:
    """One pass over the open refunds (see the module's docstring); stops early when the budget runs dry."""
    now = now or utc_now()
    counts = {"checked": 0, "confirmed": 0, "settled": 0, "sent": 0, "refused": 0}
    records = ReturnRecords(table)
    for marker in table.query_all(keys.open_refunds()):
        counts["checked"] += 1
        return_id = marker["returnId"]
        try:
            ret = records.get(return_id)
            counts[_check_one(table, client, ret, seller_id=seller_id, now=now)] += 1
        except BudgetExhausted as error:
            if not isinstance(error, BudgetUnavailable):
                logger.info("refund check stops: the rate budget is spent until the next run")
                break
            counts["failed"] = counts.get("failed", 0) + 1  # its table failed this once: the next return
            logger.warning(
                "refund check of a return failed", extra={"returnId": return_id, "error": str(error)}
            )
        except Exception as error:
            # table, a dropped connection) must not keep the returns after it waiting: it is retried next run
            counts["failed"] = counts.get("failed", 0) + 1
            logger.warning(
                "refund check of a return failed",
                extra={"returnId": return_id, "error": f"{type(error).__name__}: {error}"},
            )
    if counts.get("failed"):
        metrics.add_metric(name="RefundChecksFailed", unit=MetricUnit.Count, value=counts["failed"])
    logger.info("refunds checked", extra=counts)
    return counts


def _no_stray_feed(table: Table, client: SpApiClient, marketplace: str, since: datetime) -> bool:
    """True when every adjustment feed Amazon lists since the claim (a minute's slack) is one a refund here
    recorded: then the interrupted sender never reached createFeed. A feed nobody here recorded may be the
    interrupted one (or the seller's own upload): then only Amazon's finances can tell."""
    feeds = feeds_since(client, marketplace, FEED_TYPE, since - timedelta(minutes=1))
    return all(table.get(keys.refund_feed_key(feed.feed_id), consistent=True) is not None for feed in feeds)


def _check_one(table: Table, client: SpApiClient, ret: Return, *, seller_id: str, now: datetime) -> str:
    refund = ret.refund
    if refund is None or refund.status in (RefundStatus.REFUSED, RefundStatus.CONFIRMED):
        table.transact([Write.delete(keys.open_refund_key(ret.return_id))])
        return "checked"
    marketplace = OrderRepository(table).get(ret.order_id).marketplace_id
    if refund.status is RefundStatus.SUBMITTED or (refund.claimed_at is not None and not refund.feed_id):
        since = refund.claimed_at or refund.requested_at or ret.requested_at
        skus = {line.sku for line in refund.lines}
        if refund_posted(refund_events(client, marketplace, ret.order_id), ret.order_id, since, skus):
            _finish(table, ret.return_id, refund.refund_id, lambda r: confirmed(r, now))
            return "confirmed"
        if (
            refund.status is RefundStatus.PENDING
            and now - since > CLAIM_GRACE
            and _no_stray_feed(table, client, marketplace, since)
        ):  # the sender stopped before createFeed: nothing reached Amazon, send it now
            if refund.claimed_at is not None:
                _give_back(table, ret.return_id, refund.refund_id, refund.claimed_at)
            return (
                "sent"
                if submit_refund(table, client, ret.return_id, seller_id=seller_id) == "sent"
                else "checked"
            )
        if refund.status is RefundStatus.PENDING and now - since > FINANCES_WAIT:
            reason = (
                "sending to Amazon was interrupted and no refund showed in Amazon's finances within 48 hours: "
                "nothing was refunded, send it again"
            )
            _finish(table, ret.return_id, refund.refund_id, lambda r: refused(r, now, reason))
            return "refused"
        return "checked"
    if refund.feed_id:  # pending: the notification may be lost, ask Amazon how the feed went
        feed = get_feed(client, marketplace, refund.feed_id)
        if feed.processing_status in FINISHED:
            marker = table.get(keys.refund_feed_key(refund.feed_id), consistent=True)
            if marker and settle_feed(
                table,
                client,
                marker,
                processing_status=feed.processing_status,
                report_document_id=feed.result_feed_document_id,
            ):
                return "settled"
        return "checked"
    if now - (refund.requested_at or now) > UNSENT_AFTER:
        return (
            "sent"
            if submit_refund(table, client, ret.return_id, seller_id=seller_id) == "sent"
            else "checked"
        )
    return "checked"


# --- the stream ---------------------------------------------------------------------------------------


def refunds_to_send(records: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(return id, the first record's sequence number) for each return in the batch whose new image holds a
    pending refund not yet claimed, in stream order."""
    found: dict[str, str] = {}
    for record in records:
        image = from_dynamo(record.get("dynamodb", {}).get("NewImage") or {})
        refund = image.get("refund") or {}
        if (
            image.get("entity") == "Return"
            and refund.get("status") == RefundStatus.PENDING.value
            and not refund.get("feedId")
            and not refund.get("claimedAt")
        ):
            found.setdefault(str(image["returnId"]), str(record["dynamodb"]["SequenceNumber"]))
    return list(found.items())


def send_from_stream(
    table: Table, client: SpApiClient, records: list[Mapping[str, Any]], *, seller_id: str
) -> str | None:
    """Send each pending refund of the batch; the sequence number to retry from when one cannot be sent now
    (throttled: the stream retries it, and the refund check is the backstop), else None."""
    for return_id, sequence in refunds_to_send(records):
        try:
            outcome = submit_refund(
                table, client, return_id, seller_id=seller_id, sender=f"stream:{return_id}:{sequence}"
            )
        except Exception:
            logger.exception(
                "a refund could not be sent now; retried from its record", extra={"returnId": return_id}
            )
            return sequence
        logger.info("refund send", extra={"returnId": return_id, "outcome": outcome})
    return None
