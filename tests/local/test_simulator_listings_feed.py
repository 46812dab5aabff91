"""The local marketplace's listings feeds (JSON_LISTINGS_FEED) without HTTP: the product's own feed document is
taken, waits in Amazon's queue (its time modelled: a wait plus a time per message), then sets each SKU's
merchant-fulfilled quantity; the JSON processing report names the messages it refused; FEED_PROCESSING_FINISHED
is sent. Every answer and notification is checked against Amazon's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from oms.domain.listings_feed import CONTENT_TYPE, FEED_TYPE, quantity_feed, read_processing_report
from oms_local.simulator import Marketplace, SimulatorConfig, contract
from oms_local.simulator.catalogue import builtin_catalogue

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

START = datetime(2026, 7, 8, 6, 0, tzinfo=UTC)  # a Prime Day morning


class Shop:
    def __init__(self, **settings: object) -> None:
        config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=5, **settings)  # type: ignore[arg-type]
        self.now = START
        self.sent: list[str] = []
        self.market = Marketplace(
            config, catalogue=builtin_catalogue(), notify=self.sent.append, clock=lambda: self.now
        )

    def send(self, content: bytes) -> str:
        document = self.market.create_feed_document({"contentType": CONTENT_TYPE})
        contract.validate_response("createFeedDocument", 201, document)
        assert self.market.put_document(document["feedDocumentId"], content)
        request = {
            "feedType": FEED_TYPE,
            "marketplaceIds": [self.market.marketplace_id],
            "inputFeedDocumentId": document["feedDocumentId"],
        }
        contract.validate_request_body("createFeed", request)
        created = self.market.create_feed(request)
        contract.validate_response("createFeed", 202, created)
        return str(created["feedId"])

    def run(self, seconds: float) -> None:
        end = self.now + timedelta(seconds=seconds)
        while self.now < end:
            self.now += timedelta(seconds=1)
            self.market.run_due()

    def status(self, feed_id: str) -> str:
        feed = self.market.get_feed(feed_id)
        contract.validate_response("getFeed", 200, feed)
        return str(feed["processingStatus"])

    def report(self, feed_id: str) -> dict:
        feed = self.market.get_feed(feed_id)
        document = self.market.get_feed_document(feed["resultFeedDocumentId"])
        contract.validate_response("getFeedDocument", 200, document)
        return json.loads(self.market.get_document(document["feedDocumentId"]) or b"")


def test_a_listings_feed_waits_in_amazons_queue_then_sets_each_quantity_and_says_so():
    shop = Shop(listings_feed_queue_seconds=(60.0, 60.0), listings_feed_seconds_per_message=0.5)
    skus = [("85123A", 7), ("22423", 0), ("NEW-SKU-1", 12)]
    feed_id = shop.send(quantity_feed(shop.market.seller_id, skus))

    shop.run(61)  # the queue's minute, not yet the 1.5 s of its three messages
    assert shop.status(feed_id) == "IN_QUEUE"
    assert shop.market.listing_quantity("85123A") != 7
    shop.run(2)

    assert shop.status(feed_id) == "DONE"
    assert [shop.market.listing_quantity(sku) for sku, _ in skus] == [7, 0, 12]
    report = shop.report(feed_id)
    assert report["header"]["feedId"] == feed_id and report["issues"] == []
    assert report["summary"]["messagesProcessed"] == 3 and report["summary"]["messagesAccepted"] == 3
    (notice,) = [json.loads(t) for t in shop.sent if "FEED_PROCESSING_FINISHED" in t]
    contract.validate_notification(notice)
    finished = notice["payload"]["feedProcessingFinishedNotification"]
    assert (finished["feedId"], finished["feedType"], finished["processingStatus"]) == (
        feed_id,
        FEED_TYPE,
        "DONE",
    )


def test_refused_and_malformed_messages_are_errors_in_the_report_and_change_nothing():
    shop = Shop(listings_feed_queue_seconds=(1.0, 1.0), listings_feed_seconds_per_message=0.0)
    shop.market.refuse_listings(["22423"])
    document = json.loads(quantity_feed(shop.market.seller_id, [("85123A", 4), ("22423", 9), ("84879", 3)]))
    document["messages"][2]["patches"][0]["value"][0]["quantity"] = -1
    before = shop.market.listing_quantity("22423")
    feed_id = shop.send(json.dumps(document).encode())
    shop.run(3)

    report = read_processing_report(json.dumps(shop.report(feed_id)).encode())
    assert (report.processed, report.accepted, report.invalid) == (3, 1, 2)
    assert report.refused(1) is None
    assert report.refused(2) is not None and report.refused(2).code == "4000003"
    assert report.refused(3) is not None and "at least 0" in report.refused(3).message
    assert shop.market.listing_quantity("85123A") == 4
    assert shop.market.listing_quantity("22423") == before


def test_the_listings_feed_document_is_amazons_patch_of_fulfillment_availability():
    document = json.loads(quantity_feed("A1SELLER", [("MUG", 3)]))
    assert document["header"] == {"sellerId": "A1SELLER", "version": "2.0", "issueLocale": "en_US"}
    (message,) = document["messages"]
    assert message == {
        "messageId": 1,
        "sku": "MUG",
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
            }
        ],
    }
    with pytest.raises(ValueError, match="at least one SKU"):
        quantity_feed("A1SELLER", [])
