"""The backstop: orders read from the Orders API since a stored watermark, applied like notifications.

ORDER_CHANGE is a signal, not the whole truth: a notification can be lost. Every run reads the
orders updated since the last run (minus an overlap, so nothing slips between runs) with
searchOrders, up to 100 per page, and applies each as a change. The same page serves the
enrichment (prices, ship service level) of every order it holds, instead of one getOrder each.
Progress is stored after every page, so an interrupted run (or `oms backfill`) resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oms.amazon.client import SpApiClient, region_of
from oms.amazon.notifications import Outcome
from oms.amazon.orders_api import INCLUDED_DATA, ORDERS_PER_PAGE, SearchOrdersResponse
from oms.domain.types import iso_z, utc_now
from oms.observability import logger
from oms.orders.intake import Change, apply_change, change_from_api
from oms.store import keys
from oms.store.table import Table, again_if_transient

OVERLAP = timedelta(minutes=5)
FIRST_LOOKBACK = timedelta(days=1)
APPLY_TRIES = 5  # a page costs a searchOrders token (one in 180 s after a burst): not lost to one throttle


@dataclass
class RunReport:
    pages: int = 0
    orders: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    complete: bool = True

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1


def sync_orders(
    table: Table,
    client: SpApiClient,
    marketplace_id: str,
    *,
    job: str,
    since: datetime | None = None,
    now: datetime | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    on_page: Callable[[RunReport], None] = lambda report: None,
) -> RunReport:
    """Apply every order updated since the watermark of `job` (or `since`, for a backfill).

    Resumes an interrupted run from its stored page token; stops early when keep_going() says so
    (a Lambda running out of time), leaving the token for the next run.
    """
    now = now or utc_now()
    key = keys.watermark_key(job, marketplace_id)
    mark = table.get(key, consistent=True) or {}
    if mark.get("nextToken"):
        start, token = datetime.fromisoformat(mark["runSince"]), mark["nextToken"]
    else:
        start = since or (
            datetime.fromisoformat(mark["since"]) - OVERLAP if mark.get("since") else now - FIRST_LOOKBACK
        )
        token = None
    report = RunReport()
    newest = start
    region = region_of(marketplace_id)
    while True:
        page = client.call(
            "searchOrders",
            SearchOrdersResponse,
            region=region,
            query={
                "lastUpdatedAfter": iso_z(start),
                "marketplaceIds": [marketplace_id],
                "maxResultsPerPage": ORDERS_PER_PAGE,
                "includedData": INCLUDED_DATA,
                "paginationToken": token,
            },
            max_wait=30,
        )
        for api_order in page.orders:
            report.count(_apply(table, change_from_api(api_order, marketplace_id)))
            newest = max(newest, api_order.last_updated_time)
        report.pages += 1
        report.orders += len(page.orders)
        token = page.pagination.next_token if page.pagination else None
        if token is None:
            upto = page.last_updated_before or newest
            table.put({**key, "entity": "Watermark", "since": upto.isoformat(), "nextToken": None})
            on_page(report)
            return report
        table.put(
            {
                **key,
                "entity": "Watermark",
                "since": mark.get("since"),
                "runSince": start.isoformat(),
                "nextToken": token,
            }
        )
        on_page(report)
        if not keep_going():
            report.complete = False
            logger.info("order sync paused; the next run resumes", extra={"job": job, "pages": report.pages})
            return report


def _apply(table: Table, change: Change) -> Outcome:
    """The change applied, tried again after a throttle or a server error of the table (applying is idempotent:
    a change applied before its answer was lost comes back a duplicate), so the page paid for is not wasted."""
    return again_if_transient(
        lambda: apply_change(table, change), tries=APPLY_TRIES, what="applying an order"
    )
