"""Refunds on moto, with the local marketplace's Feeds and Finances in process: a received return is refunded
through an order adjustment feed, submitted when the processing report has no error and confirmed when the
refund event shows in Finances; a refused one stays on the return with Amazon's words and is sent again;
a crash after createFeed never sends a second feed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oms.amazon.orders_api import GetOrderResponse, order_from_api
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from oms_local.simulator import Simulator, SimulatorConfig, contract
from oms_local.simulator.catalogue import builtin_catalogue
from oms_local.simulator.marketplace import Wanted
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS
from tests.conftest import LambdaContext, load_event
from tests.integration.amazon_side import (
    MARKETPLACE,
    SELLER,
    TableStream,
    amazon_fixture,
    calls,
    fast_client,
    inject_fault,
)

__all__ = ["amazon_fixture"]
SKU = "85123A"  # in the simulator's built-in catalogue


@pytest.fixture(name="simulator")
def simulator_fixture() -> Iterator[Simulator]:
    config = SimulatorConfig(
        duplicate_probability=0.0,
        delay_probability=0.0,
        seed=11,
        feed_processing_seconds=(0.05, 0.1),
        refund_posting_seconds=(0.0, 0.0),
        refund_refusal_probability=0.0,
    )
    with Simulator(config, catalogue=builtin_catalogue()) as running:
        yield running


class Heard:
    """The notifications the marketplace sends, handed to the ingest function as the queue hands them."""

    def __init__(self, simulator: Simulator, stack: Any) -> None:
        self.texts: list[str] = []
        simulator.notify = self.texts.append
        self.ingest = stack.handler("ingest_notifications")

    def apply(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [json.loads(t) for t in self.texts if json.loads(t).get("notificationType") == kind]
            if len(found) >= count:
                for document in found[:count]:
                    contract.validate_notification(document)  # the official schema of its type
                    event = load_event("ingest_notifications/feed_finished.json")
                    event["Records"][0]["body"] = json.dumps(document)
                    assert self.ingest.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
                self.texts[:] = [t for t in self.texts if json.loads(t).get("notificationType") != kind]
                return found[:count]
            time.sleep(0.05)
        raise AssertionError(f"no {kind} within {timeout}s: {self.texts}")


@pytest.fixture
def shipped(stack, context, amazon) -> str:
    """A buyer's order of 2 mugs, shipped, as the product knows it from Amazon (prices and total included)."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), SKU, StockPolicy())
    adjust_stock(default_table(), SKU, 5, reason="receipt", reference="PO-1", actor="test")
    return _shipped_order(amazon, "1Z999AA10123456784")


def _shipped_order(amazon, tracking: str) -> str:
    """A buyer's order of 2 mugs placed, shipped at Amazon and known here as Amazon reports it."""
    order_id = amazon.marketplace.place_order([Wanted(SKU, 2)])
    line = amazon.marketplace.snapshot(order_id).lines[0]
    amazon.marketplace.confirm_shipment(
        order_id,
        {
            "marketplaceId": MARKETPLACE,
            "packageDetail": {
                "packageReferenceId": "1",
                "carrierCode": "UPS",
                "trackingNumber": tracking,
                "shipDate": datetime.now(UTC).isoformat(),
                "orderItems": [{"orderItemId": line.order_item_id, "quantity": 2}],
            },
        },
    )
    api = fast_client(amazon).call(
        "getOrder",
        GetOrderResponse,
        path={"orderId": order_id},
        query={"includedData": ["FULFILLMENT", "PROCEEDS"]},
    )
    OrderRepository(default_table()).add(order_from_api(api.order, MARKETPLACE))
    return order_id


def _received_return(stack, context, order_id: str, reason: str = "UNWANTED_ITEM") -> str:
    body = {"orderId": order_id, "items": [{"sku": SKU, "quantity": 2, "reason": reason}]}
    status, ret = call_api(stack, context, "POST", "/returns", body)
    assert status == 201, ret
    receipt = {"items": [{"sku": SKU, "quantity": 2, "grade": "sellable"}]}
    assert call_api(stack, context, "POST", f"/returns/{ret['returnId']}/receipts", receipt)[0] == 201
    return str(ret["returnId"])


def _return(stack, context, return_id: str) -> dict:
    status, ret = call_api(stack, context, "GET", f"/returns/{return_id}")
    assert status == 200
    return ret


