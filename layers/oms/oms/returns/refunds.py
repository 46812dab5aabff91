"""Refunding a return through Amazon, exactly once: recorded pending, sent as an order adjustment feed,
settled by the feed's processing report, confirmed by Amazon's finances.

1. `request_refund` (POST /returns/{returnId}/refund): the refund, pending, written with the return (and an
   open-refund marker, and the order's returns item re-versioned so two returns of one order never together
   refund more than was paid) in one transaction; a retry with the same Idempotency-Key finds it there.
2. `send_refunds` (the submit_refunds function, when the table's stream shows a refund ready; the refund
   check as backstop): every refund of a marketplace that is ready (pending, in no feed; a ready marker per
   refund), the oldest BATCH_CAP, goes in one adjustment feed, one message each. The document uploaded, the
   marketplace's sending slot (naming every refund of the batch and its MessageID) is taken with each
   refund's `claimedAt`/`sendingAt` in one transaction (one batch at a time between the slot and the feed id
   written); createFeed; the feed id on each refund, a feed -> refunds marker and the slot released in one
   transaction. When createFeed's answer is lost (a 5xx, a timeout, a death) the slot stays held: an
   adjustment feed Amazon then lists that nobody recorded can only be that batch's, so it is recorded as its
   feed; none listed, createFeed made nothing and the refunds are ready again. Never two feeds for one
   refund (decisions 102, 107).
3. `apply_feed_finished` (FEED_PROCESSING_FINISHED) reads the processing report, each refund by its own
   message: no error result -> submitted and the return refunded (the refund clock stops); an error ->
   refused with Amazon's words, kept on the return, which a new POST sends again.
4. `check_refunds` (schedule): submitted refunds confirmed once Amazon's finances show the refund event;
   pending ones whose notification was lost settled from getFeed; unsent ones sent (a backlog in full
   feeds while createFeed has tokens, at most CHECK_FEEDS a marketplace a run); a held slot whose sender is gone settled as above; the rare refund it cannot tell
   (two feeds nobody recorded in its slot: the seller's own upload) confirmed from finances, or refused
   after 48 hours with nothing there.
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

from oms.amazon.client import SpApiClient, SpApiError, region_of
from oms.amazon.feeds_api import (
    Feed,
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
    ProcessingOutcome,
    RefundAsk,
    adjustments_feed,
    claimed,
    confirmed,
    plan_refund,
    read_message_outcomes,
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
from oms.store import conditional, keys
from oms.store.orders import OrderRepository
from oms.store.table import Item, Table, Write, back_off, from_dynamo, pause_if_transient

_ATTEMPTS = 30
# create_feed's own wait for a token (its default): a longer one, and the refunds wait for the next send
CREATE_FEED_WAIT = 10.0
# a step the table refused for a moment (past the SDK's own retries) is tried again, up to this many tries
_TRANSIENT_TRIES = 5
FINANCES_WAIT = timedelta(hours=48)  # Amazon posts a refund event up to 48 hours after the refund
UNSENT_AFTER = timedelta(minutes=2)  # a pending refund the stream has not sent by then is sent by the check
CLAIM_GRACE = timedelta(minutes=5)  # longer than the sender's timeout: a claim this old has no sender left
LISTING_DELAY = timedelta(minutes=1)  # after a createFeed whose answer was lost, before getFeeds is asked
CLOCK_SLACK = timedelta(
    minutes=1
)  # Amazon's clock against ours, when asking for feeds created since an instant
FINISHED = frozenset({"DONE", "CANCELLED", "FATAL"})
BATCH_CAP = 40  # refunds in one feed: a transaction takes the slot, each return and its ready marker (<= 100)
# feeds one run of the check may send a marketplace while createFeed has tokens and full batches are ready:
# createFeed's burst (15); past it the budget's one token in 2 minutes stops the run sooner (7 in 15 minutes)
CHECK_FEEDS = 15

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
    table: Table, return_id: str, change: Change, extra: Callable[[Return], list[Write]]
) -> Return | None:
    """Apply `change` to the return with a versioned write (and `extra` writes) in one transaction, reading it
    again after a collision; None when `change` says there is nothing to do."""
    records = ReturnRecords(table)
    for attempt in range(_ATTEMPTS):
        try:
            ret, version = records.read(return_id)
            after = change(ret)
            if after is None:
                return None
            table.transact([Write.put_versioned(return_item(after), version), *extra(after)])
        except Conflict:
            back_off(attempt)
            continue
        except Exception as error:
            # a throttle or server error past the SDK's retries: a refund's steps are few and each one held up
            # costs minutes (a sending slot left held, a claim left for the check), so the step is tried again
            pause_if_transient(error, attempt, tries=_TRANSIENT_TRIES, what="changing a return")
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
        writes = [
            Write.put_versioned(return_item(after), version),
            _open_marker(after),
            _ready_marker(order.marketplace_id, after),  # the marketplace's next adjustment feed carries it
        ]
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


def _ready_marker(marketplace: str, ret: Return) -> Write:
    """The refund ready to go in the marketplace's next adjustment feed."""
    assert ret.refund is not None
    return Write(
        "Put",
        item={
            **keys.refund_ready_key(marketplace, ret.return_id),
            "entity": "RefundReady",
            "returnId": ret.return_id,
            "refundId": ret.refund.refund_id,
            "requestedAt": (ret.refund.requested_at or ret.requested_at).isoformat(),  # oldest first
        },
    )


