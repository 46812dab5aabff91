"""Cycle counts through the API: audits by SKU or ABC class, counts, approval through the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oms.amazon.notifications import Notification
from oms.domain.types import utc_now
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import order_change


@pytest.fixture
def api(stack, context):
    handler = stack.handler("api")

    def call(method: str, path: str, body=None, **kwargs):
        return call_api(stack, context, method, path, body, handler=handler, **kwargs)

    return call


def _stock(sku: str, on_hand: int, **policy) -> None:
    table = default_table()
    set_policy(table, sku, StockPolicy(**policy))
    if on_hand:
        adjust_stock(table, sku, on_hand, reason="receipt", reference="PO-1", actor="test")


def _order(order_id: str, status: str, sku: str, quantity: int) -> None:
    shipped = quantity if status == "Shipped" else 0
    document = order_change(order_id, status, [(sku, quantity, shipped)], at=utc_now())
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _ledger(sku: str) -> list[dict]:
    return list(default_table().query_all(keys.ledger_of(sku)))


def _on_hand(sku: str, location: str = keys.DEFAULT_LOCATION) -> int:
    return StockRepository(default_table()).get(sku, location).on_hand


def test_an_audit_corrects_stock_through_the_ledger(api):
    _stock("MUG", 10, unit_cost={"amount": "4.50", "currencyCode": "USD"})
    _stock("CUP", 5)

    status, audit = api("POST", "/audits", {"skus": ["MUG", "CUP"]})
    assert status == 201, audit
    assert audit["status"] == "open"
    assert [(line["sku"], line["location"], line["counted"]) for line in audit["lines"]] == [
        ("MUG", "default", None),
        ("CUP", "default", None),
    ]
    audit_id = audit["auditId"]

    status, audit = api("PUT", f"/audits/{audit_id}/counts", {"counts": [{"sku": "MUG", "counted": 8}]})
    assert status == 200, audit
    status, audit = api(
        "PUT",
        f"/audits/{audit_id}/counts",
        {"counts": [{"sku": "MUG", "counted": 7}, {"sku": "CUP", "counted": 5}]},
    )
    assert status == 200, audit
    assert [(line["expected"], line["counted"], line["varianceUnits"]) for line in audit["lines"]] == [
        (10, 7, -3),
        (5, 5, 0),
    ]
    status, preview = api("GET", f"/audits/{audit_id}")
    assert status == 200 and preview["report"]["final"] is False
    assert _on_hand("MUG") == 10  # nothing moves before approval

    status, report = api("POST", f"/audits/{audit_id}/approve")

    assert status == 200, report
    assert report["final"] is True and report["status"] == "approved"
    mug, cup = report["lines"]
    assert (mug["expected"], mug["counted"], mug["varianceUnits"], mug["correctionUnits"]) == (10, 7, -3, -3)
    assert mug["varianceValue"] == {"amount": "-13.50", "currencyCode": "USD"}
    assert mug["unitValueSource"] == "unitCost" and not mug["flagged"]
    assert (cup["varianceUnits"], cup["correctionUnits"], cup["unitValueSource"]) == (0, 0, "default")
    assert report["totals"] | {"varianceValue": None} == {
        "lines": 2,
        "counted": 2,
        "flagged": 0,
        "corrected": 1,
        "varianceUnits": -3,
        "absoluteVarianceUnits": 3,
        "correctionUnits": -3,
        "varianceValue": None,
    }
    assert report["totals"]["varianceValue"] == [
        {"amount": "-13.50", "currencyCode": "USD"},
        {"amount": "0.00", "currencyCode": "XXX"},
    ]
    assert _on_hand("MUG") == 7
    corrections = [e for e in _ledger("MUG") if e["reason"] == "audit-correction"]
    assert [(e["delta"], e["reference"], e["actor"]) for e in corrections] == [
        (-3, f"audit:{audit_id}", "user:seller@example.com")
    ]
    assert corrections[0]["id"] == mug["ledgerEntryId"]
    for sku in ("MUG", "CUP"):
        assert sum(int(e["delta"]) for e in _ledger(sku)) == _on_hand(sku)

    status, again = api("POST", f"/audits/{audit_id}/approve")
    assert status == 409 and "already approved" in again["error"]["message"]
    status, late = api("PUT", f"/audits/{audit_id}/counts", {"counts": [{"sku": "MUG", "counted": 1}]})
    assert status == 409 and "closed" in late["error"]["message"]
    assert _on_hand("MUG") == 7
    assert api("GET", f"/audits/{audit_id}")[1]["report"]["lines"] == report["lines"]
    status, listed = api("GET", "/audits")
    assert status == 200
    assert [(a["auditId"], a["status"], a["lineCount"], a["countedCount"]) for a in listed["items"]] == [
        (audit_id, "approved", 2, 2)
    ]


def test_sales_and_receipts_between_counting_and_approval_are_kept(api):
    _stock("MUG", 10)
    audit_id = api("POST", "/audits", {"skus": ["MUG"]})[1]["auditId"]
    api("PUT", f"/audits/{audit_id}/counts", {"counts": [{"sku": "MUG", "counted": 8}]})  # 2 missing

    adjust_stock(default_table(), "MUG", 5, reason="receipt", reference="PO-2", actor="test")
    _order("111-1", "Shipped", "MUG", 3)  # a sale picked and shipped after the count
    assert _on_hand("MUG") == 12

    status, report = api("POST", f"/audits/{audit_id}/approve")

    assert status == 200, report
    line = report["lines"][0]
    assert (line["onHandBefore"], line["correctionUnits"], line["onHandAfter"]) == (12, -2, 10)
    assert _on_hand("MUG") == 10
    assert sum(int(e["delta"]) for e in _ledger("MUG")) == 10


def test_counts_for_skus_with_units_reserved_for_open_picks_are_flagged_not_corrected(api):
    _stock("MUG", 10)
    _stock("CUP", 4)
    _order("111-1", "Unshipped", "MUG", 3)  # 3 units reserved for an open MFN order
    audit_id = api("POST", "/audits", {"skus": ["MUG", "CUP"]})[1]["auditId"]
    api(
        "PUT",
        f"/audits/{audit_id}/counts",
        {"counts": [{"sku": "MUG", "counted": 7}, {"sku": "CUP", "counted": 6}]},
    )

    status, report = api("POST", f"/audits/{audit_id}/approve")

    assert status == 200, report
    mug, cup = report["lines"]
    assert (mug["varianceUnits"], mug["correctionUnits"], mug["reserved"]) == (-3, 0, 3)
    assert mug["flagged"] and mug["flag"] == "reserved-for-open-picks" and "picked" in mug["flagReason"]
    assert (cup["correctionUnits"], cup["flagged"]) == (2, False)
    assert report["totals"]["flagged"] == 1
    row = StockRepository(default_table()).get("MUG")
    assert (row.on_hand, row.reserved) == (10, 3)  # left for the seller
    assert not [e for e in _ledger("MUG") if e["reason"] == "audit-correction"]
    assert _on_hand("CUP") == 6

    schedule = {e["sku"]: e for e in api("GET", "/audits/schedule")[1]["items"]}
    assert schedule["MUG"]["lastCountedAt"] is None and schedule["MUG"]["due"]  # still to settle
    assert schedule["CUP"]["lastAuditId"] == audit_id and not schedule["CUP"]["due"]


def test_a_count_that_would_take_stock_below_zero_is_flagged(api):
    _stock("MUG", 5)
    audit_id = api("POST", "/audits", {"skus": ["MUG"]})[1]["auditId"]
    api("PUT", f"/audits/{audit_id}/counts", {"counts": [{"sku": "MUG", "counted": 1}]})  # 4 missing
    adjust_stock(default_table(), "MUG", -3, reason="damaged", reference=None, actor="test")

    report = api("POST", f"/audits/{audit_id}/approve")[1]

    assert report["lines"][0]["flag"] == "exceeds-on-hand"
    assert _on_hand("MUG") == 2


def test_every_location_of_a_sku_is_counted_on_its_own_line(api):
    table = default_table()
    _stock("MUG", 3)
    set_policy(table, "MUG", StockPolicy(), location="shelf-2")
    adjust_stock(table, "MUG", 4, reason="receipt", reference=None, actor="test", location="shelf-2")
    audit_id = api("POST", "/audits", {"skus": ["MUG"]})[1]["auditId"]
    status, audit = api(
        "PUT",
        f"/audits/{audit_id}/counts",
        {"counts": [{"sku": "MUG", "counted": 3}, {"sku": "MUG", "location": "shelf-2", "counted": 6}]},
    )
    assert status == 200, audit

    api("POST", f"/audits/{audit_id}/approve")

    assert (_on_hand("MUG"), _on_hand("MUG", "shelf-2")) == (3, 6)
    assert sum(int(e["delta"]) for e in _ledger("MUG")) == 9


def test_an_interrupted_approval_is_finished_by_the_next_one_without_applying_a_line_twice(api, monkeypatch):
    import oms.inventory.audits

    _stock("A1", 5)
    _stock("B1", 5)
    audit_id = api("POST", "/audits", {"skus": ["A1", "B1"]})[1]["auditId"]
    api(
        "PUT",
        f"/audits/{audit_id}/counts",
        {"counts": [{"sku": "A1", "counted": 4}, {"sku": "B1", "counted": 9}]},
    )
    real = oms.inventory.audits._correct_line

    def crash_on_the_second_line(table, audit, index, *args):
        if index == 1:
            raise RuntimeError("the function timed out")
        real(table, audit, index, *args)

    monkeypatch.setattr(oms.inventory.audits, "_correct_line", crash_on_the_second_line)
    assert api("POST", f"/audits/{audit_id}/approve")[0] == 500
    assert (_on_hand("A1"), _on_hand("B1")) == (4, 5)
    assert api("PUT", f"/audits/{audit_id}/counts", {"counts": [{"sku": "A1", "counted": 1}]})[0] == 409
    monkeypatch.setattr(oms.inventory.audits, "_correct_line", real)

    status, report = api("POST", f"/audits/{audit_id}/approve")

    assert status == 200, report
    assert (_on_hand("A1"), _on_hand("B1")) == (4, 9)
    assert [line["correctionUnits"] for line in report["lines"]] == [-1, 4]


def test_abc_classes_by_sales_value_pick_the_skus_and_drive_the_count_schedule(api):
    table = default_table()
    _stock("HOT", 20, unit_cost={"amount": "10.00", "currencyCode": "USD"})
    _stock("WARM", 20, unit_cost={"amount": "1.00", "currencyCode": "USD"})
    _stock("COLD", 20)  # no unit cost: the price of its latest sale
    _stock("DEAD", 20, unit_cost={"amount": "99.00", "currencyCode": "USD"})
    _order("111-1", "Shipped", "HOT", 10)  # 100.00
    _order("111-2", "Shipped", "WARM", 15)  # 15.00
    _order("111-3", "Shipped", "COLD", 2)  # 2 x 1.50 = 3.00
    order = table.get(keys.order_key("111-3"))
    order["items"][0]["unitPrice"] = {"amount": "1.50", "currencyCode": "USD"}
    table.put(order)

    status, schedule = api("GET", "/audits/schedule")

    assert status == 200, schedule
    by_sku = {e["sku"]: e for e in schedule["items"]}
    assert {sku: (e["abcClass"], e["countEvery"], e["salesUnits"]) for sku, e in by_sku.items()} == {
        "HOT": ("A", "monthly", 10),
        "WARM": ("B", "quarterly", 15),
        "COLD": ("C", "yearly", 2),
        "DEAD": ("C", "yearly", 0),
    }
    assert by_sku["COLD"]["salesValue"] == {"amount": "3.00", "currencyCode": "USD"}
    assert all(e["due"] and e["lastCountedAt"] is None for e in schedule["items"])

    status, audit = api("POST", "/audits", {"abcClass": "A"})
    assert status == 201, audit
    assert (audit["skus"], audit["abcClass"]) == (["HOT"], "A")
    assert api("POST", "/audits", {"abcClass": "C"})[1]["skus"] == ["COLD", "DEAD"]
    api("PUT", f"/audits/{audit['auditId']}/counts", {"counts": [{"sku": "HOT", "counted": 10}]})
    assert api("POST", f"/audits/{audit['auditId']}/approve")[0] == 200

    status, schedule = api("GET", "/audits/schedule", query={"abcClass": "A"})
    (hot,) = schedule["items"]
    assert hot["lastAuditId"] == audit["auditId"] and not hot["due"]
    counted = utc_now()
    due = hot["nextCountDue"]
    assert (
        (counted + timedelta(days=27)).isoformat()
        < due.replace("Z", "+00:00")
        < (counted + timedelta(days=32)).isoformat()
    )


def test_bad_audit_requests_are_refused_naming_the_field(api):
    _stock("MUG", 3)
    for body, status, field in [
        ({}, 400, "skus"),
        ({"skus": ["MUG"], "abcClass": "A"}, 400, "skus"),
        ({"skus": []}, 400, "skus"),
        ({"abcClass": "D"}, 400, "abcClass"),
        ({"skus": ["MUG", "NOPE"]}, 404, "skus[1]"),
        ({"abcClass": "A"}, 404, "abcClass"),  # nothing sold: every SKU is C
        ({"sku": "MUG"}, 400, "sku"),
    ]:
        answer = api("POST", "/audits", body)
        assert answer[0] == status, (body, answer)
        assert answer[1]["error"]["details"][0]["field"] == field, (body, answer)

    audit_id = api("POST", "/audits", {"skus": ["MUG"]})[1]["auditId"]
    assert api("POST", f"/audits/{audit_id}/approve")[0] == 409  # nothing counted yet
    for counts, status, field in [
        ([{"sku": "MUG", "counted": -1}], 400, "counts[0].counted"),
        ([{"sku": "MUG", "counted": 2.5}], 400, "counts[0].counted"),
        ([{"sku": "MUG", "counted": "3"}], 400, "counts[0].counted"),
        ([{"sku": "MUG"}], 400, "counts[0].counted"),
        ([{"sku": "MUG", "counted": 1}, {"sku": "CUP", "counted": 1}], 400, "counts[1].sku"),
        ([{"sku": "MUG", "counted": 1}, {"sku": "MUG", "counted": 2}], 400, "counts[1]"),
        ([{"sku": "MUG", "location": "attic", "counted": 1}], 404, "counts[0].location"),
        ([], 400, "counts"),
    ]:
        answer = api("PUT", f"/audits/{audit_id}/counts", {"counts": counts})
        assert answer[0] == status, (counts, answer)
        assert answer[1]["error"]["details"][0]["field"] == field, (counts, answer)
    assert all(line["counted"] is None for line in api("GET", f"/audits/{audit_id}")[1]["lines"])

    for method, path, body in [
        ("GET", "/audits/nope", None),
        ("PUT", "/audits/nope/counts", {"counts": [{"sku": "MUG", "counted": 1}]}),
        ("POST", "/audits/nope/approve", None),
    ]:
        status, answer = api(method, path, body)
        assert (status, answer["error"]["details"][0]["field"]) == (404, "auditId"), (path, answer)