def test_a_received_return_is_refunded_through_the_feed_and_confirmed_by_finances(
    stack, context, amazon, shipped
):
    heard = Heard(amazon, stack)
    sender = stack.handler("submit_refunds")
    stream = TableStream(stack, "submit_refunds", sender.lambda_handler)
    stream.deliver()  # the setup's changes: nothing to send
    return_id = _received_return(stack, context, shipped)
    price = amazon.marketplace.snapshot(shipped).lines[0].unit_price

    # when the seller refunds it in full, keeping a restocking fee of 10% (the buyer no longer wanted it)
    fee = f"{price * 2 / 10:.2f}"
    body = {"restockingFee": {"amount": fee, "currencyCode": "USD"}}
    status, ret = call_api(
        stack, context, "POST", f"/returns/{return_id}/refund", body, headers={"Idempotency-Key": "rf-1"}
    )
    assert status == 202, ret
    assert ret["refund"]["status"] == "pending"
    assert ret["refund"]["amount"] == {"amount": f"{price * 2 - price * 2 / 10:.2f}", "currencyCode": "USD"}
    assert call_api(
        stack, context, "POST", f"/returns/{return_id}/refund", body, headers={"Idempotency-Key": "rf-1"}
    ) == (200, ret)
    other = {"restockingFee": {"amount": "0.01", "currencyCode": "USD"}}
    status, answer = call_api(
        stack, context, "POST", f"/returns/{return_id}/refund", other, headers={"Idempotency-Key": "rf-1"}
    )
    assert status == 409 and "different refund" in answer["error"]["message"]

    # then it is sent once as an adjustment feed, and Amazon's report makes it submitted: the return is refunded
    stream.deliver()
    stream.deliver()  # its own claim and feed id come back on the stream: nothing is sent twice
    assert calls(amazon, "createFeed") == 1
    (notice,) = heard.apply("FEED_PROCESSING_FINISHED")
    assert (
        notice["payload"]["feedProcessingFinishedNotification"]["feedType"] == "POST_PAYMENT_ADJUSTMENT_DATA"
    )
    after = _return(stack, context, return_id)
    assert after["status"] == "refunded"
    assert after["refund"]["status"] == "submitted"
    assert after["refund"]["feedId"] == notice["payload"]["feedProcessingFinishedNotification"]["feedId"]
    assert after["flags"] == []
    assert default_table().get(keys.return_key(return_id)).get("gsi3pk") is None  # off the refund clock

    # a second refund is refused
    status, answer = call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})
    assert status == 409 and "refunded once" in answer["error"]["message"]

    # and the refund check confirms it once Finances shows the refund event
    checker = stack.handler("check_refunds")
    assert checker.lambda_handler({}, context)["confirmed"] == 1
    done = _return(stack, context, return_id)
    assert done["refund"]["status"] == "confirmed"
    assert default_table().get(keys.open_refund_key(return_id)) is None
    assert checker.lambda_handler({}, context)["checked"] == 0
    # what one refund costs at Amazon: one document, one feed, one report read, one finances read
    spent = {
        op: calls(amazon, op)
        for op in (
            "createFeedDocument",
            "createFeed",
            "getFeed",
            "getFeedDocument",
            "listFinancialEventsByOrderId",
        )
    }
    assert spent == {
        "createFeedDocument": 1,
        "createFeed": 1,
        "getFeed": 0,
        "getFeedDocument": 1,
        "listFinancialEventsByOrderId": 1,
    }


def test_a_refused_refund_stays_visible_and_is_sent_again(stack, context, amazon, shipped):
    heard = Heard(amazon, stack)
    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    return_id = _received_return(stack, context, shipped)
    amazon.marketplace.refuse_adjustments(1)

    assert call_api(stack, context, "POST", f"/returns/{return_id}/refund")[0] == 202  # no body: everything
    stream.deliver()
    heard.apply("FEED_PROCESSING_FINISHED")
    refused = _return(stack, context, return_id)
    assert refused["refund"]["status"] == "refused"
    assert "could not be processed" in refused["refund"]["reason"]
    assert refused["status"] == "restocked"  # still awaiting its refund: the clock runs on
    assert default_table().get(keys.return_key(return_id))["gsi3pk"] == keys.REFUNDS_DUE
    assert "refund refused by Amazon" in refused["timeline"][-1]["note"]

    status, again = call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})
    assert status == 202 and again["refund"]["attempt"] == 2
    stream.deliver()
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"
    assert calls(amazon, "createFeed") == 2


def test_more_than_paid_or_a_fee_the_policy_forbids_is_a_409_and_nothing_is_written(
    stack, context, amazon, shipped
):
    return_id = _received_return(stack, context, shipped, reason="DEFECTIVE")
    price = amazon.marketplace.snapshot(shipped).lines[0].unit_price
    too_much = {
        "items": [{"sku": SKU, "components": [{"type": "Principal", "amount": f"{price * 2 + 1:.2f}"}]}]
    }
    status, answer = call_api(stack, context, "POST", f"/returns/{return_id}/refund", too_much)
    assert status == 409 and "cannot refund" in answer["error"]["message"]
    assert answer["error"]["details"][0]["field"] == "items[0].components[0].amount"
    fee = {"restockingFee": {"amount": "1.00", "currencyCode": "USD"}}
    status, answer = call_api(stack, context, "POST", f"/returns/{return_id}/refund", fee)
    assert status == 409 and "defective" in answer["error"]["message"]
    status, answer = call_api(
        stack, context, "POST", f"/returns/{return_id}/refund", {"items": [{"sku": "NOPE"}]}
    )
    assert status == 409
    status, answer = call_api(stack, context, "POST", "/returns/RET-NOPE/refund", {})
    assert status == 404
    assert _return(stack, context, return_id)["refund"] is None
    assert default_table().get(keys.open_refund_key(return_id)) is None


