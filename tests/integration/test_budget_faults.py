"""The shared rate budget's own table failing (throttled past the SDK's retries, as the fault drill makes it):
that is not Amazon refusing. Nothing is sent when no token could be taken, and an answer Amazon gave is
kept when the budget cannot follow it. DynamoDB's error comes from botocore itself (a before-call hook on the
table's real client, against moto), in the shape the SDK raises once its retries are spent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oms.amazon.client import Credentials, SpApiClient
from oms.amazon.orders_api import GetOrderResponse
from oms.amazon.rate_budget import BudgetExhausted, BudgetUnavailable, RateBudget
from oms.store.table import Table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.integration.amazon_side import amazon_fixture, simulator_fixture
from tests.integration.test_spapi_client import StubAmazon
from tests.throttled import throttled_table

__all__ = ["amazon_fixture", "simulator_fixture"]


def budget_table(fails: Callable[[str, int], bool]) -> Table:
    """The stack's table, its calls on the rate buckets failing where `fails(operation, n)` says."""
    return throttled_table(fails, where=lambda params: "RATE#" in repr(params))[0]  # keys.rate_bucket_key


def _client(amazon: StubAmazon, table: Table) -> SpApiClient:
    return SpApiClient(
        credentials=lambda: Credentials("client", "secret", {"na": "Atzr|refresh"}),
        budget=RateBudget(table, sleep=lambda s: None),
        endpoint_override="http://amazon.test",
        lwa_url="http://amazon.test/auth/o2/token",
        http=amazon,
        sleep=lambda s: None,
    )


def test_a_budget_whose_table_is_throttled_sends_nothing_and_says_it_was_not_amazon(stack):
    amazon = StubAmazon()
    table = budget_table(lambda operation, n: operation == "GetItem")
    with pytest.raises(BudgetUnavailable) as unavailable:
        _client(amazon, table).call("getOrder", GetOrderResponse, path={"orderId": "113-1234567-1234567"})
    assert amazon.calls == []  # nothing reached Amazon
    assert isinstance(unavailable.value, BudgetExhausted)  # callers already treat it as "try again later"
    assert unavailable.value.wait == 0 and "nothing was sent to Amazon" in str(unavailable.value)

    taken = budget_table(lambda operation, n: operation != "GetItem")  # the token's write fails
    with pytest.raises(BudgetUnavailable):
        _client(amazon, taken).call("getOrder", GetOrderResponse, path={"orderId": "113-1234567-1234567"})
    assert amazon.calls == []


def test_a_bucket_throttled_once_is_tried_again_before_the_call_gives_up(stack):
    amazon = StubAmazon()
    # the first read and the first write of the bucket are throttled: both tried again within the take
    table = budget_table(lambda operation, n: n == 0 and operation in ("GetItem", "TransactWriteItems"))
    _client(amazon, table).call("getOrder", GetOrderResponse, path={"orderId": "113-1234567-1234567"})
    assert len(amazon.calls) == 1  # sent once


def test_an_answer_amazon_gave_is_kept_when_the_budget_cannot_follow_it(stack):
    amazon = StubAmazon()
    # the token is taken (the first read of the bucket), then following Amazon's live rate fails
    table = budget_table(lambda operation, n: operation == "GetItem" and n >= 1)
    answer = _client(amazon, table).call(
        "getOrder", GetOrderResponse, path={"orderId": "113-1234567-1234567"}
    )
    assert answer.order.order_id == "113-1234567-1234567"
    assert len(amazon.calls) == 1  # once: a bookkeeping failure after the answer is not a reason to ask again

    amazon.failures = [429]  # after a 429 too: the retry goes on, the budget's failure only logged
    following = budget_table(lambda operation, n: operation == "GetItem" and n % 2 == 1)  # take, follow, ..
    answer = _client(amazon, following).call(
        "getOrder", GetOrderResponse, path={"orderId": "113-1234567-1234567"}
    )
    assert answer.order.order_id == "113-1234567-1234567" and len(amazon.calls) == 3


def test_a_confirmation_the_budget_could_not_take_a_token_for_is_due_again_at_once(stack, amazon, context):
    """The fault drill's finding (30% faults): a confirmation meeting faults in the budget's own table backed off
    1, 2, 4, 8 minutes as if Amazon had refused it. Amazon saw nothing: the next run sends it, the back-off stays."""
    from datetime import UTC, datetime, timedelta

    from oms.shipping.shipments import confirm_due
    from oms.store.default import default_table
    from tests.integration.amazon_side import calls, fast_client, inject_fault
    from tests.integration.test_shipping import _place, _ship, _stock

    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    _stock("SHIP-MUG", 10)
    order_id = _place(amazon, 1)
    inject_fault(amazon, "confirmShipment", 503, 20)  # Amazon fails the first try: queued, due in a minute
    assert _ship(stack, context, order_id)[0] == 201
    inject_fault(amazon, "confirmShipment", 503, 0)
    sent = calls(amazon, "confirmShipment")
    later = datetime.now(UTC) + timedelta(minutes=2)
    for _ in range(3):  # three runs in a row meet the budget's table throttled
        throttled = budget_table(lambda operation, n: True)
        client = fast_client(amazon)
        client._budget = RateBudget(throttled, sleep=lambda s: None)
        assert confirm_due(default_table(), client, now=later) == {"retrying": 1}
    assert calls(amazon, "confirmShipment") == sent  # nothing reached Amazon
    shipment = call_api(stack, context, "GET", f"/orders/{order_id}")[1]["shipments"][0]["confirmation"]
    assert shipment["attempts"] == 1  # Amazon's one failure, not the budget's three
    assert "nothing was sent to Amazon" in shipment["lastError"]
    # due at once, not 2, 4, 8 minutes on: the next run (a second later here) confirms it
    assert confirm_due(default_table(), fast_client(amazon), now=later + timedelta(seconds=1)) == {
        "confirmed": 1
    }
