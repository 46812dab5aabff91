"""The SP-API client every function uses to talk to Amazon.

- Login with Amazon: the refresh token (Secrets Manager) becomes an access token, cached for the
  warm container's life until a minute before it expires.
- Endpoints per region (NA, EU, FE), overridable (the local simulator, Amazon's sandbox).
- Every call first takes a token from the operation's shared rate budget (oms.amazon.rate_budget).
- 429 and 5xx are retried with exponential backoff and full jitter; every call has timeouts.
- Answers are validated by the pydantic model the caller names; a wrong shape is an error, not data.

Why our own small transport (docs/decisions.md): python-amazon-sp-api hard-codes the LWA host and
assumes https endpoints when it builds the Host header, so it cannot be pointed at the local
simulator without monkey-patching; urllib3 (already in the Lambda runtime with boto3) suffices.
"""

from __future__ import annotations

import ipaddress
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import urllib3
from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel, ValidationError

from oms.amazon.errors import SpApiError
from oms.amazon.rate_budget import BudgetExhausted, BudgetUnavailable, RateBudget
from oms.observability import logger
from oms.settings import get_settings

Model = TypeVar("Model", bound=BaseModel)

ENDPOINTS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
# Marketplace -> SP-API region (Amazon's list; unknown marketplaces are refused, not guessed).
MARKETPLACE_REGIONS = {
    **dict.fromkeys(["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC"], "na"),
    **dict.fromkeys(
        [
            "A1F83G8C2ARO7P",
            "A1PA6795UKMFR9",
            "A13V1IB3VIYZZH",
            "APJ6JRA9NG5V4",
            "A1RKKUPIHCS9HS",
            "A1805IZSGTT6HS",
            "A2NODRKZP88ZB9",
            "A1C3SOZRARQ6R3",
            "ARBP9OOSHTCHU",
            "A33AVAJ2PDY3EV",
            "A17E79C6D8DWNP",
            "A2VIGQ35RCS4UG",
            "A21TJRUUN4KGV",
            "AMEN7PMS3EDWL",
            "A28R8C7NBKEWEA",
        ],
        "eu",
    ),
    **dict.fromkeys(["A1VC38T7YXB528", "A39IBJ37TRP1C6", "A19VAU5U5O7RUS"], "fe"),
}
USER_AGENT = "amazon-seller-oms/0.1 (Language=Python)"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # with {placeholders}


OPERATIONS = {
    op.name: op
    for op in [
        Operation("searchOrders", "GET", "/orders/2026-01-01/orders"),
        Operation("getOrder", "GET", "/orders/2026-01-01/orders/{orderId}"),
        Operation("confirmShipment", "POST", "/orders/v0/orders/{orderId}/shipmentConfirmation"),
        Operation("getInventorySummaries", "GET", "/fba/inventory/v1/summaries"),
        Operation("getListingsItem", "GET", "/listings/2021-08-01/items/{sellerId}/{sku}"),
        Operation("patchListingsItem", "PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}"),
        Operation("searchListingsItems", "GET", "/listings/2021-08-01/items/{sellerId}"),
        Operation("getCatalogItem", "GET", "/catalog/2022-04-01/items/{asin}"),  # 2, 2
        Operation(
            "getCompetitiveSummary", "POST", "/batches/products/pricing/2022-05-01/items/competitiveSummary"
        ),  # 0.033, 1
        Operation("createReport", "POST", "/reports/2021-06-30/reports"),  # 0.0167, 15
        Operation("getReport", "GET", "/reports/2021-06-30/reports/{reportId}"),  # 2, 15
        Operation(
            "getReportDocument", "GET", "/reports/2021-06-30/documents/{reportDocumentId}"
        ),  # 0.0167, 15
        # Buy Shipping and buyer messages; Amazon's default usage plans (rate/s, burst) from the models:
        Operation("getEligibleShipmentServices", "POST", "/mfn/v0/eligibleShippingServices"),  # 6, 12
        Operation("createShipment", "POST", "/mfn/v0/shipments"),  # 2, 2
        Operation("getMessagingActionsForOrder", "GET", "/messaging/v1/orders/{amazonOrderId}"),  # 1, 5
        Operation(
            "createUnexpectedProblem",
            "POST",
            "/messaging/v1/orders/{amazonOrderId}/messages/unexpectedProblem",
        ),  # 1, 5
        Operation(
            "createConfirmDeliveryDetails",
            "POST",
            "/messaging/v1/orders/{amazonOrderId}/messages/confirmDeliveryDetails",
        ),  # 1, 5
        Operation(
            "createConfirmOrderDetails",
            "POST",
            "/messaging/v1/orders/{amazonOrderId}/messages/confirmOrderDetails",
        ),  # 1, 5
        Operation("GetAttributes", "GET", "/messaging/v1/orders/{amazonOrderId}/attributes"),  # 1, 5
        # Feeds (order adjustments: refunds) and Finances (the refund events):
        Operation("createFeedDocument", "POST", "/feeds/2021-06-30/documents"),  # 0.5, 15
        Operation("createFeed", "POST", "/feeds/2021-06-30/feeds"),  # 0.0083, 15
        Operation("getFeeds", "GET", "/feeds/2021-06-30/feeds"),  # 0.0222, 10
        Operation("getFeed", "GET", "/feeds/2021-06-30/feeds/{feedId}"),  # 2, 15
        Operation("getFeedDocument", "GET", "/feeds/2021-06-30/documents/{feedDocumentId}"),  # 0.0222, 10
        Operation(
            "listFinancialEventsByOrderId", "GET", "/finances/v0/orders/{orderId}/financialEvents"
        ),  # 0.5, 30
    ]
}


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    refresh_tokens: Mapping[str, str]

    @classmethod
    def from_secret(cls, secret_arn: str) -> Credentials:
        value = parameters.get_secret(secret_arn, transform="json", max_age=300)
        if not isinstance(value, dict) or not value.get("clientId"):
            raise RuntimeError(
                "SP-API credentials are missing: put clientId, clientSecret and refreshTokens "
                f"into the secret {secret_arn} (README, Deploying)"
            )
        return cls(value["clientId"], value.get("clientSecret", ""), value.get("refreshTokens") or {})