def test_a_crash_between_create_feed_and_its_write_never_sends_a_second_feed(
    stack, context, amazon, shipped, monkeypatch
):
    """The sender crashed after Amazon made the feed, before its id was written. The stream's retry of the same
    record knows its sender is gone; it held the marketplace's sending slot, so the one adjustment feed Amazon
    lists that nobody here recorded is this refund's: recorded as its feed, and never sent again."""
    heard = Heard(amazon, stack)
    sender = stack.handler("submit_refunds")
    stream = TableStream(stack, "submit_refunds", sender.lambda_handler)
    stream.deliver()
    return_id = _received_return(stack, context, shipped)
    assert call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})[0] == 202

    from oms.returns import refunds

    real = refunds.sent
    crashes: list[str] = []

    def crash_once(ret, feed_id):
        if not crashes:
            crashes.append(feed_id)
            raise RuntimeError("the function died after createFeed")
        return real(ret, feed_id)

    with monkeypatch.context() as dying:
        dying.setattr(refunds, "sent", crash_once)
        stream.deliver()  # the batch fails and is retried: its sender is gone, the slot keeps the refund
    assert calls(amazon, "createFeed") == 1
    pending = _return(stack, context, return_id)["refund"]
    assert pending["status"] == "pending" and pending["feedId"] is None
    heard.apply("FEED_PROCESSING_FINISHED")  # a feed nobody here knows of yet: acknowledged, nothing changes
    # a minute on (Amazon surely lists a feed made by then), not the 5 minutes an unknown sender is given
    assert _check(amazon, timedelta(seconds=30))["settled"] == 0
    assert _check(amazon, timedelta(minutes=2))["settled"] == 1  # found, and getFeed's report settles it
    refund = _return(stack, context, return_id)["refund"]
    assert (refund["status"], refund["feedId"]) == ("submitted", crashes[0])
    assert list(default_table().query_all(keys.refund_slots())) == []  # released: the next refund may go

    # the refund check finds Amazon's refund event for the order: confirmed, once
    checker = stack.handler("check_refunds")
    assert checker.lambda_handler({}, context)["confirmed"] == 1
    after = _return(stack, context, return_id)
    assert (after["status"], after["refund"]["status"]) == ("refunded", "confirmed")
    assert calls(amazon, "createFeed") == 1


def _send_dies(stack, context, amazon, monkeypatch, where: str) -> tuple[str, TableStream]:
    """A received return's refund requested, and its sender's process dying at `where`: before its batch took
    the sending slot (the document's upload: nothing claimed) or after (claimed, no feed id recorded)."""
    from oms.returns import refunds

    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    return_id = _received_return(stack, context, _shipped_id(amazon))
    assert call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})[0] == 202

    def die(*args, **kwargs):
        raise _Died(f"the function died in {where}")  # the process ends: nothing of it runs on

    with monkeypatch.context() as dying, pytest.raises(_Died):
        dying.setattr(refunds, where, die)
        stream.deliver()
    pending = _return(stack, context, return_id)["refund"]
    assert pending["status"] == "pending" and pending["feedId"] is None
    assert bool(pending["claimedAt"]) == (where != "upload_feed_document")
    return return_id, stream


def _shipped_id(amazon) -> str:
    return next(iter(amazon.marketplace.orders))


def _check(amazon, later: timedelta) -> dict[str, int]:
    from oms.returns.refunds import check_refunds

    return check_refunds(
        default_table(), fast_client(amazon), seller_id=SELLER, now=datetime.now(UTC) + later
    )


def test_a_sender_that_died_before_create_feed_is_sent_again_once_amazon_lists_no_stray_feed(
    stack, context, amazon, shipped, monkeypatch
):
    heard = Heard(amazon, stack)
    return_id, _ = _send_dies(stack, context, amazon, monkeypatch, "upload_feed_document")
    assert calls(amazon, "createFeed") == 0

    assert _check(amazon, timedelta(minutes=1))["sent"] == 0  # the sender may still be at work
    assert _check(amazon, timedelta(minutes=6))["sent"] == 1  # getFeeds lists no feed nobody recorded
    assert calls(amazon, "createFeed") == 1
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


def test_one_return_the_check_cannot_read_does_not_keep_the_others_waiting(
    stack, context, amazon, shipped, monkeypatch
):
    from botocore.exceptions import ClientError

    from oms.returns.records import ReturnRecords

    heard = Heard(amazon, stack)
    return_id, _ = _send_dies(stack, context, amazon, monkeypatch, "upload_feed_document")
    # another open refund, first in the check's order, whose return's read is throttled past the SDK's retries
    stuck = "RET-000000000000"
    default_table().put({**keys.open_refund_key(stuck), "returnId": stuck})
    read = ReturnRecords.get

    def throttled(self, wanted):
        if wanted == stuck:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "GetItem",
            )
        return read(self, wanted)

    monkeypatch.setattr(ReturnRecords, "get", throttled)

    counts = _check(amazon, timedelta(minutes=6))

    assert (counts["failed"], counts["sent"]) == (1, 1)  # the throttled one waits for the next run alone
    assert calls(amazon, "createFeed") == 1
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


def test_a_sender_that_died_after_create_feed_has_its_feed_found_once_its_grace_is_over(
    stack, context, amazon, shipped, monkeypatch
):
    amazon.marketplace.config.refund_posting_seconds = (3600.0, 3600.0)  # Finances shows it an hour later
    return_id, _ = _send_dies(stack, context, amazon, monkeypatch, "sent")
    assert calls(amazon, "createFeed") == 1

    assert _check(amazon, timedelta(minutes=1))["settled"] == 0  # its sender may still be at work
    assert _return(stack, context, return_id)["refund"]["feedId"] is None
    # past the sender's timeout: the one feed nobody recorded since it took the slot is its own, and Amazon's
    # report on it settles the refund (its notification came while nobody knew the feed: getFeed asked)
    assert _check(amazon, timedelta(minutes=6))["settled"] == 1
    refund = _return(stack, context, return_id)["refund"]
    assert (refund["status"], refund["feedId"] is not None) == ("submitted", True)
    assert calls(amazon, "createFeed") == 1


