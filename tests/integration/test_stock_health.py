"""Too much, too little (GET /planning/stock-health) from last night's plans, on moto in process.

The clock is the suite's TEST_CLOCK (the warehouse day 2026-11-24 in America/New_York); every SKU sells the
same weekly pattern (36 units a week, about 5 a day), so only its stock and purchase orders differ.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.api_calls import call_api
from tests.integration.test_stock_plans import _run, _seed_history, _setup

TODAY = date(2026, 11, 24)


def _supplier_with_terms(stack, context, sku: str, production_days: int) -> str:
    supplier = call_api(stack, context, "POST", "/suppliers", {"name": "Mug Works", "currencyCode": "USD"})[1]
    terms = {
        "leadTime": {"productionDays": production_days},
        "unitCost": {"amount": "2.40", "currencyCode": "USD"},
    }
    status, answer = call_api(stack, context, "PUT", f"/suppliers/{supplier['supplierId']}/skus/{sku}", terms)
    assert status == 200, answer
    return str(supplier["supplierId"])


def test_aged_stock_and_stockout_risks_are_listed_with_what_to_do(stack, context):
    # given four SKUs selling about 5 a day with a 10-day lead time (an order covers 10 + 7 days)
    for sku, on_hand in [("AGED-1", 400), ("FINE-1", 70), ("RISK-1", 20)]:
        _setup(stack, context, sku, {"leadTimeDays": 10}, on_hand)
        _seed_history(sku, 84)
    # and one bought from a supplier with a 10-day lead time, on a PO sent today: due after it runs out
    _setup(stack, context, "RISK-PO", {}, 10)
    _seed_history("RISK-PO", 84)
    supplier = _supplier_with_terms(stack, context, "RISK-PO", 10)
    status, po = call_api(
        stack,
        context,
        "POST",
        "/purchase-orders",
        {"supplierId": supplier, "lines": [{"sku": "RISK-PO", "quantity": 100}]},
    )
    assert status == 201, po
    assert call_api(stack, context, "POST", f"/purchase-orders/{po['poId']}/send")[0] == 200
    assert _run(stack)["planned"] == 4
    _setup(stack, context, "NEVER-PLANNED", {}, 5)  # a stock row made after the night's plan: not listed

    status, health = call_api(stack, context, "GET", "/planning/stock-health")
    assert status == 200, health
    assert health["timeZone"] == "America/New_York"
    by_sku = {h["sku"]: h for h in health["items"]}

    # then the SKUs at risk come first, the soonest to run out first; the healthy and unplanned are absent
    assert [h["sku"] for h in health["items"]] == ["RISK-PO", "RISK-1", "AGED-1"]
    risk = by_sku["RISK-1"]
    assert risk["problem"] == "stockout-risk" and risk["coverDays"] < risk["leadTimeDays"] == 10
    assert risk["runsOutOn"] == (TODAY + timedelta(days=risk["coverDays"])).isoformat()
    plan = call_api(stack, context, "GET", "/planning/skus/RISK-1")[1]
    actions = [(a["action"], a["units"]) for a in risk["advice"]]
    assert actions == [("reorder-now", plan["orderQuantity"]["value"]), ("price-or-promotion-hint", None)]
    assert "no price is changed" in risk["advice"][1]["text"]

    late = by_sku["RISK-PO"]
    assert late["onOrder"] == 100 and late["problem"] == "stockout-risk"
    [line] = late["openPurchaseOrders"]
    assert line["poId"] == po["poId"] and line["openUnits"] == 100
    assert date.fromisoformat(line["expectedBy"]) > date.fromisoformat(late["runsOutOn"])
    expedite = [a for a in late["advice"] if a["action"] == "expedite"]
    assert [a["poId"] for a in expedite] == [po["poId"]] and late["runsOutOn"] in expedite[0]["text"]

    aged = by_sku["AGED-1"]
    assert aged["problem"] == "aged-stock" and aged["coverDays"] > 3 * aged["targetCoverDays"] == 51
    [hint] = aged["advice"]
    assert hint["action"] == "price-or-promotion-hint" and 250 < hint["units"] < 400


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "501"}, {"limit": "many"}])
def test_a_bad_page_size_is_a_400(stack, context, query):
    status, answer = call_api(stack, context, "GET", "/planning/stock-health", query=query)
    assert status == 400 and answer["error"]["code"]


def _walk(stack, context, limit: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        query = {"limit": str(limit)} | ({"nextToken": token} if token else {})
        status, page = call_api(stack, context, "GET", "/planning/stock-health", query=query)
        assert status == 200, page
        pages.append([h["sku"] for h in page["items"]])
        token = page.get("nextToken")
        if not token:
            return pages


def test_a_page_holds_up_to_limit_problems_however_many_healthy_rows_come_first(stack, context, monkeypatch):
    # given healthy SKUs first by SKU, then the problems among more healthy ones (about 5 sold a day)
    stock = [("A-FINE-1", 70), ("A-FINE-2", 70), ("A-FINE-3", 70), ("B-RISK", 20), ("C-FINE", 70)]
    stock += [("D-AGED", 400), ("E-RISK", 15)]
    for sku, on_hand in stock:
        _setup(stack, context, sku, {"leadTimeDays": 10}, on_hand)
        _seed_history(sku, 84)
    assert _run(stack)["planned"] == len(stock)

    # then no page is empty: the first holds two problems (the healthy rows before them read past), the last one
    assert _walk(stack, context, 2) == [["B-RISK", "D-AGED"], ["E-RISK"]]

    # and a request reads a bounded number of rows: past it, a short page with a token that goes on
    from oms.planning import stock_health

    monkeypatch.setattr(stock_health, "MAX_ROWS_READ", 3)
    monkeypatch.setattr(stock_health, "ROWS_PER_READ", 1)
    assert _walk(stack, context, 2) == [[], ["B-RISK", "D-AGED"], ["E-RISK"]]  # 3 rows a request
