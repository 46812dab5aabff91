"""Stock rows and their ledger: how they are stored, read and changed (one transaction per change)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from oms.domain.stock import Movement, StockLevel
from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.errors import NotFound
from oms.store import keys
from oms.store.table import Item, Page, Table, Write

STOCK_ENTITY = "Stock"
LEDGER_ENTITY = "LedgerEntry"


class FbaFigures(ApiModel):
    fulfillable: int = 0
    inbound: int = 0
    reserved: int = 0
    unfulfillable: int = 0


class StockRow(ApiModel):
    """A SKU's stock at one location (API.md, "Stock row")."""

    sku: str
    location: str = keys.DEFAULT_LOCATION
    on_hand: int = 0
    reserved: int = 0
    available: int = 0
    backordered: int = 0
    fba: FbaFigures | None = None
    reorder_point: int | None = None
    safety_stock: int | None = None
    lead_time_days: int | None = None
    updated_at: UtcDateTime | None = None


class LedgerEntry(ApiModel):
    sku: str
    location: str
    delta: int = Field(description="signed change of onHand")
    reserved_delta: int = 0
    backordered_delta: int = 0
    reason: str
    reference: str | None = None
    actor: str
    at: UtcDateTime


def level_of(item: Item | None) -> StockLevel:
    if item is None:
        return StockLevel()
    return StockLevel(
        int(item.get("onHand", 0)), int(item.get("reserved", 0)), int(item.get("backordered", 0))
    )


def row_from_item(item: Item) -> StockRow:
    level = level_of(item)
    fields = {
        k: item[k] for k in ("reorderPoint", "safetyStock", "leadTimeDays", "updatedAt", "fba") if k in item
    }
    return StockRow.model_validate(
        {
            "sku": item["sku"],
            "location": item.get("location", keys.DEFAULT_LOCATION),
            "onHand": level.on_hand,
            "reserved": level.reserved,
            "available": level.available,
            "backordered": level.backordered,
            **fields,
        }
    )


def stock_writes(
    current: Item | None,
    sku: str,
    movement: Movement,
    *,
    reason: str,
    reference: str | None,
    actor: str,
    location: str = keys.DEFAULT_LOCATION,
    at: str | None = None,
) -> list[Write]:
    """The stock row's new version and its ledger entry, for one transaction (a new SKU starts at 0)."""
    now = utc_now()
    at = at or iso_z(now)
    level = movement.applied_to(level_of(current))
    row: dict[str, Any] = {
        **(current or {}),
        **keys.stock_key(sku, location),
        **keys.stock_index_keys(sku, location),
        "entity": STOCK_ENTITY,
        "sku": sku,
        "location": location,
        "onHand": level.on_hand,
        "reserved": level.reserved,
        "backordered": level.backordered,
        "updatedAt": at,
    }
    entry_id = uuid.uuid4().hex[:12]
    entry = {
        # microseconds in the key keep a SKU's entries in the order they were written
        **keys.ledger_key(sku, now.isoformat(timespec="microseconds"), entry_id),
        "entity": LEDGER_ENTITY,
        "sku": sku,
        "location": location,
        "delta": movement.on_hand,
        "reservedDelta": movement.reserved,
        "backorderedDelta": movement.backordered,
        "reason": reason,
        "reference": reference,
        "actor": actor,
        "at": at,
    }
    expected = int(current["version"]) if current else None
    return [Write.put_versioned(row, expected), Write.put_new(entry)]


class StockRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, sku: str, location: str = keys.DEFAULT_LOCATION) -> StockRow:
        item = self._table.get(keys.stock_key(sku, location))
        if item is None:
            raise NotFound(f"SKU {sku} has no stock row at {location}")
        return row_from_item(item)

    def raw(self, skus: list[str], location: str = keys.DEFAULT_LOCATION) -> dict[str, Item]:
        """Current stock items by SKU, read consistently (for a change that will write them)."""
        items = self._table.get_many([keys.stock_key(sku, location) for sku in skus])
        return {item["sku"]: item for item in items}

    def list(self, *, limit: int, next_token: str | None) -> Page:
        page = self._table.query_page(
            keys.KeyQuery(keys.ALL_STOCK, "gsi1"), limit=limit, next_token=next_token
        )
        page.items = [row_from_item(i).model_dump(mode="json", by_alias=True) for i in page.items]
        return page

    def ledger(self, sku: str, *, limit: int, next_token: str | None) -> Page:
        page = self._table.query_page(keys.ledger_of(sku), limit=limit, next_token=next_token)
        page.items = [
            LedgerEntry.model_validate({k: v for k, v in i.items() if k in _LEDGER_FIELDS}).model_dump(
                mode="json", by_alias=True
            )
            for i in page.items
        ]
        return page


_LEDGER_FIELDS = {f.alias for f in LedgerEntry.model_fields.values()}