def _sellers_own_adjustment_feed(amazon) -> str:
    """An order adjustment feed the seller uploaded themselves (Seller Central, another tool)."""
    from oms.amazon.feeds_api import create_feed, upload_feed_document
    from oms.domain.refunds import FEED_TYPE

    client = fast_client(amazon)
    document = upload_feed_document(client, MARKETPLACE, b"<AmazonEnvelope/>")
    return create_feed(client, MARKETPLACE, FEED_TYPE, document)


def test_two_feeds_nobody_recorded_in_a_dead_senders_slot_wait_for_finances_then_are_refused(
    stack, context, amazon, shipped, monkeypatch
):
    """Which of two unrecorded feeds is the refund's cannot be told (Amazon names no order on a feed): neither is
    taken for it; Amazon's finances confirm it, or after 48 hours with nothing there it is refused, to send
    again. Other refunds are not held up: the slot is released and both feeds are marked as nobody's."""
    amazon.marketplace.config.refund_posting_seconds = (3600.0, 3600.0)  # Finances shows it an hour later
    return_id, _ = _send_dies(stack, context, amazon, monkeypatch, "sent")
    _sellers_own_adjustment_feed(amazon)
    assert calls(amazon, "createFeed") == 2

    assert _check(amazon, timedelta(minutes=6))["sent"] == 0
    pending = _return(stack, context, return_id)["refund"]
    assert (pending["status"], pending["feedId"]) == ("pending", None)
    assert list(default_table().query_all(keys.refund_slots())) == []
    # 48 hours on (Amazon's posting delay) with no refund event for the order, it is refused, to send again
    assert _check(amazon, timedelta(hours=49))["refused"] == 1
    refused = _return(stack, context, return_id)
    assert refused["refund"]["status"] == "refused"
    assert "interrupted" in refused["refund"]["reason"]
    assert calls(amazon, "createFeed") == 2


def _second_return(stack, context, amazon, n: int = 5) -> str:
    """Another buyer's order shipped and returned: a second (or further) refund for the same marketplace."""
    return _received_return(stack, context, _shipped_order(amazon, f"1Z999AA1012345678{n}"))


def _refund_asked(stack, context, amazon, shipped) -> tuple[Heard, TableStream, str]:
    """The stream sender following the table (the setup's changes played: nothing to send), Amazon's
    notifications heard, and a received return's refund asked for through the API, not yet sent."""
    heard = Heard(amazon, stack)
    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    return_id = _received_return(stack, context, shipped)
    assert call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})[0] == 202
    return heard, stream, return_id


@pytest.mark.parametrize("amazon_made_it", [False, True])
def test_a_lost_create_feed_answer_with_another_refund_dying_after_its_feed_still_refunds_each_once(
    stack, context, amazon, shipped, monkeypatch, amazon_made_it
):
    """The fault drill's seed 9: refund A's createFeed answered 503 (Amazon had, or had not, made the feed);
    refund B's sender died after Amazon made B's feed. Both were in flight at once, so Amazon listed a feed
    nobody recorded that could have been either's, and A waited 48 hours for Amazon's finances. Now one
    refund at a time holds the marketplace's sending slot between createFeed and its answer: B waits while
    A's slot is held, A's is settled a minute on from getFeeds, then B goes; each buyer is refunded once."""
    from oms.amazon.errors import SpApiError
    from oms.returns import refunds

    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    first = _received_return(stack, context, shipped)
    second = _second_return(stack, context, amazon)
    real_create, real_sent = refunds.create_feed, refunds.sent

    def lost_answer(client, marketplace, feed_type, document):
        if amazon_made_it:
            real_create(client, marketplace, feed_type, document)
        raise SpApiError("createFeed", 503, "ServiceUnavailable", "try again")

    assert call_api(stack, context, "POST", f"/returns/{first}/refund", {})[0] == 202
    with monkeypatch.context() as flaky:
        flaky.setattr(refunds, "create_feed", lost_answer)
        stream.deliver()
    slot = default_table().get(keys.refund_slot_key(MARKETPLACE))
    assert [(r["returnId"], r["messageId"]) for r in slot["refunds"]] == [(first, 1)]

    assert call_api(stack, context, "POST", f"/returns/{second}/refund", {})[0] == 202
    stream.deliver()  # A holds the slot: B waits, nothing written
    assert _return(stack, context, second)["refund"]["claimedAt"] is None
    assert _check(amazon, timedelta(seconds=30))["sent"] == 0  # too soon to ask Amazon about A's feed

    def b_dies(ret, feed_id):
        if ret.return_id == second:
            raise _Died("the refund check died after B's createFeed")
        return real_sent(ret, feed_id)

    with monkeypatch.context() as dying:  # a minute on: A settled from getFeeds; B sent, and its sender dies
        dying.setattr(refunds, "sent", b_dies)
        while _return(stack, context, second)["refund"]["claimedAt"] is None:
            try:
                _check(amazon, timedelta(minutes=3))
            except _Died:
                break
    assert _return(stack, context, second)["refund"]["feedId"] is None
    for _ in range(3):  # past B's sender's grace: B's feed found in its slot; getFeed settles both
        _check(amazon, timedelta(minutes=10))
    for return_id in (first, second):
        assert _return(stack, context, return_id)["refund"]["status"] in ("submitted", "confirmed")
    feeds = [key for operation, key in amazon.server.acted if operation == "createFeed"]
    # A's feed and B's; or, when A's createFeed made nothing, A given back goes with B in one feed
    assert len(feeds) == (2 if amazon_made_it else 1)
    assert sorted(amazon.server.acted_view()["refundPostings"].values()) == [1, 1]  # each buyer refunded once
    assert list(default_table().query_all(keys.refund_slots())) == []


