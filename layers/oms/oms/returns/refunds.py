"""Refunding a return through Amazon, exactly once: recorded pending, sent as an order adjustment feed,
settled by the feed's processing report, confirmed by Amazon's finances.

1. `request_refund` (POST /returns/{returnId}/refund): the refund, pending, written with the return (and an
   open-refund marker, and the order's returns item re-versioned so two returns of one order never together
   refund more than was paid) in one transaction; a retry with the same Idempotency-Key finds it there.
2. `submit_refund` (the submit_refunds function, from the table's stream; the refund check as backstop):
   claims the refund (a versioned write), uploads the XML, takes its marketplace's sending slot (one refund
   at a time between the slot and the feed id written), creates the feed and records the feed id with a
   feed -> return marker, releasing the slot. When createFeed's answer is lost (a 5xx, a timeout, a death)
   the slot stays held: an adjustment feed Amazon then lists that nobody recorded can only be that refund's,
   so it is recorded as its feed; none listed, createFeed made nothing and the refund is sent again. Never
   two feeds for one refund, and no refund waits behind another's lost answer (decision 102).
3. `apply_feed_finished` (FEED_PROCESSING_FINISHED) reads the processing report: accepted -> submitted and
   the return refunded (the refund clock stops); an error -> refused with Amazon's words, kept on the return,
   which a new POST sends again.
4. `check_refunds` (schedule): submitted refunds confirmed once Amazon's finances show the refund event;
   pending ones whose notification was lost settled from getFeed; unsent ones sent; a held slot whose
   sender is gone settled as above; the rare refund it cannot tell (two feeds nobody recorded in its slot:
   the seller's own upload) confirmed from finances, or refused after 48 hours with nothing there.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
    sending,
    sent,
    submitted,
    unclaimed,
)
from oms.domain.returns import RefundStatus, Return
from oms.domain.types import iso_z, utc_now
from oms.errors import Busy, Conflict, NotFound
from oms.observability import logger, metrics
from oms.returns.records import ReturnRecords, return_item
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Item, Table, Write, back_off, from_dynamo, transient

_ATTEMPTS = 30
_TRANSIENT_TRIES = 4  # a step the table refused for a moment (past the SDK's own retries) is tried again
FINANCES_WAIT = timedelta(hours=48)  # Amazon posts a refund event up to 48 hours after the refund
UNSENT_AFTER = timedelta(minutes=2)  # a pending refund the stream has not sent by then is sent by the check
CLAIM_GRACE = timedelta(minutes=5)  # longer than the sender's timeout: a claim this old has no sender left
LISTING_DELAY = timedelta(minutes=1)  # after a createFeed whose answer was lost, before getFeeds is asked
CLOCK_SLACK = timedelta(
    minutes=1
)  # Amazon's clock against ours, when asking for feeds created since an instant
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
        try:
            ret, version = records.read(return_id)
            after = change(ret)
            if after is None:
                return None
            item = {**return_item(after), **({_WRITER: writer} if writer else {})}
            table.transact([Write.put_versioned(item, version), *extra(after)])
        except Conflict:
            if (
                writer
                and (table.get(keys.return_key(return_id), consistent=True) or {}).get(_WRITER) == writer
            ):
                return after
            back_off(attempt)
            continue
        except Exception as error:
            # a throttle or server error past the SDK's retries: a refund's steps are few and each one held up
            # costs minutes (a sending slot left held, a claim left for the check), so the step is tried again
            if attempt >= _TRANSIENT_TRIES or not transient(error):
                raise
            back_off(attempt + 4)
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
    pending unsent refund), "waiting" (another refund of its marketplace is being sent: the refund check sends
    it), "interrupted" (claimed before, or createFeed's answer lost: settled through the slot).
    `sender`: who sends, when a retry of the same sender is known to come only after the try before it ended
    (a stream record: Lambda retries a batch once its invocation failed or timed out)."""
    if sender:
        _retake_dead_claim(table, client, return_id, sender)
    now = utc_now().replace(microsecond=0)  # as stored (iso_z): the claim read back is this claim
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
        if table.get(keys.refund_slot_key(outcome["marketplace"]), consistent=True) is not None:
            outcome["claim"] = "waiting"  # nothing written: no stream record, the refund check sends it
            return None
        return claimed(ret, now)

    # the claim names its sender: when the SDK's retry of the claim meets the claim itself (applied, its answer
    # lost), the sender knows it is its own and sends, instead of leaving it as an interrupted sender's for the
    # refund check's 5-minute grace (found by the fault drill)
    writer = sender or uuid.uuid4().hex
    ret = _change(table, return_id, claim, lambda after: [], writer=writer)
    if ret is None:
        return outcome["claim"]
    assert ret.refund is not None and ret.refund.claimed_at is not None
    marketplace = outcome["marketplace"]
    refund_id, claim_at = ret.refund.refund_id, ret.refund.claimed_at
    try:
        document = upload_feed_document(
            client, marketplace, adjustment_feed(ret.refund, order_id=ret.order_id, seller_id=seller_id)
        )
    except Exception:
        # createFeed not reached (a dropped connection or a timeout on the document): no feed can exist, so the
        # claim is given back and the stream's retry sends it, not the refund check 5 minutes on
        _give_back(table, return_id, refund_id, claim_at)
        raise
    slot = _take_slot(table, return_id, refund_id, claim_at, marketplace, writer)
    if slot is None:
        return "waiting"
    try:
        feed_id = create_feed(client, marketplace, FEED_TYPE, document)
    except (BudgetExhausted, SpApiError) as error:
        definite = isinstance(error, BudgetExhausted) or error.status < 500 or error.operation != "createFeed"
        if not definite:  # a 5xx from createFeed may have made the feed: getFeeds will tell, in a minute
            logger.error("createFeed failed after it may have run", extra={"returnId": return_id})
            _outcome_unknown(table, slot)
            return "interrupted"
        if isinstance(error, SpApiError) and error.operation == "createFeed" and error.status != 429:
            # Amazon's code, not its message (which may echo what was sent): the message goes to the log
            logger.warning("createFeed refused", extra={"returnId": return_id, "error": str(error)})
            why = f"Amazon refused the adjustment feed (createFeed {error.status} {error.code})"
            _finish(
                table,
                return_id,
                refund_id,
                lambda r: _if_sending(r, slot, lambda x: refused(x, now, why)),
                also=[slot.release()],
            )
            return "refused"
        _settle_slot(table, slot, unclaimed, [])
        raise
    except Exception:
        # createFeed may have been reached (a timeout after sending): the slot stays held, never send twice
        logger.exception("sending the refund stopped", extra={"returnId": return_id})
        _outcome_unknown(table, slot)
        return "interrupted"
    try:
        _record_feed(table, slot, feed_id)
    except Exception:
        _outcome_unknown(
            table, slot
        )  # the feed is made: found from getFeeds a minute on, not after the grace
        raise
    logger.info("refund sent to Amazon", extra={"returnId": return_id, "feedId": feed_id})
    return "sent"


