"""The SP-API client against a stub Amazon that throttles, fails and answers in the official shapes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from oms.amazon.client import Credentials, SpApiClient, SpApiError
from oms.amazon.orders_api import GetOrderResponse, SearchOrdersResponse
from oms.amazon.rate_budget import BudgetExhausted, RateBudget
from oms.store.default import default_table

ORDER = {
    "orderId": "113-1234567-1234567",
    "createdTime": "2026-11-26T09:00:00Z",
    "lastUpdatedTime": "2026-11-26T09:05:00Z",
    "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
    "fulfillment": {
        "fulfillmentStatus": "UNSHIPPED",
        "fulfilledBy": "MERCHANT",
        "fulfillmentServiceLevel": "STANDARD",
        "shipByWindow": {"latestDateTime": "2026-11-28T00:00:00Z"},
    },
    "orderItems": [
        {
            "orderItemId": "1",
            "quantityOrdered": 2,
            "product": {
                "sellerSku": "MUG-RED",
                "price": {"unitPrice": {"amount": "9.99", "currencyCode": "USD"}},
            },
        }
    ],
}


@dataclass
class Reply:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


class StubAmazon:
    """Answers like Amazon, failing the first `failures` calls of an operation with the given status."""

    def __init__(self) -> None:
        self.failures: list[int] = []
        self.calls: list[tuple[str, str]] = []
        self.token_calls = 0
        self.lock = threading.Lock()

    def request(self, method: str, url: str, body: Any = None, headers: dict | None = None) -> Reply:
        with self.lock:
            if url.endswith("/auth/o2/token"):
                self.token_calls += 1
                return Reply(200, json.dumps({"access_token": "Atza|x", "expires_in": 3600}).encode())
            self.calls.append((method, url))
            assert headers and headers["x-amz-access-token"] == "Atza|x"
            if self.failures:
                status = self.failures.pop(0)
                return Reply(
                    status,
                    json.dumps({"errors": [{"code": "QuotaExceeded", "message": "slow down"}]}).encode(),
                    {"x-amzn-RateLimit-Limit": "0.5"},
                )
            if "/orders/2026-01-01/orders/" in url:
                return Reply(200, json.dumps({"order": ORDER}).encode(), {"x-amzn-RateLimit-Limit": "0.5"})
            return Reply(
                200,
                json.dumps({"orders": [ORDER], "pagination": {}}).encode(),
                {"x-amzn-RateLimit-Limit": "0.0056"},
            )


@pytest.fixture
def amazon() -> StubAmazon:
    return StubAmazon()


def _client(amazon: StubAmazon, **options: Any) -> SpApiClient:
    return SpApiClient(
        credentials=lambda: Credentials("client", "secret", {"na": "Atzr|refresh"}),
        budget=RateBudget(default_table(), sleep=lambda s: None),
        endpoint_override="http://amazon.test",
        lwa_url="http://amazon.test/auth/o2/token",
        http=amazon,
        sleep=lambda s: None,
        **options,
    )


def test_throttling_and_server_errors_are_retried_until_amazon_answers(stack, amazon):
    amazon.failures = [429, 503, 500]
    answer = _client(amazon).call("getOrder", GetOrderResponse, path={"orderId": "113-1234567-1234567"})
    assert answer.order.order_items[0].product.seller_sku == "MUG-RED"
    assert len(amazon.calls) == 4


def test_a_refusal_is_not_retried_and_persistent_throttling_gives_up(stack, amazon):
    amazon.failures = [400]
    with pytest.raises(SpApiError) as refused:
        _client(amazon).call("getOrder", GetOrderResponse, path={"orderId": "1"})
    assert refused.value.status == 400 and len(amazon.calls) == 1

    amazon.failures = [429] * 10
    with pytest.raises(SpApiError) as throttled:
        _client(amazon, max_attempts=3).call("getOrder", GetOrderResponse, path={"orderId": "1"})
    assert throttled.value.status == 429 and len(amazon.calls) == 4


def test_the_access_token_is_fetched_once_and_reused(stack, amazon):
    client = _client(amazon)
    client.call("getOrder", GetOrderResponse, path={"orderId": "A"})
    client.call("getOrder", GetOrderResponse, path={"orderId": "B"})
    assert amazon.token_calls <= 1  # cached across calls (and across warm invocations: module level)


def test_an_answer_in_the_wrong_shape_is_an_error_not_data(stack, amazon):
    with pytest.raises(SpApiError, match="InvalidResponse"):
        _client(amazon).call("getOrder", SearchOrdersResponse, path={"orderId": "A"})


def test_path_and_query_are_encoded(stack, amazon):
    _client(amazon).call(
        "searchOrders",
        SearchOrdersResponse,
        query={
            "marketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            "paginationToken": None,
            "lastUpdatedAfter": "2026-11-26T00:00:00Z",
        },
    )
    _client(amazon).call("getOrder", GetOrderResponse, path={"orderId": "a/b c"})
    search, get = amazon.calls[-2][1], amazon.calls[-1][1]
    assert "marketplaceIds=ATVPDKIKX0DER%2CA2EUQ1WTGCTBG2" in search and "paginationToken" not in search
    assert get.endswith("/orders/2026-01-01/orders/a%2Fb%20c")


def test_the_shared_budget_follows_amazons_burst_and_live_rate(stack):
    now = [1000.0]
    budget = RateBudget(default_table(), clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    for _ in range(19):  # searchOrders: burst 20, one token kept as slack
        budget.take("na", "searchOrders", max_wait=0)
    with pytest.raises(BudgetExhausted):
        budget.take("na", "searchOrders", max_wait=60)  # one token every ~180 s
    budget.take("na", "searchOrders", max_wait=200)
    assert 1170 < now[0] < 1190

    budget.observe("na", "searchOrders", 1.0)  # Amazon says the live rate is 1/s
    now[0] += 1
    budget.take("na", "searchOrders", max_wait=0)


def test_after_a_429_every_caller_backs_off(stack):
    now = [0.0]
    budget = RateBudget(default_table(), clock=lambda: now[0], sleep=lambda s: None)
    budget.take("na", "getOrder", max_wait=0)
    budget.observe("na", "getOrder", None, throttled=True)
    with pytest.raises(BudgetExhausted):
        budget.take("na", "getOrder", max_wait=0.5)


def test_the_wait_for_a_token_is_told_without_taking_one(stack):
    now = [0.0]
    budget = RateBudget(default_table(), clock=lambda: now[0], sleep=lambda s: None)
    assert budget.wait("na", "createFeed") == 0  # a bucket never used: its burst is there
    budget.take("na", "createFeed", max_wait=0)
    budget.observe("na", "createFeed", None, throttled=True)  # Amazon's 429 empties it
    now[0] += 20
    assert budget.wait("na", "createFeed") == pytest.approx((1 - 20 * 0.0083) / 0.0083)
    assert budget.wait("na", "createFeed") == pytest.approx((1 - 20 * 0.0083) / 0.0083), "asking takes none"
    now[0] += 101
    assert budget.wait("na", "createFeed") == 0
    budget.take("na", "createFeed", max_wait=0)
    assert budget.wait("na", "createFeed") > 100


def test_ten_concurrent_callers_never_exceed_the_budget(served_stack, amazon):
    calls_at: list[float] = []
    real = amazon.request

    def timed(method, url, body=None, headers=None):
        if "getInventorySummaries" in url or "/fba/" in url:
            calls_at.append(time.monotonic())
            return Reply(200, b'{"payload": {}}')
        return real(method, url, body, headers)

    amazon.request = timed  # type: ignore[method-assign]
    client = _client(amazon)
    client._budget = RateBudget(default_table())  # real time: 2 per second, burst 2

    from pydantic import BaseModel

    class Anything(BaseModel):
        pass

    def worker():
        client.call("getInventorySummaries", Anything, max_wait=30)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls_at) == 10
    elapsed = max(calls_at) - start
    assert elapsed >= (10 - 2) / 2 * 0.9, "10 calls at 2/s with burst 2 take at least ~4 s"
