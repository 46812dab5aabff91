"""A batch printed minutes after its orders arrived (before the backstop gave them Amazon's titles and before
the catalogue was read) still names every item on its packing slips and pick list: the order's own titles,
from Amazon."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import pytest
from pypdf import PdfReader

from oms.amazon.notifications import Notification
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from oms_local.simulator import contract
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.integration.amazon_side import amazon_fixture, calls, inject_fault, simulator_fixture

__all__ = ["amazon_fixture", "simulator_fixture"]

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

MUG = "85123A"  # the built-in catalogue's White Hanging Heart T-Light Holder
TITLE = "White Hanging Heart T-Light Holder"


def _notified(amazon, sku: str, quantity: int) -> str:
    """An order placed on Amazon, known here only from its ORDER_CHANGE (no title in it)."""
    status, answer = amazon.server.control("POST", "/_simulator/orders", {"sku": sku, "quantity": quantity})
    assert status == 201, answer
    order_id = answer["orderId"]
    [item] = amazon.marketplace.get_order(order_id)["order"]["orderItems"]
    document = order_change(order_id, "Unshipped", [(sku, quantity, 0)], at=datetime.now(UTC))
    document["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]["OrderItemId"] = item[
        "orderItemId"
    ]
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    return order_id


def _pdf_text(stack, url: str) -> str:
    bucket = stack.environment["DOCUMENTS_BUCKET"]
    key = unquote(urlsplit(url).path).lstrip("/").removeprefix(bucket + "/")
    body = stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_a_slip_printed_before_the_catalogue_is_read_shows_the_orders_own_titles(stack, amazon, context):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), MUG, StockPolicy())
    adjust_stock(default_table(), MUG, 5, reason="receipt", reference="po-1", actor="test")
    order_id = _notified(amazon, MUG, 2)
    assert call_api(stack, context, "GET", f"/orders/{order_id}")[1]["items"][0].get("title") is None

    status, batch = call_api(stack, context, "POST", "/batches", {"orderIds": [order_id]})

    assert status == 201, batch
    assert [line["title"] for line in batch["lines"]] == [TITLE]
    assert TITLE in " ".join(_pdf_text(stack, batch["packingSlipsUrl"]).split())
    assert TITLE in " ".join(_pdf_text(stack, batch["pickListUrl"]).split())
    # one getOrder for the titles, beside the one that read the buyer's address for the slip
    assert calls(amazon, "getOrder") == 2


def test_slips_printed_without_titles_are_printed_again_on_reprint_once_the_catalogue_knows(
    stack, amazon, context
):
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), MUG, StockPolicy())
    adjust_stock(default_table(), MUG, 5, reason="receipt", reference="po-1", actor="test")
    order_id = _notified(amazon, MUG, 2)
    # given Amazon did not answer for the order's titles when the batch was made
    inject_fault(amazon, "getOrder", 400, 1)
    status, batch = call_api(stack, context, "POST", "/batches", {"orderIds": [order_id]})
    assert status == 201, batch
    assert "Heart" not in _pdf_text(stack, batch["packingSlipsUrl"])
    first = _pdf_text(stack, batch["packingSlipsUrl"])

    # when the catalogue learns the title and the seller reprints the batch
    assert call_api(stack, context, "PUT", f"/products/{MUG}", {"title": "Heart T-light holder"})[0] == 200
    status, again = call_api(stack, context, "GET", f"/batches/{batch['batchId']}")

    # then the slips are printed again with it: the same order, units and address, the title filled in
    assert status == 200, again
    reprinted = " ".join(_pdf_text(stack, again["packingSlipsUrl"]).split())
    assert "Heart T-light holder" in reprinted
    assert order_id in reprinted and "2 items in this package" in reprinted
    assert reprinted.replace("Heart T-light holder", "").split() == " ".join(first.split()).split()
    # and once titled, the list serves that PDF as it is (printed once)
    listed = call_api(stack, context, "GET", "/batches")[1]["items"]
    assert [b["packingSlipsUrl"].split("?")[0] for b in listed] == [again["packingSlipsUrl"].split("?")[0]]
