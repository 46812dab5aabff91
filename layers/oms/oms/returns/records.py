"""Returns as stored: the return item, its order's returned units, per-SKU markers; recording and listing."""

from __future__ import annotations

import hashlib
import uuid
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
    new_return,
)
from oms.domain.types import iso_z, utc_now
from oms.errors import Conflict, InvalidInput, NotFound
from oms.store import keys
from oms.store.orders import OrderRepository
from oms.store.table import Item, Page, Table, Write, back_off

RETURN_ENTITY = "Return"
ORDER_RETURNS_ENTITY = "OrderReturns"
RETURN_MARKER_ENTITY = "SkuReturn"
_ATTEMPTS = 30
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
        raise Conflict(f"order {order_id} is changing too fast; try again")

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
        return [Write.put_new(return_item(ret)), Write.put_versioned(order_returns, version), *markers]

    @staticmethod
    def _replayed(ret: Return, order_id: str, items: list[ReturnItem]) -> Return:
        if ret.order_id != order_id or ret.items != items:
            raise Conflict("this Idempotency-Key was used for a different return")
        return ret

    def list(self, where: ReturnFilter, *, limit: int, next_token: str | None) -> Page:
        """Newest requests first. By SKU: its markers, then the returns (the status filtered after); by
        status: the status index; else every return. The time range is a key condition on each."""
        start = iso_z(where.requested_from) if where.requested_from else None
        end = iso_z(where.requested_to) if where.requested_to else None
        scope = repr(where)
        if where.sku:
            page = self._table.query_page(
                keys.returns_of_sku(where.sku, start, end), limit=limit, next_token=next_token, scope=scope
            )
            found = self._table.get_many([keys.return_key(m["returnId"]) for m in page.items])
            by_id = {i["returnId"]: i for i in found}
            items = [by_id[m["returnId"]] for m in page.items if m["returnId"] in by_id]
            if where.status:  # filtered after the query
                items = [i for i in items if i.get("status") == where.status.value]
        else:
            query = (
                keys.returns_by_status(where.status.value, start, end)
                if where.status
                else keys.returns_by_time(start, end)
            )
            page = self._table.query_page(query, limit=limit, next_token=next_token, scope=scope)
            items = page.items
        page.items = [_listed(return_from_item(i)) for i in items]
        return page


def _listed(ret: Return) -> dict[str, Any]:
    """A return in a list: without its timeline and receipts (GET /returns/{returnId} has them)."""
    return ret.model_dump(mode="json", by_alias=True, exclude={"timeline", "receipts"})