@dataclass(frozen=True)
class _Slot:
    """A marketplace's sending slot, as read: which refund holds it since when, and whether its sender said
    createFeed's answer was lost (then getFeeds may be asked a minute on, not after the sender's timeout)."""

    marketplace: str
    return_id: str
    refund_id: str
    sending_at: datetime
    sender: str
    unknown_at: datetime | None = None

    @classmethod
    def read(cls, item: Item | None) -> _Slot | None:
        if not item:
            return None
        unknown = item.get("unknownAt")
        return cls(
            marketplace=str(item["marketplaceId"]),
            return_id=str(item["returnId"]),
            refund_id=str(item["refundId"]),
            sending_at=datetime.fromisoformat(str(item["sendingAt"])),
            sender=str(item.get("sender", "")),
            unknown_at=datetime.fromisoformat(str(unknown)) if unknown else None,
        )

    def item(self) -> Item:
        return {
            **keys.refund_slot_key(self.marketplace),
            "entity": "RefundSlot",
            "marketplaceId": self.marketplace,
            "returnId": self.return_id,
            "refundId": self.refund_id,
            "sendingAt": iso_z(self.sending_at),
            "sender": self.sender,
        }

    def names(self, ret: Return) -> bool:
        refund = ret.refund
        return (
            ret.return_id == self.return_id
            and refund is not None
            and refund.refund_id == self.refund_id
            and refund.sending_at == self.sending_at
        )

    def _identity(self) -> dict[str, str]:
        return {"returnId": self.return_id, "sendingAt": iso_z(self.sending_at)}

    def release(self) -> Write:
        return Write.delete_if(keys.refund_slot_key(self.marketplace), self._identity())

    def mark_unknown(self, at: datetime) -> Write:
        return Write.set_if(
            keys.refund_slot_key(self.marketplace), {"unknownAt": iso_z(at)}, self._identity()
        )


