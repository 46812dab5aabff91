"""The returns sync on moto against the local marketplace: sync_returns asks for Amazon's two returns reports,
REPORT_PROCESSING_FINISHED goes through ingest_notifications into the table, and the table's stream brings
the finished report back to sync_returns, which reads and applies it once (empty: CANCELLED; FATAL: asked
again). Duplicate and out-of-order reports change nothing twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from oms.amazon.client import SpApiError
from oms.amazon.notifications import Notification
from oms.amazon.reports_api import ReportsApi
from oms.domain.returns_reports import FBA_RETURNS_REPORT, MFN_RETURNS_REPORT, parse_returns_report
from oms.domain.types import utc_now
from oms.orders.intake import apply_change, change_from_notification
from oms.returns.from_amazon import apply_parsed
from oms.returns.report_sync import OVERLAP, ReturnsSync
from oms.store import keys
from oms.store.default import default_table
from oms_local.simulator import Simulator, Wanted, contract
from oms_local.simulator.entities import SHIPPED
from tests.api_calls import call_api
from tests.builders import order_change, sqs_event
from tests.conftest import load_event
from tests.integration.amazon_side import (  # noqa: F401 - fixtures
    MARKETPLACE,
    TableStream,
    amazon_fixture,
    calls,
    fast_client,
    inject_fault,
    simulator_fixture,
)

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")


class Amazon:
    """The simulator with its notifications captured, and the stack's side of them."""

    def __init__(self, stack: Any, simulator: Simulator, context: Any) -> None:
        self.stack, self.simulator, self.context = stack, simulator, context
        self.notes: list[dict[str, Any]] = []
        simulator.notify = lambda text: self.notes.append(json.loads(text))
        self.sync = stack.handler("sync_returns")
        self.ingest = stack.handler("ingest_notifications")
        self.stream = TableStream(stack, "sync_returns", self.sync.lambda_handler)
        products = list(simulator.marketplace.catalogue.products.values())
        self.mfn_sku = next(p.sku for p in products if not p.fba)
        self.fba_sku = next(p.sku for p in products if p.fba)

    def shipped(self, sku: str, units: int, *, afn: bool = False, known_here: bool = True) -> str:
        market = self.simulator.marketplace
        order_id = market.place_order([Wanted(sku, units)], afn=afn)
        with market._lock:
            order = market.orders[order_id]
            for line in order.lines:
                line.shipped = line.quantity
            order.status = SHIPPED
        if known_here:
            document = order_change(
                order_id, "Shipped", [(sku, units, units)], channel="AFN" if afn else "MFN"
            )
            apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
        return order_id

    def finished(self, count: int) -> list[dict[str, Any]]:
        """The next `count` REPORT_PROCESSING_FINISHED the marketplace sends (it builds reports in a moment)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = [n for n in self.notes if n.get("notificationType") == "REPORT_PROCESSING_FINISHED"]
            if len(found) >= count:
                for note in found:
                    self.notes.remove(note)
                    contract.validate_notification(note)
                return found
            time.sleep(0.05)
        raise AssertionError(f"the marketplace finished fewer than {count} reports")

    def run_schedule(self) -> dict[str, Any]:
        return self.sync.lambda_handler(load_event("sync_returns/schedule.json"), self.context)

    def deliver(self, notes: list[dict[str, Any]]) -> None:
        """Amazon's notifications through the queue's function, then the table's stream to sync_returns."""
        answer = self.ingest.lambda_handler(sqs_event(*notes), self.context)
        assert answer["batchItemFailures"] == [], answer
        ids = {n["payload"]["reportProcessingFinishedNotification"]["reportId"] for n in notes}
        for _ in range(30):  # the stream is read 100 records a tick, most of them not for this function
            self.stream.deliver()
            seen = {r["reportId"] for a in self.stream.answers for r in _reports_in(a)}
            if ids <= seen:
                return
        raise AssertionError(f"sync_returns never saw {ids - seen}")

    def returns(self) -> dict[str, dict[str, Any]]:
        status, page = call_api(self.stack, self.context, "GET", "/returns", query={"limit": "100"})
        assert status == 200, page
        full = [
            call_api(self.stack, self.context, "GET", f"/returns/{r['returnId']}")[1] for r in page["items"]
        ]
        return {r["orderId"] + "/" + r["items"][0]["sku"]: r for r in full}


