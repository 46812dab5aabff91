"""Buyers' returns in the local marketplace and its Reports API for Amazon's two returns reports: over HTTP,
every answer checked against reports_2021-06-30.json and every REPORT_PROCESSING_FINISHED against its
notification schema; the documents in Amazon's tab-separated columns; `oms simulate return`."""

from __future__ import annotations

import gzip
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from oms.domain.returns_reports import parse_returns_report
from oms_local.simulator import Marketplace, Simulator, SimulatorConfig, contract
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.simulator.entities import SHIPPED
from oms_local.simulator.reports_api import FBA_COLUMNS, MFN_COLUMNS, REASONS
from oms_tools.cli import main
from tests.local.test_simulator_server import Client

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
MFN, FBA = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"


@pytest.fixture
def sent() -> list[str]:
    return []


@pytest.fixture
def simulator(sent: list[str]) -> Iterator[Simulator]:
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=7)
    with Simulator(config, notify=sent.append, catalogue=builtin_catalogue()) as running:
        yield running


@pytest.fixture
def client(simulator: Simulator) -> Client:
    return Client(simulator)


def _shipped(simulator: Simulator, sku: str = "85123A", quantity: int = 2, afn: bool = False) -> str:
    market = simulator.marketplace
    order_id = market.place_order([(sku, quantity)], afn=afn)
    with market._lock:
        order = market.orders[order_id]
        for line in order.lines:
            line.shipped = line.quantity
        order.status = SHIPPED
    return order_id


def _window(days: int = 30) -> dict[str, str]:
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    return {"dataStartTime": (now - timedelta(days=days)).isoformat(), "dataEndTime": now.isoformat()}


