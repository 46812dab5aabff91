"""Order report requests and their views as Queries (GET /reports/orders).

A report has one row per order item, like Amazon's flat-file order reports, with Amazon's column names
where Amazon has the column. Every view is one or more Queries on the table's indexes, read page by
page, so a report of any size is produced in constant memory:

- all:       gsi1 `ORDERS`, newest purchase first, purchase-date range in the key (1 read per order);
- new:       gsi1 `ORDERS` from the seller's mark (or `since`); an hour before the mark is read again so an
             order that reached the table late is not missed, and the ids already seen there are skipped;
- unshipped: gsi2 by status, Unshipped then PartiallyShipped, each soonest ship-by first. Pending (payment
             not yet authorised) and PendingAvailability (pre-orders) are left out: Amazon says not to ship
             them yet. gsi2 sorts by ship-by, so a purchase-date range is a filter after the Query;
- archived:  the seller's archive markers (sparse gsi1 `ORDERS#ARCHIVED` by purchase date, then the orders
             by BatchGetItem: 2 reads per order) for orders newer than the archive age, then every order
             purchased before it (gsi1 `ORDERS`, 1 read per order). The two parts never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from oms.domain.orders import OrderStatus
from oms.domain.types import iso_z
from oms.errors import FieldProblem, InvalidInput
from oms.reports.columns import CATALOGUE, DEFAULT_COLUMNS
from oms.store import keys
from oms.store.keys import KeyQuery
from oms.store.table import Item

# --- the request


class View(StrEnum):
    ALL = "all"
    NEW = "new"
    UNSHIPPED = "unshipped"
    ARCHIVED = "archived"


UNSHIPPED_STATUSES = (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED)
NEW_OVERLAP = timedelta(hours=1)  # orders can reach the table this late (the backstop runs every 15 min)
FIRST_LOOK = timedelta(days=1)  # "new" before the seller ever marked anything: the last day's orders


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values)


@dataclass(frozen=True)
class ReportRequest:
    view: View = View.ALL
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    purchased_from: str | None = None  # instants as stored (iso_z), so they compare with keys as text
    purchased_to: str | None = None
    since: str | None = None  # view=new: instead of the seller's mark

    @classmethod
    def parse(
        cls,
        view: str | None,
        columns: str | None,
        purchased_from: datetime | None = None,
        purchased_to: datetime | None = None,
        since: datetime | None = None,
    ) -> ReportRequest:
        """The request as the API got it; unknown views and columns are refused with the valid ones."""
        try:
            chosen_view = View(view or View.ALL)
        except ValueError:
            valid = _listing(View)
            raise InvalidInput(
                f"view: unknown view {view!r}; valid views: {valid}",
                [FieldProblem("view", f"unknown view {view!r}; valid views: {valid}")],
            ) from None
        names = tuple(n.strip() for n in (columns or "").split(",") if n.strip()) or DEFAULT_COLUMNS
        unknown = [n for n in names if n not in CATALOGUE]
        if unknown:
            valid = _listing(CATALOGUE)
            message = f"unknown column(s) {_listing(unknown)}; valid columns: {valid}"
            raise InvalidInput(f"columns: {message}", [FieldProblem("columns", message)])
        if len(set(names)) != len(names):
            raise InvalidInput.for_field("columns", "names a column twice")
        if purchased_from and purchased_to and purchased_from > purchased_to:
            raise InvalidInput.for_field("from", "must not be after 'to'")
        if since is not None and chosen_view != View.NEW:
            raise InvalidInput.for_field("since", "belongs to view=new")
        return cls(
            chosen_view,
            names,
            iso_z(purchased_from) if purchased_from else None,
            iso_z(purchased_to) if purchased_to else None,
            iso_z(since) if since else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "view": self.view.value,
            "columns": list(self.columns),
            "from": self.purchased_from,
            "to": self.purchased_to,
            "since": self.since,
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> ReportRequest:
        return cls(
            View(stored["view"]),
            tuple(stored["columns"]),
            stored.get("from"),
            stored.get("to"),
            stored.get("since"),
        )


# --- views as queries


@dataclass(frozen=True)
class SeenMark:
    """Up to when the seller has seen new orders, and the ids of those purchased in the hour before."""

    seen_until: str
    seen_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Source:
    """One Query of a view; `lookup`: its items are markers whose orders are read by key."""

    query: KeyQuery
    keep: Callable[[Item], bool] = lambda _order: True
    lookup: bool = False


def _min(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


def shifted(instant: str, by: timedelta) -> str:
    return iso_z(datetime.fromisoformat(instant) + by)


def new_since(request: ReportRequest, at: str, mark: SeenMark | None) -> str:
    """Where view=new starts: `since`, else the seller's mark, else a day before `at`."""
    if request.since:
        return request.since
    return mark.seen_until if mark else shifted(at, -FIRST_LOOK)


def plan(
    request: ReportRequest,
    *,
    at: str,
    since: str | None,
    mark: SeenMark | None,
    archive_after: timedelta,
    from_mark: bool | None = None,
) -> list[Source]:
    """The Queries that read a view, in the order their rows come; `at` fixes "now" for every page."""
    low, high = request.purchased_from, request.purchased_to
    if request.view == View.ALL:
        return [Source(keys.orders_by_purchase_date(low, high))]
    if request.view == View.NEW:
        start = since or new_since(request, at, mark)
        if from_mark is None:  # decided by the first page (ReadState.from_mark), not by a mark moved since
            from_mark = request.since is None and mark is not None and mark.seen_until == start
        seen = mark.seen_ids if from_mark and mark else frozenset()
        lower = shifted(start, -NEW_OVERLAP) if from_mark else start

        def unseen(order: Item) -> bool:
            return not (order.get("purchaseDate", "") <= start and order.get("orderId") in seen)

        return [
            Source(
                keys.orders_by_purchase_date(_max(low, lower), _min(high, at)),
                keep=unseen,
            )
        ]
    if request.view == View.UNSHIPPED:

        def purchased_within(order: Item) -> bool:
            purchased = str(order.get("purchaseDate", ""))
            return (not low or purchased >= low) and (not high or purchased <= high)

        return [
            Source(
                keys.orders_by_status(status.value, None, None),
                keep=purchased_within,
            )
            for status in UNSHIPPED_STATUSES
        ]
    cutoff = shifted(at, -archive_after)
    last_aged = shifted(
        cutoff, -timedelta(seconds=1)
    )  # purchased before the cutoff (times are to the second)
    sources = []
    if not high or high >= cutoff:
        sources.append(Source(keys.archived_orders(_max(low, cutoff), high), lookup=True))
    if not low or low <= last_aged:
        sources.append(Source(keys.orders_by_purchase_date(low, _min(high, last_aged))))
    return sources