def test_create_feed_is_never_retried_after_a_5xx_and_after_a_429_waits_for_the_budget(
    stack, context, amazon, shipped
):
    heard, stream, return_id = _refund_asked(stack, context, amazon, shipped)

    # a 500 may mean Amazon made the feed: the sender stops, keeping its claim; nothing is sent twice
    inject_fault(amazon, "createFeed", 500, 1)
    stream.deliver()
    assert calls(amazon, "createFeed") == 1
    assert _return(stack, context, return_id)["refund"]["claimedAt"]
    # this 500 came before Amazon did anything: once the claim is old, getFeeds shows no stray feed and the
    # refund check sends it; Amazon throttles (429): the shared budget now waits for createFeed's slow refill
    # (one every 2 minutes), so the claim is released and the next run sends it
    inject_fault(amazon, "createFeed", 429, 1)
    assert _check(amazon, timedelta(minutes=6))["sent"] == 0
    assert calls(amazon, "createFeed") == 2
    assert _return(stack, context, return_id)["refund"]["claimedAt"] is None
    default_table().delete(keys.rate_bucket_key("na", "createFeed"))  # two minutes later, as far as it goes
    assert _check(amazon, timedelta(minutes=6))["sent"] == 1
    assert (calls(amazon, "createFeed"), calls(amazon, "createFeed", "faults")) == (3, 2)
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


def test_a_finished_feed_nobody_here_sent_is_acknowledged(stack, context, caplog):
    event = load_event("ingest_notifications/feed_finished.json")
    with caplog.at_level("INFO"):
        assert stack.handler("ingest_notifications").lambda_handler(event, context) == {
            "batchItemFailures": []
        }
    assert "a feed not sent by the refunds finished" in caplog.text  # ours to look at, not another stack's


def test_a_throttled_read_while_sending_leaves_no_claim_so_the_streams_retry_sends_it_at_once(
    stack, context, amazon, shipped, monkeypatch
):
    """The fault drill's finding: the order's read came after the claim, so a throttle there left the refund
    claimed and unsent until the refund check's grace period (minutes); now nothing is claimed before it."""
    from botocore.exceptions import ClientError

    from oms.returns import refunds

    heard, stream, return_id = _refund_asked(stack, context, amazon, shipped)

    real = refunds.OrderRepository.get
    throttles = [1]

    def throttled_once(self, order_id):
        if throttles:
            throttles.pop()
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}},
                "GetItem",
            )
        return real(self, order_id)

    with monkeypatch.context() as busy:
        busy.setattr(refunds.OrderRepository, "get", throttled_once)
        stream.deliver()  # the first try fails on the read; the stream's retry of the batch sends it
    assert throttles == []
    assert calls(amazon, "createFeed") == 1
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


@pytest.mark.parametrize("how", ["met itself", "500 after applying"])
def test_a_claim_the_sdk_wrote_twice_is_still_the_senders_own_and_the_refund_goes_at_once(
    stack, context, amazon, shipped, monkeypatch, how
):
    """The fault drill's finding: the claim's write applied, its answer was lost and the SDK sent it again,
    which met the claim (a version conflict); the sender read the claim back as another sender's, interrupted,
    and left the refund to the refund check's 5-minute grace (then getFeeds, then a resend), past the drill's
    wait when it happened twice. The claim is now the transaction that takes the sending slot for a batch:
    a slot naming this sender's own batch is its own, and it sends at once (also when the write's answer was
    a 500 after DynamoDB applied it)."""
    from botocore.exceptions import ClientError

    from oms.store.table import Table

    heard, stream, return_id = _refund_asked(stack, context, amazon, shipped)

    real = Table.transact
    played: list[str] = []

    def applied_twice(self, writes):
        real(self, writes)
        slot = next((w.item for w in writes if (w.item or {}).get("entity") == "RefundSlot"), None)
        if slot is not None and not played:
            played.append(str(slot["batchId"]))
            if how == "met itself":
                real(self, writes)  # the SDK's retry of the write whose answer was lost: it meets itself
            else:
                error = {"Error": {"Code": "InternalServerError", "Message": "after applying"}}
                raise ClientError(error, "TransactWriteItems")

    with monkeypatch.context() as retried:
        retried.setattr(Table, "transact", applied_twice)
        stream.deliver()
    assert played  # the claim's write did meet itself
    assert calls(amazon, "createFeed") == 1  # sent by this sender, not left claimed for the check
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


class _Died(BaseException):
    """The sender's process ended mid-way (a timeout, an out-of-memory kill): nothing of it runs on."""


