"""sync_listings past its threshold: a burst's quantities go to Amazon in one JSON_LISTINGS_FEED (issue 15, peak).

The real sync_listings and ingest_notifications handlers on moto; Amazon is the local marketplace in process,
whose Feeds API processes a listings feed after its queue time and sends FEED_PROCESSING_FINISHED (checked
against Amazon's schema before the ingest function gets it). The threshold is lowered for the test (150 in
the product) so a handful of SKUs make a burst.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from oms.domain.types import iso_z, utc_now
from oms.inventory import listings_feed
from oms.inventory.stock import Channel, StockPolicy, adjust_stock, set_policy
from oms.store import keys
from oms.store.default import default_table
from oms_local.simulator import Simulator, SimulatorConfig, contract
from oms_local.simulator.catalogue import builtin_catalogue
from tests.conftest import LambdaContext, load_event
from tests.integration.amazon_side import (
    MARKETPLACE,
    TableStream,
    amazon_fixture,
    calls,
    inject_fault,
    listing_quantity,
)

__all__ = ["amazon_fixture"]
pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

THRESHOLD = 4
SKUS = [f"BURST-{n:02d}" for n in range(10)]


@pytest.fixture(name="simulator")
def simulator_fixture() -> Iterator[Simulator]:
    config = SimulatorConfig(
        duplicate_probability=0.0,
        delay_probability=0.0,
        seed=11,
        listings_feed_queue_seconds=(0.2, 0.3),
        listings_feed_seconds_per_message=0.0,
    )
    with Simulator(config, catalogue=builtin_catalogue()) as running:
        # Amazon processes a feed only when the test says (Heard), however slow the machine is meanwhile
        running.marketplace.scheduler.stop()
        yield running


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listings_feed, "FEED_THRESHOLD", THRESHOLD)


@pytest.fixture
def stream(stack, amazon):
    return TableStream(stack, "sync_listings", stack.handler("sync_listings").lambda_handler)


class Heard:
    """FEED_PROCESSING_FINISHED as the marketplace sends it, handed to the ingest function as the queue would."""

    def __init__(self, simulator: Simulator, stack: Any) -> None:
        self.texts: list[str] = []
        simulator.notify = self.texts.append
        self.ingest = stack.handler("ingest_notifications")
        self.simulator = simulator

    def apply_feeds_finished(self, count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.simulator.marketplace.run_due()  # the feeds whose queue time is over are processed
            found = [
                json.loads(t)
                for t in self.texts
                if json.loads(t)["notificationType"] == "FEED_PROCESSING_FINISHED"
            ]
            if len(found) >= count:
                for document in found:
                    contract.validate_notification(document)
                    event = load_event("ingest_notifications/feed_finished.json")
                    event["Records"][0]["body"] = json.dumps(document)
                    assert self.ingest.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
                self.texts.clear()
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} FEED_PROCESSING_FINISHED not heard within {timeout}s: {self.texts}")


@pytest.fixture
def heard(stack, amazon) -> Heard:
    return Heard(amazon, stack)


def _stock(sku: str, units: int, *, times: int = 1) -> None:
    for _ in range(times):
        adjust_stock(default_table(), sku, units, reason="receipt", reference=None, actor="test")


def _mfn(*skus: str) -> None:
    for sku in skus:
        set_policy(default_table(), sku, StockPolicy(channel=Channel.MFN))


def _listing(sku: str) -> dict:
    record = default_table().get(keys.listing_key(sku, MARKETPLACE), consistent=True)
    assert record is not None, sku
    return record


def _feeds(simulator: Simulator) -> list[dict]:
    """The feed records of the listings feeds Amazon took."""
    found = [
        default_table().get(keys.listing_feed_key(feed.feed_id), consistent=True)
        for feed in simulator.marketplace.feeds_state.feeds.values()
        if feed.feed_type == "JSON_LISTINGS_FEED"
    ]
    return [item for item in found if item is not None]


def test_up_to_the_threshold_each_quantity_is_patched_and_no_feed_is_sent(stack, amazon, stream):
    _mfn(*SKUS[:THRESHOLD])
    for n, sku in enumerate(SKUS[:THRESHOLD]):
        _stock(sku, 20 + n)

    stream.deliver()

    assert calls(amazon, "patchListingsItem") == THRESHOLD
    assert calls(amazon, "createFeed") == 0
    assert [listing_quantity(amazon, sku) for sku in SKUS[:THRESHOLD]] == [20, 21, 22, 23]


def test_past_the_threshold_one_feed_carries_each_skus_latest_quantity_and_low_stock_is_patched(
    stack, amazon, stream, heard
):
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS[1:], start=1):
        _stock(sku, 10 + n, times=3)  # three changes each, one batch: one message each, the latest figure
    _stock(SKUS[0], 2)  # running low: a buyer could oversell it while the feed waits

    stream.deliver()

    assert len(stream.batches) == 1 and stream.answers == [{"batchItemFailures": []}]
    assert calls(amazon, "createFeedDocument") == 1 and calls(amazon, "createFeed") == 1
    assert calls(amazon, "patchListingsItem") == 1, "only the SKU running low is patched at once"
    assert listing_quantity(amazon, SKUS[0]) == 2
    (feed,) = _feeds(amazon)
    assert sorted(feed["skus"]) == sorted([sku, (10 + n) * 3] for n, sku in enumerate(SKUS[1:], start=1))
    assert _listing(SKUS[5])["pendingFeed"] == {
        "feedId": feed["feedId"],
        "quantity": 45,
        "at": feed["sentAt"],
    }
    assert listing_quantity(amazon, SKUS[5]) is None, "Amazon has not processed the feed yet"

    # Changes that leave a SKU where the feed already takes it send nothing more (coalesced across batches)
    _stock(SKUS[5], 1)
    _stock(SKUS[5], -1)
    stream.deliver()
    assert calls(amazon, "patchListingsItem") == 1 and calls(amazon, "createFeed") == 1

    (notice,) = heard.apply_feeds_finished()
    assert notice["payload"]["feedProcessingFinishedNotification"]["feedType"] == "JSON_LISTINGS_FEED"
    for n, sku in enumerate(SKUS[1:], start=1):
        assert listing_quantity(amazon, sku) == (10 + n) * 3
        record = _listing(sku)
        assert record["quantity"] == (10 + n) * 3 and "pendingFeed" not in record
    (settled,) = _feeds(amazon)
    assert settled["settledAt"] and settled["accepted"] == 9 and settled["refused"] == 0

    heard.texts.append(json.dumps(notice))  # Amazon sends it again: nothing changes twice
    heard.apply_feeds_finished()
    assert calls(amazon, "patchListingsItem") == 1


def test_skus_the_processing_report_refuses_are_flagged_and_the_rest_recorded(stack, amazon, stream, heard):
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 30 + n)
    status, answer = amazon.server.control("POST", "/_simulator/listings/refuse", {"skus": SKUS[2:4]})
    assert status == 200, answer

    stream.deliver()
    heard.apply_feeds_finished()

    for sku in SKUS[2:4]:
        record = _listing(sku)
        assert "pendingFeed" not in record and "quantity" not in record
        assert record["refusal"]["quantity"] == 30 + SKUS.index(sku)
        assert record["refusal"]["code"] == "4000003" and "cannot be updated" in record["refusal"]["message"]
        assert listing_quantity(amazon, sku) is None
    for sku in SKUS[:2] + SKUS[4:]:
        assert _listing(sku)["quantity"] == 30 + SKUS.index(sku) == listing_quantity(amazon, sku)

    # the flagged SKUs go again at their next change
    amazon.server.control("POST", "/_simulator/listings/refuse", {"skus": []})
    amazon.marketplace.feeds_state.refuse_listing_skus.clear()
    _stock(SKUS[2], 1)
    stream.deliver()
    assert listing_quantity(amazon, SKUS[2]) == 33


def test_a_quantity_that_moves_while_its_feed_waits_is_sent_again_once_the_feed_is_processed(
    stack, amazon, stream, heard
):
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 40 + n)
    stream.deliver()
    assert calls(amazon, "createFeed") == 1

    _stock(SKUS[7], -10)  # sold while the feed waits in Amazon's queue: patched now (one SKU, no feed)
    stream.deliver()
    assert calls(amazon, "patchListingsItem") == 1
    assert listing_quantity(amazon, SKUS[7]) == 37

    heard.apply_feeds_finished()  # the feed, processed after the patch, set 47 again: sent once more

    assert listing_quantity(amazon, SKUS[7]) == 37
    assert calls(amazon, "patchListingsItem") == 2
    assert _listing(SKUS[7])["quantity"] == 37 and "pendingFeed" not in _listing(SKUS[7])
    assert all(listing_quantity(amazon, sku) == 40 + n for n, sku in enumerate(SKUS) if n != 7)


def test_a_failure_between_the_upload_and_createfeed_loses_nothing(stack, amazon, stream, heard):
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 50 + n)
    inject_fault(amazon, "createFeed", 500, 1)  # the document is uploaded; no feed is made

    stream.deliver()

    assert stream.answers[0]["batchItemFailures"], "the batch is not acknowledged"
    assert stream.answers[-1] == {"batchItemFailures": []}
    assert calls(amazon, "createFeedDocument") == 2, "the retry uploads again"
    assert calls(amazon, "createFeed", "faults") == 1
    assert len(_feeds(amazon)) == 1
    heard.apply_feeds_finished()
    assert [listing_quantity(amazon, sku) for sku in SKUS] == [50 + n for n in range(len(SKUS))]


def test_a_crash_after_createfeed_before_its_record_sends_the_quantities_again(
    stack, amazon, stream, heard, monkeypatch
):
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 60 + n)
    table = default_table()
    real_put = type(table).put
    crashed: list[str] = []

    def put(self, item):  # the function dies right after Amazon took the feed
        if item.get("entity") == listings_feed.FEED_ENTITY and not crashed:
            crashed.append(item["feedId"])
            raise RuntimeError("the function was cut off")
        return real_put(self, item)

    monkeypatch.setattr(type(table), "put", put)

    stream.deliver()

    assert calls(amazon, "createFeed") == 2, "the retried batch sends the quantities in a second feed"
    (feed,) = _feeds(amazon)
    assert feed["feedId"] != crashed[0]
    notices = heard.apply_feeds_finished(count=2)  # the first feed's notification finds no record: ignored
    assert {n["payload"]["feedProcessingFinishedNotification"]["feedId"] for n in notices} == {
        crashed[0],
        feed["feedId"],
    }
    assert [listing_quantity(amazon, sku) for sku in SKUS] == [60 + n for n in range(len(SKUS))]
    assert all(_listing(sku)["quantity"] == 60 + n for n, sku in enumerate(SKUS))


def _no_feed_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from oms.amazon.rate_budget import BudgetExhausted

    def no_token(*args, **kwargs):
        raise BudgetExhausted("JSON_LISTINGS_FEED", 60.0)

    monkeypatch.setattr(listings_feed, "create_feed", no_token)


def _feed_token_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from oms.amazon import feeds_api

    monkeypatch.setattr(listings_feed, "create_feed", feeds_api.create_feed)


def _waiting() -> dict[str, dict]:
    return {item["sku"]: item for item in default_table().query_all(keys.wanted_listings(), consistent=True)}


def _sync(amazon: Simulator) -> Any:
    from oms.amazon.client import default_client
    from oms.inventory.listings import ListingSync

    return ListingSync(
        default_table(), default_client(), seller_id=amazon.seller_id, marketplaces=[MARKETPLACE]
    )


def _burst(stream) -> None:
    """Every SKU MFN, one running low (patched at once all the same), the rest at 70 + n; one stream batch."""
    _mfn(*SKUS)
    _stock(SKUS[0], 2)
    for n, sku in enumerate(SKUS[1:], start=1):
        _stock(sku, 70 + n)
    stream.deliver()


def test_without_a_feed_token_the_quantities_wait_and_the_next_run_sends_many_batches_in_one_feed(
    stack, amazon, stream, heard, monkeypatch
):
    _no_feed_token(monkeypatch)
    _burst(stream)

    assert stream.answers == [{"batchItemFailures": []}]
    assert calls(amazon, "patchListingsItem") == 1 and listing_quantity(amazon, SKUS[0]) == 2
    assert sorted(_waiting()) == SKUS[1:], "the rest wait for the next feed instead of 9 patches"
    first_wait = _waiting()[SKUS[4]]["wantedBy"]

    for sku in SKUS[1:6]:  # another batch, still no token: the same SKUs wait, with their new figures
        _stock(sku, 5)
    stream.deliver()
    assert calls(amazon, "patchListingsItem") == 1 and calls(amazon, "createFeed") == 0
    assert sorted(_waiting()) == SKUS[1:] and _waiting()[SKUS[4]]["wantedBy"] != first_wait

    _feed_token_again(monkeypatch)  # the schedule's next run
    sent = stack.handler("send_listing_feed").lambda_handler({}, LambdaContext())

    assert sent["fed"] == 9 and sent["feeds"] == 1 and sent["pushed"] == 0
    assert calls(amazon, "createFeed") == 1 and calls(amazon, "patchListingsItem") == 1
    (feed,) = _feeds(amazon)
    latest = {sku: 70 + n + (5 if n < 6 else 0) for n, sku in enumerate(SKUS) if n}
    assert dict(feed["skus"]) == latest, "one feed for both batches, each SKU's latest quantity"
    assert _waiting() == {}
    heard.apply_feeds_finished()
    assert {sku: listing_quantity(amazon, sku) for sku in SKUS[1:]} == latest

    again = stack.handler("send_listing_feed").lambda_handler({}, LambdaContext())
    assert again["fed"] == 0 and calls(amazon, "createFeed") == 1, "nothing waits: nothing sent"


def test_with_no_create_feed_token_the_batch_spends_no_feed_token_and_uploads_no_document(
    stack, amazon, stream
):
    """createFeed's budget is asked first: a batch that took the feed type's token (5 per 5 minutes) and
    uploaded its document before finding createFeed empty wasted both."""
    from oms.amazon.rate_budget import RateBudget

    budget = RateBudget(default_table())
    budget.take("na", "createFeed")
    budget.observe("na", "createFeed", None, throttled=True)  # Amazon's 429: empty for 2 minutes
    _burst(stream)

    assert stream.answers == [{"batchItemFailures": []}]
    assert (calls(amazon, "createFeedDocument"), calls(amazon, "createFeed")) == (0, 0)
    assert default_table().get(keys.rate_bucket_key("na", "JSON_LISTINGS_FEED")) is None, (
        "no feed token taken"
    )
    assert calls(amazon, "patchListingsItem") == 1 and sorted(_waiting()) == SKUS[1:]


def test_with_no_feed_token_at_its_run_either_the_quantities_wait_for_the_next(
    stack, amazon, stream, monkeypatch
):
    _no_feed_token(monkeypatch)
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 90 + n)
    stream.deliver()

    report = listings_feed.send_wanted(_sync(amazon))

    assert report.fed == 0 and calls(amazon, "createFeed") == 0 and calls(amazon, "patchListingsItem") == 0
    assert sorted(_waiting()) == SKUS
    _feed_token_again(monkeypatch)
    assert listings_feed.send_wanted(_sync(amazon)).fed == len(SKUS)
    assert _waiting() == {}


def test_a_few_waiting_quantities_are_patched_and_those_amazon_has_are_dropped(stack, amazon, monkeypatch):
    from oms.inventory.listings import Push, PushReport

    _mfn(*SKUS[:3])
    for n, sku in enumerate(SKUS[:3]):
        _stock(sku, 10 + n)
    sync = _sync(amazon)
    sync.remember(SKUS[2], MARKETPLACE, 12)  # Amazon has this one already
    listings_feed.want(sync, [Push(sku, MARKETPLACE, 0, None) for sku in SKUS[:3]], PushReport())

    report = listings_feed.send_wanted(sync)

    assert report.pushed == 2 and report.unchanged == 1 and report.fed == 0
    assert [listing_quantity(amazon, sku) for sku in SKUS[:2]] == [10, 11]
    assert calls(amazon, "createFeed") == 0 and _waiting() == {}


def test_a_sku_wanted_again_while_the_run_sends_keeps_its_wait_for_the_next_run(
    stack, amazon, stream, monkeypatch
):
    from oms.inventory.listings import ListingSync, Push, PushReport

    _no_feed_token(monkeypatch)
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 30 + n)
    stream.deliver()
    _feed_token_again(monkeypatch)
    real_plan = ListingSync.plan

    def plan(self, sku, report):  # a stream batch wants SKUS[2] again while this run reads the others
        if sku == SKUS[5]:
            listings_feed.want(self, [Push(SKUS[2], MARKETPLACE, 0, None)], PushReport())
        return real_plan(self, sku, report)

    monkeypatch.setattr(ListingSync, "plan", plan)
    assert listings_feed.send_wanted(_sync(amazon)).fed == len(SKUS)
    assert list(_waiting()) == [SKUS[2]], "wanted again since it was read: the next run looks again"

    monkeypatch.setattr(ListingSync, "plan", real_plan)
    report = listings_feed.send_wanted(_sync(amazon))
    assert report.in_feed == 1 and calls(amazon, "createFeed") == 1 and _waiting() == {}


def test_a_run_cut_off_after_its_feed_sends_nothing_twice(stack, amazon, stream, monkeypatch):
    from oms.store import conditional

    _no_feed_token(monkeypatch)
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 40 + n)
    stream.deliver()
    _feed_token_again(monkeypatch)
    delete_wanted_listing = conditional.delete_wanted_listing

    def cut_off(*args, **kwargs):  # the run dies after its feed was taken and recorded, before the deletes
        raise RuntimeError("the function was cut off")

    monkeypatch.setattr(conditional, "delete_wanted_listing", cut_off)
    with pytest.raises(RuntimeError):
        listings_feed.send_wanted(_sync(amazon))
    assert calls(amazon, "createFeed") == 1 and sorted(_waiting()) == SKUS
    monkeypatch.setattr(conditional, "delete_wanted_listing", delete_wanted_listing)

    report = listings_feed.send_wanted(_sync(amazon))  # the next run

    assert report.in_feed == len(SKUS) and report.fed == 0, "the feed on its way carries them"
    assert calls(amazon, "createFeed") == 1 and _waiting() == {}


def test_what_moved_while_a_feed_waited_waits_for_the_next_feed_when_there_is_no_token(
    stack, amazon, monkeypatch
):
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 20 + n)
    _no_feed_token(monkeypatch)

    report = listings_feed.resend(_sync(amazon), SKUS)  # a settled feed's SKUs that moved meanwhile

    assert report.wanted == len(SKUS) and sorted(_waiting()) == SKUS
    assert calls(amazon, "patchListingsItem") == 0, "not 10 patches at 5 a second"


def test_a_feed_amazon_could_not_process_is_sent_again_whole(stack, amazon, stream):
    from oms.amazon.client import default_client
    from oms.inventory.listings import ListingSync

    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 80 + n)
    stream.deliver()
    (first,) = _feeds(amazon)
    sync = ListingSync(
        default_table(), default_client(), seller_id=amazon.seller_id, marketplaces=[MARKETPLACE]
    )

    assert listings_feed.settle_feed(sync, first, processing_status="FATAL", report_document_id=None)

    assert calls(amazon, "createFeed") == 2, "its SKUs in a new feed (more than the threshold)"
    second = next(f for f in _feeds(amazon) if f["feedId"] != first["feedId"])
    assert sorted(second["skus"]) == sorted(first["skus"])
    assert all(_listing(sku)["pendingFeed"]["feedId"] == second["feedId"] for sku in SKUS)
    assert not listings_feed.settle_feed(
        sync, _feeds_by_id(first["feedId"]), processing_status="FATAL", report_document_id=None
    ), "settled once"


def _feeds_by_id(feed_id: str) -> dict:
    item = default_table().get(keys.listing_feed_key(feed_id), consistent=True)
    assert item is not None
    return item


def _processed_but_unheard(heard: Heard, timeout: float = 10.0) -> list[str]:
    """Amazon processes the feeds waiting in its queue; their FEED_PROCESSING_FINISHED never arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        heard.simulator.marketplace.run_due()
        lost = [t for t in heard.texts if json.loads(t)["notificationType"] == "FEED_PROCESSING_FINISHED"]
        if lost:
            heard.texts.clear()
            return lost
        time.sleep(0.05)
    raise AssertionError("no feed was processed")


