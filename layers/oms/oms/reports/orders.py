"""Order reports (GET /reports/orders): the column catalogue, the views, rows read lazily, CSV streamed.

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

import contextlib
import csv
import io
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import boto3

from oms.domain.orders import OrderStatus
from oms.domain.types import iso_z, utc_now
from oms.errors import AlreadyExists, FieldProblem, InvalidInput, InvalidNextToken, NotFound, VersionConflict
from oms.store import keys
from oms.store.documents import DocumentStore, document_key
from oms.store.keys import KeyQuery
from oms.store.products import ProductStore
from oms.store.table import Item, Table, Write

Row = dict[str, str | None]

# ------------------------------------------------------------------------------ the column catalogue


def _text(value: Any) -> str | None:
    if value is None or value in ("", []):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _amount(money: Any) -> str | None:
    return money.get("amount") if isinstance(money, dict) else None


def _line_price(line: Item | None) -> str | None:
    """Amazon's item-price is the price of the line (unit price x quantity), in the unit price's precision."""
    if not line or not isinstance(line.get("unitPrice"), dict):
        return None
    try:
        unit = Decimal(str(line["unitPrice"]["amount"]))
    except (InvalidOperation, KeyError):
        return None
    return str((unit * int(line.get("quantity") or 0)).quantize(unit))


def _currency(order: Item, line: Item | None) -> str | None:
    for money in ((line or {}).get("unitPrice"), order.get("orderTotal")):
        if isinstance(money, dict) and money.get("currencyCode"):
            return str(money["currencyCode"])
    return None


def _shipments_of(order: Item, line: Item | None) -> list[dict[str, Any]]:
    """The shipments recorded for this line (a shipment that names no items covers the whole order)."""
    shipments = [s for s in order.get("shipments") or [] if isinstance(s, dict)]
    if line is None:
        return shipments
    return [
        s
        for s in shipments
        if not s.get("items") or any(i.get("orderItemId") == line.get("orderItemId") for i in s["items"])
    ]


def _joined(values: Iterable[Any]) -> str | None:
    seen = list(dict.fromkeys(str(v) for v in values if v))
    return " ".join(seen) or None


def _item_status(order: Item, line: Item | None) -> str | None:
    if line is None:
        return None
    if order.get("status") == OrderStatus.CANCELED:
        return "Cancelled"  # Amazon's spelling in its reports
    shipped_all = order.get("status") in (OrderStatus.SHIPPED, OrderStatus.INVOICE_UNCONFIRMED)
    if shipped_all or int(line.get("quantityShipped") or 0) >= int(line.get("quantity") or 0):
        return "Shipped"
    return "Unshipped"


def _quantity_to_ship(order: Item, line: Item | None) -> str | None:
    if line is None:
        return None
    if order.get("status") not in (
        OrderStatus.PENDING,
        OrderStatus.UNSHIPPED,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.PENDING_AVAILABILITY,
    ):
        return "0"
    return str(max(int(line.get("quantity") or 0) - int(line.get("quantityShipped") or 0), 0))


Reader = Callable[[Item, Item | None], str | None]


def _order(name: str) -> Reader:
    return lambda order, _line: _text(order.get(name))


def _line(name: str) -> Reader:
    return lambda _order, line: _text((line or {}).get(name))


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    read: Reader
    amazon: bool = True  # Amazon's flat-file order reports have a column of this name
    free_text: bool = False  # text from outside (titles): guarded against spreadsheet formulas


_COLUMNS = [
    Column("amazon-order-id", "Amazon's order id (3-7-7 digits)", _order("orderId")),
    Column("order-item-id", "Amazon's id of the order item (one row per item)", _line("orderItemId")),
    Column("purchase-date", "When the buyer placed the order (UTC)", _order("purchaseDate")),
    Column("last-updated-date", "When Amazon last changed the order (UTC)", _order("lastUpdateDate")),
    Column("order-status", "Pending, Unshipped, PartiallyShipped, Shipped, Canceled, ...", _order("status")),
    Column(
        "fulfillment-channel",
        "Amazon (FBA, AFN) or Merchant (you ship, MFN), as in Amazon's reports",
        lambda order, _line: {"AFN": "Amazon", "MFN": "Merchant"}.get(str(order.get("fulfillmentChannel"))),
    ),
    Column("marketplace-id", "The Amazon marketplace of the order", _order("marketplaceId"), amazon=False),
    Column("order-type", "StandardOrder, Preorder, ...", _order("orderType"), amazon=False),
    Column(
        "ship-service-level",
        "Shipping speed the buyer chose (e.g. Std US D2D Dom)",
        _order("shipServiceLevel"),
    ),
    Column("product-name", "Title of the product", _line("title"), free_text=True),
    Column("sku", "Your seller SKU", _line("sku")),
    Column("asin", "Amazon's product id", _line("asin")),
    Column("item-status", "Unshipped, Shipped or Cancelled (this item)", _item_status),
    Column("quantity", "Units ordered of this item", _line("quantity")),
    Column("quantity-shipped", "Units of this item shipped so far", _line("quantityShipped")),
    Column(
        "quantity-to-ship", "Units of this item still to ship (0 unless the order is open)", _quantity_to_ship
    ),
    Column("currency", "Currency of the prices (ISO 4217)", _currency),
    Column(
        "item-price", "Price of this item's units (unit price x quantity)", lambda _o, line: _line_price(line)
    ),
    Column(
        "unit-price",
        "Price of one unit",
        lambda _o, line: _amount((line or {}).get("unitPrice")),
        amazon=False,
    ),
    Column(
        "order-total", "Total of the order", lambda order, _l: _amount(order.get("orderTotal")), amazon=False
    ),
    Column("is-business-order", "true for an Amazon Business order", _order("isBusinessOrder")),
    Column("is-prime", "true for a Prime order", _order("isPrime")),
    Column("earliest-ship-date", "Start of the ship-by window (UTC)", _order("earliestShipDate")),
    Column("latest-ship-date", "Ship by this time, or the shipment is late (UTC)", _order("latestShipDate")),
    Column(
        "earliest-delivery-date",
        "Start of the promised delivery window (UTC)",
        _order("earliestDeliveryDate"),
    ),
    Column("latest-delivery-date", "End of the promised delivery window (UTC)", _order("latestDeliveryDate")),
    Column(
        "carrier",
        "Carrier(s) of the shipments recorded for this item",
        lambda order, line: _joined(
            s.get("carrierName") or s.get("carrier") for s in _shipments_of(order, line)
        ),
        amazon=False,
    ),
    Column(
        "tracking-numbers",
        "Tracking numbers of the shipments recorded for this item, space separated",
        lambda order, line: _joined(s.get("trackingNumber") for s in _shipments_of(order, line)),
        amazon=False,
    ),
    Column(
        "ship-date",
        "When the first shipment recorded for this item left (UTC)",
        lambda order, line: min(
            (str(s["shipDate"]) for s in _shipments_of(order, line) if s.get("shipDate")), default=None
        ),
        amazon=False,
    ),
    Column(
        "flags",
        "Warnings on the order, space separated: atRisk, late, stockShortage, buyerRequestedCancel",
        lambda order, _line: _joined(order.get("flags") or []),
        amazon=False,
    ),
]
CATALOGUE: dict[str, Column] = {column.name: column for column in _COLUMNS}
DEFAULT_COLUMNS = (
    "amazon-order-id",
    "order-item-id",
    "purchase-date",
    "order-status",
    "fulfillment-channel",
    "sku",
    "quantity",
    "quantity-shipped",
    "latest-ship-date",
)


def catalogue() -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "description": c.description,
            "amazonColumn": c.amazon,
            "default": c.name in DEFAULT_COLUMNS,
        }
        for c in _COLUMNS
    ]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows_of(order: Item, columns: Sequence[str]) -> list[Row]:
    """The report rows of one stored order: one per item (an order without items gives one row)."""
    readers = [(name, CATALOGUE[name]) for name in columns]
    rows = []
    for line in order.get("items") or [None]:
        row: Row = {}
        for name, column in readers:
            value = column.read(order, line)
            if column.free_text and value and value.startswith(_FORMULA_STARTS):
                value = "'" + value  # a title must not run as a formula when the CSV is opened
            row[name] = value
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------ the request


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


# ------------------------------------------------------------------------------ views as queries


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


def _shift(instant: str, by: timedelta) -> str:
    return iso_z(datetime.fromisoformat(instant) + by)


def new_since(request: ReportRequest, at: str, mark: SeenMark | None) -> str:
    """Where view=new starts: `since`, else the seller's mark, else a day before `at`."""
    if request.since:
        return request.since
    return mark.seen_until if mark else _shift(at, -FIRST_LOOK)


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
        lower = _shift(start, -NEW_OVERLAP) if from_mark else start

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
    cutoff = _shift(at, -archive_after)
    last_aged = _shift(cutoff, -timedelta(seconds=1))  # purchased before the cutoff (times are to the second)
    sources = []
    if not high or high >= cutoff:
        sources.append(Source(keys.archived_orders(_max(low, cutoff), high), lookup=True))
    if not low or low <= last_aged:
        sources.append(Source(keys.orders_by_purchase_date(low, _min(high, last_aged))))
    return sources


