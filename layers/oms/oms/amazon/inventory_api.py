"""FBA Inventory API v1 (getInventorySummaries): Amazon's figures of the seller's FBA stock.

Shapes follow contracts/sp-api-models/fba-inventory-api-model/fbaInventory.json; fields not read here
are ignored. A nextToken expires 30 seconds after it is issued, so a run reads its pages at once.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from oms.amazon.notifications import Instant

SUMMARIES_PER_PAGE = 50  # Amazon's page size (and the most SKUs one request may name)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ReservedQuantity(_Model):
    total: int = Field(default=0, alias="totalReservedQuantity")


class UnfulfillableQuantity(_Model):
    total: int = Field(default=0, alias="totalUnfulfillableQuantity")


class InventoryDetails(_Model):
    fulfillable: int = Field(default=0, alias="fulfillableQuantity")
    inbound_working: int = Field(default=0, alias="inboundWorkingQuantity")
    inbound_shipped: int = Field(default=0, alias="inboundShippedQuantity")
    inbound_receiving: int = Field(default=0, alias="inboundReceivingQuantity")
    reserved: ReservedQuantity = Field(default_factory=ReservedQuantity, alias="reservedQuantity")
    unfulfillable: UnfulfillableQuantity = Field(
        default_factory=UnfulfillableQuantity, alias="unfulfillableQuantity"
    )


class InventorySummary(_Model):
    seller_sku: str | None = Field(default=None, alias="sellerSku")
    fnsku: str | None = Field(default=None, alias="fnSku")
    asin: str | None = None
    details: InventoryDetails | None = Field(default=None, alias="inventoryDetails")
    last_updated: Instant = Field(default=None, alias="lastUpdatedTime")


class InventorySummaries(_Model):
    summaries: list[InventorySummary] = Field(default_factory=list, alias="inventorySummaries")


class Pagination(_Model):
    next_token: str | None = Field(default=None, alias="nextToken")


class GetInventorySummariesResponse(_Model):
    payload: InventorySummaries | None = None
    pagination: Pagination | None = None

    @property
    def summaries(self) -> list[InventorySummary]:
        return self.payload.summaries if self.payload else []


def as_of(summary: InventorySummary, fallback: datetime) -> datetime:
    """When Amazon's figures were true: the summary's own time when it gives one."""
    return summary.last_updated or fallback
