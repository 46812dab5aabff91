"""The local stack honours an event source's FilterCriteria as Lambda does (EventBridge-style patterns)."""

from __future__ import annotations

import pytest

from oms_local.template import Template
from oms_local.triggers import filter_patterns, matches_pattern


def _stream_record(new: dict | None, old: dict | None = None, name: str = "MODIFY") -> dict:
    change = {"SequenceNumber": "1", "Keys": {"pk": {"S": "SKU#A"}, "sk": {"S": "STOCK#default"}}}
    if new is not None:
        change["NewImage"] = new
    if old is not None:
        change["OldImage"] = old
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": change}


STOCK = {"entity": {"S": "Stock"}, "sku": {"S": "A"}, "onHand": {"N": "3"}}
LEDGER = {"entity": {"S": "LedgerEntry"}, "sku": {"S": "A"}}


def test_sync_listings_sees_stock_rows_only():
    (trigger,) = [t for t in Template().function("sync_listings").triggers if t.type == "DynamoDB"]
    (pattern,) = filter_patterns(trigger.properties)
    assert matches_pattern(pattern, _stream_record(STOCK, name="INSERT"))
    assert matches_pattern(pattern, _stream_record(STOCK, old=STOCK))
    assert not matches_pattern(pattern, _stream_record(LEDGER))
    assert not matches_pattern(pattern, _stream_record(None, old=STOCK, name="REMOVE"))


def test_read_catalogue_sees_orders_and_stock_rows_never_the_products_it_writes():
    (trigger,) = [t for t in Template().function("read_catalogue").triggers if t.type == "DynamoDB"]
    (pattern,) = filter_patterns(trigger.properties)
    order = {"entity": {"S": "Order"}, "items": {"L": [{"M": {"sku": {"S": "A"}}}]}}
    product = {"entity": {"S": "Product"}, "sku": {"S": "A"}}
    assert matches_pattern(pattern, _stream_record(order, name="INSERT"))
    assert matches_pattern(pattern, _stream_record(STOCK, name="INSERT"))
    assert not matches_pattern(pattern, _stream_record(product, name="INSERT")), "its own writes: no loop"
    assert not matches_pattern(pattern, _stream_record(LEDGER))


def test_read_catalogue_is_not_invoked_by_later_changes_of_an_order_or_a_stock_row():
    """Each status change and shipment of an order, each sale of a stock row, names no new SKU (cost)."""
    (trigger,) = [t for t in Template().function("read_catalogue").triggers if t.type == "DynamoDB"]
    (pattern,) = filter_patterns(trigger.properties)
    order = {"entity": {"S": "Order"}, "items": {"L": [{"M": {"sku": {"S": "A"}}}]}}
    assert not matches_pattern(pattern, _stream_record(order, old=order))
    assert not matches_pattern(pattern, _stream_record(STOCK, old=STOCK))


def test_triggers_without_filters_see_everything():
    (trigger,) = [t for t in Template().function("publish_events").triggers if t.type == "DynamoDB"]
    assert filter_patterns(trigger.properties) == []


@pytest.mark.parametrize(
    ("pattern", "event", "matched"),
    [
        ({"a": ["x", "y"]}, {"a": "y"}, True),
        ({"a": ["x"]}, {"a": "z"}, False),
        ({"a": ["x"]}, {}, False),
        ({"a": ["x"]}, {"a": ["z", "x"]}, True),  # an array matches when one value does
        ({"a": {"b": [1]}}, {"a": {"b": 1}}, True),
        ({"a": {"b": [1]}}, {"a": "b"}, False),
        ({"a": [{"prefix": "St"}]}, {"a": "Stock"}, True),
        ({"a": [{"prefix": "ST"}]}, {"a": "Stock"}, False),  # case counts
        ({"a": [{"prefix": "St"}]}, {"a": "Order"}, False),
        ({"a": [{"anything-but": ["Order", "Ledger"]}]}, {"a": "Stock"}, True),
        ({"a": [{"anything-but": "Stock"}]}, {"a": "Stock"}, False),
        ({"a": [{"exists": True}]}, {"a": None}, True),
        ({"a": [{"exists": False}]}, {}, True),
        ({"a": [{"exists": False}]}, {"a": 1}, False),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, True),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 6}, False),
        ({"a": [{"numeric": [">", 0]}]}, {"a": "7"}, False),
        ({"a": ["x"], "b": ["y"]}, {"a": "x", "b": "n"}, False),  # every key must match
    ],
)
def test_pattern_rules(pattern, event, matched):
    assert matches_pattern(pattern, event) is matched


def test_a_rule_the_local_stack_does_not_play_is_an_error_not_a_silent_match():
    with pytest.raises(ValueError, match="suffix"):
        matches_pattern({"a": [{"suffix": "x"}]}, {"a": "yx"})