def _is_ready(ret: Return) -> bool:
    """Pending and in no feed: neither taken into a batch nor sent."""
    refund = ret.refund
    return (
        refund is not None
        and refund.status is RefundStatus.PENDING
        and not refund.feed_id
        and refund.claimed_at is None
        and refund.sending_at is None
    )


def send_refunds(
    table: Table, client: SpApiClient, marketplace: str, *, seller_id: str, sender: str | None = None
) -> tuple[str, int]:
    """Send the marketplace's refunds that are ready, the oldest BATCH_CAP of them, as one adjustment feed (one
    message each). (what happened, how many refunds): "sent", "refused" (createFeed refused the feed: each of
    them refused), "nothing" (none ready), "waiting" (another batch holds the marketplace's sending slot:
    nothing written, the next send carries them), "interrupted" (createFeed's answer lost: settled through
    the slot). `sender`: who sends, when a retry of the same sender is known to come only after the try
    before it ended (a stream record: Lambda retries a batch once its invocation failed or timed out)."""
    if sender:
        _follow_dead_sender(table, client, marketplace, sender)
    if client.token_wait(region_of(marketplace), "createFeed") > CREATE_FEED_WAIT:
        # no token for minutes (Amazon's one in 2 minutes): no batch taken, no document uploaded, only to undo
        # them; the refunds stay ready for the next send (a new refund's record, the refund check)
        return "waiting", 0
    taken = _take_batch(table, client, marketplace, seller_id, sender or uuid.uuid4().hex)
    if isinstance(taken, str):
        return taken, 0
    slot, document = taken
    returns = [m.return_id for m in slot.members]
    try:
        feed_id = create_feed(client, marketplace, FEED_TYPE, document)  # waits up to CREATE_FEED_WAIT
    except (BudgetExhausted, SpApiError) as error:
        definite = isinstance(error, BudgetExhausted) or error.status < 500 or error.operation != "createFeed"
        if not definite:  # a 5xx from createFeed may have made the feed: getFeeds will tell, in a minute
            logger.error("createFeed failed after it may have run", extra={"returnIds": returns})
            _outcome_unknown(table, slot)
            return "interrupted", 0
        if isinstance(error, SpApiError) and error.operation == "createFeed" and error.status != 429:
            # Amazon's code, not its message (which may echo what was sent): the message goes to the log
            logger.warning("createFeed refused", extra={"returnIds": returns, "error": str(error)})
            why = f"Amazon refused the adjustment feed (createFeed {error.status} {error.code})"
            now = utc_now()
            done = _settle_batch(
                table,
                slot,
                lambda x: (refused(x, now, why), [Write.delete(keys.open_refund_key(x.return_id))]),
            )
            return "refused", len(done)
        _settle_batch(table, slot, lambda x: (unclaimed(x), [_ready_marker(marketplace, x)]))
        if isinstance(error, BudgetUnavailable):
            raise  # the budget's own table failed: nothing was asked of Amazon, the stream's retry sends them
        # no createFeed token for minutes (Amazon's one in 2 minutes, shared with listings feeds): ready again,
        # for the next send (a new refund's record, the refund check), not the stream's retries, which would
        # spend themselves in minutes and dead-letter a record that is not poison
        logger.info(
            "no createFeed token now: the refunds wait for the next send", extra={"returnIds": returns}
        )
        return "waiting", 0
    except Exception:
        # createFeed may have been reached (a timeout after sending): the slot stays held, never send twice
        logger.exception("sending the refunds stopped", extra={"returnIds": returns})
        _outcome_unknown(table, slot)
        return "interrupted", 0
    try:
        _record_feed(table, slot, feed_id)
    except Exception:
        _outcome_unknown(
            table, slot
        )  # the feed is made: found from getFeeds a minute on, not after the grace
        raise
    logger.info("refunds sent to Amazon", extra={"returnIds": returns, "feedId": feed_id})
    return "sent", len(slot.members)