# ------------------------------------------------------------------------------ reading a report


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
        window = keys.orders_by_purchase_date(_shift(until, -NEW_OVERLAP), until)
        ids = [str(i["orderId"]) for i in self._table.query_all(window, page_size=500)]
        item = {**keys.orders_seen_mark_key(), "entity": "SeenMark", "seenUntil": until, "seenIds": ids}
        write = Write(
            "Put",
            item=item,
            condition="attribute_not_exists(#pk) OR #until < :until",
            names={"#pk": keys.PK, "#until": "seenUntil"},
            values={":until": until},
        )
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


# ------------------------------------------------------------------------------ CSV, streamed


def _cells(row: Row, columns: Sequence[str]) -> list[str]:
    return [row.get(name) or "" for name in columns]


def csv_text(rows: Iterable[Row], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(_cells(row, columns) for row in rows)
    return out.getvalue()


def csv_chunks(
    rows: Iterable[Row], columns: Sequence[str], *, chunk_bytes: int = 64 * 1024
) -> Iterator[bytes]:
    """The CSV (header first) as UTF-8 chunks of about `chunk_bytes`: never more than one chunk in memory."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_cells(row, columns))
        if out.tell() >= chunk_bytes:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode()


PART_BYTES = 8 * 1024 * 1024  # S3 parts: at least 5 MiB except the last


def upload_stream(documents: DocumentStore, key: str, chunks: Iterable[bytes], content_type: str) -> int:
    """Uploads chunks to S3 one part at a time (one part in memory); a small body is one PutObject. Bytes written."""
    client, bucket = documents.client, documents.bucket
    buffer = bytearray()
    parts: list[dict[str, Any]] = []
    upload_id: str | None = None
    total = 0
    try:
        for chunk in chunks:
            buffer += chunk
            total += len(chunk)
            if len(buffer) >= PART_BYTES:
                if upload_id is None:
                    upload_id = client.create_multipart_upload(
                        Bucket=bucket, Key=key, ContentType=content_type
                    )["UploadId"]
                number = len(parts) + 1
                answer = client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
                )
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                buffer = bytearray()
        if upload_id is None:
            documents.put(key, bytes(buffer), content_type)
            return total
        if buffer:
            number = len(parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        return total
    except BaseException:
        if upload_id is not None:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise


class _Counted:
    """Counts what passes through an iterator (rows of a report on their way to the CSV)."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self._rows:
            self.count += 1
            yield row


# ------------------------------------------------------------------------------ inline CSV or a job

INLINE_CSV_MAX_BYTES = 2_000_000  # API Gateway and Lambda answer at most 6 MB; leave room for headers
INLINE_CSV_MAX_SECONDS = 10.0  # API Gateway gives up after 29 s


def inline_csv(
    reports: OrderReports,
    request: ReportRequest,
    *,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> tuple[str | None, ReadState]:
    """The whole CSV when it is small enough to answer at once, else None (the report needs a job)."""
    state = reports.start(request)
    max_bytes = max_bytes or INLINE_CSV_MAX_BYTES
    deadline = time.monotonic() + (max_seconds or INLINE_CSV_MAX_SECONDS)
    chunks, size = [], 0
    for chunk in csv_chunks(reports.rows(request, state), request.columns, chunk_bytes=16 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes or time.monotonic() > deadline:
            return None, state
    return b"".join(chunks).decode(), state


# ------------------------------------------------------------------------------ report jobs

JOB_DAYS = 30  # a job and its CSV are kept a month (the bucket's rule expires docs/reports/jobs/)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class ReportJobs:
    """Large reports: a job item in the table, a message on ReportJobsQueue, built by build_report."""

    table: Table
    documents: DocumentStore | None = None
    queue_url: str = ""
    archive_after_days: int = 90
    sqs: Any = None
    now: Callable[[], str] | None = None
    _reports: OrderReports | None = field(default=None, init=False)

    @property
    def reports(self) -> OrderReports:
        if self._reports is None:
            self._reports = OrderReports(self.table, archive_after_days=self.archive_after_days, now=self.now)
        return self._reports

    def create(self, request: ReportRequest, state: ReadState, *, mark_seen: bool = False) -> dict[str, Any]:
        """Records the job (as of the request's instant, so the CSV is what was asked) and queues it."""
        if not self.queue_url:
            raise RuntimeError("REPORT_JOBS_QUEUE_URL is not set: large reports need the report jobs queue")
        job_id = uuid.uuid4().hex
        job = {
            **keys.report_job_key(job_id),
            "entity": "ReportJob",
            "jobId": job_id,
            "status": JobStatus.QUEUED.value,
            "request": request.as_dict(),
            "asOf": state.at,
            "since": state.since,
            "fromMark": state.from_mark,
            "markSeen": mark_seen,
            "createdAt": state.at,
            keys.TTL_ATTRIBUTE: int(time.time()) + JOB_DAYS * 86400,
        }
        self.table.put_new(job)
        self._sqs().send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({"jobId": job_id}))
        return job

    def _sqs(self) -> Any:
        if self.sqs is None:
            self.sqs = boto3.client("sqs")
        return self.sqs

    def get(self, job_id: str) -> dict[str, Any]:
        job = self.table.get(keys.report_job_key(job_id))
        if job is None:
            raise NotFound(f"report job {job_id} is not known here (jobs are kept {JOB_DAYS} days)")
        return job

    def run(self, job_id: str) -> dict[str, Any]:
        """Builds the job's CSV into S3 in constant memory; a job already done is left as it is."""
        job = self.get(job_id)
        if job["status"] == JobStatus.DONE:
            return job
        assert self.documents is not None
        request = ReportRequest.from_dict(job["request"])
        key = document_key("reports", "jobs", f"orders-{request.view.value}-{job_id}.csv")
        self._update(job, status=JobStatus.RUNNING.value, startedAt=self._now())
        try:
            state = ReadState(0, str(job["asOf"]), job.get("since"), from_mark=bool(job.get("fromMark")))
            rows = _Counted(self.reports.rows(request, state))
            written = upload_stream(self.documents, key, csv_chunks(rows, request.columns), "text/csv")
        except Exception as error:
            self._update(job, status=JobStatus.FAILED.value, error=str(error)[:500], finishedAt=self._now())
            raise
        if job.get("markSeen"):
            self.reports.mark_seen(str(job["asOf"]))
        return self._update(
            job, status=JobStatus.DONE.value, rows=rows.count, bytes=written, key=key, finishedAt=self._now()
        )

    def _update(self, job: dict[str, Any], **changes: Any) -> dict[str, Any]:
        job.update(changes)
        self.table.put(job)
        return job

    def _now(self) -> str:
        return self.now() if self.now else iso_z(utc_now())

    def answer(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job as the API shows it; a finished job links its CSV (a fresh presigned link each time)."""
        shown = {
            "jobId": job["jobId"],
            "status": job["status"],
            **{k: v for k, v in job["request"].items() if v is not None},
            "asOf": job["asOf"],
            "createdAt": job["createdAt"],
        }
        for name in ("startedAt", "finishedAt", "rows", "bytes", "error"):
            if job.get(name) is not None:
                shown[name] = job[name]
        if job["status"] == JobStatus.DONE and self.documents is not None:
            shown["url"] = self.documents.link(job["key"], filename=f"orders-{job['request']['view']}.csv")
        return shown

    # --- the daily report -----------------------------------------------------------------------

    def build_daily(self, day: str) -> dict[str, Any]:
        """Every order purchased on `day` (YYYY-MM-DD, UTC), all columns, to S3; listed by GET /reports/daily."""
        assert self.documents is not None
        request = ReportRequest(View.ALL, tuple(CATALOGUE), f"{day}T00:00:00Z", f"{day}T23:59:59Z")
        key = document_key("reports", "daily", f"orders-{day}.csv")
        state = ReadState(0, self._now(), None)
        orders = 0

        def counted_rows() -> Iterator[Row]:
            nonlocal orders
            for order in self.reports.orders(request, state):
                orders += 1
                yield from rows_of(order, request.columns)

        rows = _Counted(counted_rows())
        written = upload_stream(self.documents, key, csv_chunks(rows, request.columns), "text/csv")
        item = {
            **keys.daily_order_report_key(day),
            "entity": "DailyOrderReport",
            "day": day,
            "orders": orders,
            "rows": rows.count,
            "bytes": written,
            "key": key,
            "createdAt": self._now(),
        }
        self.table.put(item)
        return item

    def daily_page(self, *, limit: int, next_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = self.table.query_page(keys.daily_order_reports(), limit=limit, next_token=next_token)
        shown = []
        for item in page.items:
            entry = {k: item[k] for k in ("day", "orders", "rows", "bytes", "createdAt")}
            if self.documents is not None:
                entry["url"] = self.documents.link(item["key"], filename=f"orders-{item['day']}.csv")
            shown.append(entry)
        return shown, page.next_token
