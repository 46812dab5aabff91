"""Only this stack's notifications are applied: its application, subscriptions, seller and marketplaces."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.amazon.notifications import Notification
from oms.amazon.provenance import Recipient, foreign_because
from tests.builders import order_change
from tests.conftest import APPLICATION_ID, EVENTS, SELLER_ID

OURS = Recipient.of(APPLICATION_ID, SELLER_ID, ["ATVPDKIKX0DER"], [])


def _event(name: str) -> dict[str, Any]:
    records = json.loads((EVENTS / "ingest_notifications" / name).read_text())["Records"]
    return json.loads(records[-1]["body"])


def _read(document: dict[str, Any]) -> Notification:
    return Notification.model_validate(document)


@pytest.mark.parametrize("name", ["order_change.json", "fba_inventory_change.json", "report_finished.json"])
def test_amazons_examples_addressed_to_us_are_ours(name: str) -> None:
    assert foreign_because(_read(_event(name)), OURS) is None


def test_another_application_is_foreign() -> None:
    document = order_change("111-0000000-0000001", "Unshipped", [("MUG", 1, 0)])
    document["NotificationMetadata"]["ApplicationId"] = "amzn1.sellerapps.app.someone-else"
    assert foreign_because(_read(document), OURS) == "another application"


def test_another_seller_is_foreign_in_either_casing() -> None:
    order = order_change("111-0000000-0000001", "Unshipped", [("MUG", 1, 0)])
    order["Payload"]["OrderChangeNotification"]["SellerId"] = "A0THERSELLER"
    assert foreign_because(_read(order), OURS) == "another seller"
    report = _event("report_finished.json")
    report["payload"]["reportProcessingFinishedNotification"]["sellerId"] = "A0THERSELLER"
    assert foreign_because(_read(report), OURS) == "another seller"


def test_subscriptions_are_checked_only_when_the_stack_names_them() -> None:
    document = order_change("111-0000000-0000001", "Unshipped", [("MUG", 1, 0)])
    named = Recipient.of(APPLICATION_ID, SELLER_ID, ["ATVPDKIKX0DER"], ["subscription-2", " "])
    assert foreign_because(_read(document), named) == "another subscription"
    document["NotificationMetadata"]["SubscriptionId"] = "subscription-2"
    assert foreign_because(_read(document), named) is None


def test_a_marketplace_the_seller_does_not_sell_in_is_foreign() -> None:
    order = order_change("111-0000000-0000001", "Unshipped", [("MUG", 1, 0)])
    order["Payload"]["OrderChangeNotification"]["Summary"]["MarketplaceId"] = "A1F83G8C2ARO7P"  # amazon.co.uk
    assert foreign_because(_read(order), OURS) == "another marketplace"
    # FBA figures for several marketplaces, one of them ours: ours (the FBA owner keeps only ours)
    assert foreign_because(_read(_event("fba_inventory_change.json")), OURS) is None
    uk_only = Recipient.of(APPLICATION_ID, SELLER_ID, ["A1F83G8C2ARO7P"], [])
    assert foreign_because(_read(_event("fba_inventory_change.json")), uk_only) == "another marketplace"
