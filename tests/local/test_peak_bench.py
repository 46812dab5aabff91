"""The peak benchmark (bench/peak.py) at a tiny size, so it does not rot: a burst of notifications from the
simulator's marketplace drains through the real intake and stock-sync handlers on simulated time, nothing
is lost or doubled, Amazon never answers 429 and the figures the report prints are all there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import peak


def test_a_small_burst_drains_with_nothing_lost(tmp_path: Path) -> None:
    environment = dict(os.environ)
    results = peak.measure(60, seed=7, work=tmp_path)

    assert results["notifications"] >= 60
    assert results["handled"] == results["notifications"]  # each one applied (or known a duplicate) once
    assert (results["leftInQueue"], results["dlq"]) == (0, 0)
    assert results["ordersWrongCount"] == 0 and results["ordersRight"] == results["orders"]
    assert results["spApi"]["throttled"] == 0
    assert results["spApi"]["operations"]["patchListingsItem"]["requests"] > 0  # stock pushed to Amazon
    assert results["drainSeconds"] > 0 and results["notificationsPerSecond"] > 0
    assert results["dynamodb"]["partitions"]["all-orders index (gsi1 ORDERS)"]["wcu"] > 0
    assert results["dynamodb"]["partitions"]["rate buckets (RATE#...)"]["wcu"] > 0
    assert "drain time, simulated" in peak.report(results)
    assert dict(os.environ) == environment  # the run gives the process back as it found it
    assert results["listings"]["wrong"] == 0 and results["listings"]["checked"] > 0  # Amazon shows ours


def test_past_the_feed_threshold_amazon_catches_up_through_a_listings_feed(
    tmp_path: Path, monkeypatch
) -> None:
    from oms.inventory import listings_feed

    monkeypatch.setattr(listings_feed, "FEED_THRESHOLD", 5)
    results = peak.measure(60, seed=7, work=tmp_path)

    operations = results["spApi"]["operations"]
    assert operations["createFeed"]["requests"] >= 1 and results["spApi"]["throttled"] == 0
    feeds = results["listingFeeds"]
    assert feeds["threshold"] == 5 and feeds["notifications"] == operations["createFeed"]["requests"]
    assert feeds["settledSeconds"] >= 60, "Amazon's queue time is modelled"
    assert feeds["amazonCaughtUpSeconds"] == feeds["settledSeconds"]
    assert results["listings"]["wrong"] == 0 and results["listings"]["checked"] > 0
    assert "listings feeds processed and settled" in peak.report(results)


def test_quantities_a_batch_could_not_feed_reach_amazon_through_the_minute_s_feed(
    tmp_path: Path, monkeypatch
) -> None:
    from oms.inventory import listings_feed

    monkeypatch.setattr(listings_feed, "FEED_THRESHOLD", 5)
    real_send_feeds = listings_feed.send_feeds
    refused: list[int] = []

    def send_feeds(sync, pushes, report):  # the stream's first feed finds no token (Amazon's 5 per 5 minutes)
        if not refused:
            refused.append(len(pushes))
            raise listings_feed.FeedUnavailable("JSON_LISTINGS_FEED: no token for 60s")
        return real_send_feeds(sync, pushes, report)

    monkeypatch.setattr(listings_feed, "send_feeds", send_feeds)
    results = peak.measure(60, seed=7, work=tmp_path)

    sent = results["stockSync"]["sendListingFeed"]
    assert refused and sent["runs"] >= 1 and sent["feeds"] >= 1 and sent["fed"] >= refused[0] - 5
    assert results["spApi"]["throttled"] == 0
    assert results["listingFeeds"]["amazonCaughtUpSeconds"] >= 60, "a minute's wait, then Amazon's queue"
    assert results["listings"]["wrong"] == 0 and results["listings"]["checked"] > 0
    assert "send_listing_feed (every minute)" in peak.report(results)