@pytest.mark.parametrize("died_in", ["upload_feed_document", "sent"])
def test_a_stream_sender_that_died_after_its_claim_is_followed_at_once_by_the_streams_retry(
    stack, context, amazon, shipped, monkeypatch, died_in
):
    """The fault drill's finding: the stream's sender died between its claim and recording the feed; the
    stream's retry of the same record found the claim, took it for another sender's and left it to the refund
    check's 5-minute grace. The retry comes only once the try before it ended, so there is nobody to wait for:
    died before createFeed, it sends now; died after it (holding the sending slot), nothing is sent again and
    the refund check settles the slot a minute on."""
    from oms.returns import refunds
    from oms.store.table import to_dynamo

    heard, _stream, return_id = _refund_asked(stack, context, amazon, shipped)
    image = default_table().get(keys.return_key(return_id), consistent=True)
    records = [{"dynamodb": {"NewImage": to_dynamo(image), "SequenceNumber": "4200"}}]  # its stream record

    def die(*args, **kwargs):
        raise _Died(died_in)

    with monkeypatch.context() as dying, pytest.raises(_Died):
        dying.setattr(refunds, died_in, die)
        refunds.send_from_stream(default_table(), fast_client(amazon), records, seller_id=SELLER)
    # claimed with the slot, after the document's upload: a death before it leaves nothing claimed
    assert bool(_return(stack, context, return_id)["refund"]["claimedAt"]) == (died_in == "sent")
    fed = calls(amazon, "createFeed")

    assert refunds.send_from_stream(default_table(), fast_client(amazon), records, seller_id=SELLER) is None

    if died_in == "upload_feed_document":  # never reached createFeed: sent by the retry, once
        assert calls(amazon, "createFeed") == fed + 1 == 1
        heard.apply("FEED_PROCESSING_FINISHED")
        assert _return(stack, context, return_id)["refund"]["status"] == "submitted"
    else:  # createFeed made the feed before the death: not sent again; a minute on, it is found as the refund's
        assert calls(amazon, "createFeed") == fed == 1
        assert _return(stack, context, return_id)["refund"]["status"] == "pending"
        assert _check(amazon, timedelta(minutes=2))["settled"] == 1
        assert _return(stack, context, return_id)["refund"]["status"] == "submitted"
        assert calls(amazon, "createFeed") == 1


def test_a_document_upload_that_failed_gives_the_claim_back_for_the_streams_retry(
    stack, context, amazon, shipped, monkeypatch
):
    """The fault drill's finding: the connection dropped while the feed document was made (createFeedDocument
    timed out), before createFeed; the sender kept its claim as if the feed might exist, and the refund waited
    for the refund check's 5-minute grace. No feed can exist then: the claim is given back and the stream's
    retry of the batch sends it."""
    import urllib3

    from oms.returns import refunds

    heard, stream, return_id = _refund_asked(stack, context, amazon, shipped)
    real = refunds.upload_feed_document
    dropped: list[int] = []

    def drops_once(*args, **kwargs):
        if not dropped:
            dropped.append(1)
            raise urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
        return real(*args, **kwargs)

    with monkeypatch.context() as flaky:
        flaky.setattr(refunds, "upload_feed_document", drops_once)
        stream.deliver()  # the first try fails before createFeed; the stream's retry of the batch sends it
    assert dropped
    assert calls(amazon, "createFeed") == 1
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


def test_a_table_refusing_a_moment_while_the_feed_id_is_recorded_does_not_hold_the_slot(
    stack, context, amazon, shipped, monkeypatch
):
    """The fault drill (seed 13): Amazon made the feed, then recording its id met a DynamoDB server error past
    the SDK's retries; the sender stopped holding the marketplace's sending slot, and every refund waited for
    the sender's 5-minute grace. A step the table refused for a moment is now tried again."""
    from botocore.exceptions import ClientError

    from oms.store.table import Table

    heard, stream, return_id = _refund_asked(stack, context, amazon, shipped)
    real = Table.transact
    refused: list[str] = []

    def server_error_once(self, writes):
        if not refused and any((w.item or {}).get("entity") == "RefundFeed" for w in writes):
            refused.append("InternalServerError")
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "a moment"}}, "TransactWriteItems"
            )
        return real(self, writes)

    with monkeypatch.context() as flaky:
        flaky.setattr(Table, "transact", server_error_once)
        stream.deliver()
    assert refused
    refund = _return(stack, context, return_id)["refund"]
    assert refund["feedId"] and calls(amazon, "createFeed") == 1
    assert list(default_table().query_all(keys.refund_slots())) == []
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


# --- batches: one adjustment feed carries every refund of the marketplace that is ready ----------------------


def _refunds_asked(stack, context, amazon, shipped, count: int) -> list[str]:
    """`count` buyers' orders returned and their refunds asked for, oldest first, before anything is sent."""
    return_ids = [_received_return(stack, context, shipped)]
    return_ids += [_second_return(stack, context, amazon, n) for n in range(5, 4 + count)]
    for return_id in return_ids:
        assert call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})[0] == 202
    return return_ids


def _postings(amazon) -> list[int]:
    """How many times Amazon refunded each order that was refunded."""
    return sorted(amazon.server.acted_view()["refundPostings"].values())


