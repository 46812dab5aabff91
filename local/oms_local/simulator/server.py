"""The local SP-API over HTTP: LWA's token endpoint, the Amazon operations the product calls, and
the simulator's own control endpoints under /_simulator/.

Amazon operations behave as Amazon documents them: they need an `x-amz-access-token` the token
endpoint issued (403 otherwise), take tokens from a per-operation bucket with the default usage
plan (429 when it is empty), answer in the official model's shapes (checked before sending) with
`x-amzn-RequestId` and `x-amzn-RateLimit-Limit`, and errors as {"errors": [{"code", "message"}]}.
Routes are the models' own paths.

Control endpoints (loopback, no token): place and cancel orders, inject faults, read counters,
tune the marketplace. They answer errors as {"error": {"code", "message"}}.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oms_local.faults import FaultPlan, sp_api_fault
from oms_local.simulator import contract, shapes
from oms_local.simulator.config import DOCUMENTS_PATH
from oms_local.simulator.entities import FULFILLMENT_STATUS, PENDING, PENDING_AVAILABILITY, UNSHIPPED
from oms_local.simulator.marketplace import ApiError, Marketplace, OrderSearch, Wanted, invalid
from oms_local.simulator.ratelimit import RateLimiter

OPERATIONS = tuple(contract.OPERATION_MODELS)
# Where each operation lives (the models' own paths; a test checks they still agree).
ROUTES: dict[str, tuple[str, str]] = {
    "searchOrders": ("GET", "/orders/2026-01-01/orders"),
    "getOrder": ("GET", "/orders/2026-01-01/orders/{orderId}"),
    "confirmShipment": ("POST", "/orders/v0/orders/{orderId}/shipmentConfirmation"),
    "getInventorySummaries": ("GET", "/fba/inventory/v1/summaries"),
    "getListingsItem": ("GET", "/listings/2021-08-01/items/{sellerId}/{sku}"),
    "patchListingsItem": ("PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}"),
    "searchListingsItems": ("GET", "/listings/2021-08-01/items/{sellerId}"),
    "getCatalogItem": ("GET", "/catalog/2022-04-01/items/{asin}"),
    "getCompetitiveSummary": ("POST", "/batches/products/pricing/2022-05-01/items/competitiveSummary"),
    "getEligibleShipmentServices": ("POST", "/mfn/v0/eligibleShippingServices"),
    "createShipment": ("POST", "/mfn/v0/shipments"),
    "getMessagingActionsForOrder": ("GET", "/messaging/v1/orders/{amazonOrderId}"),
    "createUnexpectedProblem": ("POST", "/messaging/v1/orders/{amazonOrderId}/messages/unexpectedProblem"),
    "createConfirmDeliveryDetails": (
        "POST",
        "/messaging/v1/orders/{amazonOrderId}/messages/confirmDeliveryDetails",
    ),
    "createConfirmOrderDetails": (
        "POST",
        "/messaging/v1/orders/{amazonOrderId}/messages/confirmOrderDetails",
    ),
    "GetAttributes": ("GET", "/messaging/v1/orders/{amazonOrderId}/attributes"),
    "createFeedDocument": ("POST", "/feeds/2021-06-30/documents"),
    "createFeed": ("POST", "/feeds/2021-06-30/feeds"),
    "getFeeds": ("GET", "/feeds/2021-06-30/feeds"),
    "getFeed": ("GET", "/feeds/2021-06-30/feeds/{feedId}"),
    "getFeedDocument": ("GET", "/feeds/2021-06-30/documents/{feedDocumentId}"),
    "listFinancialEventsByOrderId": ("GET", "/finances/v0/orders/{orderId}/financialEvents"),
    "createReport": ("POST", "/reports/2021-06-30/reports"),
    "getReport": ("GET", "/reports/2021-06-30/reports/{reportId}"),
    "getReportDocument": ("GET", "/reports/2021-06-30/documents/{reportDocumentId}"),
}
LWA_PATH = "/auth/o2/token"
CONTROL = "/_simulator"
IMAGES = CONTROL + "/images/"  # products' main images (a browser loads them: no token)
FAULT_STATUSES = (400, 403, 404, 429, 500, 503)
_FAULT_ERRORS = {
    400: ("InvalidInput", "Invalid Input"),
    403: ("Unauthorized", "Access to requested resource is denied."),
    404: ("NotFound", "The requested resource was not found."),
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}
Answer = tuple[int, Any]
DROPPED = 0  # a status that means: close the connection without answering (a timeout, as the client sees it)
# Operations where Amazon acts (a label bought, a shipment confirmed, a feed taken): each one that acted is
# logged with what it acted on, so a fault run can count the calls sent twice.
_ACTS_ON: dict[str, Callable[[dict[str, str], Any], str]] = {
    "confirmShipment": lambda params, body: json.dumps(
        [params["orderId"], str((body.get("packageDetail") or {}).get("packageReferenceId"))]
    ),
    "createShipment": lambda params, body: json.dumps(
        [
            body["ShipmentRequestDetails"]["AmazonOrderId"],
            sorted(
                (str(i["OrderItemId"]), int(i["Quantity"]))
                for i in body["ShipmentRequestDetails"]["ItemList"]
            ),
        ]
    ),
    "createFeed": lambda params, body: str(body.get("feedType")),
    "patchListingsItem": lambda params, body: params["sku"],
}


class ControlError(Exception):
    def __init__(self, status: int, message: str, code: str = "InvalidRequest") -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class OperationStats:
    requests: int = 0
    ok: int = 0
    throttled: int = 0  # 429s, whether the bucket was empty or a fault said so
    faults: int = 0  # injected failures
    unauthorized: int = 0
    errors: int = 0  # other 4xx/5xx answers

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# ---------------------------------------------------------------------------------- parameters


def _values(query: dict[str, list[str]], name: str) -> list[str]:
    """An array parameter, sent repeated (a=1&a=2) or comma-delimited (a=1,2)."""
    return [part.strip() for value in query.get(name, []) for part in value.split(",") if part.strip()]


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def parse_time(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise invalid(f"{name} is not an ISO 8601 date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _time(query: dict[str, list[str]], name: str) -> datetime | None:
    text = _one(query, name)
    return None if text is None else parse_time(text, name)


def _enum(query: dict[str, list[str]], name: str, allowed: tuple[str, ...]) -> list[str]:
    values = _values(query, name)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise invalid(f"{name} has unknown values {wrong}; allowed: {', '.join(allowed)}")
    return values


def search_parameters(query: dict[str, list[str]]) -> OrderSearch:
    """searchOrders' query string, checked as Amazon documents it."""
    search = OrderSearch(
        created_after=_time(query, "createdAfter"),
        created_before=_time(query, "createdBefore"),
        updated_after=_time(query, "lastUpdatedAfter"),
        updated_before=_time(query, "lastUpdatedBefore"),
        statuses=set(_enum(query, "fulfillmentStatuses", tuple(FULFILLMENT_STATUS.values()))),
        fulfilled_by=set(_enum(query, "fulfilledBy", ("MERCHANT", "AMAZON"))),
        marketplace_ids=set(_values(query, "marketplaceIds")),
        pagination_token=_one(query, "paginationToken"),
        included=frozenset(_enum(query, "includedData", shapes.INCLUDED_DATA)),
    )
    by_creation = search.created_after is not None or search.created_before is not None
    by_update = search.updated_after is not None or search.updated_before is not None
    if (search.created_after is None) == (search.updated_after is None):
        raise invalid("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if by_creation and by_update:
        raise invalid(
            "createdAfter/createdBefore cannot be combined with lastUpdatedAfter/lastUpdatedBefore."
        )
    if len(search.marketplace_ids) > 50:
        raise invalid("marketplaceIds accepts at most 50 values.")
    size = _one(query, "maxResultsPerPage")
    if size is not None:
        if not size.isdigit() or not 1 <= int(size) <= 100:
            raise invalid("maxResultsPerPage must be between 1 and 100.")
        search.max_results = int(size)
    return search


# ---------------------------------------------------------------------------------- the server


class SpApiServer:
    def __init__(
        self,
        marketplace: Marketplace,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.marketplace = marketplace
        self.config = marketplace.config
        self.log = log
        self.limiter = RateLimiter({op: contract.usage_plan(op) for op in OPERATIONS})
        self.stats = {op: OperationStats() for op in OPERATIONS}
        self.lwa_requests = 0
        self.faults: dict[str, list[int]] = {}  # operation -> [status, remaining]
        self.chaos: FaultPlan | None = None  # fault mode (oms local --faults): random faults, seeded
        self.acted: list[tuple[str, str]] = []  # (operation, what it acted on), in order
        self._tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.checked = contract.available()  # answers are checked against Amazon's models
        if not self.checked and log:
            log(f"no SP-API models at {contract.MODELS_DIR}: answers are not checked against them")
        self._routes = [
            (op, method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"))
            for op, (method, path) in ROUTES.items()
        ]
        self._work: dict[str, Callable[[dict[str, str], dict[str, list[str]], Any], Answer]] = {
            "searchOrders": self._search_orders,
            "getOrder": self._get_order,
            "confirmShipment": self._confirm_shipment,
            "getInventorySummaries": self._get_inventory_summaries,
            "getListingsItem": self._get_listings_item,
            "patchListingsItem": self._patch_listings_item,
            "searchListingsItems": self._search_listings_items,
            "getCatalogItem": self._get_catalog_item,
            "getCompetitiveSummary": lambda p, q, b: (200, self.marketplace.competitive_summary(b)),
            "getEligibleShipmentServices": self._get_eligible_shipment_services,
            "createShipment": self._create_shipment,
            "getMessagingActionsForOrder": self._get_messaging_actions,
            "createUnexpectedProblem": self._create_unexpected_problem,
            "createConfirmDeliveryDetails": lambda p, q, b: self._send_buyer_message(
                "createConfirmDeliveryDetails", p, q, b
            ),
            "createConfirmOrderDetails": lambda p, q, b: self._send_buyer_message(
                "createConfirmOrderDetails", p, q, b
            ),
            "GetAttributes": lambda p, q, b: (
                200,
                self.marketplace.buyer_attributes(p["amazonOrderId"], _values(q, "marketplaceIds")),
            ),
            "createFeedDocument": lambda p, q, b: (201, self.marketplace.create_feed_document(b)),
            "createFeed": lambda p, q, b: (202, self.marketplace.create_feed(b)),
            "getFeeds": lambda p, q, b: (
                200,
                self.marketplace.get_feeds(
                    _values(q, "feedTypes"), _one(q, "createdSince"), _one(q, "nextToken")
                ),
            ),
            "getFeed": lambda p, q, b: (200, self.marketplace.get_feed(p["feedId"])),
            "getFeedDocument": lambda p, q, b: (200, self.marketplace.get_feed_document(p["feedDocumentId"])),
            "listFinancialEventsByOrderId": lambda p, q, b: (
                200,
                self.marketplace.financial_events_of_order(p["orderId"]),
            ),
            "createReport": self._create_report,
            "getReport": self._get_report,
            "getReportDocument": self._get_report_document,
        }
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        marketplace.image_base = self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def lwa_token_url(self) -> str:
        return self.url + LWA_PATH

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-sp-api", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=timeout)
            self._thread = None
        self.httpd.server_close()

    # ------------------------------------------------------------------ LWA

    def issue_token(self) -> str:
        token = "Atza|" + secrets.token_urlsafe(48)
        now = time.monotonic()
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens = {t: expiry for t, expiry in self._tokens.items() if expiry > now}
            self._tokens[token] = now + self.config.access_token_ttl_seconds
        return token

    def token_problem(self, token: str | None) -> str | None:
        if not token:
            return "The request has no x-amz-access-token header."
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return "The access token you provided is revoked, malformed or invalid."
        if expiry <= time.monotonic():
            return "The access token you provided has expired."
        return None

    def lwa(self, form: dict[str, list[str]]) -> Answer:
        with self._lock:
            self.lwa_requests += 1
        grant = _one(form, "grant_type")
        if not grant:
            return 400, {
                "error": "invalid_request",
                "error_description": "The request is missing a required parameter : grant_type",
            }
        if grant != "refresh_token":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": f"The authorization grant type {grant!r} is not supported by this server.",
            }
        refresh = _one(form, "refresh_token")
        if not refresh:
            return 400, {
                "error": "invalid_request",
                "error_description": "The request is missing a required parameter : refresh_token",
            }
        return 200, {
            "access_token": self.issue_token(),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self.config.access_token_ttl_seconds,
        }

    # ------------------------------------------------------------------ Amazon operations

    def route(self, method: str, path: str) -> tuple[str, dict[str, str]] | str | None:
        """(operation, path parameters); "method" when only the method is wrong; None if unknown."""
        wrong_method = False
        for op, op_method, pattern in self._routes:
            match = pattern.match(path)
            if match:
                if op_method == method:
                    return op, {k: unquote(v) for k, v in match.groupdict().items()}
                wrong_method = True
        return "method" if wrong_method else None

    def take_fault(self, operation: str) -> int | None:
        with self._lock:
            fault = self.faults.get(operation)
            if not fault:
                return None
            fault[1] -= 1
            if fault[1] <= 0:
                del self.faults[operation]
            return fault[0]

    def call(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        token: str | None,
    ) -> Answer:
        """One Amazon operation: auth, injected faults, rate limit, the work, the contract check."""
        stats = self.stats[operation]
        with self._lock:
            stats.requests += 1
        problem = self.token_problem(token)
        if problem:
            with self._lock:
                stats.unauthorized += 1
            return 403, ApiError(
                403, "Unauthorized", "Access to requested resource is denied.", problem
            ).body()
        chaos = sp_api_fault(self.chaos, operation, [params, query, body]) if self.chaos else None
        if chaos is not None and self.chaos is not None:
            self.chaos.record("sp-api", chaos.kind, operation)
            with self._lock:
                stats.faults += 1
                stats.throttled += chaos.status == 429
            if not chaos.after_acting:
                return self._chaos_answer(chaos.status)
        fault = self.take_fault(operation)
        if fault is not None:
            with self._lock:
                stats.faults += 1
                stats.throttled += fault == 429
            code, message = _FAULT_ERRORS[fault]
            return fault, {"errors": [{"code": code, "message": message}]}
        if not self.limiter.allow(operation):
            with self._lock:
                stats.throttled += 1
            code, message = _FAULT_ERRORS[429]
            return 429, {"errors": [{"code": code, "message": message}]}
        try:
            status, answer = self._work[operation](params, query, body)
        except ApiError as error:
            status, answer = error.status, error.body()
        if self.config.validate_responses and self.checked:
            problems = contract.response_problems(operation, status, answer)
            if problems:  # the simulator broke the contract: say so loudly rather than mislead the client
                if self.log:
                    self.log(f"{operation} {status} answer breaks the model: {problems[:3]}")
                status, answer = (
                    500,
                    {
                        "errors": [
                            {
                                "code": "InternalFailure",
                                "message": "The local simulator produced an answer that breaks Amazon's model.",
                                "details": "; ".join(problems[:3]),
                            }
                        ]
                    },
                )
        with self._lock:
            if status < 400:
                stats.ok += 1
                if operation in _ACTS_ON:
                    self.acted.append((operation, _ACTS_ON[operation](params, body)))
            else:
                stats.errors += 1
        if chaos is not None:  # it acted (or refused); the answer is lost
            return self._chaos_answer(chaos.status)
        return status, answer

    @staticmethod
    def _chaos_answer(status: int) -> Answer:
        if status == DROPPED:
            return DROPPED, None
        code, message = _FAULT_ERRORS[status]
        return status, {"errors": [{"code": code, "message": message}]}

    def acted_view(self) -> dict[str, Any]:
        """What Amazon acted on, counted: how many times each label (order and units), each order's
        confirmation, each feed type and listing patch was accepted, and each order's refund postings."""
        with self._lock:
            acted = list(self.acted)
        counts: dict[str, dict[str, int]] = {}
        for operation, key in acted:
            counts.setdefault(operation, {})
            counts[operation][key] = counts[operation].get(key, 0) + 1
        refunds: dict[str, int] = {}
        with self.marketplace._lock:
            for posting in self.marketplace.feeds_state.refunds:
                refunds[posting.order_id] = refunds.get(posting.order_id, 0) + 1
        return {"acted": counts, "refundPostings": refunds}

    def _search_orders(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        return 200, self.marketplace.search_orders(search_parameters(query))

    def _get_order(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        included = _enum(query, "includedData", shapes.INCLUDED_DATA)
        return 200, self.marketplace.get_order(params["orderId"], included)

    def _confirm_shipment(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        self.marketplace.confirm_shipment(params["orderId"], body)
        return 204, None

    def _get_inventory_summaries(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        marketplace_id = self.marketplace.marketplace_id
        if _one(query, "granularityType") != "Marketplace":
            raise invalid("granularityType is required and must be Marketplace.")
        if _one(query, "granularityId") != marketplace_id:
            raise invalid(
                f"granularityId is required and must be a marketplace of this seller ({marketplace_id})."
            )
        if _values(query, "marketplaceIds") != [marketplace_id]:
            raise invalid(f"marketplaceIds is required and takes one marketplace ({marketplace_id}).")
        details = (_one(query, "details") or "false").lower()
        if details not in ("true", "false"):
            raise invalid("details must be true or false.")
        skus = _values(query, "sellerSkus") + _values(query, "sellerSku")
        if len(skus) > 50:
            raise invalid("sellerSkus accepts at most 50 SKUs.")
        start = _time(query, "startDateTime")
        if start is not None and start < self.marketplace.clock() - timedelta(days=548):
            raise invalid("startDateTime must be no earlier than 18 months ago.")
        return 200, self.marketplace.inventory_summaries(
            skus=skus, start=start, details=details == "true", next_token=_one(query, "nextToken")
        )

    def _get_listings_item(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not _values(query, "marketplaceIds"):
            raise ApiError(400, "BAD_REQUEST", "Invalid input", "marketplaceIds is required.")
        included = _enum(query, "includedData", shapes.LISTING_DATA) or ["summaries"]
        return 200, self.marketplace.get_listing(params["sellerId"], params["sku"], included)

    def _patch_listings_item(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        if not _values(query, "marketplaceIds"):
            raise ApiError(400, "BAD_REQUEST", "Invalid input", "marketplaceIds is required.")
        included = _enum(query, "includedData", ("identifiers", "issues")) or ["issues"]
        mode = _one(query, "mode")
        if mode not in (None, "VALIDATION_PREVIEW"):
            raise ApiError(400, "BAD_REQUEST", "Invalid input", "mode must be VALIDATION_PREVIEW.")
        answer = self.marketplace.patch_listing(
            params["sellerId"], params["sku"], body, included=included, preview=mode == "VALIDATION_PREVIEW"
        )
        return 200, answer

    def _search_listings_items(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        if not _values(query, "marketplaceIds"):
            raise ApiError(400, "BAD_REQUEST", "Invalid input", "marketplaceIds is required.")
        included = _enum(query, "includedData", shapes.LISTING_DATA) or ["summaries"]
        identifiers = _values(query, "identifiers")
        identifiers_type = _one(query, "identifiersType")
        if bool(identifiers) != (identifiers_type is not None):
            raise ApiError(
                400, "BAD_REQUEST", "Invalid input", "identifiers and identifiersType go together."
            )
        if identifiers_type not in (None, "SKU", "ASIN"):
            raise ApiError(
                400, "BAD_REQUEST", "Invalid input", "this marketplace searches by SKU or ASIN only."
            )
        if len(identifiers) > 20:
            raise ApiError(400, "BAD_REQUEST", "Invalid input", "identifiers accepts at most 20 values.")
        size = _one(query, "pageSize") or "10"
        if not size.isdigit() or not 1 <= int(size) <= 20:
            raise ApiError(400, "BAD_REQUEST", "Invalid input", "pageSize must be between 1 and 20.")
        return 200, self.marketplace.search_listings(
            params["sellerId"],
            identifiers=identifiers,
            identifiers_type=identifiers_type,
            included=included,
            page_size=int(size),
            page_token=_one(query, "pageToken"),
        )

    def _get_catalog_item(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        included = _enum(query, "includedData", shapes.CATALOG_DATA) or ["summaries"]
        return 200, self.marketplace.catalog_item(params["asin"], _values(query, "marketplaceIds"), included)

    def _get_eligible_shipment_services(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        return 200, self.marketplace.eligible_shipping_services(body)

    def _create_shipment(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        return 200, self.marketplace.create_shipment(body)

    def _get_messaging_actions(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        return 200, self.marketplace.messaging_actions(
            params["amazonOrderId"], _values(query, "marketplaceIds")
        )

    def _create_unexpected_problem(
        self, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        self.marketplace.send_unexpected_problem(
            params["amazonOrderId"], _values(query, "marketplaceIds"), body
        )
        return 201, {}

    def _send_buyer_message(
        self, operation: str, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        self.marketplace.send_buyer_message(
            operation, params["amazonOrderId"], _values(query, "marketplaceIds"), body
        )
        return 201, {}

    # ------------------------------------------------------------------ control endpoints

    def _create_report(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        return 202, self.marketplace.create_report(body)

    def _get_report(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        return 200, self.marketplace.get_report(params["reportId"])

    def _get_report_document(self, params: dict[str, str], query: dict[str, list[str]], body: Any) -> Answer:
        return 200, self.marketplace.get_report_document(params["reportDocumentId"], self.url)

    def control(self, method: str, path: str, body: Any) -> Answer:
        parts = [unquote(p) for p in path[len(CONTROL) :].strip("/").split("/")]
        try:
            if method == "POST" and parts == ["orders"]:
                return 201, {"orderId": self._place(body)}
            if method == "GET" and len(parts) == 2 and parts[0] == "orders":
                # the order as getOrder shows it, with what the seller did through other APIs
                return 200, {
                    **self.marketplace.get_order(parts[1]),
                    **self.marketplace.seller_activity(parts[1]),
                }
            if method == "POST" and len(parts) == 3 and parts[0] == "orders" and parts[2] == "cancel":
                buyer_requested = _field(body, "buyerRequested", bool, False)
                reason = _field(body, "reason", str, None)
                status = self.marketplace.cancel_order(
                    parts[1], buyer_requested=buyer_requested, reason=reason
                )
                return 200, {"orderId": parts[1], "status": status}
            if parts == ["faults"]:
                if method == "POST":
                    return 200, self._fault(body)
                if method == "GET":
                    with self._lock:
                        return 200, {
                            "faults": {
                                op: {"status": s, "remaining": n} for op, (s, n) in self.faults.items()
                            }
                        }
            if method == "GET" and parts == ["acted"]:
                return 200, self.acted_view()
            if method == "GET" and parts == ["stats"]:
                return 200, self.stats_view()
            if method == "POST" and parts == ["stats", "reset"]:
                with self._lock:
                    self.stats = {op: OperationStats() for op in OPERATIONS}
                    self.lwa_requests = 0
                return 200, self.stats_view()
            if parts == ["config"] and method in ("GET", "POST"):
                if method == "POST":
                    if not isinstance(body, dict):
                        raise ControlError(400, "the body must be a JSON object of settings")
                    self.config.update(body)
                return 200, {
                    "sellerId": self.marketplace.seller_id,
                    "marketplaceId": self.marketplace.marketplace_id,
                    **self.config.tunables(),
                }
            if method == "POST" and len(parts) == 3 and parts[0] == "orders" and parts[2] == "messages":
                # the order's buyer writes to the seller now (Buyer-Seller Messaging, delivered by mail)
                intent = _field(body if isinstance(body, dict) else {}, "intent", str, None)
                return 201, self.marketplace.write_to_seller(parts[1], intent)
            if method == "POST" and len(parts) == 3 and parts[0] == "orders" and parts[2] == "returns":
                return 201, self._return(parts[1], body)
            if method == "GET" and parts == ["returns"]:
                with self.marketplace._lock:
                    returns = [self.marketplace.return_view(r) for r in self.marketplace.returns]
                return 200, {"returns": returns}
            if method == "POST" and len(parts) == 2 and parts[0] == "returns":
                return 200, self.marketplace.decide_return(parts[1], _field(body, "status", str, ""))
            if method == "POST" and parts == ["reports", "fatal"]:
                count = _field(body, "count", int, 1)
                self.marketplace.fail_next_reports(count)
                return 200, {"fatalReports": max(count, 0)}
            if method == "POST" and parts == ["inventory"]:
                return 200, self._stock(body)
            if method == "POST" and parts == ["listings", "refuse"]:
                # listings feeds' messages naming these SKUs come back with an ERROR issue
                skus = body.get("skus") if isinstance(body, dict) else None
                if not isinstance(skus, list) or not all(isinstance(x, str) for x in skus):
                    return 400, {"error": "skus must be a list of SKUs"}
                return 200, {"refused": self.marketplace.refuse_listings(skus)}
            if method == "POST" and parts == ["refunds", "refuse"]:
                # the next N order adjustments come back refused in their processing report
                return 200, {"refuseNext": self.marketplace.refuse_adjustments(_field(body, "count", int, 1))}
            if method == "POST" and parts == ["ratelimits", "refill"]:
                self.limiter.refill()
                return 200, {"refilled": list(OPERATIONS)}
        except ApiError as error:
            return error.status, {"error": {"code": error.code, "message": error.message}}
        except ValueError as error:
            return 400, {"error": {"code": "InvalidRequest", "message": str(error)}}
        except ControlError as error:
            return error.status, {"error": {"code": error.code, "message": error.message}}
        return 404, {"error": {"code": "NotFound", "message": f"no control endpoint {method} {path}"}}

    def _place(self, body: Any) -> str:
        if not isinstance(body, dict):
            raise ControlError(400, 'the body must be a JSON object like {"sku": "85123A", "quantity": 1}')
        lines = body.get("items")
        if lines is None:
            lines = [
                {"sku": body.get("sku"), "quantity": body.get("quantity", 1), "price": body.get("price")}
            ]
        if not isinstance(lines, list) or not lines:
            raise ControlError(400, "items must be a non-empty list")
        wanted = []
        for line in lines:
            sku = _field(line, "sku", str, None)
            quantity = _field(line, "quantity", int, 1)
            if not sku or quantity < 1:
                raise ControlError(400, "each item needs a sku and a quantity of at least 1")
            price = line.get("price")
            try:
                unit_price = None if price is None else Decimal(str(price))
            except InvalidOperation:
                raise ControlError(400, f"price {price!r} is not a number") from None
            if unit_price is not None and unit_price <= 0:
                raise ControlError(400, "price must be above 0")
            wanted.append(Wanted(sku, quantity, unit_price))
        ship_by = _field(body, "shipBy", str, None)
        status = _field(body, "status", str, UNSHIPPED)
        if status not in (UNSHIPPED, PENDING, PENDING_AVAILABILITY):
            raise ControlError(400, "status must be Unshipped, Pending or PendingAvailability")
        try:
            return self.marketplace.place_order(
                wanted,
                afn=_field(body, "afn", bool, False),
                prime=_field(body, "prime", bool, False),
                business=_field(body, "business", bool, False),
                status=status,
                ship_by=parse_time(ship_by, "shipBy") if ship_by else None,
                service_level=_field(body, "serviceLevel", str, None),
            )
        except ApiError as error:
            raise ControlError(400, error.details or error.message) from None

    def _return(self, order_id: str, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        in_policy = body.get("inPolicy")
        if in_policy is not None and not isinstance(in_policy, bool):
            raise ControlError(400, "inPolicy must be true or false")
        try:
            return self.marketplace.return_order(
                order_id,
                sku=_field(body, "sku", str, None),
                quantity=_field(body, "quantity", int, None),
                reason=_field(body, "reason", str, None),
                in_policy=in_policy,
                disposition=_field(body, "disposition", str, None),
            )
        except ApiError as error:
            if error.status == 404:
                raise
            raise ControlError(400, error.details or error.message) from None

    def _fault(self, body: Any) -> dict[str, Any]:
        operation = _field(body, "operation", str, None)
        if operation not in OPERATIONS:
            raise ControlError(400, f"operation must be one of {', '.join(OPERATIONS)}")
        status = _field(body, "status", int, 500)
        count = _field(body, "count", int, 1)
        declared = contract.operation(operation).spec.get("responses", {}) if self.checked else None
        if status not in FAULT_STATUSES or (declared is not None and str(status) not in declared):
            raise ControlError(400, f"{operation} cannot be made to fail with {status}")
        with self._lock:
            if count <= 0:
                self.faults.pop(operation, None)
            else:
                self.faults[operation] = [status, count]
        return {"operation": operation, "status": status, "remaining": max(count, 0)}

    def _stock(self, body: Any) -> dict[str, Any]:
        sku = _field(body, "sku", str, None)
        if not sku:
            raise ControlError(400, "sku is required")
        names = {
            "fulfillable": "fulfillable",
            "inboundWorking": "inbound_working",
            "inboundShipped": "inbound_shipped",
            "inboundReceiving": "inbound_receiving",
            "reserved": "reserved_processing",
            "researching": "researching",
            "unfulfillable": "unfulfillable",
        }
        quantities = {}
        for wire, name in names.items():
            if wire in body:
                quantities[name] = _field(body, wire, int, 0)
        return self.marketplace.set_fba_stock(sku, **quantities)

    def stats_view(self) -> dict[str, Any]:
        with self._lock:
            operations = {
                op: {
                    **stats.as_dict(),
                    "rate": self.limiter.rate(op),
                    "burst": self.limiter.buckets[op].burst,
                }
                for op, stats in self.stats.items()
            }
            lwa = self.lwa_requests
        return {
            "uptimeSeconds": round(time.monotonic() - self._started, 1),
            "operations": operations,
            "lwaTokenRequests": lwa,
            "orders": self.marketplace.order_counts(),
            "notifications": self.marketplace.courier.stats.as_dict(),
        }

    # ------------------------------------------------------------------ HTTP

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as clients expect of Amazon
            timeout = 30  # idle keep-alive connections close, so shutdown never waits on them
            server_version = "oms-local-sp-api"

            def _serve(self) -> None:
                request_id = str(uuid.uuid4())
                headers = {"x-amzn-RequestId": request_id}
                split = urlsplit(self.path)
                path, query = split.path, parse_qs(split.query, keep_blank_values=True)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    if path.startswith(DOCUMENTS_PATH):  # feed and report documents: presigned-URL-like
                        self._document(unquote(path[len(DOCUMENTS_PATH) :]), raw)
                        return
                    if path.startswith(IMAGES) and self.command == "GET":
                        self._image(path[len(IMAGES) :].removesuffix(".svg"))
                        return
                    if path == LWA_PATH:
                        status, answer = self._lwa(raw)
                    elif path == CONTROL or path.startswith(CONTROL + "/"):
                        status, answer = server.control(self.command, path, _json(raw))
                    else:
                        status, answer = self._amazon(path, query, raw, headers)
                        if status == DROPPED:  # fault mode: no answer at all, the connection closes
                            self.close_connection = True
                            return
                except _BadJson as error:
                    status, answer = 400, ApiError(400, "InvalidInput", "Invalid Input", str(error)).body()
                except Exception as error:  # a bug in the simulator: answer like Amazon's 500
                    if server.log:
                        server.log(f"{self.command} {path} failed: {error!r}")
                    status, answer = (
                        500,
                        ApiError(500, "InternalFailure", "We encountered an internal error.").body(),
                    )
                self._send(status, answer, headers)

            def _document(self, document_id: str, raw: bytes) -> None:
                """A document at its (presigned, in Amazon) URL, no token: a feed's upload (PUT), a feed's
                processing report or a report (GET), as S3 answers them."""
                if self.command == "PUT":
                    stored = server.marketplace.put_document(document_id, raw)
                    self.send_response(200 if stored else 403)  # S3 refuses a bad URL with 403
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                kind, content = "text/xml; charset=UTF-8", None
                if self.command == "GET":
                    content = server.marketplace.get_document(document_id)
                    if content is None:
                        kind, content = (
                            "application/octet-stream",
                            server.marketplace.document_bytes(document_id),
                        )
                if content is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _image(self, asin: str) -> None:
                product = server.marketplace.product_by_asin(unquote(asin))
                if product is None:
                    self._send(
                        404, {"error": {"code": "NotFound", "message": "no product with that ASIN"}}, {}
                    )
                    return
                picture = shapes.product_image_svg(product.title, product.image_colour()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "image/svg+xml")
                self.send_header("Cache-Control", "max-age=86400")
                self.send_header("Content-Length", str(len(picture)))
                self.end_headers()
                self.wfile.write(picture)

            def _lwa(self, raw: bytes) -> Answer:
                if self.command != "POST":
                    return 405, {"error": "invalid_request", "error_description": "POST only"}
                if "json" in (self.headers.get("Content-Type") or ""):
                    data = _json(raw)
                    form = {k: [str(v)] for k, v in data.items()} if isinstance(data, dict) else {}
                else:
                    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
                return server.lwa(form)

            def _amazon(
                self, path: str, query: dict[str, list[str]], raw: bytes, headers: dict[str, str]
            ) -> Answer:
                found = server.route(self.command, path)
                if found is None:
                    return 404, ApiError(404, "NotFound", f"No SP-API operation at {path}.").body()
                if found == "method":
                    return 405, ApiError(
                        405, "MethodNotAllowed", f"{self.command} is not allowed on {path}."
                    ).body()
                assert isinstance(found, tuple)
                operation, params = found
                headers["x-amzn-RateLimit-Limit"] = str(server.limiter.rate(operation))
                body = _json(raw) if raw else None
                return server.call(operation, params, query, body, self.headers.get("x-amz-access-token"))

            def _send(self, status: int, answer: Any, headers: dict[str, str]) -> None:
                payload = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class _BadJson(ValueError):
    pass


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as error:
        raise _BadJson(f"the body is not JSON: {error}") from None


def _field(body: Any, name: str, kind: type, default: Any) -> Any:
    if body is None:
        return default
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    value = body.get(name, default)
    if value is None or value is default:
        return value
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ControlError(400, f"{name} must be a whole number")
    if not isinstance(value, kind):
        raise ControlError(400, f"{name} must be a {kind.__name__}")
    return value
