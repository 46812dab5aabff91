"""The one settings model: every environment variable a function reads, validated at cold start."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What the stack hands every function (template.yaml Globals); bad values stop a cold start."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=3, validation_alias="TABLE_NAME")
    event_bus_name: str = Field(min_length=1, validation_alias="EVENT_BUS_NAME")
    alerts_topic_arn: str = Field(min_length=1, validation_alias="ALERTS_TOPIC_ARN")
    app_secret_arn: str = Field(min_length=1, validation_alias="APP_SECRET_ARN")
    spapi_secret_arn: str = Field(min_length=1, validation_alias="SPAPI_SECRET_ARN")
    spapi_endpoint: str = Field(default="", validation_alias="SPAPI_ENDPOINT")  # empty: Amazon's, per region
    lwa_token_url: str = Field(
        default="https://api.amazon.com/auth/o2/token", validation_alias="LWA_TOKEN_URL"
    )
    marketplace_ids: str = Field(default="ATVPDKIKX0DER", validation_alias="MARKETPLACE_IDS")  # comma list
    # The seller's merchant token (Listings Items paths); only the functions that push quantities need it.
    seller_id: str = Field(default="", validation_alias="SELLER_ID")
    # Private bucket for generated documents (PDFs, labels, CSV reports), handed out as presigned links.
    documents_bucket: str = Field(default="", validation_alias="DOCUMENTS_BUCKET")
    stage: str = Field(default="dev", validation_alias="STAGE")
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Amazon's Data Protection Policy: buyer PII goes no later than 30 days after delivery.
    buyer_data_retention_days: int = Field(
        default=28, ge=1, le=30, validation_alias="BUYER_DATA_RETENTION_DAYS"
    )
    default_page_size: int = Field(default=50, ge=1, le=500, validation_alias="DEFAULT_PAGE_SIZE")
    # Order reports: large CSV reports are built by build_report from this queue (the API function's only).
    report_jobs_queue_url: str = Field(default="", validation_alias="REPORT_JOBS_QUEUE_URL")
    # The "archived" order-report view also holds every order purchased longer ago than this.
    archive_after_days: int = Field(default=90, ge=1, le=3650, validation_alias="ARCHIVE_AFTER_DAYS")

    @property
    def marketplaces(self) -> list[str]:
        return [m.strip() for m in self.marketplace_ids.split(",") if m.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # values come from the environment
