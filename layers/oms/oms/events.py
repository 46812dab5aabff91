"""Domain events, derived from committed table changes (the stream), never from handlers after a write.

docs/events.md documents each event's schema. A change yields the events it means; the stream
record's id goes along as `metadata.eventId` so subscribers can drop the rare duplicate
(streams and EventBridge both deliver at least once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oms.domain.types import iso_z
from oms.store.clients import aws_client

SOURCE = "oms"
_PUT_EVENTS_MAX = 10


@dataclass(frozen=True)
class DomainEvent:
    detail_type: str
    data: dict[str, Any]
    event_id: str
    occurred_at: datetime

    def entry(self, bus_name: str) -> dict[str, Any]:
        detail = {
            "metadata": {"eventId": self.event_id, "occurredAt": iso_z(self.occurred_at)},
            "data": self.data,
        }
        return {
            "Source": SOURCE,
            "DetailType": self.detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), default=str),
            "EventBusName": bus_name,
            "Time": self.occurred_at,
        }


def _order_summary(order: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: order.get(key)
        for key in (
            "orderId",
            "marketplaceId",
            "status",
            "fulfillmentChannel",
            "purchaseDate",
            "latestShipDate",
        )
    }


def events_from_change(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, event_id: str, occurred_at: datetime
) -> list[DomainEvent]:
    """What a committed change of one item means to the outside world."""
    entity = (new or old or {}).get("entity")
    events: list[DomainEvent] = []

    def emit(detail_type: str, data: dict[str, Any]) -> None:
        events.append(DomainEvent(detail_type, data, f"{event_id}:{detail_type}", occurred_at))

    if entity == "Stock" and new is not None:
        emit_stock_crossings(old or {}, new, emit)

    if entity == "Order" and new is not None:
        if "stockShortage" in (new.get("flags") or []) and "stockShortage" not in (
            (old or {}).get("flags") or []
        ):
            short = {sku: h["short"] for sku, h in (new.get("stockHeld") or {}).items() if h.get("short")}
            emit("StockShortage", {**_order_summary(new), "skus": short})
        before_flags = set((old or {}).get("flags") or [])
        for flag, detail_type in (("atRisk", "OrderAtRisk"), ("late", "OrderLate")):
            if flag in (new.get("flags") or []) and flag not in before_flags:
                emit(
                    detail_type, {**_order_summary(new), "latestDeliveryDate": new.get("latestDeliveryDate")}
                )
        if old is None:
            emit("OrderReceived", {**_order_summary(new), "items": new.get("items", [])})
        elif old.get("status") != new.get("status"):
            emit("OrderStatusChanged", {**_order_summary(new), "previousStatus": old.get("status")})
            if new.get("status") == "Canceled":
                emit("OrderCanceled", _order_summary(new))
    return events


def _available(row: Mapping[str, Any]) -> int:
    return max(int(row.get("onHand", 0)) - int(row.get("reserved", 0)), 0)


def _stock_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sku": row.get("sku"),
        "location": row.get("location"),
        "onHand": int(row.get("onHand", 0)),
        "available": _available(row),
        "reorderPoint": row.get("reorderPoint"),
    }


def emit_stock_crossings(old: Mapping[str, Any], new: Mapping[str, Any], emit: Any) -> None:
    """StockLow once per fall to or below the reorder point; StockOut once per fall to zero available."""
    before, after = (_available(old) if old else None), _available(new)
    point = new.get("reorderPoint")
    was_low = (
        old
        and old.get("reorderPoint") is not None
        and before is not None
        and before <= int(old["reorderPoint"])
    )
    if point is not None and after <= int(point) and not was_low:
        emit("StockLow", _stock_summary(new))
    if (
        after == 0
        and (before is None or before > 0)
        and int(new.get("onHand", 0)) + int(new.get("reserved", 0)) + int(new.get("backordered", 0)) > 0
    ):
        emit("StockOut", _stock_summary(new))


@dataclass
class PublishResult:
    failed_from: int | None  # index of the first event EventBridge did not take, if any


class EventPublisher:
    def __init__(self, bus_name: str, client: Any = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("events")
        return self._client

    def publish(self, events: Sequence[DomainEvent]) -> PublishResult:
        """Publish in order, 10 per call; stops at the first refused event so order is kept on retry."""
        for start in range(0, len(events), _PUT_EVENTS_MAX):
            chunk = events[start : start + _PUT_EVENTS_MAX]
            answer = self.client.put_events(Entries=[e.entry(self.bus_name) for e in chunk])
            if answer.get("FailedEntryCount", 0):
                for offset, result in enumerate(answer["Entries"]):
                    if "ErrorCode" in result:
                        return PublishResult(start + offset)
        return PublishResult(None)