@dataclass(frozen=True)
class _Member:
    """One refund of a batch: its message in the feed."""

    return_id: str
    refund_id: str
    message_id: int

    def item(self) -> Item:
        return {"returnId": self.return_id, "refundId": self.refund_id, "messageId": self.message_id}


def _members_of(item: Item) -> tuple[_Member, ...]:
    """The refunds a slot or a feed marker names (a feed marker written before batches: one refund, message 1)."""
    listed = item.get("refunds")
    if listed:
        return tuple(
            _Member(str(m["returnId"]), str(m.get("refundId", "")), int(m["messageId"])) for m in listed
        )
    return (_Member(str(item["returnId"]), str(item.get("refundId", "")), 1),)


@dataclass(frozen=True)
class _Slot:
    """A marketplace's sending slot, as read: which batch of refunds holds it since when, and whether its
    sender said createFeed's answer was lost (then getFeeds may be asked a minute on, not after the sender's
    timeout)."""

    marketplace: str
    members: tuple[_Member, ...]
    sending_at: datetime
    sender: str
    batch_id: str
    unknown_at: datetime | None = None

    @classmethod
    def read(cls, item: Item | None) -> _Slot | None:
        if not item:
            return None
        unknown = item.get("unknownAt")
        return cls(
            marketplace=str(item["marketplaceId"]),
            members=_members_of(item),
            sending_at=datetime.fromisoformat(str(item["sendingAt"])),
            sender=str(item.get("sender", "")),
            batch_id=str(item["batchId"]),
            unknown_at=datetime.fromisoformat(str(unknown)) if unknown else None,
        )

    def item(self) -> Item:
        return {
            **keys.refund_slot_key(self.marketplace),
            "entity": "RefundSlot",
            "marketplaceId": self.marketplace,
            "batchId": self.batch_id,
            "refunds": [m.item() for m in self.members],
            "sendingAt": iso_z(self.sending_at),
            "sender": self.sender,
        }

    def names(self, ret: Return) -> bool:
        refund = ret.refund
        return (
            refund is not None
            and refund.sending_at == self.sending_at
            and any(m.return_id == ret.return_id and m.refund_id == refund.refund_id for m in self.members)
        )

    def release(self) -> Write:
        return conditional.release_refund_slot(self.marketplace, self.batch_id)

    def mark_unknown(self, at: datetime) -> Write:
        return conditional.refund_slot_outcome_unknown(self.marketplace, self.batch_id, iso_z(at))