def _finished(client: Client, report_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        report = client.call("getReport", "GET", f"/reports/2021-06-30/reports/{report_id}").body
        if report["processingStatus"] in ("DONE", "CANCELLED", "FATAL"):
            return dict(report)
        time.sleep(0.1)
    raise AssertionError(f"report {report_id} never finished")


def _notices(sent: list[str]) -> list[dict[str, Any]]:
    found = [json.loads(text) for text in sent if "REPORT_PROCESSING_FINISHED" in text]
    for document in found:
        contract.validate_notification(document)
    return [d["payload"]["reportProcessingFinishedNotification"] for d in found]


def test_a_buyer_returns_shipped_units_only_with_amazons_reason_codes(client, simulator):
    unshipped = client.place()
    refused = client.http("POST", f"/_simulator/orders/{unshipped}/returns", {})
    assert refused.status == 400 and "no shipped units" in refused.body["error"]["message"]
    order_id = _shipped(simulator, quantity=3)
    made = client.http(
        "POST",
        f"/_simulator/orders/{order_id}/returns",
        {"quantity": 2, "reason": "DEFECTIVE", "inPolicy": True},
    )
    assert made.status == 201, made.body
    assert (made.body["status"], made.body["carrier"], made.body["reason"]) == (
        "Approved",
        "UPS",
        "DEFECTIVE",
    )
    assert made.body["amazonRmaId"] and made.body["trackingId"].startswith("1Z")
    for bad, status in (
        ({"quantity": 2}, 400),  # one unit left
        ({"reason": "BORED"}, 400),
        ({"sku": "NOT-IN-IT"}, 400),
        ({"inPolicy": "yes"}, 400),
    ):
        answer = client.http("POST", f"/_simulator/orders/{order_id}/returns", bad)
        assert answer.status == status, (bad, answer.body)
    waiting = client.http("POST", f"/_simulator/orders/{order_id}/returns", {"inPolicy": False})
    assert (waiting.status, waiting.body["status"], waiting.body["quantity"]) == (201, "Pending", 1)
    assert "trackingId" not in waiting.body, "no prepaid label until the seller authorizes it"
    assert client.http("POST", "/_simulator/orders/111-0000000-0000000/returns", {}).status == 404
    approved = client.http(
        "POST", f"/_simulator/returns/{waiting.body['amazonRmaId']}", {"status": "Approved"}
    )
    assert approved.status == 200 and approved.body["status"] == "Approved" and approved.body["trackingId"]
    assert (
        client.http("POST", f"/_simulator/returns/{waiting.body['amazonRmaId']}", {"status": "Lost"}).status
        == 400
    )
    assert client.http("POST", "/_simulator/returns/DNOPE", {"status": "Closed"}).status == 404
    assert len(client.http("GET", "/_simulator/returns").body["returns"]) == 2


def test_buyers_return_a_realistic_mix_of_shipped_orders():
    market = Marketplace(SimulatorConfig(seed=11), catalogue=builtin_catalogue())
    orders = [_shipped_in(market, afn=n % 4 == 0) for n in range(300)]
    returns = [market.return_random_order() for _ in range(200)]
    assert all(r is not None for r in returns)
    reasons = Counter(r["reason"] for r in returns if r)
    assert set(reasons) <= {code for code, _, _ in REASONS} and len(reasons) >= 6
    in_policy = sum(bool(r and r["inPolicy"]) for r in returns) / len(returns)
    assert 0.7 < in_policy < 0.95, "most returns are in policy, some are not"
    fba = [r for r in returns if r and "licensePlateNumber" in r]
    assert 20 < len(fba) < 80 and {"SELLABLE", "CUSTOMER_DAMAGED"} <= {r["detailedDisposition"] for r in fba}
    returned = Counter(r["orderId"] for r in returns if r)
    assert all(returned[o] <= 2 for o in orders), "never more units than were shipped"


def _shipped_in(market: Any, afn: bool) -> str:
    products = [p for p in market.catalogue.products.values() if p.fba == afn or not afn]
    order_id = str(market.place_order([(products[0].sku, 1)], afn=afn))
    with market._lock:
        order = market.orders[order_id]
        for line in order.lines:
            line.shipped = line.quantity
        order.status = SHIPPED
    return order_id


def test_returns_reports_in_amazons_formats_and_an_empty_one_ends_cancelled(client, simulator, sent):
    order_id = _shipped(simulator)
    client.http("POST", f"/_simulator/orders/{order_id}/returns", {"reason": "WRONG_ITEM", "inPolicy": True})
    created = client.call(
        "createReport",
        "POST",
        "/reports/2021-06-30/reports",
        {"reportType": MFN, "marketplaceIds": [simulator.marketplace_id], **_window()},
    )
    assert created.status == 202
    empty = client.call(
        "createReport",
        "POST",
        "/reports/2021-06-30/reports",
        {"reportType": FBA, "marketplaceIds": [simulator.marketplace_id], **_window()},
    )

    done = _finished(client, created.body["reportId"])
    assert done["processingStatus"] == "DONE" and done["reportType"] == MFN
    document = client.call(
        "getReportDocument", "GET", f"/reports/2021-06-30/documents/{done['reportDocumentId']}"
    ).body
    assert "compressionAlgorithm" not in document, "a small document is served as it is"
    with _OPENER.open(document["url"], timeout=10) as answer:  # a presigned URL: no token
        text = answer.read().decode()
    header, row = text.splitlines()
    assert header.split("\t") == list(MFN_COLUMNS)
    values = dict(zip(MFN_COLUMNS, row.split("\t"), strict=True))
    assert (values["Order ID"], values["Return Reason"], values["In policy"]) == (order_id, "WRONG_ITEM", "Y")
    (found,) = parse_returns_report(MFN, text).mfn
    assert (found.order_id, found.items[0].quantity) == (order_id, 2)

    cancelled = _finished(client, empty.body["reportId"])
    assert cancelled["processingStatus"] == "CANCELLED" and "reportDocumentId" not in cancelled
    notices = {n["reportId"]: n for n in _notices(sent)}
    assert notices[created.body["reportId"]]["reportDocumentId"] == done["reportDocumentId"]
    assert notices[empty.body["reportId"]]["processingStatus"] == "CANCELLED"


def test_a_large_report_is_gzipped_and_fba_returns_are_listed_again_with_a_later_date(
    client, simulator, sent
):
    market = simulator.marketplace
    sku = next(p.sku for p in market.catalogue.products.values() if p.fba)
    for _ in range(15):
        market.return_order(_shipped(simulator, sku, 1, afn=True))
    for ret in market.returns:  # listed again days later, for some: not in this window
        ret.listed_again = None
    market.returns[0].listed_again = market.returns[0].requested - timedelta(hours=1)  # two dates, one return
    report = client.call(
        "createReport",
        "POST",
        "/reports/2021-06-30/reports",
        {"reportType": FBA, "marketplaceIds": [simulator.marketplace_id], **_window(1)},
    )
    done = _finished(client, report.body["reportId"])
    document = client.call(
        "getReportDocument", "GET", f"/reports/2021-06-30/documents/{done['reportDocumentId']}"
    ).body
    assert document["compressionAlgorithm"] == "GZIP"
    with _OPENER.open(document["url"], timeout=10) as answer:
        text = gzip.decompress(answer.read()).decode()
    lines = text.splitlines()
    assert lines[0].split("\t") == list(FBA_COLUMNS) and len(lines) == 1 + 16
    parsed = parse_returns_report(FBA, text)
    assert (len(parsed.fba), parsed.duplicates, parsed.bad) == (15, 1, [])


def test_the_reports_api_refuses_what_amazon_refuses_and_fails_on_demand(client, simulator, sent):
    market_ids = [simulator.marketplace_id]
    for body in (
        {"reportType": MFN, "marketplaceIds": market_ids, **_window(61)},
        {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": market_ids},
        {"reportType": MFN, "marketplaceIds": ["A1F83G8C2ARO7P"]},
        {"marketplaceIds": market_ids},
        {"reportType": MFN, "marketplaceIds": market_ids, "dataStartTime": "yesterday"},
    ):
        assert client.call("createReport", "POST", "/reports/2021-06-30/reports", body).status == 400, body
    assert client.call("getReport", "GET", "/reports/2021-06-30/reports/123").status == 404
    assert client.call("getReportDocument", "GET", "/reports/2021-06-30/documents/nope").status == 404

    assert client.http("POST", "/_simulator/reports/fatal", {"count": 1}).body == {"fatalReports": 1}
    failed = client.call(
        "createReport",
        "POST",
        "/reports/2021-06-30/reports",
        {"reportType": MFN, "marketplaceIds": market_ids},
    )
    assert _finished(client, failed.body["reportId"])["processingStatus"] == "FATAL"
    assert [n["processingStatus"] for n in _notices(sent)] == ["FATAL"]


def test_oms_simulate_return_makes_a_buyer_return_now(simulator, tmp_path: Path):
    (tmp_path / "outputs.json").write_text(json.dumps(simulator.outputs()))
    order_id = _shipped(simulator, quantity=2)
    runner = CliRunner()
    made = runner.invoke(main, ["simulate", "return", "--order", order_id, "--reason", "DAMAGED_BY_CARRIER",
                                "--out-of-policy", "--state-dir", str(tmp_path)])  # fmt: skip
    assert made.exit_code == 0, made.output
    answer = json.loads(made.output)
    assert (answer["orderId"], answer["quantity"], answer["reason"], answer["inPolicy"]) == (
        order_id, 2, "DAMAGED_BY_CARRIER", False,
    )  # fmt: skip
    again = runner.invoke(main, ["simulate", "return", "--order", order_id, "--state-dir", str(tmp_path)])
    assert again.exit_code != 0 and "no shipped units left to return" in again.output
