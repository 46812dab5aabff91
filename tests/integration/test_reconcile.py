"""The backstop: orders read from the Orders API repair what notifications missed and add prices."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from oms.amazon.client import Credentials, SpApiClient
from oms.amazon.notifications import Notification
from oms.amazon.rate_budget import RateBudget
from oms.inventory.stock import StockRepository
from oms.orders.intake import apply_change, change_from_notification
from oms.orders.reconcile import sync_orders
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.builders import T0, order_change
from tests.integration.test_spapi_client import ORDER, Reply

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class PagedAmazon:
    """searchOrders over a fixed list of orders, `per_page` at a time, with opaque page tokens."""

    def __init__(self, orders: list[dict[str, Any]], per_page: int = 100) -> None:
        self.orders, self.per_page = orders, per_page
        self.searches: list[str] = []

    def request(self, method: str, url: str, body: Any = None, headers: dict | None = None) -> Reply:
        if url.endswith("/auth/o2/token"):
            return Reply(200, b'{"access_token": "t", "expires_in": 3600}')
        self.searches.append(url)
        start = (
            int(url.split("paginationToken=page")[1].split("&", maxsplit=1)[0])
            if "paginationToken=" in url
            else 0
        )
        page = self.orders[start : start + self.per_page]
        more = start + self.per_page < len(self.orders)
        answer = {
            "orders": page,
            "pagination": {"nextToken": f"page{start + self.per_page}"} if more else {},
            "lastUpdatedBefore": "2026-11-26T09:58:00Z",
        }
        return Reply(200, json.dumps(answer).encode(), {"x-amzn-RateLimit-Limit": "0.0056"})


def _client(amazon: PagedAmazon) -> SpApiClient:
    return SpApiClient(
        credentials=lambda: Credentials("c", "s", {"na": "r"}),
        budget=RateBudget(default_table(), sleep=lambda s: None),
        endpoint_override="http://amazon.test",
        lwa_url="http://amazon.test/auth/o2/token",
        http=amazon,
        sleep=lambda s: None,
    )


def _api_order(
    order_id: str, status: str = "UNSHIPPED", updated: str = "2026-11-26T09:05:00Z"
) -> dict[str, Any]:
    order = copy.deepcopy(ORDER)
    order["orderId"] = order_id
    order["lastUpdatedTime"] = updated
    order["fulfillment"]["fulfillmentStatus"] = status
    return order


def test_an_order_whose_notification_was_lost_is_repaired_with_its_reservation(stack):
    report = sync_orders(
        default_table(),
        _client(PagedAmazon([_api_order("113-LOST")])),
        "ATVPDKIKX0DER",
        job="reconcile_orders",
        now=NOW,
    )

    assert report.orders == 1 and report.outcomes == {"applied": 1}
    order = OrderRepository(default_table()).get("113-LOST")
    assert order.status == "Unshipped" and order.ship_service_level == "STANDARD"
    assert StockRepository(default_table()).get("MUG-RED").backordered == 2


def test_one_page_enriches_every_order_the_notifications_already_brought(stack):
    table = default_table()
    orders = []
    for n in range(40):
        order_id = f"113-{n:07d}"
        document = order_change(order_id, "Unshipped", [("MUG-RED", 2, 0)], at=T0.replace(minute=10))
        document["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]["OrderItemId"] = "1"
        apply_change(table, change_from_notification(Notification.model_validate(document)))
        orders.append(_api_order(order_id))
    amazon = PagedAmazon(orders)

    report = sync_orders(table, _client(amazon), "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)

    assert len(amazon.searches) == 1, "one searchOrders page serves every order it holds (up to 100)"
    assert report.outcomes == {"stale": 40}, "the notifications were newer: states stay"
    order = OrderRepository(table).get("113-0000021")
    assert order.enriched and order.items[0].unit_price.amount == "9.99"
    assert StockRepository(table).get("MUG-RED").backordered == 80, "enrichment moves no stock"


def test_an_interrupted_run_resumes_from_its_page_and_then_moves_the_watermark(stack):
    table = default_table()
    amazon = PagedAmazon([_api_order(f"113-{n}") for n in range(5)], per_page=2)
    client = _client(amazon)

    first = sync_orders(
        table, client, "ATVPDKIKX0DER", job="reconcile_orders", now=NOW, keep_going=lambda: False
    )
    assert (first.complete, first.orders) == (False, 2)

    second = sync_orders(table, client, "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)
    assert (second.complete, second.orders) == (True, 3)
    assert "paginationToken=page2" in amazon.searches[1]
    mark = table.get(keys.watermark_key("reconcile_orders", "ATVPDKIKX0DER"))
    assert mark["since"].startswith("2026-11-26T09:58:00")

    sync_orders(table, client, "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)
    assert "lastUpdatedAfter=2026-11-26T09%3A53%3A00Z" in amazon.searches[-1], (
        "the next run overlaps 5 minutes"
    )


def test_the_backstop_is_idempotent_with_itself(stack):
    table = default_table()
    amazon = PagedAmazon([_api_order("113-A"), _api_order("113-B", status="CANCELLED")])
    sync_orders(table, _client(amazon), "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)
    again = sync_orders(table, _client(amazon), "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)
    assert again.outcomes == {"duplicate": 2}
    assert StockRepository(table).get("MUG-RED").backordered == 2


def test_a_table_that_refuses_a_moment_does_not_waste_the_page_amazon_rationed(stack, monkeypatch):
    """searchOrders gives one page every 180 s after its burst: an order whose write was throttled past the SDK's
    own retries (or met a server error) is applied again at once, not by a new run paying for a new page."""
    from botocore.exceptions import ClientError

    from oms.orders import reconcile

    table = default_table()
    amazon = PagedAmazon([_api_order("113-0000001"), _api_order("113-0000002")])
    real = reconcile.apply_change
    refusals = ["ProvisionedThroughputExceededException", "InternalServerError"]

    def refused_a_moment(on_table, change):
        if refusals:
            code = refusals.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": "a moment"}}, "TransactWriteItems")
        return real(on_table, change)

    monkeypatch.setattr(reconcile, "apply_change", refused_a_moment)
    report = sync_orders(table, _client(amazon), "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)

    assert (report.complete, report.outcomes, len(amazon.searches)) == (True, {"applied": 2}, 1)
    assert OrderRepository(table).get("113-0000001").status == "Unshipped"


def test_a_refusal_that_is_not_the_tables_moment_still_stops_the_run(stack, monkeypatch):
    from oms.orders import reconcile

    def broken(on_table, change):
        raise ValueError("a bug")

    monkeypatch.setattr(reconcile, "apply_change", broken)
    amazon = PagedAmazon([_api_order("113-0000001")])
    with pytest.raises(ValueError, match="a bug"):  # not retried away
        sync_orders(default_table(), _client(amazon), "ATVPDKIKX0DER", job="reconcile_orders", now=NOW)
    assert default_table().get(keys.watermark_key("reconcile_orders", "ATVPDKIKX0DER")) is None


def test_an_order_the_backstop_finds_newer_keeps_the_order_type_its_notification_gave(stack):
    """The fault drill (seed 4): the backstop ran late, after the shipment, so Amazon's order was newer than any
    notification applied and the backstop's change won; searchOrders does not say the order type, and the
    notification's StandardOrder was erased."""
    table = default_table()
    document = order_change("113-0000007", "Unshipped", [("MUG-RED", 2, 0)], at=T0.replace(minute=10))
    summary = document["Payload"]["OrderChangeNotification"]["Summary"]
    summary["OrderType"] = "StandardOrder"
    apply_change(table, change_from_notification(Notification.model_validate(document)))
    assert OrderRepository(table).get("113-0000007").order_type == "StandardOrder"

    later = _api_order("113-0000007", status="UNSHIPPED", updated="2026-11-26T09:30:00Z")
    report = sync_orders(
        table, _client(PagedAmazon([later])), "ATVPDKIKX0DER", job="reconcile_orders", now=NOW
    )

    assert report.outcomes == {"applied": 1}
    order = OrderRepository(table).get("113-0000007")
    assert (order.order_type, order.enriched) == ("StandardOrder", True)