def _slot(table: Table, marketplace: str) -> _Slot | None:
    return _Slot.read(table.get(keys.refund_slot_key(marketplace), consistent=True))


def _ready_batch(table: Table, marketplace: str) -> list[tuple[Return, int]]:
    """The marketplace's ready refunds (their returns and versions), oldest request first, at most BATCH_CAP;
    a marker whose refund is over (refused, confirmed, replaced) is deleted."""
    markers = sorted(
        table.query_all(keys.refunds_ready(marketplace)),
        key=lambda m: (str(m.get("requestedAt", "")), str(m["returnId"])),
    )
    records = ReturnRecords(table)
    batch: list[tuple[Return, int]] = []
    for marker in markers:
        if len(batch) >= BATCH_CAP:
            break
        return_id = str(marker["returnId"])
        try:
            ret, version = records.read(return_id)
        except NotFound:
            ret, version = None, 0
        if ret is not None and _is_ready(ret):
            batch.append((ret, version))
            continue
        refund = ret.refund if ret is not None else None
        if (
            refund is None
            or refund.refund_id != marker.get("refundId")
            or refund.status is not RefundStatus.PENDING
        ):
            with contextlib.suppress(Conflict):  # a new refund of the return wrote its own marker meanwhile
                table.transact(
                    [conditional.delete_refund_ready(marketplace, return_id, marker.get("refundId"))]
                )
    return batch


def _take_batch(
    table: Table, client: SpApiClient, marketplace: str, seller_id: str, writer: str
) -> tuple[_Slot, str] | str:
    """The marketplace's sending slot taken for its ready refunds, each claimed (`claimedAt` = `sendingAt`)
    and its ready marker deleted, in one transaction; with the feed document already uploaded (a document no
    feed names is nothing). "waiting" when another batch holds the slot, "nothing" when none is ready."""
    for attempt in range(_ATTEMPTS):
        if _slot(table, marketplace) is not None:
            # nothing written: the next send (the stream's next record, the check) carries them
            return "waiting"
        batch = _ready_batch(table, marketplace)
        if not batch:
            return "nothing"
        at = utc_now().replace(microsecond=0)  # stored to the second (iso_z): the slot and the refunds agree
        members = tuple(
            _Member(ret.return_id, str(ret.refund.refund_id if ret.refund else ""), n)
            for n, (ret, _) in enumerate(batch, start=1)
        )
        slot = _Slot(marketplace, members, at, writer, uuid.uuid4().hex)
        messages = [
            (m.message_id, ret.refund, ret.order_id) for m, (ret, _) in zip(members, batch, strict=True)
        ]
        document = upload_feed_document(
            client,
            marketplace,
            adjustments_feed([(n, r, o) for n, r, o in messages if r], seller_id=seller_id),
        )
        writes = [Write.put_new(slot.item())]
        for ret, version in batch:
            writes.append(Write.put_versioned(return_item(sending(claimed(ret, at), at)), version))
            writes.append(Write.delete(keys.refund_ready_key(marketplace, ret.return_id)))
        try:
            table.transact(writes)
        except Exception as error:
            held = _slot(table, marketplace)
            if held is not None and held.batch_id == slot.batch_id:
                # this very write, applied, its answer lost (a 500 after applying, or the SDK's retry of it
                # meeting itself): the batch is this sender's
                return slot, document
            if isinstance(error, Conflict):
                back_off(attempt)
            else:
                # else raised: nothing taken, the next send carries them
                pause_if_transient(error, attempt, tries=_TRANSIENT_TRIES, what="taking a refund batch")
            continue
        return slot, document
    raise Busy(f"the refunds of {marketplace} are changing too fast; the next send carries them")


def _in_flight(ret: Return, slot: _Slot) -> bool:
    """The return's refund is still pending in this slot with no feed recorded."""
    refund = ret.refund
    return (
        refund is not None
        and refund.status is RefundStatus.PENDING
        and not refund.feed_id
        and slot.names(ret)
    )


