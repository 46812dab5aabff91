"""The inventory backstop (schedule inventory_sync): what changed since the last run, on both sides.

1. Amazon's FBA figures: getInventorySummaries of the summaries changed since the stored watermark
   (startDateTime), 50 a page, written like FBA_INVENTORY_AVAILABILITY_CHANGES (oms.inventory.fba). The first
   run reads every summary once. A page token lives 30 seconds, so a run reads its pages at once and
   an interrupted run starts again from the watermark (figures never go back in time).
2. Our MFN quantities: the stock rows changed since the last run (the changed-stock index, one
   Query per day), their SKUs read back from Amazon 20 at a time (searchListingsItems) and patched
   where Amazon shows another quantity (oms.inventory.listings).

SP-API calls grow with the SKUs that changed, never with the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from pydantic.alias_generators import to_camel

from oms.amazon.client import SpApiClient, region_of
from oms.amazon.inventory_api import GetInventorySummariesResponse, as_of
from oms.amazon.listings_api import SEARCH_BATCH, ListingsSearchResults
from oms.domain.types import iso_z, utc_now
from oms.inventory.fba import figures_of_summary, record_fba_figures
from oms.inventory.listings import ListingSync, PushReport
from oms.observability import logger
from oms.store import keys
from oms.store.table import Table, again_if_transient

JOB = "inventory_sync"
OVERLAP = timedelta(minutes=5)  # writes committed late, clocks apart, and the index's lag
LISTINGS_FIRST_LOOKBACK = timedelta(days=1)
OLDEST_START = timedelta(days=540)  # getInventorySummaries refuses a startDateTime over 18 months old
# a step whose write the table refused for a moment (past the SDK's retries) is tried again within the run
# (decision 108; a refused read or whole put the table sends again itself): each is idempotent, and a run that
# died on one would read every page again
TRIES = 3


@dataclass
class InventorySyncReport:
    fba_pages: int = 0
    fba_summaries: int = 0
    fba_outcomes: dict[str, int] = field(default_factory=dict)
    changed_skus: int = 0  # merchant-fulfilled SKUs whose stock changed since the last run
    read_back: int = 0
    not_listed: int = 0  # SKUs Amazon has no listing of in this marketplace
    disagreed: int = 0  # Amazon showed another quantity than ours
    push: PushReport = field(default_factory=PushReport)
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        figures = {to_camel(k): v for k, v in self.__dict__.items() if k != "push"}
        return {**figures, "push": self.push.as_dict()}


def sync_inventory(
    table: Table,
    client: SpApiClient,
    marketplace_id: str,
    *,
    seller_id: str,
    marketplaces: Sequence[str] = (),
    now: datetime | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> InventorySyncReport:
    """FBA figures changed since the last run, then the listings' quantities read back and re-pushed where
    Amazon disagrees. `marketplaces`: every one the seller sells in (FBA figures shown are summed over
    them); the one being read when empty."""
    now = now or utc_now()
    report = InventorySyncReport()
    sync_fba_figures(
        table,
        client,
        marketplace_id,
        now=now,
        report=report,
        keep_going=keep_going,
        marketplaces=marketplaces or [marketplace_id],
    )
    if report.complete:
        sync = ListingSync(table, client, seller_id=seller_id, marketplaces=[marketplace_id])
        recheck_listings(table, sync, marketplace_id, now=now, report=report, keep_going=keep_going)
    return report


def sync_fba_figures(
    table: Table,
    client: SpApiClient,
    marketplace_id: str,
    *,
    now: datetime,
    report: InventorySyncReport,
    keep_going: Callable[[], bool],
    marketplaces: Sequence[str],
) -> None:
    key = keys.watermark_key(f"{JOB}:fba", marketplace_id)
    mark = table.get(key, consistent=True) or {}
    start = (
        max(datetime.fromisoformat(mark["since"]) - OVERLAP, now - OLDEST_START)
        if mark.get("since")
        else None
    )
    token: str | None = None
    while True:
        page = client.call(
            "getInventorySummaries",
            GetInventorySummariesResponse,
            region=region_of(marketplace_id),
            query={
                "details": "true",
                "granularityType": "Marketplace",
                "granularityId": marketplace_id,
                "marketplaceIds": [marketplace_id],
                "startDateTime": iso_z(start) if start else None,
                "nextToken": token,
            },
            max_wait=20,
        )
        report.fba_pages += 1
        for summary in page.summaries:
            if not summary.seller_sku:
                continue
            outcome = again_if_transient(
                partial(
                    record_fba_figures,
                    table,
                    summary.seller_sku,
                    {marketplace_id: figures_of_summary(summary)},
                    as_of=as_of(summary, now),
                    reference=f"getInventorySummaries:{marketplace_id}",
                    actor="amazon:FBA_INVENTORY",
                    identity={"fnsku": summary.fnsku, "asin": summary.asin},
                    marketplaces=marketplaces,
                ),
                tries=TRIES,
                what="keeping a SKU's FBA figures",
            )
            report.fba_summaries += 1
            report.fba_outcomes[outcome.value] = report.fba_outcomes.get(outcome.value, 0) + 1
        token = page.pagination.next_token if page.pagination else None
        if token is None:
            _mark(table, key, now)
            return
        if not keep_going():
            report.complete = False
            logger.info("FBA figures paused; the next run starts again from the watermark")
            return


def changed_skus_since(table: Table, since: datetime, until: datetime) -> list[str]:
    """The SKUs whose stock rows changed at or after `since`: one Query per day, never a Scan."""
    found: dict[str, None] = {}
    day = since.date()
    while day <= until.date():
        query = keys.stock_changed_on(day.isoformat(), iso_z(since) if day == since.date() else None)
        for row in table.query_all(query, page_size=500):
            found.setdefault(str(row["sku"]))
        day += timedelta(days=1)
    return list(found)


def _chunks(items: list[tuple[str, int]], size: int) -> Iterator[list[tuple[str, int]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def recheck_listings(
    table: Table,
    sync: ListingSync,
    marketplace_id: str,
    *,
    now: datetime,
    report: InventorySyncReport,
    keep_going: Callable[[], bool],
) -> None:
    """Read back Amazon's quantity of every MFN SKU that changed since the last run; patch disagreements."""
    key = keys.watermark_key(f"{JOB}:listings", marketplace_id)
    mark = table.get(key, consistent=True) or {}
    since = (
        datetime.fromisoformat(mark["since"]) - OVERLAP
        if mark.get("since")
        else now - LISTINGS_FIRST_LOOKBACK
    )
    wanted = [
        (sku, quantity)
        for sku in changed_skus_since(table, since, now)
        if (quantity := sync.desired_quantity(sku)) is not None
    ]
    report.changed_skus = len(wanted)
    for chunk in _chunks(wanted, SEARCH_BATCH):
        found = sync.client.call(
            "searchListingsItems",
            ListingsSearchResults,
            region=region_of(marketplace_id),
            path={"sellerId": sync.seller_id},
            query={
                "marketplaceIds": [marketplace_id],
                "identifiers": [sku for sku, _ in chunk],
                "identifiersType": "SKU",
                "includedData": ["fulfillmentAvailability"],
                "pageSize": SEARCH_BATCH,
            },
            max_wait=20,
        )
        amazon = {item.sku: item.merchant_quantity for item in found.items}
        for sku, quantity in chunk:
            report.read_back += 1
            if sku not in amazon:
                report.not_listed += 1
                continue
            if amazon[sku] != quantity:
                report.disagreed += 1
            again_if_transient(
                partial(_agree, sync, sku, marketplace_id, quantity, amazon[sku], report.push),
                tries=TRIES,
                what="re-pushing a SKU's quantity",
            )
        if not keep_going():
            report.complete = False
            logger.info("listing read-back paused; the next run reads the same changes again")
            return
    _mark(table, key, now)


def _mark(table: Table, key: dict[str, str], now: datetime) -> None:
    """The watermark: the next run reads what changed since `now`."""
    table.put({**key, "entity": "Watermark", "since": now.isoformat()})


def _agree(
    sync: ListingSync, sku: str, marketplace_id: str, quantity: int, amazons: int | None, push: PushReport
) -> None:
    """Amazon shows `amazons` of `sku`, ours is `quantity`: remembered when they agree, patched when not (a
    patch sets the quantity, so one tried again after its answer was lost sets the same)."""
    record = sync.last_accepted(sku, marketplace_id)
    if amazons == quantity:
        if record is None or record.get("quantity") != quantity:
            sync.remember(sku, marketplace_id, quantity)
        return
    sync.patch(sku, marketplace_id, quantity, push, record=record)
