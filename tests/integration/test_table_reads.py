"""A read (or a whole item put) the table refuses for a moment (a throttle or a server error past the SDK's retries) is asked again
by the table itself (decision 108): a read is always safe to repeat, and a step made of many reads would
otherwise fail at the rate of its calls' faults. What keeps failing still raises, as the SDK raised it."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from oms.store import keys
from oms.store.default import default_table
from tests.throttled import throttled_table


def _stock(sku: str) -> dict[str, object]:
    return {**keys.stock_key(sku), "entity": "Stock", "sku": sku, "onHand": 3}


def test_each_kind_of_read_refused_once_is_asked_again(stack):
    for sku in ("A-1", "B-1"):
        default_table().put(_stock(sku))
    table, failed = throttled_table(lambda operation, n: n == 0)

    assert table.get(keys.stock_key("A-1"))["onHand"] == 3
    assert {item["sku"] for item in table.get_many([keys.stock_key("A-1"), keys.stock_key("B-1")])} == {
        "A-1",
        "B-1",
    }
    assert [item["sku"] for item in table.query_all(keys.KeyQuery(keys.stock_key("A-1")[keys.PK]))] == ["A-1"]
    assert failed == ["GetItem", "BatchGetItem", "Query"]

    table.put(_stock("C-1"))  # a whole item put: as safe to repeat
    assert default_table().get(keys.stock_key("C-1"))["onHand"] == 3
    assert failed[-1] == "PutItem"


def test_a_read_that_keeps_failing_raises(stack):
    table, failed = throttled_table(lambda operation, n: True)
    with pytest.raises(ClientError):
        table.get(keys.stock_key("A-1"))
    assert failed == ["GetItem"] * 3
