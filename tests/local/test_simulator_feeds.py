"""The local marketplace's Feeds and Finances without HTTP: an order adjustment is processed a moment later,
its processing report refuses what Amazon refuses (more than charged, unknown items, a refund on top of a
refund), FEED_PROCESSING_FINISHED is sent, and Finances shows the refund once posted. Every answer and
notification is checked against Amazon's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from oms.domain.refunds import read_processing_report
from oms_local.simulator import Marketplace, SimulatorConfig, Wanted, contract
from oms_local.simulator.catalogue import builtin_catalogue

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class Shop:
    def __init__(self, **settings: Any) -> None:
        config = SimulatorConfig(
            duplicate_probability=0.0,
            delay_probability=0.0,
            seed=3,
            feed_processing_seconds=(2.0, 2.0),
            refund_posting_seconds=(30.0, 30.0),
            refund_refusal_probability=0.0,
            **settings,
        )
        self.now = START
        self.sent: list[str] = []
        self.market = Marketplace(
            config, catalogue=builtin_catalogue(), notify=self.sent.append, clock=lambda: self.now
        )
        self.order_id = self.market.place_order([Wanted("85123A", 2)])
        line = self.market.snapshot(self.order_id).lines[0]
        self.item, self.price = line.order_item_id, line.unit_price
        self.market.confirm_shipment(
            self.order_id,
            {
                "marketplaceId": self.market.marketplace_id,
                "packageDetail": {
                    "packageReferenceId": "1",
                    "carrierCode": "UPS",
                    "trackingNumber": "1Z999AA10123456784",
                    "shipDate": START.isoformat(),
                    "orderItems": [{"orderItemId": self.item, "quantity": 2}],
                },
            },
        )

    def run(self, seconds: float) -> None:
        end = self.now + timedelta(seconds=seconds)
        while self.now < end:
            self.now += timedelta(seconds=1)
            self.market.run_due()

    def adjust(self, principal: Decimal, item: str | None = None) -> str:
        """Upload an order adjustment and create its feed: the feed id."""
        document = self.market.create_feed_document({"contentType": "text/xml; charset=UTF-8"})
        contract.validate_response("createFeedDocument", 201, document)
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>'
            f"<MerchantIdentifier>{self.market.seller_id}</MerchantIdentifier></Header>"
            "<MessageType>OrderAdjustment</MessageType><Message><MessageID>1</MessageID><OrderAdjustment>"
            f"<AmazonOrderID>{self.order_id}</AmazonOrderID><AdjustedItem>"
            f"<AmazonOrderItemCode>{item or self.item}</AmazonOrderItemCode>"
            "<AdjustmentReason>CustomerReturn</AdjustmentReason><ItemPriceAdjustments><Component><Type>Principal</Type>"
            f'<Amount currency="USD">{principal:.2f}</Amount></Component></ItemPriceAdjustments></AdjustedItem>'
            "</OrderAdjustment></Message></AmazonEnvelope>"
        )
        assert self.market.put_document(document["feedDocumentId"], xml.encode())
        request = {
            "feedType": "POST_PAYMENT_ADJUSTMENT_DATA",
            "marketplaceIds": [self.market.marketplace_id],
            "inputFeedDocumentId": document["feedDocumentId"],
        }
        contract.validate_request_body("createFeed", request)
        created = self.market.create_feed(request)
        contract.validate_response("createFeed", 202, created)
        return str(created["feedId"])

    def outcome(self, feed_id: str) -> tuple[bool, str | None]:
        feed = self.market.get_feed(feed_id)
        contract.validate_response("getFeed", 200, feed)
        assert feed["processingStatus"] == "DONE"
        document = self.market.get_feed_document(feed["resultFeedDocumentId"])
        contract.validate_response("getFeedDocument", 200, document)
        report = read_processing_report(self.market.get_document(document["feedDocumentId"]) or b"")
        return report.accepted, report.reason

    def refunds(self) -> list[dict[str, Any]]:
        answer = self.market.financial_events_of_order(self.order_id)
        contract.validate_response("listFinancialEventsByOrderId", 200, answer)
        return list(answer["payload"]["FinancialEvents"]["RefundEventList"])


def test_an_adjustment_is_processed_reported_notified_and_posted_to_finances_later():
    shop = Shop()
    feed_id = shop.adjust(shop.price * 2)
    assert shop.market.get_feed(feed_id)["processingStatus"] == "IN_QUEUE"

    shop.run(3)
    assert shop.outcome(feed_id) == (True, None)
    (notice,) = [json.loads(t) for t in shop.sent if "FEED_PROCESSING_FINISHED" in t]
    contract.validate_notification(notice)
    finished = notice["payload"]["feedProcessingFinishedNotification"]
    assert (finished["feedId"], finished["processingStatus"]) == (feed_id, "DONE")
    assert shop.refunds() == []  # Amazon posts it later
    shop.run(30)
    (event,) = shop.refunds()
    charge = event["ShipmentItemAdjustmentList"][0]["ItemChargeAdjustmentList"][0]
    assert (event["AmazonOrderId"], charge["ChargeType"]) == (shop.order_id, "Principal")
    assert Decimal(str(charge["ChargeAmount"]["CurrencyAmount"])) == -(shop.price * 2)


def test_amazon_refuses_more_than_charged_an_unknown_item_and_a_second_refund():
    shop = Shop()
    too_much, unknown = shop.adjust(shop.price * 2 + Decimal("0.01")), shop.adjust(Decimal(1), item="NOPE")
    shop.run(3)
    accepted, reason = shop.outcome(too_much)
    assert not accepted and reason.startswith("18028: ") and "exceeds the amount charged" in reason
    assert not shop.outcome(unknown)[0]

    first = shop.adjust(shop.price * 2)
    shop.run(3)
    second = shop.adjust(shop.price)  # the item price was refunded in full already
    shop.run(3)
    assert shop.outcome(first)[0] and not shop.outcome(second)[0]
    assert [
        f["feedId"] for f in shop.market.get_feeds(["POST_PAYMENT_ADJUSTMENT_DATA"], None, None)["feeds"]
    ][:2] == [
        second,
        first,
    ]


def test_the_seller_can_make_the_next_adjustment_fail():
    shop = Shop()
    shop.market.refuse_adjustments(1)
    refused, taken = shop.adjust(shop.price), shop.adjust(shop.price)
    shop.run(3)
    assert not shop.outcome(refused)[0]
    assert shop.outcome(taken)[0]