def test_a_feed_whose_notification_was_lost_is_settled_by_inventory_sync_once(
    stack, amazon, stream, heard, context
):
    """Decision 100's feeds were settled only by their notification: lost, nothing asked getFeed, the SKUs
    Amazon refused were never flagged and a SKU patched while the feed waited kept the feed's older figure
    until its next change. inventory_sync settles a feed still pending after a few minutes as the notification
    would, once."""
    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 40 + n)
    amazon.server.control("POST", "/_simulator/listings/refuse", {"skus": SKUS[2:3]})
    stream.deliver()
    (feed,) = _feeds(amazon)
    _stock(SKUS[7], -10)  # sold while the feed waits: patched now
    stream.deliver()
    assert calls(amazon, "patchListingsItem") == 1
    (lost,) = _processed_but_unheard(heard)
    assert listing_quantity(amazon, SKUS[7]) == 47, (
        "the feed, processed after the patch, set its figure again"
    )
    inventory_sync = stack.handler("inventory_sync").lambda_handler
    schedule = load_event("inventory_sync/schedule.json")

    answer = inventory_sync(schedule, context)  # minutes too soon: the notification may still come
    assert answer["pendingFeeds"] == {"pending": 0, "settled": 0, "waiting": 0, "failed": 0}
    assert not _feeds_by_id(feed["feedId"]).get("settledAt")

    with time_machine.travel(utc_now() + listings_feed.SETTLE_AFTER + timedelta(seconds=1), tick=True):
        answer = inventory_sync(schedule, context)

    assert answer["pendingFeeds"] == {"pending": 1, "settled": 1, "waiting": 0, "failed": 0}
    settled = _feeds_by_id(feed["feedId"])
    assert settled["settledAt"] and (settled["accepted"], settled["refused"]) == (len(SKUS) - 1, 1)
    assert _listing(SKUS[2])["refusal"]["quantity"] == 42  # flagged, as the notification would
    assert listing_quantity(amazon, SKUS[7]) == 37, "the SKU patched meanwhile is sent again"
    assert _listing(SKUS[7])["quantity"] == 37
    assert all("pendingFeed" not in _listing(sku) for sku in SKUS)
    patches = calls(amazon, "patchListingsItem")
    assert list(default_table().query_all(keys.pending_listing_feeds("9999"))) == []

    heard.texts.append(lost)  # the notification arrives after all: nothing is done twice
    heard.apply_feeds_finished()
    assert calls(amazon, "patchListingsItem") == patches
    assert _feeds_by_id(feed["feedId"])["settledAt"] == settled["settledAt"]
    with time_machine.travel(utc_now() + timedelta(minutes=30), tick=True):
        assert inventory_sync(schedule, context)["pendingFeeds"]["pending"] == 0


