"""Suppliers and purchase orders through the API on moto: a seller adds a supplier and its terms for a SKU,
drafts a PO, sends it (a PDF, units on order), receives it in parts (on hand through the ledger, the lead
time recorded, each receipt once) and closes it."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import time_machine
from pypdf import PdfReader

from oms.amazon.notifications import Notification
from oms.inventory.stock import StockPolicy, StockRepository, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.planning.suppliers import supply_terms, units_on_order
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.conftest import TEST_CLOCK

SKU = "MUG-RED"
SUPPLIER = {
    "name": "Mug Works Ltd",
    "email": "orders@mugworks.example",
    "address": ["12 Kiln Road", "Stoke-on-Trent ST1 1AA", "United Kingdom"],
    "currencyCode": "USD",
}
TERMS = {
    "leadTime": {"productionDays": 10, "transitDays": 4, "receivingDays": 1},
    "minimumOrderQuantity": 48,
    "casePack": 12,
    "unitCost": {"amount": "2.40", "currencyCode": "USD"},
    "supplierSku": "MW-RED-11OZ",
}


def _supplier(stack, context, terms: dict | None = None) -> str:
    status, supplier = call_api(stack, context, "POST", "/suppliers", SUPPLIER)
    assert status == 201, supplier
    status, answer = call_api(
        stack, context, "PUT", f"/suppliers/{supplier['supplierId']}/skus/{SKU}", terms or TERMS
    )
    assert status == 200, answer
    return str(supplier["supplierId"])


def _draft(stack, context, supplier_id: str, quantity: int = 100, **headers: str) -> dict:
    body = {"supplierId": supplier_id, "lines": [{"sku": SKU, "quantity": quantity}]}
    status, po = call_api(stack, context, "POST", "/purchase-orders", body, headers=headers or None)
    assert status in (200, 201), po
    return po


def _sent(stack, context, supplier_id: str, quantity: int = 100) -> dict:
    po = _draft(stack, context, supplier_id, quantity)
    status, po = call_api(stack, context, "POST", f"/purchase-orders/{po['poId']}/send")
    assert status == 200, po
    return po


def _receive(stack, context, po_id: str, *lines: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Idempotency-Key": key} if key else None
    return call_api(
        stack, context, "POST", f"/purchase-orders/{po_id}/receipts", {"lines": list(lines)}, headers=headers
    )


def _without_link(po: dict) -> dict:
    assert po["pdfUrl"].startswith("http")
    return {**po, "pdfUrl": None}


def _stock(stack, context) -> dict:
    return call_api(stack, context, "GET", f"/inventory/{SKU}")[1]


def _receipts_in_ledger(stack, context) -> list[tuple[int, str, str | None]]:
    items = call_api(stack, context, "GET", f"/inventory/{SKU}/ledger")[1]["items"]
    return [(e["delta"], e["reason"], e["reference"]) for e in items if e["reason"] == "receipt"]


def test_a_supplier_is_added_once_found_and_its_terms_explain_the_lead_time(stack, context):
    first = call_api(stack, context, "POST", "/suppliers", SUPPLIER, headers={"Idempotency-Key": "sup-1"})
    again = call_api(stack, context, "POST", "/suppliers", SUPPLIER, headers={"Idempotency-Key": "sup-1"})
    assert first[0] == 201 and again == (200, first[1])
    supplier_id = first[1]["supplierId"]

    status, terms = call_api(stack, context, "PUT", f"/suppliers/{supplier_id}/skus/{SKU}", TERMS)
    assert status == 200, terms
    assert terms["effective"] == {
        "leadTimeDays": 15.0,
        "leadTimeSd": 0.0,
        "source": "typed",
        "explanation": "typed: production + transit + receiving = 15.0 days",
    }
    assert terms["observed"] == {"count": 0, "meanDays": None, "sdDays": None}

    status, one = call_api(stack, context, "GET", f"/suppliers/{supplier_id}")
    assert status == 200 and one["name"] == "Mug Works Ltd"
    assert [(t["sku"], t["supplierSku"], t["casePack"]) for t in one["skus"]] == [(SKU, "MW-RED-11OZ", 12)]
    listed = call_api(stack, context, "GET", "/suppliers")[1]["items"]
    assert [s["supplierId"] for s in listed] == [supplier_id]

    renamed = call_api(stack, context, "PUT", f"/suppliers/{supplier_id}", {**SUPPLIER, "name": "Mug Works"})
    assert renamed[0] == 200 and renamed[1]["name"] == "Mug Works" and renamed[1]["skus"]

    terms_found = supply_terms(default_table(), SKU)
    assert terms_found is not None
    assert (terms_found.supplierId, terms_found.leadTimeDays, terms_found.moq, terms_found.casePack) == (
        supplier_id,
        15.0,
        48,
        12,
    )
    assert supply_terms(default_table(), "NOBODY-MAKES-IT") is None


def test_bad_supplier_input_is_a_clear_4xx_and_nothing_is_written(stack, context):
    supplier_id = _supplier(stack, context)
    cases = [
        ("POST", "/suppliers", {"name": ""}, 400),
        ("POST", "/suppliers", {**SUPPLIER, "email": "not-an-address"}, 400),
        ("POST", "/suppliers", {**SUPPLIER, "colour": "red"}, 400),
        ("PUT", f"/suppliers/{supplier_id}/skus/{SKU}", {**TERMS, "casePack": 0}, 400),
        (
            "PUT",
            f"/suppliers/{supplier_id}/skus/{SKU}",
            {**TERMS, "unitCost": {"amount": "2.40", "currencyCode": "EUR"}},
            400,
        ),
        (
            "PUT",
            f"/suppliers/{supplier_id}/skus/{SKU}",
            {**TERMS, "unitCost": {"amount": "lots", "currencyCode": "USD"}},
            400,
        ),
        ("PUT", f"/suppliers/SUP-NONE/skus/{SKU}", TERMS, 404),
        ("GET", "/suppliers/SUP-NONE", None, 404),
    ]
    for method, path, body, expected in cases:
        status, answer = call_api(stack, context, method, path, body)
        assert status == expected, (path, body, answer)
        assert answer["error"]["message"], answer
    assert len(call_api(stack, context, "GET", "/suppliers")[1]["items"]) == 1
    assert call_api(stack, context, "GET", f"/suppliers/{supplier_id}")[1]["skus"][0]["casePack"] == 12


def test_a_draft_takes_the_terms_cost_and_bad_lines_are_refused_naming_the_field(stack, context):
    supplier_id = _supplier(stack, context)
    po = _draft(stack, context, supplier_id, 120)
    assert (
        po["status"],
        po["total"],
        po["lines"][0]["unitCost"]["amount"],
        po["lines"][0]["supplierSku"],
    ) == (
        "draft",
        {"amount": "288.00", "currencyCode": "USD"},
        "2.40",
        "MW-RED-11OZ",
    )
    assert units_on_order(default_table(), SKU) == 0  # a draft is not on order

    line = {"sku": SKU, "quantity": 1}
    cases = [
        ({"supplierId": "SUP-NONE", "lines": [line]}, "supplierId"),
        ({"supplierId": supplier_id, "lines": [{"sku": "TEAPOT", "quantity": 1}]}, "lines[0].sku"),
        ({"supplierId": supplier_id, "lines": [line, line]}, "lines[1].sku"),
        ({"supplierId": supplier_id, "lines": [{**line, "quantity": 0}]}, "lines[0].quantity"),
        (
            {
                "supplierId": supplier_id,
                "lines": [{**line, "unitCost": {"amount": "1", "currencyCode": "GBP"}}],
            },
            "lines[0].unitCost.currencyCode",
        ),
        ({"supplierId": supplier_id, "lines": []}, "lines"),
        (
            {
                "supplierId": supplier_id,
                "lines": [{**line, "unitCost": {"amount": "1e999999", "currencyCode": "USD"}}],
            },
            "lines[0].unitCost.amount",
        ),
    ]
    for body, field in cases:
        status, answer = call_api(stack, context, "POST", "/purchase-orders", body)
        assert status == 400, (body, answer)
        assert answer["error"]["details"][0]["field"] == field, (body, answer)
    assert [p["poId"] for p in call_api(stack, context, "GET", "/purchase-orders")[1]["items"]] == [
        po["poId"]
    ]

    # the supplier now invoices in euros: the terms' dollar cost is not taken silently
    assert (
        call_api(stack, context, "PUT", f"/suppliers/{supplier_id}", {**SUPPLIER, "currencyCode": "EUR"})[0]
        == 200
    )
    status, answer = call_api(
        stack, context, "POST", "/purchase-orders", {"supplierId": supplier_id, "lines": [line]}
    )
    assert status == 400 and answer["error"]["details"][0]["field"] == "lines[0].unitCost.currencyCode"
    assert "the terms for MUG-RED say USD" in answer["error"]["message"]
    assert call_api(stack, context, "PUT", f"/suppliers/{supplier_id}", SUPPLIER)[0] == 200

    key = {"Idempotency-Key": "po-7"}
    assert _draft(stack, context, supplier_id, 5, **key) == _draft(stack, context, supplier_id, 5, **key)
    body = {"supplierId": supplier_id, "lines": [{"sku": SKU, "quantity": 6}]}
    status, answer = call_api(stack, context, "POST", "/purchase-orders", body, headers=key)
    assert status == 409 and "different purchase order" in answer["error"]["message"]


def test_sending_puts_the_units_on_order_and_gives_the_supplier_a_pdf(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), SKU, StockPolicy())
    product = {"title": "Red mug, 11 oz"}
    assert call_api(stack, context, "PUT", f"/products/{SKU}", product)[0] == 200
    supplier_id = _supplier(stack, context)
    po = _sent(stack, context, supplier_id, 100)

    assert po["status"] == "sent" and po["sentAt"].endswith("Z")
    sent_at = datetime.fromisoformat(po["sentAt"])
    assert datetime.fromisoformat(po["lines"][0]["expectedBy"]) == sent_at + timedelta(
        days=15
    )  # typed lead time
    bucket = stack.environment["DOCUMENTS_BUCKET"]
    key = unquote(urlsplit(po["pdfUrl"]).path).lstrip("/").removeprefix(bucket + "/")
    pdf = PdfReader(io.BytesIO(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()))
    text = "".join(page.extract_text() for page in pdf.pages)
    for shown in (
        po["poId"],
        "Mug Works Ltd",
        "12 Kiln Road",
        "MW-RED-11OZ",
        "Red mug, 11 oz",  # what the product is, beside the seller's SKU
        "Total: 240.00 USD",
        "America/New_York",
    ):
        assert shown in text, shown
    sent_local = sent_at.astimezone(ZoneInfo("America/New_York"))
    assert f"Date: {sent_local:%Y-%m-%d %H:%M} EST" in text  # the warehouse's time, not UTC
    assert f"{sent_local + timedelta(days=15):%Y-%m-%d}" in text  # deliver by, the warehouse's day
    assert _stock(stack, context)["onOrder"] == 100
    listed = call_api(stack, context, "GET", "/inventory")[1]["items"]
    assert [(row["sku"], row["onOrder"]) for row in listed] == [(SKU, 100)]
    assert [
        p["status"]
        for p in call_api(stack, context, "GET", "/purchase-orders", query={"status": "sent"})[1]["items"]
    ] == ["sent"]
    assert call_api(stack, context, "GET", "/purchase-orders", query={"status": "draft"})[1]["items"] == []

    again = call_api(stack, context, "POST", f"/purchase-orders/{po['poId']}/send")
    assert again[0] == 200 and again[1]["sentAt"] == po["sentAt"]
    assert _stock(stack, context)["onOrder"] == 100  # sent once


def test_a_partial_receipt_raises_on_hand_through_the_ledger_and_records_the_lead_time(stack, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), SKU, StockPolicy())
    supplier_id = _supplier(stack, context)
    po = _sent(stack, context, supplier_id, 100)

    with time_machine.travel(TEST_CLOCK + timedelta(days=12, hours=12), tick=False):
        status, after = _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 60}, key="dock-1")

    assert status == 201, after
    assert after["status"] == "partially-received"
    line = after["lines"][0]
    assert (line["received"], line["leadTimeDays"]) == (60, 12.5)
    stock = _stock(stack, context)
    assert (stock["onHand"], stock["onOrder"]) == (60, 40)
    assert _receipts_in_ledger(stack, context) == [(60, "receipt", po["poId"])]
    terms = call_api(stack, context, "GET", f"/suppliers/{supplier_id}")[1]["skus"][0]
    assert terms["observed"] == {"count": 1, "meanDays": 12.5, "sdDays": None}
    assert terms["effective"]["source"] == "typed"  # one observation is not enough yet


def test_a_retried_receipt_with_the_same_key_applies_once(stack, context):
    set_policy(default_table(), SKU, StockPolicy())
    po = _sent(stack, context, _supplier(stack, context), 100)
    line = {"sku": SKU, "quantity": 30}

    first = _receive(stack, context, po["poId"], line, key="dock-7")
    again = _receive(stack, context, po["poId"], line, key="dock-7")

    assert first[0] == 201 and again[0] == 200
    assert _without_link(again[1]) == _without_link(first[1])  # each answer signs a fresh PDF link
    assert len(first[1]["receipts"]) == 1
    assert (_stock(stack, context)["onHand"], _stock(stack, context)["onOrder"]) == (30, 70)
    assert _receipts_in_ledger(stack, context) == [(30, "receipt", po["poId"])]
    status, answer = _receive(stack, context, po["poId"], {**line, "quantity": 31}, key="dock-7")
    assert status == 409 and "different receipt" in answer["error"]["message"]
    # another caller's same key is another receipt
    other = call_api(
        stack,
        context,
        "POST",
        f"/purchase-orders/{po['poId']}/receipts",
        {"lines": [line]},
        headers={"Idempotency-Key": "dock-7"},
        claims={"sub": "someone-else", "email": "bob@example.com"},
    )
    assert other[0] == 201 and _stock(stack, context)["onHand"] == 60


def test_over_receipt_is_refused_naming_the_line_and_nothing_moves(stack, context):
    set_policy(default_table(), SKU, StockPolicy())
    po = _sent(stack, context, _supplier(stack, context), 10)
    assert _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 8})[0] == 201

    for lines, field in (
        ([{"sku": SKU, "quantity": 3}], "lines[0].quantity"),
        ([{"sku": SKU, "quantity": 1}, {"sku": SKU, "quantity": 2}], "lines[1].quantity"),
        ([{"sku": "TEAPOT", "quantity": 1}], "lines[0].sku"),
    ):
        status, answer = _receive(stack, context, po["poId"], *lines)
        assert status == 409, answer
        assert answer["error"]["details"][0]["field"] == field
    status, answer = _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 1, "location": "B-9"})
    assert status == 400 and answer["error"]["details"][0]["field"] == "lines[0].location"

    assert (_stock(stack, context)["onHand"], _stock(stack, context)["onOrder"]) == (8, 2)
    assert _receipts_in_ledger(stack, context) == [(8, "receipt", po["poId"])]
    draft = _draft(stack, context, po["supplierId"], 5)
    status, answer = _receive(stack, context, draft["poId"], {"sku": SKU, "quantity": 1})
    assert status == 409 and "only a sent purchase order" in answer["error"]["message"]


def test_closing_cancels_the_rest_and_takes_it_off_order(stack, context):
    # no stock row yet: the first receipt makes it
    po = _sent(stack, context, _supplier(stack, context), 100)
    _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 25})

    status, shut = call_api(stack, context, "POST", f"/purchase-orders/{po['poId']}/close")
    assert status == 200, shut
    assert shut["status"] == "closed" and shut["lines"][0]["cancelled"] == 75
    assert _stock(stack, context)["onOrder"] == 0
    status, again = call_api(stack, context, "POST", f"/purchase-orders/{po['poId']}/close")
    assert status == 200 and _without_link(again) == _without_link(shut)
    assert _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 1})[0] == 409
    assert _stock(stack, context)["onHand"] == 25


def test_observed_lead_times_replace_the_typed_one_from_the_third_received_line(stack, context):
    set_policy(default_table(), SKU, StockPolicy())
    supplier_id = _supplier(stack, context)
    for days in (20, 22, 27):
        with time_machine.travel(TEST_CLOCK, tick=False):
            po = _sent(stack, context, supplier_id, 12)
        with time_machine.travel(TEST_CLOCK + timedelta(days=days), tick=False):
            assert _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 6})[0] == 201
        # a second part of the same line is not a second lead time
        assert _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 6})[0] == 201

    terms = supply_terms(default_table(), SKU)
    assert terms is not None
    assert (terms.source, terms.leadTimeDays, terms.leadTimeSd) == ("observed", 23.0, 3.61)
    shown = call_api(stack, context, "GET", f"/suppliers/{supplier_id}")[1]["skus"][0]
    assert shown["effective"]["explanation"].startswith("observed: mean of 3 received purchase-order lines")


def test_received_units_serve_a_backordered_order_in_the_same_transaction(stack, context):
    set_policy(default_table(), SKU, StockPolicy())
    document = order_change("111-5", "Unshipped", [(SKU, 4, 0)])
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    assert "stockShortage" in call_api(stack, context, "GET", "/orders/111-5")[1]["flags"]
    po = _sent(stack, context, _supplier(stack, context), 12)

    assert _receive(stack, context, po["poId"], {"sku": SKU, "quantity": 12})[0] == 201

    order = call_api(stack, context, "GET", "/orders/111-5")[1]
    assert "stockShortage" not in order["flags"]
    row = StockRepository(default_table()).get(SKU)
    assert (row.on_hand, row.reserved, row.backordered, row.available) == (12, 4, 0, 8)
    assert call_api(stack, context, "GET", f"/purchase-orders/{po['poId']}")[1]["status"] == "received"


def test_sending_and_each_receipt_announce_once_from_the_stored_changes(stack, context):
    from oms.events import events_from_change
    from oms.store import keys

    set_policy(default_table(), SKU, StockPolicy())
    supplier_id = _supplier(stack, context)
    draft = _draft(stack, context, supplier_id, 10)
    stored = [default_table().get(keys.purchase_order_key(draft["poId"]))]
    call_api(stack, context, "POST", f"/purchase-orders/{draft['poId']}/send")
    stored.append(default_table().get(keys.purchase_order_key(draft["poId"])))
    for key in ("dock-1", "dock-1", "dock-2"):  # the retry changes nothing, so nothing is announced
        _receive(stack, context, draft["poId"], {"sku": SKU, "quantity": 4}, key=key)
        stored.append(default_table().get(keys.purchase_order_key(draft["poId"])))

    announced = [
        [
            (e.detail_type, e.data["status"])
            for e in events_from_change(old, new, event_id="e", occurred_at=TEST_CLOCK)
        ]
        for old, new in zip([None, *stored], stored, strict=False)
    ]
    assert announced == [
        [],
        [("PurchaseOrderSent", "sent")],
        [("PurchaseOrderReceived", "partially-received")],
        [],
        [("PurchaseOrderReceived", "partially-received")],
    ]
    received_event = events_from_change(stored[1], stored[2], event_id="e", occurred_at=TEST_CLOCK)[0].data
    assert received_event["receipt"]["lines"] == [{"sku": SKU, "quantity": 4, "location": "default"}]
    assert received_event["supplierName"] == "Mug Works Ltd" and received_event["lines"][0]["received"] == 4


def test_receipts_racing_for_the_last_units_take_each_unit_once_and_one_lead_time(served_stack):
    import threading

    from oms.domain.supply import NewPoLine, ReceiptLine, SupplierRequest, TermsRequest
    from oms.errors import Conflict
    from oms.planning.purchase_orders import PurchaseOrders
    from oms.planning.suppliers import Suppliers
    from oms.store.documents import default_documents
    from oms.warehouse.settings import ShippingSettingsStore

    table = default_table()
    supplier, _ = Suppliers(table).create(SupplierRequest(name="Mug Works"), supplier_id="SUP-RACE")
    Suppliers(table).put_terms("SUP-RACE", SKU, TermsRequest.model_validate(TERMS))
    pos = PurchaseOrders(table, default_documents())
    po, _ = pos.create(supplier.supplier_id, [NewPoLine(sku=SKU, quantity=3)], po_id="PO-RACE")
    pos.send(po.po_id, ShippingSettingsStore(table).get())
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan(n: int) -> None:
        try:
            pos.receive(po.po_id, [ReceiptLine(sku=SKU, quantity=1)], actor="test", receipt_id=f"scan-{n}")
            result = "ok"
        except Conflict as refused:
            result = (
                "refused"
                if "still expected" in refused.message or "received" in refused.message
                else refused.message
            )
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 3
    assert StockRepository(table).get(SKU).on_hand == 3
    assert units_on_order(table, SKU) == 0
    assert pos.get(po.po_id).status.value == "received"
    terms = Suppliers(table).get("SUP-RACE").skus
    assert terms is not None and terms[0].observed.count == 1