def test_several_refunds_ready_at_once_go_in_one_feed_one_message_each(stack, context, amazon, shipped):
    heard = Heard(amazon, stack)
    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    return_ids = _refunds_asked(stack, context, amazon, shipped, 3)

    stream.deliver()
    stream.deliver()  # their claims and feed ids come back on the stream: nothing is sent twice
    assert (calls(amazon, "createFeedDocument"), calls(amazon, "createFeed")) == (1, 1)
    (notice,) = heard.apply("FEED_PROCESSING_FINISHED")
    feed_id = notice["payload"]["feedProcessingFinishedNotification"]["feedId"]
    marker = default_table().get(keys.refund_feed_key(feed_id))
    assert [(r["returnId"], r["messageId"]) for r in marker["refunds"]] == [
        (return_id, n) for n, return_id in enumerate(return_ids, start=1)
    ]
    for return_id in return_ids:
        after = _return(stack, context, return_id)
        assert (after["status"], after["refund"]["status"], after["refund"]["feedId"]) == (
            "refunded",
            "submitted",
            feed_id,
        )
    assert calls(amazon, "getFeedDocument") == 1  # one report read for the three
    assert _postings(amazon) == [1, 1, 1]
    assert stack.handler("check_refunds").lambda_handler({}, context)["confirmed"] == 3
    assert list(default_table().query_all(keys.refund_slots())) == []


def test_one_message_refused_by_the_report_refuses_its_refund_only(stack, context, amazon, shipped):
    heard = Heard(amazon, stack)
    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    amazon.marketplace.refuse_adjustments(1)  # Amazon refuses the first message it processes: MessageID 1
    first, *others = _refunds_asked(stack, context, amazon, shipped, 3)

    stream.deliver()
    heard.apply("FEED_PROCESSING_FINISHED")
    assert calls(amazon, "createFeed") == 1
    refused = _return(stack, context, first)
    assert refused["refund"]["status"] == "refused"
    assert "could not be processed" in refused["refund"]["reason"]
    assert refused["status"] == "restocked"  # still awaiting its refund
    for return_id in others:
        assert _return(stack, context, return_id)["refund"]["status"] == "submitted"
    assert _postings(amazon) == [1, 1]

    # the refused one, asked again, goes alone in the next feed
    assert call_api(stack, context, "POST", f"/returns/{first}/refund", {})[0] == 202
    stream.deliver()
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, first)["refund"]["status"] == "submitted"
    assert calls(amazon, "createFeed") == 2
    assert _postings(amazon) == [1, 1, 1]


@pytest.mark.parametrize("amazon_made_it", [False, True])
def test_a_batch_whose_create_feed_answer_was_lost_is_settled_from_get_feeds(
    stack, context, amazon, shipped, monkeypatch, amazon_made_it
):
    """createFeed answered 503 for a batch of three: a minute on, the one adjustment feed nobody here recorded
    is the batch's (each refund gets it and its report settles each), or there is none and the three are
    sent again, together; every buyer is refunded once."""
    from oms.amazon.errors import SpApiError
    from oms.returns import refunds

    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    return_ids = _refunds_asked(stack, context, amazon, shipped, 3)
    real_create = refunds.create_feed

    def lost_answer(client, marketplace, feed_type, document):
        if amazon_made_it:
            real_create(client, marketplace, feed_type, document)
        raise SpApiError("createFeed", 503, "ServiceUnavailable", "try again")

    with monkeypatch.context() as flaky:
        flaky.setattr(refunds, "create_feed", lost_answer)
        stream.deliver()
    slot = default_table().get(keys.refund_slot_key(MARKETPLACE))
    assert [r["returnId"] for r in slot["refunds"]] == return_ids and slot["unknownAt"]
    for return_id in return_ids:
        pending = _return(stack, context, return_id)["refund"]
        assert (pending["status"], bool(pending["claimedAt"]), pending["feedId"]) == ("pending", True, None)

    assert _check(amazon, timedelta(seconds=30))["sent"] == 0  # too soon to ask Amazon
    counts = _check(amazon, timedelta(minutes=2))
    if amazon_made_it:  # found as the batch's feed: not sent again, settled from getFeed
        assert (counts["sent"], counts["settled"]) == (0, 1)
    else:  # createFeed made nothing: the three are ready again and go in one new feed
        assert counts["sent"] == 3
        _check(amazon, timedelta(minutes=2))  # getFeed settles them (their notification is not applied here)
    feeds = {_return(stack, context, r)["refund"]["feedId"] for r in return_ids}
    assert len(feeds) == 1 and None not in feeds
    for return_id in return_ids:
        assert _return(stack, context, return_id)["refund"]["status"] in ("submitted", "confirmed")
    assert len([k for op, k in amazon.server.acted if op == "createFeed"]) == 1
    assert _postings(amazon) == [1, 1, 1]
    assert list(default_table().query_all(keys.refund_slots())) == []


