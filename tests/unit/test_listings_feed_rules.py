"""Which quantities of a burst are patched at once and which go in the listings feed; the processing report read."""

from __future__ import annotations

import json

import pytest

from oms.domain.listings_feed import MAX_MESSAGES, quantity_feed, read_processing_report
from oms.inventory.listings import Push
from oms.inventory.listings_feed import split_urgent


def _planned(quantities: list[int]) -> list[tuple[str, Push]]:
    return [(f"seq-{i:03d}", Push(f"SKU-{i}", "ATVPDKIKX0DER", q, None)) for i, q in enumerate(quantities)]


def test_the_lowest_quantities_are_patched_in_stream_order_and_the_rest_fed():
    planned = _planned([40, 3, 0, 12, 5, 6, 1])
    urgent, bulk = split_urgent(planned, feed_threshold=150, low_stock=5)
    assert [push.sku for _, push in urgent] == ["SKU-1", "SKU-2", "SKU-4", "SKU-6"], "stream order kept"
    assert [push.sku for _, push in bulk] == ["SKU-0", "SKU-3", "SKU-5"]


def test_at_most_threshold_many_are_patched_the_lowest_first():
    urgent, bulk = split_urgent(_planned([5, 4, 3, 2, 1, 0]), feed_threshold=2, low_stock=5)
    assert sorted(push.quantity for _, push in urgent) == [0, 1]
    assert len(bulk) == 4


def test_a_report_error_naming_no_message_refuses_every_message():
    report = read_processing_report(
        json.dumps(
            {
                "header": {"sellerId": "A1", "version": "2.0", "feedId": "1"},
                "issues": [
                    {"code": "100001", "severity": "ERROR", "message": "The feed is not valid JSON"},
                    {"messageId": 2, "code": "99", "severity": "WARNING", "message": "only a warning"},
                ],
                "summary": {"errors": 1, "warnings": 1, "messagesProcessed": 0},
            }
        ).encode()
    )
    assert report.refused(1) is not None and report.refused(1).code == "100001"
    with pytest.raises(ValueError, match="not JSON"):
        read_processing_report(b"<xml/>")


def test_a_feed_holds_at_most_amazons_limit():
    with pytest.raises(ValueError, match="at most"):
        quantity_feed("A1", [("S", 1)] * (MAX_MESSAGES + 1))