def _reports_in(answer: dict[str, Any]) -> list[dict[str, str]]:
    result = answer["result"]
    return [{"reportId": r} for r in [*result["applied"], *result["failed"]]]


@pytest.fixture
def market(stack, amazon, context) -> Amazon:
    return Amazon(stack, amazon, context)


def _a_while_ago(simulator: Simulator) -> None:
    """The buyers' returns were made ten minutes ago (a report's window ends at a whole second, now)."""
    for ret in simulator.marketplace.returns:
        ret.requested -= timedelta(minutes=10)


def _versions() -> dict[str, dict[str, Any]]:
    """Every return as stored (with its version), read consistently."""
    ids = [i["returnId"] for i in default_table().query_all(keys.returns_by_time(None, None))]
    return {i["returnId"]: i for i in default_table().get_many([keys.return_key(r) for r in ids])}


def _state(report_type: str) -> dict[str, Any]:
    state = default_table().get(keys.returns_sync_key(report_type, MARKETPLACE), consistent=True)
    assert state is not None
    return state


def test_buyers_returns_appear_after_the_sync_each_once_and_amazons_repeats_change_nothing(
    market, stack, context
):
    market_ = market.simulator.marketplace
    in_policy = market.shipped(market.mfn_sku, 2)
    out_of_policy = market.shipped(market.mfn_sku, 1)
    fba = market.shipped(market.fba_sku, 2, afn=True)
    unknown = market.shipped(market.mfn_sku, 1, known_here=False)
    market_.return_order(in_policy, quantity=1, reason="DEFECTIVE", in_policy=True)
    market_.return_order(out_of_policy, reason="UNWANTED_ITEM", in_policy=False)
    market_.return_order(fba, reason="DAMAGED_BY_CARRIER", disposition="CUSTOMER_DAMAGED")
    market_.returns[-1].listed_again = utc_now() - timedelta(minutes=5)  # Amazon lists it twice, two dates
    market_.return_order(unknown, reason="WRONG_ITEM", in_policy=True)
    _a_while_ago(market.simulator)
    fba_stock_before = list(default_table().query_all(keys.stock_rows_of(market.fba_sku)))

    first = market.run_schedule()
    assert len(first["result"]["requested"]) == 2 and first["spApiCalls"] == {"createReport": 2}
    notes = market.finished(2)
    assert {n["payload"]["reportProcessingFinishedNotification"]["processingStatus"] for n in notes} == {
        "DONE"
    }
    market.deliver(notes)

    found = market.returns()
    assert set(found) == {
        f"{in_policy}/{market.mfn_sku}",
        f"{out_of_policy}/{market.mfn_sku}",
        f"{fba}/{market.fba_sku}",
    }
    mfn = found[f"{in_policy}/{market.mfn_sku}"]
    assert (mfn["source"], mfn["status"], mfn["inPolicy"], mfn["carrier"]) == (
        "amazon",
        "authorized",
        True,
        "UPS",
    )
    assert mfn["trackingId"].startswith("1Z") and mfn["amazonRmaId"].startswith("D")
    assert mfn["items"][0]["quantity"] == 1 and mfn["items"][0]["reason"] == "DEFECTIVE"
    assert mfn["labelCost"]["currencyCode"] == "USD"
    waiting = found[f"{out_of_policy}/{market.mfn_sku}"]
    assert (waiting["status"], waiting["inPolicy"], waiting["trackingId"]) == ("requested", False, None)
    back_at_amazon = found[f"{fba}/{market.fba_sku}"]
    item = back_at_amazon["items"][0]
    assert (back_at_amazon["source"], back_at_amazon["status"]) == ("fba", "quarantined")
    assert (item["quantity"], item["disposition"], item["forRemoval"]) == (2, "CUSTOMER_DAMAGED", True)
    assert item["fulfillmentCenterId"] and back_at_amazon["licensePlateNumber"].startswith("LPN")
    assert list(default_table().query_all(keys.stock_rows_of(market.fba_sku))) == fba_stock_before, (
        "an FBA return moves no local stock"
    )

    applied = [a["result"]["applied"] for a in market.stream.answers if a["result"]["applied"]]
    counts: Counter[str] = Counter()
    for one in applied:
        for report_counts in one.values():
            counts.update(report_counts)
    assert counts["created"] == 3 and counts["badRows"] == 1, counts  # the order not known here
    assert counts["duplicateRows"] == 1, "the FBA return listed twice is one return"
    for report_type in (MFN_RETURNS_REPORT, FBA_RETURNS_REPORT):
        state = _state(report_type)
        assert "pendingReportId" not in state and state["appliedThrough"]

    # Amazon sends the same notification again, and the next run reads an overlapping window: nothing twice.
    before = _versions()
    market.deliver(notes)
    second = market.run_schedule()
    market.deliver(market.finished(2))
    assert _versions() == before, "a duplicate notification or an overlapping report changes nothing"
    assert len(second["result"]["requested"]) == 2

    # Amazon approves the waiting return; then an older report arrives again, out of order.
    old_document = next(
        n["payload"]["reportProcessingFinishedNotification"]["reportDocumentId"]
        for n in notes
        if n["payload"]["reportProcessingFinishedNotification"]["reportType"] == MFN_RETURNS_REPORT
    )
    market_.decide_return(waiting["amazonRmaId"], "Approved")
    market.run_schedule()
    market.deliver(market.finished(2))
    approved = market.returns()[f"{out_of_policy}/{market.mfn_sku}"]
    assert approved["status"] == "authorized" and approved["timeline"][-1]["note"] == "approved on Amazon"
    # the receiving screen's scan: the label Amazon issued with its approval finds the return, as does the first
    for ret in (approved, mfn):
        status, page = call_api(stack, context, "GET", "/returns", query={"q": ret["trackingId"]})
        assert status == 200 and [r["returnId"] for r in page["items"]] == [ret["returnId"]], page
    # and Amazon's returns count in the SKU's return rate
    status, rates = call_api(stack, context, "GET", "/metrics/return-rates", query={"sku": market.mfn_sku})
    assert status == 200 and rates["items"][0]["unitsReturned"] == 2, rates
    before = _versions()
    old = ReportsApi(fast_client(market.simulator)).read_document(old_document)
    again = apply_parsed(default_table(), parse_returns_report(MFN_RETURNS_REPORT, old), now=utc_now())
    assert again.counts["unchanged"] == 2 and _versions() == before, (
        "an older report never moves a return back"
    )


