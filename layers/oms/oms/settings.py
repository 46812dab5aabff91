"""What each function reads from its environment: one model per function, validated at cold start.

`Settings` is every variable the stack hands its functions (template.yaml Globals) with its default; each
function's model makes required what that function cannot work without, so a function missing its
bucket or seller id stops at cold start naming the variable, not on its first request. The function
hands what it read to the logic it calls.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Where SP-API credentials may be sent: Amazon's own hosts over HTTPS (sellingpartnerapi-*.amazon.com and
# its sandbox, api.amazon.com / .co.uk / .co.jp for Login with Amazon); or, for the local stack, a
# loopback address, which no deployed function can reach.
_AMAZON_HOSTS = (".amazon.com", ".amazon.co.uk", ".amazon.co.jp")


def amazon_endpoint(url: str) -> str:
    """`url` if it is HTTPS on one of Amazon's hosts or any scheme on a loopback address; else ValueError."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https" or not any(host.endswith(suffix) for suffix in _AMAZON_HOSTS):
        raise ValueError(
            f"{url!r} is not an Amazon endpoint: SP-API credentials go only to https://...amazon.com "
            "(or .co.uk, .co.jp) hosts"
        )
    return url


class Settings(BaseModel):
    """What the stack hands every function (template.yaml Globals); bad values stop a cold start.

    Read from the environment as pydantic-settings would (names in any case, values as text parsed by
    pydantic), without it: pydantic-settings loads asyncio and dotenv, a sixth of a cold start
    (bench/cold_start.py)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def __init__(self, **values: Any) -> None:
        """The environment's variables, then `values` (by variable name) over them."""
        environment = {name.upper(): value for name, value in os.environ.items()}
        super().__init__(**{**environment, **values})

    table_name: str = Field(min_length=3, validation_alias="TABLE_NAME")
    # Buyer PII's own table (no point-in-time recovery): only the functions that read or purge it need it.
    buyer_data_table: str = Field(default="", validation_alias="BUYER_DATA_TABLE")
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
    # Webhooks out: the deliveries queue (retries and the seller's redeliveries go through it), and whether
    # subscribers may be on loopback (only the local stack says yes: the SSRF guard refuses it when deployed).
    webhook_deliveries_queue_url: str = Field(default="", validation_alias="WEBHOOK_DELIVERIES_QUEUE_URL")
    webhooks_allow_loopback: bool = Field(default=False, validation_alias="WEBHOOKS_ALLOW_LOOPBACK")

    # The master key integrations' webhook keys are derived from (only the API and the receiver get it).
    integrations_secret_arn: str = Field(default="", validation_alias="INTEGRATIONS_SECRET_ARN")
    # Verified webhooks wait here for process_webhooks (the receiver's only).
    inbound_webhooks_queue_url: str = Field(default="", validation_alias="INBOUND_WEBHOOKS_QUEUE_URL")

    # The seller's address registered with Amazon for Buyer-Seller Messaging: replies to buyers go from it.
    support_email_address: str = Field(default="", validation_alias="SUPPORT_EMAIL_ADDRESS")
    # Buyers' messages: a thread waiting for an answer is flagged atRisk with this many of its 24 hours left.
    message_at_risk_hours: float = Field(default=6, gt=0, lt=24, validation_alias="MESSAGE_AT_RISK_HOURS")

    @property
    def marketplaces(self) -> list[str]:
        return [m.strip() for m in self.marketplace_ids.split(",") if m.strip()]

    @field_validator("spapi_endpoint", "lwa_token_url")
    @classmethod
    def _amazon_only(cls, url: str) -> str:
        return amazon_endpoint(url) if url else url


class ApiSettings(Settings):
    """The HTTP API: documents (PDFs, labels, CSV) in the bucket, large reports through the jobs queue,
    buyer addresses for packing slips in their own table."""

    buyer_data_table: str = Field(min_length=3, validation_alias="BUYER_DATA_TABLE")

    documents_bucket: str = Field(min_length=1, validation_alias="DOCUMENTS_BUCKET")
    report_jobs_queue_url: str = Field(min_length=1, validation_alias="REPORT_JOBS_QUEUE_URL")
    integrations_secret_arn: str = Field(min_length=1, validation_alias="INTEGRATIONS_SECRET_ARN")


class ReceiveWebhookSettings(Settings):
    """receive_webhook: POST /webhooks/{integrationId} verified with keys derived from the integrations'
    master key, then queued for process_webhooks."""

    integrations_secret_arn: str = Field(min_length=1, validation_alias="INTEGRATIONS_SECRET_ARN")
    inbound_webhooks_queue_url: str = Field(min_length=1, validation_alias="INBOUND_WEBHOOKS_QUEUE_URL")


class ProcessWebhookSettings(Settings):
    """process_webhooks: verified webhooks applied by their integration's kind."""


class AuthorizerSettings(Settings):
    """The API's authorizer: Cognito users of this pool's dashboard client, and API keys from the table. Without
    a real pool id (the local stack has no Cognito) it accepts keys only."""

    user_pool_id: str = Field(default="", validation_alias="USER_POOL_ID")
    # the SSM parameter holding the dashboard's app client id (template.yaml says why not the id itself)
    user_pool_client_parameter: str = Field(default="", validation_alias="USER_POOL_CLIENT_PARAMETER")


