"""inventory_sync: FBA figures changed since the last run, and changed MFN quantities read back and
repaired, with SP-API calls that grow with the changed SKUs, never with the catalogue."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import pytest

from oms.amazon.listings_api import quantity_patch
from oms.amazon.notifications import Notification
from oms.domain.stock import StockLevel
from oms.domain.types import utc_now
from oms.inventory.fba import record_fba_notification
from oms.inventory.listings import ListingSync, PushReport
from oms.inventory.stock import Channel, StockPolicy, StockRepository, adjust_stock, row_item, set_policy
from oms.inventory.sync import JOB, sync_inventory
from oms.store import keys
from oms.store.default import default_table
from oms.store.table import to_dynamo
from oms_local.simulator import contract
from tests.conftest import load_event
from tests.integration.amazon_side import (  # noqa: F401 - fixtures
    MARKETPLACE,
    SELLER,
    amazon_fixture,
    calls,
    fast_client,
    listing_quantity,
    simulator_fixture,
)
from tests.throttled import throttled_table

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")


def _last_synced(ago: timedelta) -> None:
    """Both halves of the sync last ran `ago`."""
    for half in ("fba", "listings"):
        default_table().put(
            {
                **keys.watermark_key(f"{JOB}:{half}", MARKETPLACE),
                "entity": "Watermark",
                "since": (utc_now() - ago).isoformat(),
            }
        )


def _age_fba_stock(amazon, ago: timedelta) -> None:
    for stock in amazon.marketplace.fba.values():
        stock.updated = utc_now() - ago


def _mfn(sku: str, units: int, *, buffer: int = 0) -> None:
    set_policy(default_table(), sku, StockPolicy(channel=Channel.MFN, amazon_buffer=buffer))
    adjust_stock(default_table(), sku, units, reason="receipt", reference=None, actor="test")


def test_fba_figures_come_from_summary_pages_and_the_next_run_reads_only_what_changed(stack, amazon, context):
    for n in range(60):
        amazon.marketplace.set_fba_stock(
            f"FBA-{n:03d}", fulfillable=n, inbound_shipped=2, reserved_processing=1
        )
    stocked = len(amazon.marketplace.fba)
    handler = stack.handler("inventory_sync")

    first = handler.lambda_handler(load_event("inventory_sync/schedule.json"), context)

    assert first["spApiCalls"]["getInventorySummaries"] == math.ceil(stocked / 50), (
        "the first run reads every summary"
    )
    row = StockRepository(default_table()).get("FBA-042")
    assert row.fba is not None
    assert (row.fba.fulfillable, row.fba.inbound, row.fba.reserved) == (42, 2, 1)
    assert (row.on_hand, row.available) == (0, 0), "Amazon's figures never move our own units"

    _age_fba_stock(amazon, timedelta(hours=1))
    amazon.marketplace.set_fba_stock("FBA-007", fulfillable=70)
    second = handler.lambda_handler(load_event("inventory_sync/schedule.json"), context)

    assert second["spApiCalls"]["getInventorySummaries"] == 1
    assert second["results"][MARKETPLACE]["fbaSummaries"] == 1, "changed since the watermark: one SKU"
    assert StockRepository(default_table()).get("FBA-007").fba.fulfillable == 70


def test_summaries_and_notifications_share_one_path_so_older_figures_never_win(stack, amazon):
    document = json.loads(load_event("ingest_notifications/fba_inventory_change.json")["Records"][0]["body"])
    document["EventTime"] = (utc_now() + timedelta(hours=1)).isoformat()  # Amazon's newest word
    record_fba_notification(
        default_table(), Notification.model_validate(document), marketplaces=[MARKETPLACE]
    )
    _age_fba_stock(amazon, timedelta(hours=1))
    amazon.marketplace.set_fba_stock("SELLERSKU-1", fulfillable=5)  # a summary from before that word
    _last_synced(timedelta(minutes=1))

    report = sync_inventory(default_table(), fast_client(amazon), MARKETPLACE, seller_id=SELLER)

    assert report.fba_outcomes == {"stale": 1}
    assert StockRepository(default_table()).get("SELLERSKU-1").fba.fulfillable == 50


def test_a_changed_mfn_quantity_amazon_disagrees_with_is_pushed_again(stack, amazon):
    client = fast_client(amazon)
    sync = ListingSync(default_table(), client, seller_id=SELLER, marketplaces=[MARKETPLACE])
    for sku, units in (("MUG-RED", 7), ("MUG-BLUE", 4)):
        _mfn(sku, units)
        sync.push(sku, PushReport())
    _mfn("LOCAL-ONLY", 2)  # sold here, never listed on Amazon
    amazon.marketplace.listings["MUG-RED"].quantity = 3  # e.g. edited in Seller Central
    _last_synced(timedelta(minutes=1))
    before = calls(amazon, "patchListingsItem")

    report = sync_inventory(default_table(), client, MARKETPLACE, seller_id=SELLER)

    assert (report.changed_skus, report.read_back, report.not_listed, report.disagreed) == (3, 3, 1, 1)
    assert report.push.pushed == 1 and calls(amazon, "patchListingsItem") == before + 1
    assert listing_quantity(amazon, "MUG-RED") == 7
    assert calls(amazon, "searchListingsItems") == 1, "three SKUs read back in one call"
    assert listing_quantity(amazon, "LOCAL-ONLY") is None, "a SKU Amazon does not list is not created"


def test_a_step_throttled_past_the_sdks_retries_is_tried_again_and_the_run_completes(stack, amazon):
    client = fast_client(amazon)
    sync = ListingSync(default_table(), client, seller_id=SELLER, marketplaces=[MARKETPLACE])
    _mfn("MUG-RED", 7)
    sync.push("MUG-RED", PushReport())
    amazon.marketplace.listings["MUG-RED"].quantity = 3
    _age_fba_stock(amazon, timedelta(hours=1))
    amazon.marketplace.set_fba_stock("FBA-001", fulfillable=9)
    _last_synced(timedelta(minutes=1))
    # the first call of each kind fails (a large catalogue's run, dying on one throttle of many thousand
    # calls, would read every page again next time, and fail again)
    table, failed = throttled_table(lambda operation, n: n == 0)

    report = sync_inventory(table, client, MARKETPLACE, seller_id=SELLER)

    assert {"GetItem", "BatchGetItem", "TransactWriteItems", "Query", "PutItem"} <= set(failed)
    assert report.complete and (report.fba_summaries, report.disagreed, report.push.pushed) == (1, 1, 1)
    assert StockRepository(default_table()).get("FBA-001").fba.fulfillable == 9
    assert listing_quantity(amazon, "MUG-RED") == 7
    marks = [
        default_table().get(keys.watermark_key(f"{JOB}:{half}", MARKETPLACE)) for half in ("fba", "listings")
    ]
    assert all(utc_now() - datetime.fromisoformat(m["since"]) < timedelta(minutes=1) for m in marks)


def test_sp_api_calls_grow_with_the_changed_skus_not_the_catalogue(stack, amazon):
    catalogue, fba_catalogue = 1_000, 100
    long_ago = utc_now() - timedelta(hours=2)
    _seed_mfn_rows(stack, catalogue, at=long_ago)
    changed = [f"SKU-{n:05d}" for n in range(0, catalogue, 100)]  # 1%
    for index, sku in enumerate(changed):  # Amazon lists them; it shows 5 of two, 6 of the others
        amazon.marketplace.patch_listing(SELLER, sku, quantity_patch(5 if index < 2 else 6))
    for n in range(fba_catalogue):
        amazon.marketplace.set_fba_stock(f"FBA-{n:04d}", fulfillable=n)
    _age_fba_stock(amazon, timedelta(hours=2))
    _last_synced(timedelta(hours=1))

    for sku in changed:
        adjust_stock(default_table(), sku, 1, reason="receipt", reference=None, actor="test")  # 5 -> 6
    amazon.marketplace.set_fba_stock("FBA-0001", fulfillable=99)
    client = fast_client(amazon)

    report = sync_inventory(default_table(), client, MARKETPLACE, seller_id=SELLER)

    assert (report.changed_skus, report.disagreed, report.fba_summaries) == (10, 2, 1)
    assert client.calls == {"getInventorySummaries": 1, "searchListingsItems": 1, "patchListingsItem": 2}
    limit = math.ceil(1 / 50) + math.ceil(len(changed) / 20) + report.disagreed
    assert sum(client.calls.values()) <= limit < (catalogue + fba_catalogue) / 20


def _seed_mfn_rows(stack, count: int, *, at) -> None:
    """`count` MFN SKUs with 5 available each, last changed at `at` (written directly: fast)."""
    dynamodb = stack.client("dynamodb")
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [
        {
            **row_item(None, f"SKU-{n:05d}", StockLevel(5), location=keys.DEFAULT_LOCATION, at=stamp),
            "channel": "MFN",
            "version": 1,
        }
        for n in range(count)
    ]
    for start in range(0, len(rows), 25):
        dynamodb.batch_write_item(
            RequestItems={
                stack.table_name: [{"PutRequest": {"Item": to_dynamo(r)}} for r in rows[start : start + 25]]
            }
        )