def test_an_empty_returns_report_ends_cancelled_and_means_no_returns(market):
    first = market.run_schedule()
    notes = market.finished(2)
    assert {n["payload"]["reportProcessingFinishedNotification"]["processingStatus"] for n in notes} == {
        "CANCELLED"
    }
    market.deliver(notes)

    assert market.returns() == {}
    for report_type in (MFN_RETURNS_REPORT, FBA_RETURNS_REPORT):
        state = _state(report_type)
        assert "pendingReportId" not in state, "CANCELLED is done: no returns, not a failure"
        request = default_table().get(keys.returns_report_request_key(first["result"]["requested"][0]))
        assert request is not None
    mfn_end = _state(MFN_RETURNS_REPORT)["appliedThrough"]

    market.run_schedule()  # the next window starts an overlap before the last one ended
    (report,) = [
        r for r in market.simulator.marketplace.reports.values() if r.report_type == MFN_RETURNS_REPORT
    ][-1:]
    assert report.start == datetime.fromisoformat(mfn_end) - OVERLAP


def test_a_fatal_report_is_a_failure_asked_again_on_the_next_run(market, stack):
    market.simulator.marketplace.fail_next_reports(2)
    market.run_schedule()
    notes = market.finished(2)
    assert {n["payload"]["reportProcessingFinishedNotification"]["processingStatus"] for n in notes} == {
        "FATAL"
    }
    market.deliver(notes)
    results = [a["result"] for a in market.stream.answers]
    assert sum(len(r["failed"]) for r in results) == 2
    state = _state(MFN_RETURNS_REPORT)
    assert "pendingReportId" not in state and "appliedThrough" not in state

    again = market.run_schedule()
    assert len(again["result"]["requested"]) == 2, "asked again at once, for the same window"
    starts = sorted(
        {
            r.start
            for r in market.simulator.marketplace.reports.values()
            if r.report_type == MFN_RETURNS_REPORT
        }
    )
    assert len(starts) == 2 and starts[1] - starts[0] < timedelta(minutes=1)


