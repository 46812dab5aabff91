"""GET /inventory routes over the stock rows the intake keeps."""

from __future__ import annotations

import json
from urllib.parse import quote

from oms.amazon.notifications import Notification
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.builders import order_change
from tests.conftest import load_event


def _get(stack, context, path: str, query: dict | None = None):
    event = load_event("api/get_order.json")
    event["path"] = path
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    answer = stack.handler("api").lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"])


def test_a_sku_with_any_text_is_found_by_its_url_encoded_path(stack, context):
    sku = "Tasse bleue 250 ml ☕ / rouge"
    document = order_change("111-1", "Unshipped", [(sku, 2, 0)])
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))

    status, row = _get(stack, context, "/inventory/" + quote(sku, safe=""))

    assert status == 200, row
    assert row["sku"] == sku
    assert (row["onHand"], row["reserved"], row["available"], row["backordered"]) == (0, 0, 0, 2)
    status, ledger = _get(stack, context, "/inventory/" + quote(sku, safe="") + "/ledger")
    assert status == 200
    assert [e["reason"] for e in ledger["items"]] == ["reservation"]
    assert ledger["items"][0]["reference"] == "111-1"


def test_the_inventory_lists_every_row_and_an_unknown_sku_is_404(stack, context):
    for n, sku in enumerate(["B-2", "A-1"]):
        document = order_change(f"111-{n}", "Unshipped", [(sku, 1, 0)])
        apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    status, page = _get(stack, context, "/inventory")
    assert status == 200
    assert [r["sku"] for r in page["items"]] == ["A-1", "B-2"]
    status, body = _get(stack, context, "/inventory/NOPE")
    assert (status, body["error"]["code"]) == (404, "NotFound")
