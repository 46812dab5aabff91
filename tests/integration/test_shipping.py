"""Shipping an MFN order: label bought from (or tracking recorded for) Amazon, stock moved once, the
confirmation queued and retried through throttling and refusal, split shipments, batches and forms."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import pytest
import time_machine
from pypdf import PdfReader

from oms.amazon.notifications import Notification
from oms.amazon.orders_api import ApiOrder
from oms.errors import Conflict
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_api, change_from_notification
from oms.shipping.guard import guard
from oms.shipping.shipments import confirm_due
from oms.store import keys
from oms.store.default import default_buyer_table, default_table
from tests.api_calls import call_api
from tests.builders import UPS_PICKUP, WAREHOUSE_SETTINGS, order_change
from tests.conftest import TEST_CLOCK
from tests.integration.amazon_side import (
    amazon_fixture,
    calls,
    fast_client,
    inject_fault,
    point_at,
    simulator_fixture,
)

__all__ = ["amazon_fixture", "simulator_fixture"]

SKU = "SHIP-MUG"
WAREHOUSE = WAREHOUSE_SETTINGS


def _stock(sku: str, units: int) -> None:
    set_policy(default_table(), sku, StockPolicy())
    adjust_stock(default_table(), sku, units, reason="receipt", reference="po-1", actor="test")


def _place(amazon, quantity: int = 3, **extra) -> str:
    """An order in the simulator, brought into the table as the backstop would (getOrder)."""
    amazon.marketplace.catalogue.ensure(SKU)
    status, answer = amazon.server.control(
        "POST", "/_simulator/orders", {"sku": SKU, "quantity": quantity, **extra}
    )
    assert status == 201, answer
    order_id = answer["orderId"]
    api = ApiOrder.model_validate(amazon.marketplace.get_order(order_id)["order"])
    apply_change(default_table(), change_from_api(api, "ATVPDKIKX0DER"))
    return order_id


def _amazon_says(
    order_id: str, item_id: str, status: str, quantity: int, shipped: int, *, later: float = 0
) -> None:
    """Amazon's ORDER_CHANGE for this order's one item, `later` seconds from now, applied as intake does."""
    document = order_change(
        order_id, status, [(SKU, quantity, shipped)], at=datetime.now(UTC) + timedelta(seconds=later)
    )
    document["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]["OrderItemId"] = item_id
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _ship(stack, context, order_id: str, **body):
    """POST /orders/{orderId}/shipments: a UPS package with a valid tracking number unless told otherwise."""
    shipment = {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784", **body}
    return call_api(stack, context, "POST", f"/orders/{order_id}/shipments", shipment)


@pytest.fixture
def shop(stack, amazon, context):
    status, answer = call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE)
    assert status == 200, answer
    _stock(SKU, 10)
    return amazon


def _on_hand(sku: str = SKU) -> tuple[int, int]:
    row = StockRepository(default_table()).get(sku)
    return row.on_hand, row.reserved


def test_a_label_bought_through_amazon_ships_the_order_and_is_confirmed(stack, shop, context):
    order_id = _place(shop, 2)
    assert _on_hand() == (10, 2)

    status, answer = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})

    assert status == 201, answer
    shipment = answer["shipment"]
    assert shipment["source"] == "buyShipping"
    assert shipment["confirmation"]["status"] == "confirmed"
    assert answer["order"]["status"] == "Shipped"
    assert shipment["labelUrl"]
    label = stack.client("s3").get_object(
        Bucket=stack.environment["DOCUMENTS_BUCKET"], Key=_label_key(order_id)
    )
    assert label["Body"].read().startswith(b"%PDF")
    assert _on_hand() == (8, 0)
    seen = shop.server.control("GET", f"/_simulator/orders/{order_id}", None)[1]
    assert shipment["trackingNumber"] in str(seen)  # Amazon's getOrder shows the package


def _label_key(order_id: str) -> str:
    from oms.store.orders import OrderRepository

    return OrderRepository(default_table()).get(order_id).shipments[0].label_key or ""


def test_split_shipments_move_stock_once_and_the_late_shipped_notification_changes_nothing(
    stack, shop, context
):
    order_id = _place(shop, 3)
    item_id = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["items"][0]["orderItemId"]

    first = call_api(
        stack,
        context,
        "POST",
        f"/orders/{order_id}/shipments",
        {
            "carrier": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "items": [{"orderItemId": item_id, "quantity": 1}],
        },
    )
    assert first[0] == 201, first
    assert first[1]["order"]["status"] == "PartiallyShipped"
    assert _on_hand() == (9, 2)

    too_many = call_api(
        stack,
        context,
        "POST",
        f"/orders/{order_id}/shipments",
        {
            "carrier": "UPS",
            "trackingNumber": "1Z999AA10123456793",
            "items": [{"orderItemId": item_id, "quantity": 3}],
        },
    )
    assert too_many[0] == 409 and "2 unit(s) left" in too_many[1]["error"]["message"]

    rest = call_api(
        stack,
        context,
        "POST",
        f"/orders/{order_id}/shipments",
        {"carrier": "USPS", "trackingNumber": "9400111899223100000000"},
    )
    assert rest[0] == 201, rest
    assert rest[1]["order"]["status"] == "Shipped"
    assert _on_hand() == (7, 0)

    # Amazon's notifications, in either order and late: the stock effect has happened, once.
    for status, shipped in (("PartiallyShipped", 1), ("Unshipped", 0), ("Shipped", 3)):
        _amazon_says(order_id, item_id, status, 3, shipped, later=shipped)
        assert _on_hand() == (7, 0)
    assert call_api(stack, context, "GET", f"/orders/{order_id}")[1]["status"] == "Shipped"

    again = _ship(stack, context, order_id)
    assert again[0] == 409 and "already fully shipped" in again[1]["error"]["message"]


def test_units_amazon_already_reports_shipped_are_not_shipped_again(stack, shop, context):
    order_id = _place(shop, 3)
    item_id = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["items"][0]["orderItemId"]
    _amazon_says(order_id, item_id, "PartiallyShipped", 3, 1)  # the seller confirmed one in Seller Central
    assert _on_hand() == (9, 2)

    status, answer = _ship(stack, context, order_id)

    assert status == 201, answer
    assert answer["shipment"]["items"] == [{"orderItemId": item_id, "sku": SKU, "quantity": 2}]
    assert answer["order"]["status"] == "Shipped"
    assert _on_hand() == (7, 0)
    _amazon_says(order_id, item_id, "Shipped", 3, 3, later=5)  # Amazon's own Shipped comes after: no effect
    assert _on_hand() == (7, 0)


def test_an_order_amazon_reports_shipped_cannot_be_shipped_again_and_moves_stock_once(stack, shop, context):
    order_id = _place(shop, 2)
    item_id = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["items"][0]["orderItemId"]
    _amazon_says(order_id, item_id, "Shipped", 2, 2)
    assert _on_hand() == (8, 0)

    status, answer = _ship(stack, context, order_id)

    assert status == 409 and "already fully shipped" in answer["error"]["message"]
    assert _on_hand() == (8, 0)


def test_a_repeated_shipment_request_has_one_effect(stack, shop, context):
    order_id = _place(shop, 3)
    item_id = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["items"][0]["orderItemId"]
    body = {
        "carrier": "UPS",
        "trackingNumber": "1Z999AA10123456784",
        "items": [{"orderItemId": item_id, "quantity": 1}],
    }
    first = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", body)
    again = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", body)  # a double click

    assert first[0] == again[0] == 201
    assert again[1]["shipment"]["shipmentId"] == first[1]["shipment"]["shipmentId"] == "1"
    assert len(again[1]["order"]["shipments"]) == 1
    assert _on_hand() == (9, 2)
    other_units = {**body, "items": [{"orderItemId": item_id, "quantity": 2}]}
    clash = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", other_units)
    assert clash[0] == 409 and "own tracking number" in clash[1]["error"]["message"]


def test_throttled_and_refused_confirmations_stay_queued_and_are_retried(stack, shop, context):
    order_id = _place(shop, 1)
    inject_fault(shop, "confirmShipment", 429, 20)  # more than the client's retries

    status, answer = _ship(stack, context, order_id)

    assert status == 201
    confirmation = answer["shipment"]["confirmation"]
    assert confirmation["status"] == "retrying" and confirmation["attempts"] == 1
    assert _on_hand() == (9, 0)  # recorded here whatever Amazon says
    table, client = default_table(), fast_client(shop)
    inject_fault(shop, "confirmShipment", 400, 1)  # replaces the throttling
    later = datetime.now(UTC) + timedelta(minutes=2)
    assert confirm_due(table, client, now=later) == {"refused": 1}
    order = call_api(stack, context, "GET", f"/orders/{order_id}")[1]
    assert order["shipments"][0]["confirmation"]["status"] == "refused"
    assert "400" in order["shipments"][0]["confirmation"]["lastError"]
    assert confirm_due(table, client, now=later + timedelta(minutes=5)) == {}  # refused: retried hourly
    assert confirm_due(table, client, now=later + timedelta(hours=2)) == {"confirmed": 1}
    assert confirm_due(table, client, now=later + timedelta(hours=5)) == {}  # left the queue
    seen = shop.server.control("GET", f"/_simulator/orders/{order_id}", None)[1]
    assert "1Z999AA10123456784" in str(seen)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"carrier": "Pigeon", "trackingNumber": "123"}, 400, "carrier"),
        ({"carrier": "UPS", "trackingNumber": "1Z999AA10123456785"}, 400, "trackingNumber"),
        ({"carrier": "UPS"}, 400, None),
        ({"carrier": "Other", "trackingNumber": "JD014600006281234567"}, 400, "carrierName"),
        (
            {
                "carrier": "UPS",
                "trackingNumber": "1Z999AA10123456784",
                "items": [{"orderItemId": "nope", "quantity": 1}],
            },
            400,
            "items[0].orderItemId",
        ),
    ],
)
def test_bad_shipments_are_refused_naming_the_field_and_nothing_moves(
    stack, shop, context, body, status, field
):
    order_id = _place(shop, 1)
    answer = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", body)
    assert answer[0] == status, answer
    if field:
        assert field in str(answer[1]["error"])
    assert _on_hand() == (10, 1)
    assert call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"] == []


def test_afn_and_canceled_orders_cannot_be_shipped(stack, shop, context):
    afn = _place(shop, 1, afn=True)
    answer = _ship(stack, context, afn)
    assert answer[0] == 409 and "AFN" in answer[1]["error"]["message"]
    canceled = _place(shop, 1)
    item_id = call_api(stack, context, "GET", f"/orders/{canceled}")[1]["items"][0]["orderItemId"]
    _amazon_says(canceled, item_id, "Canceled", 1, 0, later=5)
    answer = _ship(stack, context, canceled)
    assert answer[0] == 409 and "canceled" in answer[1]["error"]["message"]


def test_a_batch_gives_a_pick_list_and_packing_slips_as_pdfs(stack, shop, context):
    orders = [_place(shop, 1), _place(shop, 2)]
    status, batch = call_api(stack, context, "POST", "/batches", {"orderIds": orders})
    assert status == 201, batch
    assert batch["lines"] == [
        {
            "location": "default",
            "sku": SKU,
            "title": batch["lines"][0]["title"],
            "units": 3,
            "orderIds": orders,
        }
    ]
    s3 = stack.client("s3")
    for url in (batch["pickListUrl"], batch["packingSlipsUrl"]):
        key = _key_of(url, stack.environment["DOCUMENTS_BUCKET"])
        pdf = PdfReader(
            io.BytesIO(s3.get_object(Bucket=stack.environment["DOCUMENTS_BUCKET"], Key=key)["Body"].read())
        )
        text = "".join(page.extract_text() for page in pdf.pages)
        assert SKU in text
        assert round(float(pdf.pages[0].mediabox.width)) == 612  # a US warehouse prints on Letter
    # the slips carry each buyer's address, read from Amazon only now and kept as buyer data (expiring)
    buyer = shop.marketplace.get_order(orders[0], ["RECIPIENT"])["order"]["recipient"]["deliveryAddress"]
    assert buyer["name"] in text and buyer["postalCode"] in text
    kept = default_buyer_table().get(keys.buyer_key(orders[0]))
    assert kept is not None and kept[keys.TTL_ATTRIBUTE] > 0
    assert default_table().get(keys.buyer_key(orders[0])) is None, "PII stays out of the main table"
    again = call_api(stack, context, "GET", f"/batches/{batch['batchId']}")
    assert again[0] == 200 and again[1]["lines"] == batch["lines"]
    # a SKU nobody has on hand is listed "not on hand" (no location) and the batch still reads back
    short = _place(shop, 20)
    status, lacking = call_api(stack, context, "POST", "/batches", {"orderIds": [short]})
    assert status == 201 and [line["location"] for line in lacking["lines"]][-1] is None
    assert call_api(stack, context, "GET", f"/batches/{lacking['batchId']}")[0] == 200
    assert call_api(stack, context, "POST", "/batches", {"orderIds": ["missing-1"]})[0] == 404


def _key_of(url: str, bucket: str) -> str:
    path = unquote(urlsplit(url).path).lstrip("/")
    return path.removeprefix(bucket + "/")


def test_the_end_of_day_form_lists_the_packages_of_the_pickup_they_leave_with(stack, shop, context):
    from oms.shipping.end_of_day import close_day
    from oms.store.documents import default_documents
    from oms.warehouse.settings import ShippingSettingsStore

    order_id = _place(shop, 1)
    shipped = _ship(stack, context, order_id)[1]["shipment"]
    settings = ShippingSettingsStore(default_table()).get()
    calendar = settings.calendar
    pickup = settings.pickup("UPS").next_pickup(calendar, datetime.fromisoformat(shipped["shipDate"]))
    day = calendar.local(pickup).date().isoformat()  # today before the cutoff, else the next pickup day

    status, form = call_api(
        stack, context, "GET", "/reports/end-of-day", query={"date": day, "carrier": "UPS", "format": "pdf"}
    )
    assert status == 200, form
    assert [(p["orderId"], p["trackingNumber"]) for p in form["packages"]] == [
        (order_id, "1Z999AA10123456784")
    ]
    assert form["pdfUrl"] and form["csvUrl"]
    bucket = stack.environment["DOCUMENTS_BUCKET"]
    pdf_bytes = (
        stack.client("s3").get_object(Bucket=bucket, Key=_key_of(form["pdfUrl"], bucket))["Body"].read()
    )
    manifest = PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    assert round(float(manifest.mediabox.width)) == 612 and "America/New_York" in manifest.extract_text()
    usps = call_api(stack, context, "GET", "/reports/end-of-day", query={"date": day, "carrier": "USPS"})
    assert usps[1]["packages"] == []
    assert call_api(stack, context, "GET", "/reports/end-of-day", query={"carrier": "Pigeon"})[0] == 400
    # the preview above does not stop the form stored at the cutoff
    assert "UPS" in close_day(default_table(), default_documents(), now=pickup + timedelta(minutes=1))
    assert default_table().get(keys.end_of_day_key(day, "UPS"))["closedAt"]
    assert "UPS" not in close_day(default_table(), default_documents(), now=pickup + timedelta(minutes=20))


def test_the_work_queue_shows_must_ship_by_in_the_warehouse_zone_and_the_cutoff(stack, shop, context):
    ship_by = "2026-12-01T23:00:00Z"
    order_id = _place(shop, 1, shipBy=ship_by)
    with time_machine.travel(datetime(2026, 11, 30, 14, 0, tzinfo=UTC), tick=False):
        status, page = call_api(
            stack, context, "GET", "/orders", query={"status": "Unshipped", "fulfillmentChannel": "MFN"}
        )
    assert status == 200
    (order,) = [o for o in page["items"] if o["orderId"] == order_id]
    assert order["mustShipBy"]["local"] == "2026-12-01T18:00:00-05:00"
    assert order["cutoff"] == {
        "carrier": "UPS",
        "at": "2026-11-30T21:00:00Z",
        "local": "2026-11-30T16:00:00-05:00",
        "afterLatestShipDate": False,
    }


def test_the_guard_flags_an_order_near_its_ship_by_once_and_sends_one_delay_notice(stack, shop, context):
    slow = {"carriers": [{**UPS_PICKUP, "transitDays": 20}], "defaultCarrier": "UPS"}
    assert call_api(stack, context, "PATCH", "/settings/shipping", slow)[0] == 200
    ship_by = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # a Tuesday, 15:00 in New York
    order_id = _place(shop, 1, shipBy=ship_by.isoformat().replace("+00:00", "Z"))
    table, client = default_table(), fast_client(shop)

    early = guard(table, client, now=datetime(2026, 11, 30, 14, 0, tzinfo=UTC))  # Monday morning: a day left
    assert "atRisk" not in call_api(stack, context, "GET", f"/orders/{order_id}")[1]["flags"]
    near = guard(table, client, now=datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # 13:30 local, 1.5 h left
    again = guard(table, client, now=datetime(2026, 12, 1, 18, 45, tzinfo=UTC))
    late = guard(table, client, now=datetime(2026, 12, 1, 21, 0, tzinfo=UTC))

    assert near["flagged"] == 1 and again["flagged"] == 0 and late["flagged"] == 1
    flags = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["flags"]
    assert "atRisk" in flags and "late" in flags
    assert early["delayNotices"] + near["delayNotices"] + again["delayNotices"] + late["delayNotices"] == 1
    messages = shop.server.control("GET", f"/_simulator/orders/{order_id}", None)[1]["messages"]
    assert [m["type"] for m in messages] == ["unexpectedProblem"]
    timeline = call_api(stack, context, "GET", f"/orders/{order_id}/timeline")[1]["items"]
    assert "message" in [entry["kind"] for entry in timeline]


def test_at_risk_and_late_are_announced_once_per_transition():
    from oms.events import events_from_change

    base = {"entity": "Order", "orderId": "1", "status": "Unshipped", "flags": []}
    risky = {**base, "flags": ["atRisk"]}
    late = {**base, "flags": ["atRisk", "late"]}
    now = datetime.now(UTC)
    kinds = [
        [e.detail_type for e in events_from_change(old, new, event_id="e", occurred_at=now)]
        for old, new in ((base, risky), (risky, risky), (risky, late), (late, base))
    ]
    assert kinds == [["OrderAtRisk"], [], ["OrderLate"], []]


def test_two_callers_confirming_at_once_send_it_to_amazon_once(served_stack, simulator, context, monkeypatch):
    # on a moto server: conditional writes are atomic there, as in DynamoDB (in-process moto's are not)
    stack, shop = served_stack, point_at(served_stack, simulator, monkeypatch)
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE)[0] == 200
    _stock(SKU, 10)
    order_id = _place(shop, 1)
    inject_fault(shop, "confirmShipment", 503, 20)  # the first try fails: the shipment waits in the queue
    _ship(stack, context, order_id)
    inject_fault(shop, "confirmShipment", 503, 0)  # Amazon answers again
    table, client = default_table(), fast_client(shop)
    later = datetime.now(UTC) + timedelta(minutes=2)
    before = calls(shop, "confirmShipment")
    results: list[object] = []
    workers = [
        threading.Thread(target=lambda: results.append(confirm_due(table, client, now=later)))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert calls(shop, "confirmShipment") - before == 1
    assert (
        call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"][0]["confirmation"]["status"]
        == "confirmed"
    )


def test_a_confirmation_whose_outcome_could_not_be_written_is_tried_again_at_once(
    stack, shop, context, monkeypatch
):
    """The fault drill's finding: the outcome's write throttled, and the lease its caller held kept the next
    run away for five minutes. Now the lease is given back (confirming the same package again is an edit)."""
    from botocore.exceptions import ClientError

    from oms.shipping import shipments

    order_id = _place(shop, 1)
    inject_fault(shop, "confirmShipment", 503, 20)  # the first try fails: the shipment waits in the queue
    _ship(stack, context, order_id)
    inject_fault(shop, "confirmShipment", 503, 0)
    table, client = default_table(), fast_client(shop)
    later = datetime.now(UTC) + timedelta(minutes=2)

    def throttled(*args, **kwargs):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "throttled"}}, "TransactWriteItems"
        )

    with monkeypatch.context() as busy:
        busy.setattr(shipments, "_keep", throttled)
        with pytest.raises(ClientError):
            confirm_due(table, client, now=later)
    assert confirm_due(table, client, now=later + timedelta(seconds=30)) == {"confirmed": 1}
    got = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"][0]["confirmation"]["status"]
    assert got == "confirmed"


@pytest.mark.parametrize(("status", "answer"), [(400, 422), (503, 409)])
def test_amazon_refusing_or_failing_a_label_purchase_is_a_clear_answer_and_nothing_is_recorded(
    stack, shop, context, status, answer
):
    order_id = _place(shop, 1)
    inject_fault(shop, "createShipment", status, 20)

    got = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})

    assert got[0] == answer, got
    assert "createShipment" in got[1]["error"]["message"]
    assert call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"] == []
    assert _on_hand() == (10, 1)


def test_a_label_bought_but_not_recorded_is_reused_never_bought_twice(stack, shop, context):
    from oms.shipping.labels import buy_label
    from oms.store.documents import default_documents

    order_id = _place(shop, 1)
    table, client = default_table(), fast_client(shop)
    first = buy_label(table, client, default_documents(), order_id)  # then the request died before recording
    again = buy_label(table, client, default_documents(), order_id)

    assert again.tracking_number == first.tracking_number and again.label_key == first.label_key
    assert calls(shop, "createShipment") == 1
    status, answer = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})
    assert status == 201 and answer["shipment"]["trackingNumber"] == first.tracking_number
    assert calls(shop, "createShipment") == 1
    assert table.get(keys.label_claim_key(order_id)) is None  # recorded: the claim is gone


def test_a_label_purchase_whose_answer_was_lost_is_never_bought_again_without_the_sellers_word(
    stack, shop, context
):
    """The fault drill's finding: createShipment answered 500 after Amazon sold the label, and the client's
    retry (or the seller's) bought a second one. Now the order says a label may have been sold (409) until
    the seller records it by hand, or, finding none at Amazon, says buyAgain."""
    work = shop.server._work["createShipment"]

    def sold_then_lost(params, query, body):
        work(params, query, body)  # Amazon sells the label; its answer never arrives
        return 500, {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]}

    sold, unsold = _place(shop, 1), _place(shop, 1)
    shop.server._work["createShipment"] = sold_then_lost
    try:
        got = call_api(stack, context, "POST", f"/orders/{sold}/shipments", {"buyLabel": True})
    finally:
        shop.server._work["createShipment"] = work
    assert got[0] == 409 and "may have sold a label" in got[1]["error"]["message"], got
    assert calls(shop, "createShipment") == 1  # not retried
    again = call_api(stack, context, "POST", f"/orders/{sold}/shipments", {"buyLabel": True})
    assert again[0] == 409 and "buyAgain" in again[1]["error"]["message"]
    assert calls(shop, "createShipment") == 1
    (label,) = shop.marketplace.seller_activity(sold)["labels"]  # what Seller Central shows
    by_hand = {"carrier": label["carrierName"], "trackingNumber": label["trackingId"]}
    assert call_api(stack, context, "POST", f"/orders/{sold}/shipments", by_hand)[0] == 201
    assert default_table().get(keys.label_claim_key(sold)) is None

    inject_fault(shop, "createShipment", 503, 1)  # refused before anything was sold: Amazon's 503
    assert call_api(stack, context, "POST", f"/orders/{unsold}/shipments", {"buyLabel": True})[0] == 409
    assert call_api(stack, context, "POST", f"/orders/{unsold}/shipments", {"buyLabel": True})[0] == 409
    refused = call_api(stack, context, "POST", f"/orders/{unsold}/shipments", {"buyLabel": True})
    purchase = refused[1]["error"]["message"].split('"buyAgain": "')[1].split('"')[0]
    stale = {"buyLabel": True, "buyAgain": "another-purchase"}  # a retry of an earlier buyAgain: refused
    assert call_api(stack, context, "POST", f"/orders/{unsold}/shipments", stale)[0] == 409
    again = {"buyLabel": True, "buyAgain": purchase}
    bought = call_api(stack, context, "POST", f"/orders/{unsold}/shipments", again)
    assert bought[0] == 201, bought
    assert calls(shop, "createShipment") == 3
    assert len(shop.marketplace.seller_activity(unsold)["labels"]) == 1


def test_a_slow_purchase_whose_label_the_seller_recorded_by_hand_meanwhile_leaves_no_claim_behind(
    stack, shop, context
):
    """The fault drill's finding: a request still waiting on createShipment while its retry was told Amazon may
    have sold a label, and the seller recorded that label by hand. The slow request's answer then arrived: it
    put the claim back as bought, and the claim outlived the recorded shipment."""
    from oms.shipping.labels import buy_label
    from oms.store.documents import default_documents

    order_id = _place(shop, 1)
    work = shop.server._work["createShipment"]

    def settled_meanwhile(params, query, body):
        answer = work(params, query, body)  # Amazon sells the label
        default_table().delete(keys.label_claim_key(order_id))  # the seller settles it by hand meanwhile
        return answer

    shop.server._work["createShipment"] = settled_meanwhile
    try:
        with pytest.raises(Conflict, match="settled meanwhile"):
            buy_label(default_table(), fast_client(shop), default_documents(), order_id)
    finally:
        shop.server._work["createShipment"] = work
    assert default_table().get(keys.label_claim_key(order_id)) is None
    assert calls(shop, "createShipment") == 1


def test_a_claim_left_by_a_request_whose_answer_was_lost_frees_the_order_after_a_minute(stack, shop, context):
    """The claim's write applied and its answer was lost (fault mode's DynamoDB 'after applying'): the seller's
    retry finds the order being bought; nothing was sent, so a minute later it buys, once."""
    from oms.shipping import labels

    order_id = _place(shop, 1)
    line = shop.marketplace.snapshot(order_id).lines[0]
    left = labels._claim_item(
        order_id, {line.order_item_id: 1}, "buying", labels.BUYING, holder="lost-request"
    )
    default_table().put(left)

    busy = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})
    assert busy[0] == 409 and "right now" in busy[1]["error"]["message"]
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=90)):
        bought = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})
    assert bought[0] == 201, bought
    assert calls(shop, "createShipment") == 1


_NOW = TEST_CLOCK


def test_the_kept_figures_serve_while_recent_and_are_counted_again_after(stack):
    from oms.shipping.account_health import account_health_now, refresh_snapshot

    table = default_table()
    kept = refresh_snapshot(table, _NOW)
    assert account_health_now(table, now=_NOW + timedelta(minutes=10)) == kept
    later = account_health_now(table, now=_NOW + timedelta(minutes=30))
    assert later.as_of != kept.as_of
    assert account_health_now(table, fresh=True, now=_NOW + timedelta(minutes=31)).as_of != later.as_of


def test_the_api_counts_account_health_live_unless_asked_for_the_kept_figures(stack, context):
    from oms.shipping.account_health import refresh_snapshot

    kept = refresh_snapshot(default_table(), _NOW - timedelta(minutes=5))  # as the 15-minute guard kept them
    cached = call_api(stack, context, "GET", "/metrics/account-health", query={"cached": "true"})[1]
    live = call_api(stack, context, "GET", "/metrics/account-health")[1]
    assert cached["asOf"] == kept.as_of
    assert live["asOf"] != kept.as_of


def test_a_carrier_outside_the_list_is_recorded_as_other_with_its_name(stack, shop, context):
    order_id = _place(shop, 1)
    status, answer = _ship(
        stack,
        context,
        order_id,
        carrier="Other",
        carrierName="Royal Mail",
        trackingNumber="jd0146 0000 6281234567",
    )
    assert status == 201, answer
    shipment = answer["shipment"]
    assert (shipment["carrier"], shipment["carrierName"], shipment["trackingNumber"]) == (
        "Other",
        "Royal Mail",
        "JD014600006281234567",
    )
    assert shipment["confirmation"]["status"] == "confirmed"


def test_batches_are_listed_newest_first(stack, shop, context):
    first = call_api(stack, context, "POST", "/batches", {"orderIds": [_place(shop, 1)]})[1]
    time.sleep(1.1)  # batch times are kept to the second
    second = call_api(stack, context, "POST", "/batches", {"orderIds": [_place(shop, 1)]})[1]
    status, page = call_api(stack, context, "GET", "/batches")
    assert status == 200, page
    assert [b["batchId"] for b in page["items"]][:2] == [second["batchId"], first["batchId"]]


def test_the_guard_leaves_an_order_whose_flags_have_not_changed_alone(stack, shop, context):
    _stock("SHORT-ONE", 0)
    shop.marketplace.catalogue.ensure("SHORT-ONE")
    _, answer = shop.server.control(
        "POST", "/_simulator/orders", {"sku": "SHORT-ONE", "quantity": 1, "shipBy": "2026-12-01T20:00:00Z"}
    )
    order_id = answer["orderId"]
    apply_change(
        default_table(),
        change_from_api(
            ApiOrder.model_validate(shop.marketplace.get_order(order_id)["order"]), "ATVPDKIKX0DER"
        ),
    )
    near = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    first = guard(default_table(), None, now=near)
    again = guard(default_table(), None, now=near)
    flags = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["flags"]
    assert flags == ["atRisk", "stockShortage"]  # both, always in one order
    assert first["flagged"] == 1 and again["flagged"] == again["cleared"] == 0


def test_a_pick_group_a_rule_filled_becomes_a_batch_leaving_out_held_and_batched_orders(stack, shop, context):
    from datetime import timedelta

    from oms.domain.rules import RuleTrigger
    from oms.domain.types import utc_now
    from oms.rules.run import run_on_change
    from oms.rules.store import RuleStore

    rules = [
        {
            "name": "Big to bulk",
            "conditions": [{"field": "quantity", "op": "gte", "value": 2}],
            "actions": [{"type": "addToPickGroup", "pickGroup": "bulk"}],
        },
        {
            "name": "Hold threes",
            "conditions": [{"field": "quantity", "op": "eq", "value": 3}],
            "actions": [{"type": "holdUntil", "hours": 4}],
        },
    ]
    for rule in rules:
        assert call_api(stack, context, "POST", "/rules", rule)[0] == 201
    one, two, three, other_two = _place(shop, 1), _place(shop, 2), _place(shop, 3), _place(shop, 2)
    for order_id in (one, two, three, other_two):
        run_on_change(
            default_table(),
            RuleStore(default_table()).all(),
            order_id=order_id,
            change_id="c1",
            trigger=RuleTrigger.ARRIVAL,
        )
    assert call_api(stack, context, "POST", "/batches", {"orderIds": [other_two]})[0] == 201

    held = call_api(stack, context, "GET", f"/orders/{three}")[1]
    assert held["onHold"] is True and held["handling"]["pickGroup"] == "bulk"
    status, batch = call_api(stack, context, "POST", "/batches", {"pickGroup": "bulk"})
    assert status == 201, batch
    assert batch["orderIds"] == [two]  # not 1 (not in the group), 3 (on hold), nor the other 2 (batched)

    assert (
        call_api(stack, context, "POST", "/batches", {"pickGroup": "bulk"})[0] == 404
    )  # nothing left to pick
    refused = call_api(stack, context, "POST", "/batches", {"pickGroup": "bulk", "orderIds": [one]})
    assert refused[0] == 400 and "either orderIds or pickGroup" in str(refused[1])
    with time_machine.travel(utc_now() + timedelta(hours=5), tick=False):  # the hold ends
        assert call_api(stack, context, "GET", f"/orders/{three}")[1]["onHold"] is False
        assert call_api(stack, context, "POST", "/batches", {"pickGroup": "bulk"})[1]["orderIds"] == [three]


@pytest.mark.parametrize("fault", ["applied twice by the SDK", "failed after applying"])
def test_a_lease_whose_write_was_applied_but_answered_with_a_fault_does_not_keep_the_shipment_waiting(
    stack, shop, context, monkeypatch, fault
):
    """The fault drill's finding: the lease's write applied and its answer was lost. Sent again by the SDK, it
    met itself (refused: "another caller is confirming"); given up on, it raised. Either way the lease stayed,
    held by nobody, and the shipment waited it out (5 minutes). Now the holder's own lease does not refuse
    it, and a lease whose write failed is given back."""
    from botocore.exceptions import ClientError

    from oms.store.table import Table

    order_id = _place(shop, 1)
    inject_fault(shop, "confirmShipment", 503, 20)  # the first try fails: the shipment waits in the queue
    _ship(stack, context, order_id)
    inject_fault(shop, "confirmShipment", 503, 0)
    table, client = default_table(), fast_client(shop)
    later = datetime.now(UTC) + timedelta(minutes=2)
    real = Table._write_one
    played: list[str] = []

    def faulty(self, write):
        real(self, write)
        if (
            "confirmingUntil" in write.names.values()
            and (write.update or "").startswith("SET")
            and not played
        ):
            played.append(fault)
            if fault == "applied twice by the SDK":
                real(self, write)  # the SDK's retry of the write whose answer was lost: it meets itself
            else:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "oops"}}, "UpdateItem")

    with monkeypatch.context() as lost:
        lost.setattr(Table, "_write_one", faulty)
        if fault == "applied twice by the SDK":
            assert confirm_due(table, client, now=later) == {"confirmed": 1}
        else:
            with pytest.raises(ClientError):
                confirm_due(table, client, now=later)
            assert confirm_due(table, client, now=later + timedelta(seconds=1)) == {"confirmed": 1}
    assert played
    got = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"][0]["confirmation"]["status"]
    assert got == "confirmed"
    (shipment_id,) = _shipment_ids(order_id)
    assert "confirmingBy" not in (table.get(keys.shipment_key(order_id, shipment_id), consistent=True) or {})


def _shipment_ids(order_id: str) -> list[str]:
    order = default_table().get(keys.order_key(order_id), consistent=True) or {}
    return [s["shipmentId"] for s in order.get("shipments", [])]


def test_a_bought_labels_claim_goes_with_the_recorded_shipment_or_not_at_all(
    stack, shop, context, monkeypatch
):
    """The fault drill's finding: the shipment was recorded, then the claim's own delete was throttled; the
    request failed, the seller's retry found the order shipped (409), and the claim outlived the shipment.
    Now the claim goes in the recording's transaction: a throttle fails both, the retry records both."""
    from botocore.exceptions import ClientError

    from oms.store.table import Table

    order_id = _place(shop, 1)
    throttled: list[str] = []

    def once(write_keys: str) -> None:
        if "LABELCLAIM" in write_keys and not throttled:
            throttled.append(write_keys)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}, "write"
            )

    real_transact, real_delete = Table.transact, Table.delete

    def transact(self, writes):
        if any(w.kind == "Delete" for w in writes):
            once(str([w.key for w in writes]))
        return real_transact(self, writes)

    def delete(self, key, *args, **kwargs):
        once(str(key))
        return real_delete(self, key, *args, **kwargs)

    monkeypatch.setattr(Table, "transact", transact)
    monkeypatch.setattr(Table, "delete", delete)
    # a throttled table: 503 Busy, try again (decision 97)
    assert call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})[0] == 503
    assert throttled
    status, answer = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})
    assert status == 201, answer  # the seller's retry: the label bought before, recorded now
    assert calls(shop, "createShipment") == 1
    assert default_table().get(keys.label_claim_key(order_id), consistent=True) is None
    assert len(call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"]) == 1


def test_a_label_recorded_by_hand_settles_its_lost_purchase_with_the_shipment_or_not_at_all(
    stack, shop, context, monkeypatch
):
    """A purchase's answer was lost (Amazon sold the label); the seller records that label by hand. The claim
    used to be deleted after the recording, in its own write: throttled there, the shipment stood and the claim
    stayed, so the order said a label may have been sold. Now a throttle fails both, the retry records both."""
    from botocore.exceptions import ClientError

    from oms.store.table import Table

    work = shop.server._work["createShipment"]

    def sold_then_lost(params, query, body):
        work(params, query, body)  # Amazon sells the label; its answer never arrives
        return 500, {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]}

    order_id = _place(shop, 1)
    shop.server._work["createShipment"] = sold_then_lost
    try:
        got = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})
    finally:
        shop.server._work["createShipment"] = work
    assert got[0] == 409 and "may have sold a label" in got[1]["error"]["message"], got
    (label,) = shop.marketplace.seller_activity(order_id)["labels"]
    by_hand = {"carrier": label["carrierName"], "trackingNumber": label["trackingId"]}

    throttled: list[str] = []

    def once(write_keys: str) -> None:
        if "LABELCLAIM" in write_keys and not throttled:
            throttled.append(write_keys)
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}, "write"
            )

    real_transact, real_delete = Table.transact, Table.delete

    def transact(self, writes):
        if any(w.kind == "Delete" for w in writes):
            once(str([w.key for w in writes]))
        return real_transact(self, writes)

    def delete(self, key, *args, **kwargs):
        once(str(key))
        return real_delete(self, key, *args, **kwargs)

    monkeypatch.setattr(Table, "transact", transact)
    monkeypatch.setattr(Table, "delete", delete)
    assert call_api(stack, context, "POST", f"/orders/{order_id}/shipments", by_hand)[0] == 503  # Busy
    assert throttled
    assert default_table().get(keys.label_claim_key(order_id), consistent=True) is not None
    assert call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"] == []  # nor the shipment

    status, answer = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", by_hand)
    assert status == 201, answer  # the seller's retry records both
    assert default_table().get(keys.label_claim_key(order_id), consistent=True) is None
    assert len(call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"]) == 1
    assert calls(shop, "createShipment") == 1
