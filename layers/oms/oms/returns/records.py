"""Returns as stored: the return item, its order's returned units, per-SKU markers; recording and listing."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oms.domain.returns import (
    MAX_ITEMS,
    Return,
    ReturnItem,
    ReturnStatus,
    awaiting_decision,
    awaiting_refund,
    lookup_identifiers,
    lookup_text,
    new_return,
)
from oms.domain.types import iso_z, utc_now
from oms.errors import Busy, Conflict, InvalidInput, NotFound
from oms.store import keys
from oms.store.conditional import add_units
from oms.store.orders import OrderRepository
from oms.store.table import Item, Page, Table, Write, back_off
from oms.warehouse.settings import ShippingSettingsStore

RETURN_ENTITY = "Return"
ORDER_RETURNS_ENTITY = "OrderReturns"
RETURN_MARKER_ENTITY = "SkuReturn"
RETURN_LOOKUP_ENTITY = "ReturnLookup"
NO_REASON = "not given"  # a return recorded without the buyer's reason
MAX_FOUND = 100  # a lookup names a parcel: more than this many returns is not a lookup
_ATTEMPTS = 30
_FILL_QUERIES = 10  # a filtered page reads at most this many pages of markers, then answers what it has
Listed = list[dict[str, Any]]  # returns as a list shows them (the class below has a method named list)
_RETURN_FIELDS = {field.alias for field in Return.model_fields.values()}


def return_item(ret: Return) -> Item:
    """The stored return. Its keys follow its state on every write: a request waiting for the seller is in the
    decision-due index, a receipt that makes the refund due puts it in the refund-due index (the deadline
    guard reads both), an answer, a refund or a close takes it out."""
    body = ret.model_dump(mode="json", by_alias=True)
    clock: dict[str, str] = {}
    if awaiting_decision(ret):
        clock = keys.decision_due_index_keys(ret.return_id, body["decisionDueBy"])
    elif awaiting_refund(ret):
        clock = keys.refund_due_index_keys(ret.return_id, body["refundDueBy"])
    return {
        **keys.return_key(ret.return_id),
        **keys.return_index_keys(ret.return_id, ret.status.value, body["requestedAt"]),
        **clock,
        "entity": RETURN_ENTITY,
        **body,
    }


def return_from_item(item: Item) -> Return:
    return Return.model_validate({k: v for k, v in item.items() if k in _RETURN_FIELDS})


def lookup_writes(ret: Return, before: Return | None = None) -> list[Write]:
    """A marker for each identifier that finds `ret` and did not find `before` (Amazon's RMA id, the return
    parcel's tracking number): whoever stores a return, or sets one of these on it, adds these writes to the
    same transaction (a marker left by an identifier that changed still points at the return: harmless, the
    lookup reads the return itself)."""
    new = lookup_identifiers(ret) - (lookup_identifiers(before) if before else set())
    return [
        Write(
            "Put",
            item={
                **keys.return_lookup_key(text, ret.return_id),
                "entity": RETURN_LOOKUP_ENTITY,
                "returnId": ret.return_id,
            },
        )
        for text in sorted(new)
    ]


def return_id_for(idempotency_key: str | None) -> str:
    """A new return's id; a retried request (same Idempotency-Key) names the same return, so it makes one."""
    if idempotency_key:
        return "RET-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:12].upper()
    return "RET-" + uuid.uuid4().hex[:12].upper()


@dataclass(frozen=True)
class ReturnFilter:
    status: ReturnStatus | None = None
    sku: str | None = None
    requested_from: datetime | None = None
    requested_to: datetime | None = None

    def __post_init__(self) -> None:
        if self.requested_from and self.requested_to and self.requested_from > self.requested_to:
            raise InvalidInput.for_field("from", "must not be after 'to'")


class ReturnRecords:
    def __init__(self, table: Table) -> None:
        self._table = table

    def read(self, return_id: str) -> tuple[Return, int]:
        """The return and its version, read consistently (for a change that will write it)."""
        item = self._table.get(keys.return_key(return_id), consistent=True)
        if item is None:
            raise NotFound(f"return {return_id} is not known here")
        return return_from_item(item), int(item.get("version", 0))

    def get(self, return_id: str) -> Return:
        return self.read(return_id)[0]

    def of_order(self, order_id: str, marker: Item | None = None) -> list[Return]:
        """The order's returns, oldest first (`marker`: its OrderReturns item, when the caller has read it)."""
        if marker is None:
            marker = self._table.get(keys.order_returns_key(order_id), consistent=True)
        ids = list((marker or {}).get("returnIds") or [])
        items = self._table.get_many([keys.return_key(i) for i in ids]) if ids else []
        return sorted((return_from_item(i) for i in items), key=lambda r: (r.requested_at, r.return_id))

    def record(self, order_id: str, items: list[ReturnItem], *, return_id: str) -> tuple[Return, bool]:
        """A return of shipped units of the order, written with its order's returned units (versioned) and a
        marker per SKU in one transaction. (the return, False) when this return id exists already for the
        same request: a retried POST changes nothing."""
        if len(items) > MAX_ITEMS:
            raise InvalidInput.for_field("items", f"at most {MAX_ITEMS} SKUs in one return")
        for attempt in range(_ATTEMPTS):
            existing = self._table.get(keys.return_key(return_id), consistent=True)
            if existing is not None:
                return self._replayed(return_from_item(existing), order_id, items), False
            try:
                order = OrderRepository(self._table).get(order_id)
            except NotFound:
                raise InvalidInput.for_field("orderId", f"order {order_id} is not known here") from None
            marker = self._table.get(keys.order_returns_key(order_id), consistent=True)
            ret = new_return(
                order, items, return_id=return_id, at=utc_now(), earlier=self.of_order(order_id, marker or {})
            )
            try:
                self._table.transact(self._record_writes(ret, marker))
            except Conflict:  # the same request twice at once, or another return of the order: read again
                back_off(attempt)
                continue
            return ret, True
        raise Busy(f"order {order_id} is changing too fast; try again")

    def new_return_writes(self, ret: Return, marker: Item | None) -> list[Write]:
        """Everything storing a new return writes, for one transaction (the returns sync stores Amazon's
        returns with these): the return, its order's list of returns (`marker`, as read: versioned), a marker
        per SKU, its lookup markers and its units on the return rates' counters."""
        return self._record_writes(ret, marker)

    def _record_writes(self, ret: Return, marker: Item | None) -> list[Write]:
        order_returns: Item = {
            **(marker or {}),
            **keys.order_returns_key(ret.order_id),
            "entity": ORDER_RETURNS_ENTITY,
            "orderId": ret.order_id,
            "returnIds": [*((marker or {}).get("returnIds") or []), ret.return_id],
        }
        at = iso_z(ret.requested_at)
        markers = [
            Write(
                "Put",
                item={
                    **keys.sku_return_key(item.sku, at, ret.return_id),
                    "entity": RETURN_MARKER_ENTITY,
                    "sku": item.sku,
                    "returnId": ret.return_id,
                },
            )
            for item in ret.items
        ]
        version = int(marker.get("version", 0)) if marker else None
        return [
            Write.put_new(return_item(ret)),
            Write.put_versioned(order_returns, version),
            *markers,
            *lookup_writes(ret),
            *self.returned_units_writes(ret),
        ]

    def returned_units_writes(self, ret: Return) -> list[Write]:
        """The return's units added to each SKU's counter on the warehouse day it was requested (by reason)."""
        day = ShippingSettingsStore(self._table).get().calendar.local(ret.requested_at).date().isoformat()
        writes = []
        for sku, units in sorted(ret.returned().items()):
            reasons: Counter[str] = Counter()
            for item in ret.items:
                if item.sku == sku:
                    reasons[item.reason or NO_REASON] += item.quantity
            writes.append(add_units(day, sku, returned=units, reasons=dict(reasons)))
        return writes

    @staticmethod
    def _replayed(ret: Return, order_id: str, items: list[ReturnItem]) -> Return:
        if ret.order_id != order_id or ret.items != items:
            raise Conflict("this Idempotency-Key was used for a different return")
        return ret

    def list(self, where: ReturnFilter, *, limit: int, next_token: str | None) -> Page:
        """Newest requests first. By SKU: its markers, then the returns (with a status too: filtered, the
        page filled from further markers so a page is short only at the end); by status: the status index;
        else every return. The time range is a key condition on each."""
        start = iso_z(where.requested_from) if where.requested_from else None
        end = iso_z(where.requested_to) if where.requested_to else None
        scope = repr(where)
        if where.sku:
            page = self._of_sku(where, keys.returns_of_sku(where.sku, start, end), limit, next_token, scope)
        else:
            query = (
                keys.returns_by_status(where.status.value, start, end)
                if where.status
                else keys.returns_by_time(start, end)
            )
            page = self._table.query_page(query, limit=limit, next_token=next_token, scope=scope)
        page.items = [_listed(return_from_item(i)) for i in page.items]
        return page

    def _of_sku(
        self, where: ReturnFilter, query: keys.KeyQuery, limit: int, token: str | None, scope: str
    ) -> Page:
        """A page of the SKU's returns in `where.status` (any without one). Each query asks only for the
        markers still missing from the page, so the page never overshoots and its token resumes right after
        the last marker read; a SKU has as many returns as it had sales returned, so reading its markers is
        bounded by the SKU, not by the table."""
        found: list[Item] = []
        for _ in range(_FILL_QUERIES):
            page = self._table.query_page(query, limit=limit - len(found), next_token=token, scope=scope)
            items = self._table.get_many([keys.return_key(m["returnId"]) for m in page.items])
            by_id = {i["returnId"]: i for i in items}
            for marker in page.items:
                item = by_id.get(marker["returnId"])
                if item is not None and (where.status is None or item.get("status") == where.status.value):
                    found.append(item)
            token = page.next_token
            if token is None or len(found) >= limit:
                break
        return Page(found, token)

    def find(self, text: str, where: ReturnFilter) -> Listed:
        """Returns a scanned or typed identifier names, newest request first: a return id, an order id, Amazon's
        RMA id or the return parcel's tracking number (without case or spaces); `where` narrows them."""
        wanted = lookup_text(text)
        if not wanted:
            raise InvalidInput.for_field("q", "give a return id, order id, RMA id or tracking number")
        ids: list[str] = []
        for candidate in dict.fromkeys((text.strip(), wanted)):  # a return id as given, then as scanned
            if self._table.get(keys.return_key(candidate), consistent=False) is not None:
                ids.append(candidate)
            order_returns = self._table.get(keys.order_returns_key(candidate), consistent=False)
            ids += list((order_returns or {}).get("returnIds") or [])
        for form in _scanned_forms(wanted):
            markers = self._table.query_page(keys.returns_found_by(form), limit=MAX_FOUND)
            ids += [m["returnId"] for m in markers.items]
        unique = list(dict.fromkeys(ids))[:MAX_FOUND]
        found = [return_from_item(i) for i in self._table.get_many([keys.return_key(i) for i in unique])]
        chosen = [r for r in found if _matches(r, where)]
        chosen.sort(key=lambda r: (r.requested_at, r.return_id), reverse=True)
        return [_listed(r) for r in chosen]


def _scanned_forms(wanted: str) -> list[str]:
    """The identifier as scanned, and for a USPS label's barcode (420 + the 5- or 9-digit ZIP code + the
    tracking number) the tracking number inside it, as the carrier's label prints both."""
    forms = [wanted]
    if wanted.startswith("420"):
        forms += [wanted[n:] for n in (8, 12) if len(wanted) - n >= 10]
    return forms


def _matches(ret: Return, where: ReturnFilter) -> bool:
    return (
        (where.status is None or ret.status is where.status)
        and (where.sku is None or where.sku in ret.returned())
        and (where.requested_from is None or ret.requested_at >= where.requested_from)
        and (where.requested_to is None or ret.requested_at <= where.requested_to)
    )


def _listed(ret: Return) -> dict[str, Any]:
    """A return in a list: without its timeline and receipts (GET /returns/{returnId} has them), with the
    units received by outcome once any came (`outcome`: backInStock, writtenOff)."""
    listed = ret.model_dump(mode="json", by_alias=True, exclude={"timeline", "receipts"})
    if ret.receipts:
        listed["outcome"] = ret.outcome()
    return listed