Settle = Callable[[Return], tuple[Return, list[Write]]]


def _settle_batch(
    table: Table, slot: _Slot, change: Settle, extra: Sequence[Write] = (), *, without_slot: bool = False
) -> list[Return]:
    """Each refund of the slot's batch still in flight in it changed (with the writes `change` adds for it),
    `extra` written and the slot released, in one transaction (at most 2 x BATCH_CAP + 2 items); the slot
    alone released when none is left (it must never stay held: every refund of the marketplace waits on it).
    `without_slot`: the change holds even when the slot is no longer this batch's (a feed id Amazon gave)."""
    records = ReturnRecords(table)
    holding = True
    for attempt in range(_ATTEMPTS):
        try:
            writes: list[Write] = []
            changed: list[Return] = []
            for member in slot.members:
                try:
                    ret, version = records.read(member.return_id)
                except NotFound:
                    continue
                if not _in_flight(ret, slot):
                    continue
                after, more = change(ret)
                writes += [Write.put_versioned(return_item(after), version), *more]
                changed.append(after)
            if not changed:
                if extra:
                    table.transact(list(extra))
                with contextlib.suppress(Conflict):  # released already
                    table.transact([slot.release()])
                return []
            table.transact([*writes, *extra, *([slot.release()] if holding else [])])
        except Conflict:
            held = _slot(table, slot.marketplace)
            if held is None or held.batch_id != slot.batch_id:
                if not without_slot:
                    return []  # settled some other way meanwhile
                holding = False
            back_off(attempt)
            continue
        except Exception as error:  # refused for a moment, or applied with its answer lost: read again
            pause_if_transient(error, attempt, tries=_TRANSIENT_TRIES, what="settling a refund batch")
            continue
        return changed
    raise Busy(f"the refunds of {slot.marketplace} are changing too fast; the refund check settles them")