class IngestSettings(Settings):
    """ingest_notifications: SP-API notifications from the order-notifications queue, applied only when they
    are this seller's (their application, subscriptions and merchant token)."""

    seller_id: str = Field(min_length=1, validation_alias="SELLER_ID")
    spapi_application_id: str = Field(min_length=1, validation_alias="SPAPI_APPLICATION_ID")
    spapi_subscription_ids: str = Field(default="", validation_alias="SPAPI_SUBSCRIPTION_IDS")  # comma list

    @property
    def subscription_ids(self) -> list[str]:
        return [s.strip() for s in self.spapi_subscription_ids.split(",") if s.strip()]


class ReconcileSettings(Settings):
    """reconcile_orders: the backstop reading the Orders API."""


class ListingsSettings(Settings):
    """sync_listings, send_listing_feed, inventory_sync, read_catalogue: Listings Items paths carry the seller's
    merchant token."""

    seller_id: str = Field(min_length=1, validation_alias="SELLER_ID")


class ReturnsSyncSettings(Settings):
    """sync_returns: Amazon's returns reports asked for on schedule and applied when finished."""


class ShipmentSettings(Settings):
    """ship_guard, confirm_shipments: the deadline guard, confirmations to Amazon."""


class DocumentSettings(Settings):
    """daily_close, build_report: end-of-day forms and report CSVs are written to the bucket."""

    documents_bucket: str = Field(min_length=1, validation_alias="DOCUMENTS_BUCKET")


class PurgeSettings(Settings):
    """purge_buyer_data: Amazon's Data Protection Policy deadline."""

    buyer_data_table: str = Field(min_length=3, validation_alias="BUYER_DATA_TABLE")


class CareSettings(Settings):
    """ingest_messages: buyers' mail from the documents bucket (where SES stores it), kept as buyer data."""

    buyer_data_table: str = Field(min_length=3, validation_alias="BUYER_DATA_TABLE")
    documents_bucket: str = Field(min_length=1, validation_alias="DOCUMENTS_BUCKET")


class PublishSettings(Settings):
    """publish_events: domain events to the bus."""


class WebhookSettings(Settings):
    """deliver_webhooks: domain events to the sellers' subscribers, signed, retried from its queue."""

    webhook_deliveries_queue_url: str = Field(min_length=1, validation_alias="WEBHOOK_DELIVERIES_QUEUE_URL")
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, le=10, validation_alias="WEBHOOK_TIMEOUT_SECONDS"
    )


class RefundSettings(Settings):
    """submit_refunds and check_refunds: the seller id names the merchant in the adjustment feed."""

    seller_id: str = Field(min_length=1, validation_alias="SELLER_ID")


class PlanningSettings(Settings):
    """plan_stock: the nightly stock plans (forecast, reorder point, safety stock, order quantity per SKU)."""


S = TypeVar("S", bound=Settings)


class RulesSettings(Settings):
    """apply_rules: the seller's order rules, run on OrderReceived and OrderStatusChanged from the bus; the
    buyer's address (buyer data) is read only when a rule tests where the order goes."""

    buyer_data_table: str = Field(min_length=3, validation_alias="BUYER_DATA_TABLE")


class MisconfiguredFunction(RuntimeError):
    """A function's environment lacks (or has a bad) variable it needs: raised at cold start."""


_loaded: Settings | None = None
# The template parameter behind a variable, named for the seller who deploys (sam deploy --guided asks them).
_PARAMETERS = {
    "SELLER_ID": " (the stack's SellerId parameter: your merchant token)",
    "MARKETPLACE_IDS": " (the stack's MarketplaceIds parameter)",
    "SPAPI_APPLICATION_ID": " (the stack's SpApiApplicationId parameter: your SP-API application's id)",
    "SPAPI_SUBSCRIPTION_IDS": " (the stack's SpApiSubscriptionIds parameter)",
    "SPAPI_ENDPOINT": " (the stack's SpApiEndpoint parameter)",
    "LWA_TOKEN_URL": " (the stack's LwaTokenUrl parameter)",
}


def cold_start(model: type[S]) -> S:
    """The function's settings, read once at cold start; every variable missing or bad is named."""
    global _loaded
    try:
        settings = model()
    except ValidationError as error:
        problems = "; ".join(
            f"{variable}{_PARAMETERS.get(variable, '')}: {problem['msg'].lower()}"
            for problem in error.errors()
            for variable in [".".join(str(part) for part in problem["loc"])]
        )
        raise MisconfiguredFunction(f"{model.__name__} cannot start: {problems}") from None
    _loaded = settings
    return settings


def get_settings() -> Settings:
    """The settings the function read at cold start (the whole environment's, if it read none)."""
    global _loaded
    if _loaded is None:
        _loaded = Settings()  # values come from the environment
    return _loaded


def forget_settings() -> None:
    """Read the environment again on next use (tests switch environments; a warm Lambda needs no call)."""
    global _loaded
    _loaded = None
