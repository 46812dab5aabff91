"""Reading an order report: page by page (JSON) or row by row (CSV), in constant memory, with the
seller's "seen" mark moved once a "new" report was read to its end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, InvalidNextToken, NotFound, VersionConflict
from oms.reports.columns import Row, rows_of
from oms.reports.query import NEW_OVERLAP, ReportRequest, SeenMark, Source, View, new_since, plan, shifted
from oms.store import conditional, keys
from oms.store.products import ProductStore
from oms.store.table import Item, Table

# --- reading a report


@dataclass
class ReportPage:
    rows: list[Row]
    next_token: str | None
    orders: int


@dataclass
class ReadState:
    """Where a paged report stands: which Query, the instant the report is "as of", where view=new starts."""

    phase: int
    at: str
    since: str | None
    inner: str | None = None
    from_mark: bool = False  # view=new starts at the seller's mark (decided once, for every page)

    def encode(self) -> str:
        return "|".join(
            [str(self.phase), self.at, self.since or "", "m" if self.from_mark else "", self.inner or ""]
        )

    @classmethod
    def decode(cls, token: str) -> ReadState:
        try:
            phase, at, since, from_mark, inner = token.split("|", 4)
            datetime.fromisoformat(at)
            return cls(int(phase), at, since or None, inner or None, from_mark == "m")
        except ValueError:
            raise InvalidNextToken.for_field("nextToken", "is not a token this API issued") from None


class OrderReports:
    """Reads order reports from the table; marks what the seller has seen; archives orders."""

    PAGE = 100  # orders per Query when streaming (BatchGetItem takes 100 keys)

    def __init__(
        self, table: Table, *, archive_after_days: int = 90, now: Callable[[], str] | None = None
    ) -> None:
        self._table = table
        self._archive_after = timedelta(days=archive_after_days)
        self._now = now or (lambda: iso_z(utc_now()))

    # --- the seller's mark of seen new orders -------------------------------------------------------

    def seen_mark(self) -> SeenMark | None:
        item = self._table.get(keys.orders_seen_mark_key())
        if item is None:
            return None
        return SeenMark(str(item["seenUntil"]), frozenset(item.get("seenIds") or ()))

    def mark_seen(self, until: str) -> None:
        """Moves the mark forward to `until` (never back); remembers the last hour's ids so they are not new again."""
        window = keys.orders_by_purchase_date(shifted(until, -NEW_OVERLAP), until)
        ids = [str(i["orderId"]) for i in self._table.query_all(window, page_size=500)]
        item = {**keys.orders_seen_mark_key(), "entity": "SeenMark", "seenUntil": until, "seenIds": ids}
        write = conditional.put_if_later(item, "seenUntil")
        with contextlib.suppress(VersionConflict):  # someone already marked later orders seen
            self._table.transact([write])

    # --- pages and streams ----------------------------------------------------------------------

    def start(self, request: ReportRequest) -> ReadState:
        at = self._now()
        if request.view != View.NEW:
            return ReadState(0, at, None)
        mark = None if request.since else self.seen_mark()
        return ReadState(
            0, at, new_since(request, at, mark), from_mark=mark is not None and not request.since
        )

    def _sources(self, request: ReportRequest, state: ReadState) -> list[Source]:
        mark = self.seen_mark() if state.from_mark else None  # its seen ids: the overlap hour's duplicates
        return plan(
            request,
            at=state.at,
            since=state.since,
            mark=mark,
            archive_after=self._archive_after,
            from_mark=state.from_mark if request.view == View.NEW else None,
        )

    def page(
        self, request: ReportRequest, *, limit: int, next_token: str | None = None
    ) -> tuple[ReportPage, ReadState]:
        """One page of up to `limit` orders (their rows); the state says where the report stands."""
        state = ReadState.decode(next_token) if next_token else self.start(request)
        sources = self._sources(request, state)
        scope = repr(request)
        while state.phase < len(sources):
            source = sources[state.phase]
            page = self._table.query_page(source.query, limit=limit, next_token=state.inner, scope=scope)
            orders = [o for o in self._orders_of(source, page.items) if source.keep(o)]
            rows = [row for order in orders for row in rows_of(order, request.columns)]
            if page.next_token:
                state = ReadState(state.phase, state.at, state.since, page.next_token, state.from_mark)
                return ReportPage(rows, state.encode(), len(orders)), state
            state = ReadState(state.phase + 1, state.at, state.since, None, state.from_mark)
            if orders:
                more = state.phase < len(sources)
                return ReportPage(rows, state.encode() if more else None, len(orders)), state
        return ReportPage([], None, 0), state

    def orders(self, request: ReportRequest, state: ReadState | None = None) -> Iterator[Item]:
        """Every order of the report, a Query page at a time (constant memory)."""
        state = state or self.start(request)
        for source in self._sources(request, state):
            page: list[Item] = []
            for item in self._table.query_all(source.query, page_size=self.PAGE):
                page.append(item)
                if len(page) == self.PAGE:
                    yield from (o for o in self._orders_of(source, page) if source.keep(o))
                    page = []
            yield from (o for o in self._orders_of(source, page) if source.keep(o))

    def rows(self, request: ReportRequest, state: ReadState | None = None) -> Iterator[Row]:
        for order in self.orders(request, state):
            yield from rows_of(order, request.columns)

    def _orders_of(self, source: Source, items: list[Item]) -> list[Item]:
        if not source.lookup or not items:
            return self._titled(items)
        ids = [str(marker["orderId"]) for marker in items]
        found = {
            o["orderId"]: o for o in self._table.get_many([keys.order_key(i) for i in ids], consistent=False)
        }
        return self._titled([found[i] for i in ids if i in found])

    def _titled(self, orders: list[Item]) -> list[Item]:
        """Items without Amazon's title yet (before the backstop) get the catalogue's: one BatchGetItem a page."""
        untitled = {
            str(line["sku"]) for order in orders for line in order.get("items") or [] if not line.get("title")
        }
        if not untitled:
            return orders
        products = ProductStore(self._table).many(untitled)
        for order in orders:
            for line in order.get("items") or []:
                product = products.get(str(line.get("sku")))
                if product is not None and not line.get("title"):
                    line["title"] = product.title
                    line["asin"] = line.get("asin") or product.asin
        return orders

    # --- archiving ------------------------------------------------------------------------------

    def archive(self, order_id: str) -> dict[str, Any]:
        order = self._table.get(keys.order_key(order_id))
        if order is None:
            raise NotFound(f"order {order_id} is not known here")
        marker = {
            **keys.archive_marker_key(order_id),
            **keys.archive_marker_index_keys(order_id, str(order["purchaseDate"])),
            "entity": "OrderArchived",
            "orderId": order_id,
            "archivedAt": self._now(),
        }
        try:
            self._table.put_new(marker)
        except AlreadyExists:
            marker = self._table.get(keys.archive_marker_key(order_id)) or marker
        return {"orderId": order_id, "archived": True, "archivedAt": marker["archivedAt"]}

    def unarchive(self, order_id: str) -> dict[str, Any]:
        if self._table.get(keys.order_key(order_id)) is None:
            raise NotFound(f"order {order_id} is not known here")
        self._table.delete(keys.archive_marker_key(order_id))
        return {"orderId": order_id, "archived": False}