def _record_feed(table: Table, slot: _Slot, feed_id: str) -> list[Return]:
    """The feed id on every refund of the batch, the feed marker (feed -> each refund and its MessageID) and
    the slot released, in one transaction."""
    marker = {
        **keys.refund_feed_key(feed_id),
        "entity": "RefundFeed",
        "feedId": feed_id,
        "marketplaceId": slot.marketplace,
        "refunds": [m.item() for m in slot.members],
    }
    return _settle_batch(
        table, slot, lambda x: (sent(x, feed_id), []), [Write("Put", item=marker)], without_slot=True
    )


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
    says what happened, since no other batch here could create one meanwhile. None: too soon to ask (its
    sender may be at work, or Amazon may not list a feed made a moment ago); "given back": no feed nobody
    recorded, so createFeed made none (the batch's refunds are ready again); "found": exactly one, recorded as
    the batch's feed; "unknown": more than one (the seller's own upload among them), each marked as nobody's,
    the batch's refunds left to Amazon's finances."""
    # getFeeds is asked no sooner than a minute after createFeed, so a feed just made is surely listed (a feed
    # missed would be sent twice); a sender that said nothing may still be at work until its grace is over
    if slot.unknown_at or sender_gone:
        ready = now - (slot.unknown_at or slot.sending_at) >= LISTING_DELAY
    else:
        ready = now - slot.sending_at > CLAIM_GRACE
    if not ready:
        return None
    returns = [m.return_id for m in slot.members]
    strays = _strays(table, client, slot)
    if not strays:
        _settle_batch(table, slot, lambda x: (unclaimed(x), [_ready_marker(slot.marketplace, x)]))
        logger.info("createFeed made no feed: the refunds are sent again", extra={"returnIds": returns})
        return "given back"
    if len(strays) == 1:
        _record_feed(table, slot, strays[0])
        logger.info("the feed whose answer was lost", extra={"returnIds": returns, "feedId": strays[0]})
        return "found"
    _release_as_nobodys(table, slot, strays)
    logger.warning(
        "adjustment feeds nobody here recorded: the refunds wait for Amazon's finances",
        extra={"returnIds": returns, "feedIds": strays},
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


def _follow_dead_sender(table: Table, client: SpApiClient, marketplace: str, sender: str) -> None:
    """A slot this same sender holds was left by its try that died between taking it and recording the feed (a
    timeout, an out-of-memory kill): there is no sender alive to wait for, so it is settled from Amazon's list
    of feeds a minute after createFeed (else marked so that the refund check asks a minute on, not five)."""
    slot = _slot(table, marketplace)
    if slot is None or slot.sender != sender:
        return
    if _resolve(table, client, slot, utc_now(), sender_gone=True) is None and slot.unknown_at is None:
        _outcome_unknown(table, slot)


def _give_back(
    table: Table, return_id: str, refund_id: str | None, claim: datetime, marketplace: str
) -> None:
    """The refund's claim made at `claim` released (ready again), if it is still that claim of that refund and
    it never took the sending slot (a claim made before batches, whose sender stopped before createFeed)."""

    def back(ret: Return) -> Return | None:
        refund = ret.refund
        if (
            refund is None
            or refund.refund_id != refund_id
            or refund.status is not RefundStatus.PENDING
            or refund.claimed_at != claim
            or refund.sending_at is not None
            or refund.feed_id
        ):
            return None
        return unclaimed(ret)

    _change(table, return_id, back, lambda after: [_ready_marker(marketplace, after)])


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


def _settles(refund_id: str, change: Callable[[Return], Return]) -> Change:
    return lambda ret: _if_ours(ret, refund_id, change)


def _refusal(at: datetime, why: str) -> Callable[[Return], Return]:
    return lambda ret: refused(ret, at, why)


def _none(after: Return) -> list[Write]:
    return []


def settle_feed(
    table: Table, client: SpApiClient, marker: Item, *, processing_status: str, report_document_id: str | None
) -> int:
    """Each refund the feed carries submitted or refused by its own message's outcome in the processing
    report; how many were settled now (0: all of them were settled before)."""
    feed_id = str(marker["feedId"])
    members = _members_of(marker)
    records = ReturnRecords(table)
    pending: list[tuple[_Member, Return]] = []
    for member in members:
        try:
            ret = records.get(member.return_id)
        except NotFound:
            continue
        refund = ret.refund
        if (
            refund is not None
            and refund.refund_id == member.refund_id
            and refund.feed_id == feed_id
            and refund.status is RefundStatus.PENDING
        ):
            pending.append((member, ret))
    if not pending:
        return 0
    message_ids = [m.message_id for m in members]
    if processing_status == "DONE" and report_document_id:
        marketplace = str(
            marker.get("marketplaceId") or OrderRepository(table).get(pending[0][1].order_id).marketplace_id
        )
        outcomes = read_message_outcomes(
            read_feed_document(client, marketplace, report_document_id), message_ids
        )
    else:
        why = f"Amazon did not process the adjustment feed ({processing_status})"
        outcomes = {m: ProcessingOutcome(accepted=False, reason=why) for m in message_ids}
    now = utc_now()
    settled = 0
    for member, ret in pending:
        outcome = outcomes[member.message_id]
        if outcome.accepted:
            after = _change(
                table, ret.return_id, _settles(member.refund_id, lambda x: submitted(x, now)), _none
            )
        else:
            why = outcome.reason or "Amazon refused the adjustment"
            after = _finish(
                table, ret.return_id, member.refund_id, _settles(member.refund_id, _refusal(now, why))
            )
        settled += after is not None
    return settled


# --- 4. the check -----------------------------------------------------------------------------------


def check_refunds(
    table: Table, client: SpApiClient, *, seller_id: str, now: datetime | None = None
) -> dict[str, int]:
    """One pass over the open refunds (see the module's docstring), then the refunds ready sent per
    marketplace: feed after full feed while createFeed has tokens (a backlog past its burst drains at the
    budget's rate, not one feed per run); stops early when the budget runs dry."""
    now = now or utc_now()
    counts = {"checked": 0, "confirmed": 0, "settled": 0, "sent": 0, "refused": 0}
    records = ReturnRecords(table)
    to_send: set[str] = set()  # marketplaces with a refund ready long enough (or given back): the check sends
    feeds: dict[str, Feed] = {}  # getFeed once per feed in a run, however many refunds it carries
    try:
        _sweep_slots(table, client, now)
    except Exception as error:  # the refunds' own checks go on; the next run sweeps again
        logger.warning(
            "the sending slots could not be swept", extra={"error": f"{type(error).__name__}: {error}"}
        )
    spent = False
    for marker in table.query_all(keys.open_refunds()):
        counts["checked"] += 1
        return_id = marker["returnId"]
        try:
            ret = records.get(return_id)
            counts[_check_one(table, client, ret, now=now, to_send=to_send, feeds=feeds)] += 1
        except BudgetExhausted as error:
            if not isinstance(error, BudgetUnavailable):
                logger.info("refund check stops: the rate budget is spent until the next run")
                spent = True
                break
            counts["failed"] = counts.get("failed", 0) + 1  # its table failed this once: the next return
            logger.warning(
                "refund check of a return failed", extra={"returnId": return_id, "error": str(error)}
            )
        except Exception as error:
            # one return that cannot be checked now (a throttled or failing table, a dropped connection) must
            # not keep the returns after it waiting: it is retried next run
            counts["failed"] = counts.get("failed", 0) + 1
            logger.warning(
                "refund check of a return failed",
                extra={"returnId": return_id, "error": f"{type(error).__name__}: {error}"},
            )
    for marketplace in sorted(to_send) if not spent else []:
        for _ in range(CHECK_FEEDS):
            try:
                outcome, count = send_refunds(table, client, marketplace, seller_id=seller_id)
            except (
                Exception
            ) as error:  # throttled, the budget spent, a dropped connection: the next run sends
                counts["failed"] = counts.get("failed", 0) + 1
                logger.warning(
                    "the refunds ready could not be sent",
                    extra={"marketplaceId": marketplace, "error": f"{type(error).__name__}: {error}"},
                )
                break
            if outcome in ("sent", "refused"):
                counts[outcome] += count
            if outcome != "sent" or count < BATCH_CAP:
                break  # none left (a batch short of full was all there was), no token, or not sent
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


def _check_one(
    table: Table,
    client: SpApiClient,
    ret: Return,
    *,
    now: datetime,
    to_send: set[str],
    feeds: dict[str, Feed],
) -> str:
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
                to_send.add(marketplace)
                return "checked"
            return _check_one(
                table, client, ReturnRecords(table).get(ret.return_id), now=now, to_send=to_send, feeds=feeds
            )
    if refund.status is RefundStatus.SUBMITTED or (refund.claimed_at is not None and not refund.feed_id):
        since = refund.claimed_at or refund.requested_at or ret.requested_at
        skus = {line.sku for line in refund.lines}
        if refund_posted(refund_events(client, marketplace, ret.order_id), ret.order_id, since, skus):
            _finish(table, ret.return_id, refund.refund_id, lambda r: confirmed(r, now))
            return "confirmed"
        if (
            refund.status is RefundStatus.PENDING
            and refund.claimed_at is not None
            and refund.sending_at is None
            and now - since > CLAIM_GRACE
            and _no_stray_feed(table, client, marketplace, since)
        ):  # a claim made before batches whose sender stopped before createFeed: nothing reached Amazon
            _give_back(table, ret.return_id, refund.refund_id, refund.claimed_at, marketplace)
            to_send.add(marketplace)
            return "checked"
        if refund.status is RefundStatus.PENDING and now - since > FINANCES_WAIT:
            reason = (
                "sending to Amazon was interrupted and no refund showed in Amazon's finances within 48 hours: "
                "nothing was refunded, send it again"
            )
            _finish(table, ret.return_id, refund.refund_id, lambda r: refused(r, now, reason))
            return "refused"
        return "checked"
    if refund.feed_id:  # pending: the notification may be lost, ask Amazon how the feed went
        feed = feeds.get(refund.feed_id) or get_feed(client, marketplace, refund.feed_id)
        feeds[refund.feed_id] = feed
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
    if _is_ready(ret) and now - (refund.requested_at or now) > UNSENT_AFTER:
        # not sent by the stream by now: the check sends the marketplace's ready refunds (a refund recorded
        # before batches has no ready marker yet: written here)
        if table.get(keys.refund_ready_key(marketplace, ret.return_id), consistent=True) is None:
            table.transact([_ready_marker(marketplace, ret)])
        to_send.add(marketplace)
    return "checked"


def _sweep_slots(table: Table, client: SpApiClient, now: datetime) -> None:
    """A slot whose refunds moved on without releasing it (a write lost between the two) would keep every
    refund of its marketplace waiting: released once its sender's grace is over, any feed nobody recorded in
    it marked as nobody's (it cannot be told whose)."""
    records = ReturnRecords(table)
    for item in table.query_all(keys.refund_slots()):
        slot = _Slot.read(item)
        if slot is None or now - slot.sending_at <= CLAIM_GRACE:
            continue
        in_flight = False
        for member in slot.members:
            try:
                in_flight = _in_flight(records.get(member.return_id), slot)
            except NotFound:
                in_flight = False
            if in_flight:
                break
        if in_flight:
            continue  # its refunds' own checks settle it
        logger.warning(
            "a sending slot left held is released", extra={"returnIds": [m.return_id for m in slot.members]}
        )
        _release_as_nobodys(table, slot, _strays(table, client, slot))


# --- the stream ---------------------------------------------------------------------------------------


def refunds_to_send(records: list[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(return id, order id, the first record's sequence number) for each return in the batch whose new image
    holds a pending refund not yet claimed, in stream order."""
    found: dict[str, tuple[str, str]] = {}
    for record in records:
        image = from_dynamo(record.get("dynamodb", {}).get("NewImage") or {})
        refund = image.get("refund") or {}
        if (
            image.get("entity") == "Return"
            and refund.get("status") == RefundStatus.PENDING.value
            and not refund.get("feedId")
            and not refund.get("claimedAt")
        ):
            found.setdefault(
                str(image["returnId"]), (str(image["orderId"]), str(record["dynamodb"]["SequenceNumber"]))
            )
    return [(return_id, order_id, sequence) for return_id, (order_id, sequence) in found.items()]


def send_from_stream(
    table: Table, client: SpApiClient, records: list[Mapping[str, Any]], *, seller_id: str
) -> str | None:
    """The batch's records of refunds made ready only say which marketplaces have something to send: each of
    them sends what is ready now, as one feed. The sequence number to retry from when a marketplace's send
    failed (throttled: the stream retries it, and the refund check is the backstop), else None."""
    firsts: dict[str, str] = {}  # marketplace -> its first record in the batch (who sends, for a retry)
    markets: dict[str, str] = {}
    for return_id, order_id, sequence in refunds_to_send(records):
        try:
            if order_id not in markets:
                markets[order_id] = OrderRepository(table).get(order_id).marketplace_id
        except Exception:
            logger.exception(
                "a refund's marketplace could not be read; the batch is retried",
                extra={"returnId": return_id},
            )
            return refunds_to_send(records)[0][2]
        firsts.setdefault(markets[order_id], sequence)
    for marketplace, sequence in firsts.items():
        try:
            outcome, count = send_refunds(
                table, client, marketplace, seller_id=seller_id, sender=f"stream:{marketplace}:{sequence}"
            )
        except Exception:
            logger.exception(
                "the refunds ready could not be sent now; retried from the record",
                extra={"marketplaceId": marketplace},
            )
            return sequence
        logger.info(
            "refunds send", extra={"marketplaceId": marketplace, "outcome": outcome, "refunds": count}
        )
    return None
