"""sync_listings: every change of a merchant-fulfilled SKU's stock reaches Amazon, once per SKU and batch.

The table's stream is delivered to the function as the local stack delivers it (the template's
FilterCriteria, batch size, partial failures and retries); Amazon is the local marketplace, in process.
"""

from __future__ import annotations

import pytest

from oms.domain.types import Money
from oms.inventory.listings import ListingSync, PushReport, sync_changed_listings
from oms.inventory.stock import Channel, StockPolicy, adjust_stock, set_policy
from oms.store import keys
from oms.store.default import default_table
from oms.store.table import to_dynamo
from oms_local.simulator import contract
from tests.conftest import load_event
from tests.integration.amazon_side import (  # noqa: F401 - fixtures
    MARKETPLACE,
    TableStream,
    amazon_fixture,
    calls,
    fast_client,
    inject_fault,
    listing_quantity,
    simulator_fixture,
)

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

SKU = "MUG-RED"


def _receive(sku: str, units: int, *, times: int = 1) -> None:
    for _ in range(times):
        adjust_stock(default_table(), sku, units, reason="receipt", reference=None, actor="test")


@pytest.fixture
def stream(stack, amazon):
    return TableStream(stack, "sync_listings", stack.handler("sync_listings").lambda_handler)


def test_a_burst_of_ten_changes_of_one_sku_makes_one_patch(stack, amazon, stream):
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.MFN))
    _receive(SKU, 1, times=10)

    stream.deliver()

    assert len(stream.batches) == 1
    assert calls(amazon, "patchListingsItem") == 1, "ten changes of one SKU in one batch: one patch"
    assert listing_quantity(amazon, SKU) == 10
    record = default_table().get(keys.listing_key(SKU, MARKETPLACE))
    assert record["quantity"] == 10 and record["submissionId"]
    only_stock = {r["dynamodb"]["NewImage"]["entity"]["S"] for b in stream.batches for r in b["Records"]}
    assert only_stock == {"Stock"}, "FilterCriteria keeps ledger entries and listing records away"


def test_a_change_that_leaves_amazons_quantity_alone_makes_no_call(stack, amazon, stream):
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.MFN))
    _receive(SKU, 6)
    stream.deliver()
    assert calls(amazon, "patchListingsItem") == 1

    set_policy(
        default_table(),
        SKU,
        StockPolicy(reorder_point=2, unit_cost=Money(amount="3.10", currency_code="USD")),
    )
    _receive(SKU, 3)
    _receive(SKU, -3)  # back where Amazon already is
    stream.deliver()

    assert calls(amazon, "patchListingsItem") == 1, "the quantity Amazon last accepted is still right"
    assert listing_quantity(amazon, SKU) == 6


def test_the_buffer_is_held_back_and_amazon_never_sees_less_than_zero(stack, amazon, stream):
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.BOTH, amazon_buffer=3))
    _receive(SKU, 5)
    stream.deliver()
    assert listing_quantity(amazon, SKU) == 2

    _receive(SKU, -4)
    stream.deliver()
    assert listing_quantity(amazon, SKU) == 0

    set_policy(default_table(), SKU, StockPolicy(amazon_buffer=0))
    stream.deliver()
    assert listing_quantity(amazon, SKU) == 1, "a new buffer alone moves Amazon's quantity"


def test_fba_skus_are_never_pushed(stack, amazon, stream):
    set_policy(default_table(), "FBA-ONLY", StockPolicy(channel=Channel.FBA))
    _receive("FBA-ONLY", 4)
    stream.deliver()
    assert calls(amazon, "patchListingsItem") == 0
    assert listing_quantity(amazon, "FBA-ONLY") is None


@pytest.mark.parametrize("status", [429, 500])
def test_a_throttled_or_failing_patch_is_retried_until_amazon_accepts(stack, amazon, status, monkeypatch):
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.MFN, amazon_buffer=1))
    _receive(SKU, 9)
    # more failures than the client's own attempts (5): the record itself must come again
    inject_fault(amazon, "patchListingsItem", status, 6)
    _without_back_off(monkeypatch)
    stream = TableStream(stack, "sync_listings", stack.handler("sync_listings").lambda_handler)

    stream.deliver()

    failed, ok = stream.answers[0], stream.answers[-1]
    assert len(failed["batchItemFailures"]) == 1, "the failing SKU's record is reported, not dropped"
    assert ok == {"batchItemFailures": []}
    assert calls(amazon, "patchListingsItem", "faults") == 6
    assert listing_quantity(amazon, SKU) == 8