def _slot(table: Table, marketplace: str) -> _Slot | None:
    return _Slot.read(table.get(keys.refund_slot_key(marketplace), consistent=True))


def _take_slot(
    table: Table, return_id: str, refund_id: str | None, claim: datetime, marketplace: str, writer: str
) -> _Slot | None:
    """The marketplace's sending slot for this claimed refund, written with the refund's `sendingAt` in one
    transaction; None when another refund holds it (the claim is given back: the refund check sends it) or
    when this claim is no longer the refund's."""
    at = utc_now().replace(microsecond=0)  # stored to the second (iso_z): the slot and the refund agree
    wanted = _Slot(marketplace, return_id, refund_id or "", at, writer)
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        ret, version = records.read(return_id)
        refund = ret.refund
        held = _slot(table, marketplace)
        if held is not None and held.sender == writer and held.names(ret):
            return held  # this very write, applied, its answer lost and sent again by the SDK
        if (
            refund is None
            or refund.refund_id != refund_id
            or refund.status is not RefundStatus.PENDING
            or refund.claimed_at != claim
            or refund.sending_at is not None
            or refund.feed_id
        ):
            return None  # the claim was given back meanwhile (a refund check past its grace): nothing sent
        if held is not None:
            _give_back(table, return_id, refund_id, claim)
            return None
        item = {**return_item(sending(ret, at)), _WRITER: writer}
        try:
            table.transact([Write.put_versioned(item, version), Write.put_new(wanted.item())])
        except Conflict:
            back_off(attempt)
            continue
        except Exception as error:  # refused for a moment, or applied with its answer lost: read again
            if attempt >= _TRANSIENT_TRIES or not transient(error):
                raise
            back_off(attempt + 4)
            continue
        return wanted
    raise Busy(f"return {return_id} is changing too fast; try again")


def _if_sending(ret: Return, slot: _Slot, change: Callable[[Return], Return]) -> Return | None:
    """The change, when the return's refund is still pending in this slot with no feed recorded."""
    refund = ret.refund
    if refund is None or refund.status is not RefundStatus.PENDING or refund.feed_id or not slot.names(ret):
        return None
    return change(ret)


def _settle_slot(
    table: Table, slot: _Slot, change: Callable[[Return], Return], extra: Sequence[Write]
) -> Return | None:
    """The slot's refund changed and the slot released in one transaction; the slot alone released when its
    refund moved on some other way (it must never stay held: every refund of the marketplace waits on it)."""
    after = _change(
        table, slot.return_id, lambda r: _if_sending(r, slot, change), lambda a: [*extra, slot.release()]
    )
    if after is None:
        with contextlib.suppress(Conflict):  # released already
            table.transact([slot.release()])
    return after


def _record_feed(table: Table, slot: _Slot, feed_id: str) -> Return | None:
    marker = {
        **keys.refund_feed_key(feed_id),
        "entity": "RefundFeed",
        "feedId": feed_id,
        "returnId": slot.return_id,
        "refundId": slot.refund_id,
    }
    return _settle_slot(table, slot, lambda x: sent(x, feed_id), [Write("Put", item=marker)])


def _outcome_unknown(table: Table, slot: _Slot) -> None:
    """Said on the slot so the refund check asks getFeeds a minute on; if this write fails, it asks after the
    sender's grace instead."""
    try:
        table.transact([slot.mark_unknown(utc_now())])
    except Exception as error:
        logger.warning("the slot's lost answer could not be noted", extra={"error": str(error)})