class _TokenCache:
    """LWA access tokens per (client, refresh token), kept across warm invocations."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], fetch: Callable[[], tuple[str, float]]) -> str:
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))
            if time.time() < expires - 60:
                return token
            token, lifetime = fetch()
            self._tokens[key] = (token, time.time() + lifetime)
            return token


_token_cache = _TokenCache()
_pool = urllib3.PoolManager(
    num_pools=8, maxsize=10, retries=False, timeout=urllib3.Timeout(connect=3.0, read=15.0)
)


class SpApiClient:
    def __init__(
        self,
        *,
        credentials: Callable[[], Credentials],
        budget: RateBudget,
        endpoint_override: str = "",
        lwa_url: str = "https://api.amazon.com/auth/o2/token",
        max_attempts: int = 5,
        base_delay: float = 0.5,
        http: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credentials = credentials
        self._budget = budget
        self._endpoint_override = endpoint_override.rstrip("/")
        self._lwa_url = lwa_url
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._http = http or _pool
        self._sleep = sleep
        self.calls: dict[str, int] = {}  # per operation, for metrics and benchmarks

    def take(self, region: str, limit: str, *, max_wait: float = 10.0) -> None:
        """A token of a limit that is not one operation's (e.g. a feed type's), from the shared budget."""
        self._budget.take(region, limit, max_wait=max_wait)

    def token_wait(self, region: str, operation: str) -> float:
        """Seconds until the shared budget has a token of `operation` (0: now), taking none; 0 when the budget
        cannot be read (the call itself then meets the same trouble and says so)."""
        try:
            return self._budget.wait(region, operation)
        except Exception:  # only a hint to save work: the take before the call is what holds the limit
            logger.warning("the rate budget could not be read", extra={"operation": operation}, exc_info=True)
            return 0.0

    def endpoint(self, region: str) -> str:
        return self._endpoint_override or ENDPOINTS[region]

    def call(
        self,
        operation_name: str,
        model: type[Model],
        *,
        region: str = "na",
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        max_wait: float = 10.0,
        retry_server_errors: bool = True,
    ) -> Model:
        """`retry_server_errors=False` for an operation that must not run twice (createFeed): a 5xx may have
        done the work, so only a 429 (refused before any work) is retried."""
        operation = OPERATIONS[operation_name]
        url = self.endpoint(region) + operation.path.format(
            **{k: quote(str(v), safe="") for k, v in (path or {}).items()}
        )
        params = {
            k: ",".join(v) if isinstance(v, list | tuple) else v
            for k, v in (query or {}).items()
            if v is not None
        }
        if params:
            url += "?" + urlencode(params)
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(1, self._max_attempts + 1):
            try:
                self._budget.take(region, operation.name, max_wait=max_wait)
            except BudgetExhausted:
                raise
            except Exception as failed:  # the budget's table, not Amazon: nothing was sent
                raise BudgetUnavailable(operation.name, failed) from failed
            self.calls[operation.name] = self.calls.get(operation.name, 0) + 1
            response = self._http.request(
                operation.method,
                url,
                body=payload,
                headers={
                    "x-amz-access-token": self._access_token(region),
                    "user-agent": USER_AGENT,
                    "accept": "application/json",
                    **({"content-type": "application/json"} if payload is not None else {}),
                },
            )
            live_rate = _float(response.headers.get("x-amzn-RateLimit-Limit"))
            if response.status < 300:
                self._observe(region, operation.name, live_rate)
                return _parse(operation.name, model, response.data)
            error = _error(operation.name, response)
            self._observe(region, operation.name, live_rate, throttled=response.status == 429)
            if (
                not error.retryable
                or attempt == self._max_attempts
                or (not retry_server_errors and response.status != 429)
            ):
                raise error
            delay = random.uniform(0, self._base_delay * 2 ** (attempt - 1))  # noqa: S311 - jitter, not crypto
            logger.warning("SP-API %s answered %s; retrying in %.1fs", operation.name, response.status, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _observe(
        self, region: str, operation: str, live_rate: float | None, *, throttled: bool = False
    ) -> None:
        """The budget follows Amazon's answer, as far as its table lets it: bookkeeping that fails (throttled)
        must not turn an answer Amazon gave into an error (a label sold, a feed made, reported as failed)."""
        try:
            self._budget.observe(region, operation, live_rate, throttled=throttled)
        except Exception:
            logger.warning("the rate budget could not follow Amazon's answer to %s", operation, exc_info=True)

    def transfer(self, method: str, url: str, *, body: bytes | None = None, content_type: str = "") -> bytes:
        """A document's bytes to or from the presigned URL Amazon gave (a feed's upload, a report or a
        processing report): no token, no budget (not an operation); 5xx retried. Only over HTTPS (or to a
        loopback address: the local stack), as documents hold buyers' order ids and refunds."""
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname or "")):
            raise SpApiError("document", 0, "InsecureDocumentUrl", f"{parts.scheme}://{parts.hostname}")
        headers = {"user-agent": USER_AGENT, **({"content-type": content_type} if content_type else {})}
        for attempt in range(1, self._max_attempts + 1):
            response = self._http.request(method, url, body=body, headers=headers)
            if response.status < 300:
                return bytes(response.data)
            if response.status < 500 or attempt == self._max_attempts:
                raise SpApiError(
                    "document",
                    response.status,
                    "DocumentTransfer",
                    f"{method} {url.split('?', maxsplit=1)[0]}",
                )
            self._sleep(random.uniform(0, self._base_delay * 2 ** (attempt - 1)))  # noqa: S311 - jitter
        raise AssertionError("unreachable")

    def _access_token(self, region: str) -> str:
        credentials = self._credentials()
        refresh_token = credentials.refresh_tokens.get(region)
        if not refresh_token:
            raise RuntimeError(f"no SP-API refresh token for region {region!r} in the credentials secret")

        def fetch() -> tuple[str, float]:
            response = self._http.request(
                "POST",
                self._lwa_url,
                body=urlencode(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": refresh_token,
                        "client_id": credentials.client_id,
                        "client_secret": credentials.client_secret,
                    }
                ),
                headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
            )
            if response.status != 200:
                raise SpApiError(
                    "lwa", response.status, "LoginWithAmazon", response.data.decode(errors="replace")[:200]
                )
            answer = json.loads(response.data)
            return answer["access_token"], float(answer.get("expires_in", 3600))

        return _token_cache.get((credentials.client_id, refresh_token), fetch)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _parse(operation: str, model: type[Model], data: bytes) -> Model:
    try:
        return model.model_validate_json(data or b"{}")
    except ValidationError as invalid:
        raise SpApiError(
            operation, 200, "InvalidResponse", f"answer does not match the model: {invalid}"
        ) from None


def _error(operation: str, response: Any) -> SpApiError:
    try:
        first = (json.loads(response.data).get("errors") or [{}])[0]
    except (ValueError, AttributeError):
        first = {}
    return SpApiError(
        operation, response.status, first.get("code", "Error"), first.get("message", "no message")
    )


def region_of(marketplace_id: str) -> str:
    try:
        return MARKETPLACE_REGIONS[marketplace_id]
    except KeyError:
        raise ValueError(
            f"marketplace {marketplace_id} is not one this product knows the SP-API region of"
        ) from None


def default_client() -> SpApiClient:
    from oms.store.default import default_table

    settings = get_settings()
    return SpApiClient(
        credentials=lambda: Credentials.from_secret(settings.spapi_secret_arn),
        budget=RateBudget(default_table()),
        endpoint_override=settings.spapi_endpoint,
        lwa_url=settings.lwa_token_url,
    )