def test_a_lost_notification_is_caught_by_the_next_run_which_reads_the_report_itself(market):
    sku = market.mfn_sku
    orders = [market.shipped(sku, 1) for _ in range(12)]
    for order_id in orders:
        market.simulator.marketplace.return_order(order_id, in_policy=True)
    _a_while_ago(market.simulator)
    market.run_schedule()
    market.finished(2)  # Amazon sent them; they never arrived

    second = market.run_schedule()
    assert second["spApiCalls"]["getReport"] == 2 and second["spApiCalls"]["getReportDocument"] == 1
    applied = second["result"]["applied"]
    assert sum(r.get("created", 0) for r in applied.values()) == 12, applied
    assert len(second["result"]["requested"]) == 2, "then the next window is asked for"
    documents = market.simulator.marketplace.documents.values()
    assert any(d.gzipped for d in documents), "a document this size comes gzipped, and was read"
    assert len(market.returns()) == 12


def test_a_report_type_amazon_refuses_leaves_the_other_asked_for_and_the_run_failed(market):
    inject_fault(market.simulator, "createReport", 400, 1)
    with pytest.raises(SpApiError, match="createReport: 400"):
        market.run_schedule()
    assert default_table().get(keys.returns_sync_key(MFN_RETURNS_REPORT, MARKETPLACE)) is None
    assert _state(FBA_RETURNS_REPORT)["pendingReportId"], "the FBA report was still asked for"
    market.finished(1)


def test_a_finished_report_with_a_status_this_product_does_not_know_is_a_failure_not_a_crash(market, amazon):
    market.run_schedule()
    pending = _state(MFN_RETURNS_REPORT)["pendingReportId"]
    sync = ReturnsSync(default_table(), ReportsApi(fast_client(amazon)))
    assert sync.apply_finished(pending, MFN_RETURNS_REPORT, "DONE_NO_DATA", None) == "failed"
    assert "pendingReportId" not in _state(MFN_RETURNS_REPORT), "asked again on the next run"
    assert default_table().get(keys.returns_report_applied_key(pending)) is None


def test_the_sample_event_is_a_finished_returns_report_the_function_takes(market, stack, context):
    """events/sync_returns/report_finished.json (for `oms invoke sync_returns --event`): an empty report,
    applied as no returns; the same record again changes nothing."""
    event = load_event("sync_returns/report_finished.json")
    first = market.sync.lambda_handler(event, context)
    assert first["batchItemFailures"] == [] and list(first["result"]["applied"]) == ["54517018502"]
    marker = default_table().get(keys.returns_report_applied_key("54517018502"))
    assert marker is not None and marker["processingStatus"] == "CANCELLED"
    again = market.sync.lambda_handler(event, context)
    assert again["result"]["applied"] == {} and again["batchItemFailures"] == []


def test_a_report_document_is_fetched_only_over_https_or_from_the_local_stack(amazon):
    client = fast_client(amazon)
    with pytest.raises(SpApiError, match="InsecureDocumentUrl"):
        client.transfer("GET", "http://tortuga-prod-na.s3-external-1.amazonaws.com/doc")
    with pytest.raises(SpApiError, match="document: 404"):
        client.transfer(
            "GET", f"{amazon.url}/_simulator/documents/no-such-document"
        )  # loopback: asked, not found