def _resolve(
    table: Table, client: SpApiClient, slot: _Slot, now: datetime, *, sender_gone: bool
) -> str | None:
    """A held slot whose createFeed answer was lost: Amazon's list of adjustment feeds since the slot was taken
    says what happened, since no other refund here could create one meanwhile. None: too soon to ask (its
    sender may be at work, or Amazon may not list a feed made a moment ago); "given back": no feed nobody recorded, so createFeed made none (sent again now);
    "found": exactly one, recorded as the refund's feed; "unknown": more than one (the seller's own upload
    among them), each marked as nobody's, the refund left to Amazon's finances."""
    # getFeeds is asked no sooner than a minute after createFeed, so a feed just made is surely listed (a feed
    # missed would be sent twice); a sender that said nothing may still be at work until its grace is over
    if slot.unknown_at or sender_gone:
        ready = now - (slot.unknown_at or slot.sending_at) >= LISTING_DELAY
    else:
        ready = now - slot.sending_at > CLAIM_GRACE
    if not ready:
        return None
    strays = _strays(table, client, slot)
    if not strays:
        _settle_slot(table, slot, unclaimed, [])
        logger.info("createFeed made no feed: the refund is sent again", extra={"returnId": slot.return_id})
        return "given back"
    if len(strays) == 1:
        _record_feed(table, slot, strays[0])
        logger.info("the feed whose answer was lost", extra={"returnId": slot.return_id, "feedId": strays[0]})
        return "found"
    _release_as_nobodys(table, slot, strays)
    logger.warning(
        "adjustment feeds nobody here recorded: the refund waits for Amazon's finances",
        extra={"returnId": slot.return_id, "feedIds": strays},
    )
    return "unknown"


def _strays(table: Table, client: SpApiClient, slot: _Slot) -> list[str]:
    """The adjustment feeds Amazon lists since the slot was taken that no refund here recorded."""
    listed = feeds_since(client, slot.marketplace, FEED_TYPE, slot.sending_at - CLOCK_SLACK)
    return [f.feed_id for f in listed if table.get(keys.refund_feed_key(f.feed_id), consistent=True) is None]


def _release_as_nobodys(table: Table, slot: _Slot, strays: list[str]) -> None:
    """The slot released, each feed nobody recorded in it marked as nobody's (so no later slot counts it)."""
    marks = [
        Write("Put", item={**keys.refund_feed_key(f), "entity": "StrayFeed", "feedId": f}) for f in strays
    ]
    with contextlib.suppress(Conflict):  # settled meanwhile
        table.transact([*marks[:90], slot.release()])


def _retake_dead_claim(table: Table, client: SpApiClient, return_id: str, sender: str) -> None:
    """A claim this same sender left (its try died between the claim and recording the feed: a timeout, an
    out-of-memory kill) has no sender alive any more, so the refund check's grace is not needed: died before
    the slot, createFeed was never reached and the claim is given back; died holding the slot, the slot is
    settled from Amazon's list of feeds (a minute after createFeed at the soonest: else the refund check)."""
    item = table.get(keys.return_key(return_id), consistent=True) or {}
    refund = item.get("refund") or {}
    if item.get(_WRITER) != sender or not refund.get("claimedAt") or refund.get("feedId"):
        return
    ret = ReturnRecords(table).get(return_id)
    if ret.refund is None or ret.refund.claimed_at is None:
        return
    claim, refund_id = ret.refund.claimed_at, ret.refund.refund_id
    marketplace = OrderRepository(table).get(ret.order_id).marketplace_id
    if ret.refund.sending_at is not None:
        slot = _slot(table, marketplace)
        if (
            slot is not None
            and slot.names(ret)
            and _resolve(table, client, slot, utc_now(), sender_gone=True) is None
            and slot.unknown_at is None
        ):
            _outcome_unknown(table, slot)  # its sender is gone: the refund check asks a minute on, not five
        return
    if not _no_stray_feed(table, client, marketplace, claim):
        return  # another refund's slot is being settled: the refund check gives this claim back after it
    logger.info("a claim this sender left when it died is given back", extra={"returnId": return_id})
    _give_back(table, return_id, refund_id, claim)


