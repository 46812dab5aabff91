"""Amazon's merchant-fulfilled (MFN) quantities kept equal to ours.

Every committed change of a stock row reaches `sync_changed_listings` through the table stream
(function sync_listings, a few seconds of batching). Per batch, each SKU whose quantity may have
moved is pushed once, whatever number of changes it saw: its current rows are read (so the newest
state wins and a retried batch never pushes an old one), and Amazon is called only when the
quantity differs from the one Amazon last accepted (the Listing record, per marketplace).

A throttled or failed push raises: its stream record is reported and retried until Amazon accepts
(or the trigger's retries run out: then FailedInvocationsDlq, and inventory_sync's read-back). A push Amazon refuses for good (INVALID, 400, 404: e.g. a SKU not listed
there) is recorded on the Listing record and counted, and does not hold up the other SKUs; the next
change of the SKU, or inventory_sync's read-back, tries again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from oms.amazon.client import SpApiClient, SpApiError, region_of
from oms.amazon.listings_api import SubmissionResponse, quantity_patch
from oms.domain.listings import merchant_quantity, moves_merchant_quantity
from oms.domain.types import iso_z, utc_now
from oms.inventory.stock import STOCK_ENTITY
from oms.observability import logger, metrics
from oms.store import keys
from oms.store.table import Item, Table, from_dynamo

LISTING_ENTITY = "Listing"


@dataclass
class PushReport:
    pushed: int = 0  # patches Amazon accepted
    unchanged: int = 0  # Amazon already had the quantity we last pushed
    not_ours: int = 0  # FBA SKUs: Amazon fulfills them, we never push
    refused: int = 0  # patches Amazon refused for good (recorded on the Listing record)
    in_feed: int = 0  # a listings feed on its way already carries the quantity
    fed: int = 0  # quantities sent in a listings feed (JSON_LISTINGS_FEED) rather than one patch each
    feeds: int = 0  # listings feeds sent
    wanted: int = 0  # SKUs left for the next listings feed (no feed token now; send_listing_feed sends them)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Push:
    """One quantity to send: a SKU's in one marketplace, with its Listing record as read (None: never sent)."""

    sku: str
    marketplace_id: str
    quantity: int
    record: Item | None