def test_a_pending_feed_is_settled_by_one_caller_at_a_time(stack, amazon, stream):
    """The notification and the pass at once: the one holding the feed's lease settles it, the other does
    nothing; a settler that died is taken over once its lease ran out."""
    from oms.amazon.client import default_client
    from oms.inventory.listings import ListingSync
    from oms.store import conditional

    _mfn(*SKUS)
    for n, sku in enumerate(SKUS):
        _stock(sku, 20 + n)
    stream.deliver()
    (feed,) = _feeds(amazon)
    sync = ListingSync(
        default_table(), default_client(), seller_id=amazon.seller_id, marketplaces=[MARKETPLACE]
    )
    marker = keys.pending_listing_feed_key(feed["sentAt"], feed["feedId"])
    now = utc_now()
    default_table().transact(  # another caller is settling it (and died there)
        [
            conditional.settlement_lease(
                marker, holder="other", until=iso_z(now + listings_feed.SETTLING), now=iso_z(now)
            )
        ]
    )

    assert not listings_feed.settle_feed(sync, feed, processing_status="FATAL", report_document_id=None)
    assert calls(amazon, "createFeed") == 1 and not _feeds_by_id(feed["feedId"]).get("settledAt")

    with time_machine.travel(now + listings_feed.SETTLING + timedelta(seconds=1), tick=True):
        assert listings_feed.settle_feed(sync, feed, processing_status="FATAL", report_document_id=None)
    assert calls(amazon, "createFeed") == 2  # sent again whole, once
    assert default_table().get(marker, consistent=True) is None