def _give_back(table: Table, return_id: str, refund_id: str | None, claim: datetime) -> None:
    """The refund's claim made at `claim` released, if it is still that claim of that refund and it never took
    the sending slot."""
    _change(
        table,
        return_id,
        lambda r: _if_ours(
            r,
            refund_id,
            lambda x: (
                unclaimed(x)
                if x.refund and x.refund.claimed_at == claim and x.refund.sending_at is None
                else x
            ),
        ),
        lambda after: [],
    )


def _if_ours(ret: Return, refund_id: str | None, change: Callable[[Return], Return]) -> Return | None:
    """The change, when the return's refund is still the pending one it was made for."""
    refund = ret.refund
    if refund is None or refund.refund_id != refund_id or refund.status is not RefundStatus.PENDING:
        return None
    return change(ret)


def _finish(
    table: Table, return_id: str, refund_id: str | None, change: Change, also: Sequence[Write] = ()
) -> Return | None:
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

    return _change(
        table, return_id, apply, lambda after: [Write.delete(keys.open_refund_key(return_id)), *also]
    )


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
    if finished.feed_type != FEED_TYPE or marker is None or marker.get("entity") != "RefundFeed":
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
    try:
        _sweep_slots(table, client, now)
    except Exception as error:  # the refunds' own checks go on; the next run sweeps again
        logger.warning(
            "the sending slots could not be swept", extra={"error": f"{type(error).__name__}: {error}"}
        )
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
    if refund.status is RefundStatus.PENDING and refund.sending_at is not None and not refund.feed_id:
        slot = _slot(table, marketplace)
        if slot is not None and slot.names(ret):  # createFeed's answer lost: its slot says what to do
            resolved = _resolve(table, client, slot, now, sender_gone=False)
            if resolved is None:
                return "checked"  # its sender may still be at work
            if resolved == "given back":
                return _send(table, client, ret.return_id, seller_id)
            return _check_one(
                table, client, ReturnRecords(table).get(ret.return_id), seller_id=seller_id, now=now
            )
    if refund.status is RefundStatus.SUBMITTED or (refund.claimed_at is not None and not refund.feed_id):
        since = refund.claimed_at or refund.requested_at or ret.requested_at
        skus = {line.sku for line in refund.lines}
        if refund_posted(refund_events(client, marketplace, ret.order_id), ret.order_id, since, skus):
            _finish(table, ret.return_id, refund.refund_id, lambda r: confirmed(r, now))
            return "confirmed"
        if (
            refund.status is RefundStatus.PENDING
            and refund.sending_at is None
            and now - since > CLAIM_GRACE
            and _no_stray_feed(table, client, marketplace, since)
        ):  # the sender stopped before it took the slot: nothing reached Amazon, send it now
            if refund.claimed_at is not None:
                _give_back(table, ret.return_id, refund.refund_id, refund.claimed_at)
            return _send(table, client, ret.return_id, seller_id)
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
        return _send(table, client, ret.return_id, seller_id)
    return "checked"


def _send(table: Table, client: SpApiClient, return_id: str, seller_id: str) -> str:
    return "sent" if submit_refund(table, client, return_id, seller_id=seller_id) == "sent" else "checked"


def _sweep_slots(table: Table, client: SpApiClient, now: datetime) -> None:
    """A slot whose refund moved on without releasing it (a write lost between the two) would keep every
    refund of its marketplace waiting: released once its sender's grace is over, any feed nobody recorded in
    it marked as nobody's (it cannot be told whose)."""
    records = ReturnRecords(table)
    for item in table.query_all(keys.refund_slots()):
        slot = _Slot.read(item)
        if slot is None or now - slot.sending_at <= CLAIM_GRACE:
            continue
        try:
            ret: Return | None = records.get(slot.return_id)
        except NotFound:
            ret = None
        if ret is not None and slot.names(ret) and ret.refund and ret.refund.status is RefundStatus.PENDING:
            continue  # its refund's own check settles it
        logger.warning("a sending slot left held is released", extra={"returnId": slot.return_id})
        _release_as_nobodys(table, slot, _strays(table, client, slot))


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