class ListingSync:
    """Pushes SKUs' merchant-fulfilled quantities to each of the seller's marketplaces."""

    def __init__(self, table: Table, client: SpApiClient, *, seller_id: str, marketplaces: list[str]) -> None:
        if not seller_id:
            raise RuntimeError(
                "SELLER_ID is not set: give the stack your merchant token (template parameter SellerId)"
            )
        self.table, self.client = table, client
        self.seller_id, self.marketplaces = seller_id, marketplaces

    def desired_quantity(self, sku: str) -> int | None:
        """What Amazon should show now (None: not a merchant-fulfilled SKU), from the SKU's current rows."""
        rows = [
            row
            for row in self.table.query_all(keys.stock_rows_of(sku), consistent=True)
            if row.get("entity") == STOCK_ENTITY
        ]
        return merchant_quantity(rows)

    def last_accepted(self, sku: str, marketplace_id: str) -> Item | None:
        return self.table.get(keys.listing_key(sku, marketplace_id), consistent=True)

    def plan(self, sku: str, report: PushReport) -> list[Push]:
        """What `sku` needs sent, per marketplace: nothing where Amazon has (or a listings feed on its way
        carries) the quantity we have now."""
        quantity = self.desired_quantity(sku)
        if quantity is None:
            report.not_ours += 1
            return []
        pushes = []
        for marketplace_id in self.marketplaces:
            record = self.last_accepted(sku, marketplace_id)
            # (a feed on its way with another quantity is checked again when it is processed)
            if record is not None and record.get("quantity") == quantity:
                report.unchanged += 1
                continue
            pending = (record or {}).get("pendingFeed") or {}
            if pending.get("quantity") == quantity:
                report.in_feed += 1  # a listings feed sent earlier carries this very quantity
                continue
            pushes.append(Push(sku, marketplace_id, quantity, record))
        return pushes

    def push(self, sku: str, report: PushReport) -> None:
        """Bring Amazon's quantity of `sku` to ours in every marketplace where it differs from the last push."""
        for push in self.plan(sku, report):
            self.patch(push.sku, push.marketplace_id, push.quantity, report, record=push.record)

    def patch(
        self, sku: str, marketplace_id: str, quantity: int, report: PushReport, *, record: Item | None = None
    ) -> bool:
        """One patchListingsItem; True when Amazon accepted it. Retryable failures raise."""
        try:
            answer = self.client.call(
                "patchListingsItem",
                SubmissionResponse,
                region=region_of(marketplace_id),
                path={"sellerId": self.seller_id, "sku": sku},
                query={"marketplaceIds": [marketplace_id], "includedData": ["issues"]},
                body=quantity_patch(quantity),
            )
        except SpApiError as error:
            if error.retryable or error.status in (401, 403):  # throttled, Amazon down, or our credentials
                raise
            self.record_refusal(sku, marketplace_id, quantity, record, code=error.code, message=str(error))
            report.refused += 1
            return False
        if answer.status != "ACCEPTED":
            message = "; ".join(f"{i.code}: {i.message}" for i in answer.issues) or answer.status
            self.record_refusal(sku, marketplace_id, quantity, record, code=answer.status, message=message)
            report.refused += 1
            return False
        pending = (record or {}).get("pendingFeed")
        self.remember(sku, marketplace_id, quantity, submission_id=answer.submission_id, pending_feed=pending)
        report.pushed += 1
        return True

    def remember(
        self,
        sku: str,
        marketplace_id: str,
        quantity: int,
        *,
        submission_id: str | None = None,
        pending_feed: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the quantity Amazon has (accepted from us, or read back equal). A listings feed still on its
        way stays named (`pending_feed`): when it is processed after this push, Amazon shows its quantity."""
        self.table.put(
            {
                **keys.listing_key(sku, marketplace_id),
                "entity": LISTING_ENTITY,
                "sku": sku,
                "marketplaceId": marketplace_id,
                "quantity": quantity,
                "submissionId": submission_id,
                "acceptedAt": iso_z(utc_now()),
                **({"pendingFeed": dict(pending_feed)} if pending_feed else {}),
            }
        )

    def record_refusal(
        self, sku: str, marketplace_id: str, quantity: int, record: Item | None, *, code: str, message: str
    ) -> None:
        logger.error(
            "Amazon refused a listing quantity",
            extra={"sku": sku, "marketplaceId": marketplace_id, "quantity": quantity, "code": code},
        )
        metrics.add_metric(name="ListingPushesRefused", unit=MetricUnit.Count, value=1)
        base = record or {
            **keys.listing_key(sku, marketplace_id),
            "entity": LISTING_ENTITY,
            "sku": sku,
            "marketplaceId": marketplace_id,
        }
        refusal = {"quantity": quantity, "code": code, "message": message[:1000], "at": iso_z(utc_now())}
        self.table.put({**base, "refusal": refusal})


# --------------------------------------------------------------------------- the stream batch


def changed_skus(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """SKU -> sequence number of its first record in the batch, for the stock changes that may move
    Amazon's quantity (in order of first appearance)."""
    found: dict[str, str] = {}
    for record in records:
        change = record.get("dynamodb", {})
        new_image = change.get("NewImage")
        if not new_image:
            continue
        new = from_dynamo(new_image)
        if new.get("entity") != STOCK_ENTITY or "sku" not in new:
            continue
        old = from_dynamo(change["OldImage"]) if change.get("OldImage") else None
        if moves_merchant_quantity(old, new):
            found.setdefault(str(new["sku"]), str(change["SequenceNumber"]))
    return found


@dataclass
class BatchResult:
    report: PushReport
    failed_from: str | None  # sequence number to retry from (every record after it comes again)


def sync_changed_listings(
    sync: ListingSync, records: list[Mapping[str, Any]], *, keep_going: Callable[[], bool] = lambda: True
) -> BatchResult:
    """Push each changed SKU once. The first SKU that cannot be pushed now (or the first left when time
    runs short) stops the batch: its first record is reported, so it and what follows are retried."""
    report = PushReport()
    for sku, sequence in changed_skus(records).items():
        if not keep_going():
            logger.info("time is short; the rest of the batch is retried", extra={"sku": sku})
            return BatchResult(report, sequence)
        try:
            sync.push(sku, report)
        except Exception:
            logger.exception("pushing a listing quantity failed; retried from its record", extra={"sku": sku})
            return BatchResult(report, sequence)
    return BatchResult(report, None)