def test_more_refunds_ready_than_a_feed_carries_go_in_several_feeds_while_create_feed_has_tokens(
    stack, context, amazon, shipped, monkeypatch
):
    """A feed carries at most BATCH_CAP refunds (40: the slot, each return and its ready marker fit one
    DynamoDB transaction); the oldest go first. One run of the check sends full feed after full feed while
    createFeed has tokens (it sent one feed a run: a backlog past the burst drained 40 refunds in 15 minutes);
    the run with no token left sends nothing more and the next run sends the rest."""
    from oms.returns import refunds

    assert 2 * refunds.BATCH_CAP + 1 <= 100  # taking the slot: the slot, each return, each ready marker
    monkeypatch.setattr(refunds, "BATCH_CAP", 2)
    return_ids = _refunds_asked(stack, context, amazon, shipped, 5)  # not streamed: the check sends

    assert _check(amazon, timedelta(minutes=3))["sent"] == 5
    assert calls(amazon, "createFeed") == 3
    sent = [_return(stack, context, r)["refund"]["feedId"] for r in return_ids]
    assert sent[0] == sent[1] and sent[2] == sent[3] and len({sent[0], sent[2], sent[4]}) == 3  # oldest first
    for _ in range(2):
        _check(amazon, timedelta(minutes=4))
    for return_id in return_ids:
        assert _return(stack, context, return_id)["refund"]["status"] in ("submitted", "confirmed")
    assert _postings(amazon) == [1, 1, 1, 1, 1]


def test_a_check_run_whose_create_feed_tokens_run_out_leaves_the_rest_for_the_next_run(
    stack, context, amazon, shipped, monkeypatch
):
    from oms.returns import refunds

    monkeypatch.setattr(refunds, "BATCH_CAP", 2)
    return_ids = _refunds_asked(stack, context, amazon, shipped, 3)
    real = refunds.create_feed
    feeds: list[int] = []

    def second_throttled(*args, **kwargs):
        feeds.append(1)
        if len(feeds) == 2:  # Amazon throttles the second feed: the shared budget empties for 2 minutes
            inject_fault(amazon, "createFeed", 429, 1)
        return real(*args, **kwargs)

    monkeypatch.setattr(refunds, "create_feed", second_throttled)
    assert _check(amazon, timedelta(minutes=3))["sent"] == 2
    assert calls(amazon, "createFeed") == 2
    assert _return(stack, context, return_ids[2])["refund"]["claimedAt"] is None  # ready again, not held
    default_table().delete(keys.rate_bucket_key("na", "createFeed"))  # two minutes later, as far as it goes
    assert _check(amazon, timedelta(minutes=3))["sent"] == 1
    assert calls(amazon, "createFeed") == 3


def test_a_stream_send_without_a_create_feed_token_leaves_the_refunds_ready_and_fails_no_record(
    stack, context, amazon, shipped
):
    """createFeed gives one token in 2 minutes once its burst is spent (listings feeds spend it too). A stream
    send that found none raised, so the stream retried the record, each retry uploading a document, until its 20
    retries were spent and the record went to the failed-invocations queue, not being poison. Now the refunds
    are made ready again for the next send (a new refund's record, the refund check) and the record is done."""
    heard = Heard(amazon, stack)
    stream = TableStream(stack, "submit_refunds", stack.handler("submit_refunds").lambda_handler)
    stream.deliver()
    return_id = _received_return(stack, context, shipped)
    inject_fault(amazon, "createFeed", 429, 1)  # Amazon throttles: the shared budget empties for 2 minutes
    assert call_api(stack, context, "POST", f"/returns/{return_id}/refund", {})[0] == 202

    stream.deliver()
    assert all(not (answer or {}).get("batchItemFailures") for answer in stream.answers)
    assert calls(amazon, "createFeed") == 1
    assert _return(stack, context, return_id)["refund"]["claimedAt"] is None
    default_table().delete(keys.rate_bucket_key("na", "createFeed"))  # two minutes later, as far as it goes
    assert _check(amazon, timedelta(minutes=3))["sent"] == 1
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, return_id)["refund"]["status"] == "submitted"


def test_a_send_while_create_feed_has_no_token_takes_no_batch_and_uploads_no_document(
    stack, context, amazon, shipped
):
    """The budget is asked before the batch is taken. With createFeed's bucket empty (one token in 2 minutes),
    a send took the slot and its refunds, uploaded the feed document, then gave it all back; each refund asked
    meanwhile did it again (a createFeedDocument and two transactions of up to 81 writes). Now none is done."""
    heard, stream, return_id = _refund_asked(stack, context, amazon, shipped)
    inject_fault(amazon, "createFeed", 429, 1)  # Amazon throttles: the shared budget empties for 2 minutes
    stream.deliver()
    documents = calls(amazon, "createFeedDocument")
    second = _second_return(stack, context, amazon, 5)
    assert call_api(stack, context, "POST", f"/returns/{second}/refund", {})[0] == 202

    stream.deliver()
    assert _check(amazon, timedelta(minutes=3))["sent"] == 0
    assert (calls(amazon, "createFeedDocument"), calls(amazon, "createFeed")) == (documents, 1)
    assert list(default_table().query_all(keys.refund_slots())) == []
    for waiting in (return_id, second):
        assert _return(stack, context, waiting)["refund"]["claimedAt"] is None
    default_table().delete(keys.rate_bucket_key("na", "createFeed"))  # two minutes later, as far as it goes
    assert _check(amazon, timedelta(minutes=3))["sent"] == 2  # both in one feed
    assert (calls(amazon, "createFeedDocument"), calls(amazon, "createFeed")) == (documents + 1, 2)
    heard.apply("FEED_PROCESSING_FINISHED")
    assert _return(stack, context, second)["refund"]["status"] == "submitted"
