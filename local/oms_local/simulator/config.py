"""The local marketplace's knobs, with defaults that behave like Amazon's US store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SELLER_ID = "A1OMSLOCALSELLER"
# Where documents (feed uploads, processing reports, reports) live: presigned-URL-like, no token needed.
DOCUMENTS_PATH = "/_simulator/documents/"
MARKETPLACE_ID = "ATVPDKIKX0DER"  # Amazon.com
MARKETPLACE_NAME = "Amazon.com"
CURRENCY = "USD"
# What the local stack stores in SpApiSecret; the local LWA endpoint accepts any refresh token anyway.
LOCAL_CREDENTIALS = {
    "clientId": "local-client",
    "clientSecret": "local-secret",
    "refreshTokens": {"na": "local-refresh-token"},
}


@dataclass
class SimulatorConfig:
    seller_id: str = SELLER_ID
    marketplace_id: str = MARKETPLACE_ID
    # buyers (the background thread only runs with `oms local --simulator`)
    orders_per_minute: float = 12.0
    # notification delivery, like Amazon's: at least once, not in order
    duplicate_probability: float = 0.05
    delay_probability: float = 0.05
    delay_seconds: tuple[float, float] = (2.0, 8.0)
    # searchOrders: a "before" bound must be at least this far in the past, and is by default
    search_lag_seconds: float = 120.0
    access_token_ttl_seconds: int = 3600
    # every answer of an Amazon operation is checked against the official model before it is sent
    validate_responses: bool = True
    # how long the marketplace takes for the steps nobody asks it for (seconds, uniform between)
    pending_seconds: tuple[float, float] = (5.0, 45.0)  # payment authorisation: Pending -> Unshipped
    preorder_seconds: tuple[float, float] = (60.0, 240.0)  # release date: PendingAvailability -> Pending
    afn_ship_seconds: tuple[float, float] = (30.0, 180.0)  # Amazon ships its own (FBA) orders
    buyer_cancel_accept_seconds: tuple[float, float] = (2.0, 15.0)  # seller accepts a buyer's cancel request
    feed_processing_seconds: tuple[float, float] = (1.0, 3.0)  # a feed from createFeed to its report
    # JSON_LISTINGS_FEED waits in Amazon's feed queue: Amazon publishes no time; sellers see minutes. Modelled:
    # a wait in the queue plus a time per message (10,000 SKUs: about 2.5 minutes more)
    listings_feed_queue_seconds: tuple[float, float] = (60.0, 120.0)
    listings_feed_seconds_per_message: float = 0.015
    refund_posting_seconds: tuple[float, float] = (5.0, 20.0)  # an adjustment to its refund event in Finances
    refund_refusal_probability: float = 0.03  # order adjustments refused at random (besides amounts too high)
    # catalogue
    dataset: Path | None = None  # default: ../shared/datasets/online_retail_II.csv.gz, if present
    max_rows: int = 40_000
    seed: int | None = None

    # The fields a running simulator lets POST /_simulator/config change (camelCase on the wire).
    TUNABLE = (
        "orders_per_minute",
        "duplicate_probability",
        "delay_probability",
        "search_lag_seconds",
        "access_token_ttl_seconds",
        "validate_responses",
        "refund_refusal_probability",
    )

    def update(self, changes: dict[str, Any]) -> None:
        """Apply camelCase changes from the control endpoint; ValueError names what is wrong."""
        by_wire = {_camel(name): name for name in self.TUNABLE}
        for key, value in changes.items():
            if key not in by_wire:
                raise ValueError(f"unknown setting {key!r}; settable: {', '.join(sorted(by_wire))}")
            name = by_wire[key]
            current = getattr(self, name)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{key} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{key} must be a number >= 0")
            elif name.endswith("probability") and value > 1:
                raise ValueError(f"{key} must be between 0 and 1")
            setattr(self, name, type(current)(value))

    def tunables(self) -> dict[str, Any]:
        return {_camel(name): getattr(self, name) for name in self.TUNABLE}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
