"""FBA_INVENTORY_AVAILABILITY_CHANGES and REPORT_PROCESSING_FINISHED payloads (contracts/sp-api-models/schemas)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class InboundBreakdown(_Model):
    working: int = Field(default=0, alias="Working")
    shipped: int = Field(default=0, alias="Shipped")
    receiving: int = Field(default=0, alias="Receiving")


class FulfillmentInventory(_Model):
    inbound: InboundBreakdown = Field(default_factory=InboundBreakdown, alias="InboundQuantityBreakdown")
    fulfillable: int = Field(default=0, alias="Fulfillable")
    unfulfillable: int = Field(default=0, alias="Unfulfillable")
    reserved_breakdown: dict[str, int] = Field(default_factory=dict, alias="ReservedQuantityBreakdown")


class MarketplaceInventory(_Model):
    marketplace_id: str = Field(alias="MarketplaceId")
    inventory: FulfillmentInventory = Field(alias="FulfillmentInventory")


class FbaInventoryChange(_Model):
    seller_id: str = Field(alias="SellerId")
    fnsku: str = Field(alias="FNSKU")
    asin: str = Field(alias="ASIN")
    sku: str = Field(alias="SKU")
    by_marketplace: list[MarketplaceInventory] = Field(alias="FulfillmentInventoryByMarketplace")


class ReportProcessingFinished(_Model):
    seller_id: str | None = Field(default=None, alias="sellerId")
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    processing_status: str = Field(alias="processingStatus")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")


class ReportPayload(_Model):
    notification: ReportProcessingFinished = Field(alias="reportProcessingFinishedNotification")
