"""FBA figures and finished reports reach their owners through the same intake."""

from __future__ import annotations

import copy
import json

from oms.inventory.stock import StockRepository
from oms.store import keys
from oms.store.default import default_table
from tests.conftest import load_event


def test_amazons_fba_figures_land_on_the_stock_row_without_moving_our_units(stack, context):
    event = load_event("ingest_notifications/fba_inventory_change.json")

    answer = stack.handler("ingest_notifications").lambda_handler(event, context)

    assert answer == {"batchItemFailures": []}
    row = StockRepository(default_table()).get("SELLERSKU-1")
    # the seller's marketplace (ATVPDKIKX0DER) only: 50 fulfillable, 0+5+10 inbound, 5+15+10 reserved
    assert row.fba is not None
    assert (row.fba.fulfillable, row.fba.inbound, row.fba.reserved, row.fba.unfulfillable) == (50, 15, 30, 0)
    assert (row.on_hand, row.reserved) == (0, 0)
    ledger = StockRepository(default_table()).ledger("SELLERSKU-1", limit=5, next_token=None).items
    assert [(e["reason"], e["delta"]) for e in ledger] == [("fba-figures", 0)]


def test_older_fba_figures_never_overwrite_newer_ones(stack, context):
    newer = load_event("ingest_notifications/fba_inventory_change.json")
    older = copy.deepcopy(newer)
    body = json.loads(older["Records"][0]["body"])
    body["EventTime"] = "2020-07-13T19:00:00.000Z"
    body["NotificationMetadata"]["NotificationId"] = "older-one"
    body["Payload"]["FulfillmentInventoryByMarketplace"][0]["FulfillmentInventory"]["Fulfillable"] = 1
    older["Records"][0]["body"] = json.dumps(body)
    handler = stack.handler("ingest_notifications")
    handler.lambda_handler(newer, context)
    handler.lambda_handler(older, context)
    handler.lambda_handler(newer, context)  # and a redelivery changes nothing
    assert StockRepository(default_table()).get("SELLERSKU-1").fba.fulfillable == 50
    assert len(StockRepository(default_table()).ledger("SELLERSKU-1", limit=5, next_token=None).items) == 1


def test_a_finished_report_in_camel_case_is_recorded_once(stack, context):
    event = load_event("ingest_notifications/report_finished.json")
    handler = stack.handler("ingest_notifications")
    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    assert handler.lambda_handler(event, context) == {"batchItemFailures": []}
    report = default_table().get(keys.report_key("54517018502"))
    assert report["reportType"] == "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA"
    assert report["reportDocumentId"].startswith("amzn1.tortuga")