def test_a_patch_amazon_refuses_for_good_is_recorded_and_holds_up_no_other_sku(stack, amazon):
    for sku in ("REFUSED", SKU):
        set_policy(default_table(), sku, StockPolicy(channel=Channel.MFN))
        _receive(sku, 2)
    inject_fault(amazon, "patchListingsItem", 400, 1)
    records = _stream_records(stack)

    sync = ListingSync(
        default_table(), fast_client(amazon), seller_id=amazon.seller_id, marketplaces=[MARKETPLACE]
    )
    result = sync_changed_listings(sync, records)

    assert result.failed_from is None
    assert (result.report.refused, result.report.pushed) == (1, 1)
    refused = default_table().get(keys.listing_key("REFUSED", MARKETPLACE))
    assert refused["refusal"]["code"] == "InvalidInput" and refused["refusal"]["quantity"] == 2
    assert "quantity" not in refused, "nothing was accepted, so the next change tries again"
    assert listing_quantity(amazon, SKU) == 2


def test_time_running_short_leaves_the_rest_of_the_batch_for_the_retry(stack, amazon):
    for sku in ("A-1", "A-2"):
        set_policy(default_table(), sku, StockPolicy(channel=Channel.MFN))
        _receive(sku, 1)
    records = _stream_records(stack)
    sync = ListingSync(
        default_table(), fast_client(amazon), seller_id=amazon.seller_id, marketplaces=[MARKETPLACE]
    )
    budget = iter([True, False])

    result = sync_changed_listings(sync, records, keep_going=lambda: next(budget))

    assert result.report.pushed == 1
    first_of_a2 = next(
        r["dynamodb"]["SequenceNumber"] for r in records if r["dynamodb"]["NewImage"]["sku"]["S"] == "A-2"
    )
    assert result.failed_from == first_of_a2


def test_the_sample_event_pushes_the_bursting_sku_once(stack, amazon):
    event = load_event("sync_listings/stock_changes.json")
    final = event["Records"][-2]["dynamodb"]["NewImage"]  # MUG-RED as the burst left it
    stack.client("dynamodb").put_item(TableName=stack.table_name, Item=final)

    answer = stack.handler("sync_listings").lambda_handler(event, _context())

    assert answer == {"batchItemFailures": []}
    assert calls(amazon, "patchListingsItem") == 1
    assert listing_quantity(amazon, SKU) == 15, "20 on hand - 3 reserved - a buffer of 2"


def test_without_a_seller_id_the_function_says_what_to_set(stack, amazon, monkeypatch):
    from oms.settings import forget_settings

    monkeypatch.setenv("SELLER_ID", "")
    forget_settings()
    with pytest.raises(RuntimeError, match="SellerId"):
        stack.handler("sync_listings").lambda_handler(
            load_event("sync_listings/stock_changes.json"), _context()
        )


def test_a_sku_in_several_locations_offers_their_sum(stack, amazon):
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.MFN, amazon_buffer=1))
    _receive(SKU, 4)
    set_policy(default_table(), SKU, StockPolicy(), location="shop")
    adjust_stock(default_table(), SKU, 3, reason="receipt", reference=None, actor="test", location="shop")
    sync = ListingSync(
        default_table(), fast_client(amazon), seller_id=amazon.seller_id, marketplaces=[MARKETPLACE]
    )
    report = PushReport()
    sync.push(SKU, report)
    assert report.pushed == 1 and listing_quantity(amazon, SKU) == 6


# ------------------------------------------------------------------------------ helpers


def _context():
    from tests.conftest import LambdaContext

    return LambdaContext()


def _without_back_off(monkeypatch) -> None:
    """The function's own client, with its back-off waits skipped (the retries still happen)."""
    from oms.amazon import client as client_module

    original = client_module.default_client

    def quick() -> client_module.SpApiClient:
        client = original()
        client._sleep = lambda seconds: None
        return client

    monkeypatch.setattr(client_module, "default_client", quick)


def _stream_records(stack) -> list[dict]:
    """Every stock record committed so far, as the function receives them."""
    captured: list[dict] = []
    stream = TableStream(stack, "sync_listings", lambda event, context: captured.extend(event["Records"]))
    stream.deliver()
    return captured


def test_stream_records_carry_the_images_the_function_reads(stack):
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.MFN))
    (record,) = _stream_records(stack)
    assert record["dynamodb"]["NewImage"]["sku"] == to_dynamo({"sku": SKU})["sku"]
    assert record["eventName"] == "INSERT"


def test_the_stream_feeds_sync_listings_and_publish_events_each_on_its_own(stack):
    seen: dict[str, list[dict]] = {"sync_listings": [], "publish_events": []}
    streams = {
        name: TableStream(stack, name, lambda event, context, name=name: seen[name].extend(event["Records"]))
        for name in seen
    }
    set_policy(default_table(), SKU, StockPolicy(channel=Channel.MFN))
    _receive(SKU, 2)  # a stock row and a ledger entry

    for stream in streams.values():
        stream.deliver()

    def entities(name: str) -> list[str]:
        return [r["dynamodb"]["NewImage"]["entity"]["S"] for r in seen[name]]

    assert entities("sync_listings") == ["Stock", "Stock"]
    assert sorted(entities("publish_events")) == ["LedgerEntry", "Stock", "Stock"]
