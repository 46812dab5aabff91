"""Returns through the API on moto: a seller records a return of a shipped order, receives and grades its
units; sellable units are available again through the ledger, the rest written off, each receipt once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine

from oms.amazon.notifications import Notification
from oms.domain.types import iso_z
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.conftest import TEST_CLOCK
from tests.integration.amazon_side import STREAMS_ENDPOINT

SKU = "MUG-RED"
ALBANY = ZoneInfo("America/New_York")  # the warehouse of WAREHOUSE_SETTINGS


def _order(order_id: str, status: str, items: list[tuple[str, int, int]], channel: str = "MFN") -> None:
    document = order_change(order_id, status, items, channel=channel)
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


@pytest.fixture
def shipped(stack, context) -> str:
    """The warehouse set up, 10 mugs on hand, and order 111-1 for 3 mugs shipped: 7 left on hand."""
    assert call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(default_table(), SKU, StockPolicy())
    adjust_stock(default_table(), SKU, 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(SKU, 3, 3)])
    assert StockRepository(default_table()).get(SKU).on_hand == 7
    return "111-1"


def _record(stack, context, order_id: str, quantity: int = 2, **headers: str) -> tuple[int, dict]:
    body = {"orderId": order_id, "items": [{"sku": SKU, "quantity": quantity, "reason": "NOT_AS_DESCRIBED"}]}
    return call_api(stack, context, "POST", "/returns", body, headers=headers or None)


def _receive(stack, context, return_id: str, *lines: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Idempotency-Key": key} if key else None
    return call_api(
        stack, context, "POST", f"/returns/{return_id}/receipts", {"items": list(lines)}, headers=headers
    )


def _ledger(stack, context) -> list[tuple[int, str, str | None]]:
    items = call_api(stack, context, "GET", f"/inventory/{SKU}/ledger")[1]["items"]
    return [(e["delta"], e["reason"], e["reference"]) for e in items]


def test_a_seller_records_a_return_of_a_shipped_order_and_finds_it(stack, context, shipped):
    status, ret = _record(stack, context, shipped)

    assert status == 201, ret
    assert (ret["orderId"], ret["source"], ret["status"]) == ("111-1", "seller", "authorized")
    assert ret["items"] == [
        {
            "sku": SKU,
            "quantity": 2,
            "reason": "NOT_AS_DESCRIBED",
            # what Amazon's FBA returns report says of units back at its fulfilment centre: none here
            "disposition": None,
            "fulfillmentCenterId": None,
            "forRemoval": False,
        }
    ]
    assert [e["status"] for e in ret["timeline"]] == ["requested", "authorized"]
    assert ret["receivedAt"] is None and ret["refundDueBy"] is None
    assert ret["requestedAt"].endswith("Z")

    status, one = call_api(stack, context, "GET", f"/returns/{ret['returnId']}")
    assert status == 200 and one == ret
    for query in ({}, {"status": "authorized"}, {"sku": SKU}, {"sku": SKU, "status": "authorized"}):
        listed = call_api(stack, context, "GET", "/returns", query=query)[1]["items"]
        assert [r["returnId"] for r in listed] == [ret["returnId"]], query
    for query in ({"status": "received"}, {"sku": "OTHER"}, {"sku": SKU, "status": "closed"}):
        assert call_api(stack, context, "GET", "/returns", query=query)[1]["items"] == [], query
    assert call_api(stack, context, "GET", "/returns", query={"to": "2020-01-01T00:00:00Z"})[1]["items"] == []


def test_a_return_takes_only_shipped_units_of_the_order_naming_the_field(stack, context, shipped):
    _order("111-2", "Unshipped", [(SKU, 1, 0)])
    _order("AFN-1", "Shipped", [("FBA-MUG", 1, 1)], channel="AFN")
    cases = [
        ({"orderId": "NOPE", "items": [{"sku": SKU, "quantity": 1}]}, 400, "orderId"),
        ({"orderId": shipped, "items": [{"sku": "TEAPOT", "quantity": 1}]}, 400, "items[0].sku"),
        ({"orderId": shipped, "items": [{"sku": SKU, "quantity": 0}]}, 400, "items[0].quantity"),
        ({"orderId": shipped, "items": []}, 400, "items"),
        ({"orderId": shipped, "items": [{"sku": SKU, "quantity": 4}]}, 409, "items[0].quantity"),
        ({"orderId": "111-2", "items": [{"sku": SKU, "quantity": 1}]}, 409, "items[0].quantity"),
        ({"orderId": "AFN-1", "items": [{"sku": "FBA-MUG", "quantity": 1}]}, 409, "orderId"),
    ]
    for body, expected, field in cases:
        status, answer = call_api(stack, context, "POST", "/returns", body)
        assert status == expected, (body, answer)
        assert answer["error"]["details"][0]["field"] == field, (body, answer)

    assert _record(stack, context, shipped, quantity=2)[0] == 201
    status, answer = _record(stack, context, shipped, quantity=2)  # 3 shipped, 2 already returned
    assert status == 409 and "not already returned" in answer["error"]["message"]
    assert answer["error"]["details"] == [{"field": "items[0].quantity", "message": "at most 1"}]
    assert len(call_api(stack, context, "GET", "/returns")[1]["items"]) == 1


def test_a_retried_return_with_the_same_idempotency_key_is_recorded_once(stack, context, shipped):
    first = _record(stack, context, shipped, quantity=1, **{"Idempotency-Key": "ret-1"})
    again = _record(stack, context, shipped, quantity=1, **{"Idempotency-Key": "ret-1"})

    assert first[0] == 201 and again == (200, first[1])
    assert len(call_api(stack, context, "GET", "/returns")[1]["items"]) == 1
    status, answer = _record(stack, context, shipped, quantity=2, **{"Idempotency-Key": "ret-1"})
    assert status == 409 and "different return" in answer["error"]["message"]


ANOTHER_USER = {"sub": "00000000-0000-4000-8000-000000000002", "email": "packer@example.com"}


def test_an_idempotency_key_is_the_callers_own_and_the_routes(stack, context, shipped):
    """Two users (or two tools) that happen to send the same Idempotency-Key never replay, nor are refused
    by, each other's request; nor does one key reused on another route."""
    body = {"orderId": shipped, "items": [{"sku": SKU, "quantity": 1, "reason": "NOT_AS_DESCRIBED"}]}
    mine = call_api(stack, context, "POST", "/returns", body, headers={"Idempotency-Key": "k-1"})
    theirs = call_api(
        stack, context, "POST", "/returns", body, headers={"Idempotency-Key": "k-1"}, claims=ANOTHER_USER
    )
    assert (mine[0], theirs[0]) == (201, 201) and mine[1]["returnId"] != theirs[1]["returnId"]
    assert len(call_api(stack, context, "GET", "/returns")[1]["items"]) == 2

    adjust = {"delta": 1, "reason": "found", "reference": "shelf"}
    path = f"/inventory/{SKU}/adjustments"
    first = call_api(stack, context, "POST", path, adjust, headers={"Idempotency-Key": "k-1"})
    other = call_api(
        stack,
        context,
        "POST",
        path,
        {**adjust, "delta": 2},
        headers={"Idempotency-Key": "k-1"},
        claims=ANOTHER_USER,
    )
    assert (first[0], other[0]) == (201, 201), (first, other)
    assert StockRepository(default_table()).get(SKU).on_hand == 7 + 1 + 2
    receipt = {"sku": SKU, "quantity": 1, "grade": "sellable"}
    for ret, who in ((mine[1], None), (theirs[1], ANOTHER_USER)):
        status, _ = call_api(
            stack, context, "POST", f"/returns/{ret['returnId']}/receipts", {"items": [receipt]},
            headers={"Idempotency-Key": "k-1"}, claims=who,
        )  # fmt: skip
        assert status == 201


def test_a_sellable_unit_is_back_on_hand_with_a_return_ledger_entry_and_available_again(
    stack, context, shipped
):
    return_id = _record(stack, context, shipped)[1]["returnId"]

    status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})

    assert status == 201, ret
    assert ret["status"] == "graded"  # one of two units in: the other is still to come
    row = call_api(stack, context, "GET", f"/inventory/{SKU}")[1]
    assert (row["onHand"], row["available"]) == (8, 8)
    assert _ledger(stack, context)[0] == (1, "return", return_id)
    assert ret["receipts"][0]["items"] == [
        {"sku": SKU, "quantity": 1, "grade": "sellable", "location": "default", "disposition": "restocked"}
    ]


def test_a_damaged_unit_is_written_off_never_available_and_the_ledger_shows_it(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]

    status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "damaged"})

    assert status == 201, ret
    assert ret["status"] == "written-off"
    assert [e["status"] for e in ret["timeline"]][-3:] == ["received", "graded", "written-off"]
    row = call_api(stack, context, "GET", f"/inventory/{SKU}")[1]
    assert (row["onHand"], row["available"]) == (7, 7)
    entry = call_api(stack, context, "GET", f"/inventory/{SKU}/ledger")[1]["items"][0]
    assert (entry["delta"], entry["reason"], entry["reference"]) == (0, "return-write-off", return_id)
    assert "1 unit(s) returned damaged" in entry["note"]


def test_a_list_says_what_became_of_each_unit_one_back_in_stock_one_written_off(stack, context, shipped):
    return_id = _record(stack, context, shipped)[1]["returnId"]
    sellable, damaged = ({"sku": SKU, "quantity": 1, "grade": g} for g in ("sellable", "damaged"))

    status, ret = _receive(stack, context, return_id, sellable, damaged)

    assert status == 201, ret
    assert ret["status"] == "restocked"  # the status names the best outcome; the units say the rest
    listed = call_api(stack, context, "GET", "/returns", query={"sku": SKU})[1]["items"]
    assert [(r["returnId"], r["outcome"]) for r in listed] == [
        (return_id, {"backInStock": 1, "writtenOff": 1})
    ]


def test_receiving_more_than_returned_is_refused_and_writes_nothing(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=2)[1]["returnId"]
    assert _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})[0] == 201
    before = (_ledger(stack, context), call_api(stack, context, "GET", f"/returns/{return_id}")[1])

    status, answer = _receive(
        stack,
        context,
        return_id,
        {"sku": SKU, "quantity": 1, "grade": "sellable"},
        {"sku": SKU, "quantity": 1, "grade": "damaged"},
    )

    assert status == 409, answer
    assert "2 unit(s) of MUG-RED, 1 received already and 1 in this receipt" in answer["error"]["message"]
    assert answer["error"]["details"] == [{"field": "items[1].quantity", "message": "at most 0"}]
    assert (_ledger(stack, context), call_api(stack, context, "GET", f"/returns/{return_id}")[1]) == before
    assert StockRepository(default_table()).get(SKU).on_hand == 8
    status, answer = _receive(
        stack, context, return_id, {"sku": "TEAPOT", "quantity": 1, "grade": "sellable"}
    )
    assert status == 409 and answer["error"]["details"][0]["field"] == "items[0].sku"


def test_a_repeated_receipt_with_the_same_idempotency_key_is_applied_once(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=2)[1]["returnId"]
    line = {"sku": SKU, "quantity": 1, "grade": "sellable"}

    first = _receive(stack, context, return_id, line, key="scan-7")
    again = _receive(stack, context, return_id, line, key="scan-7")

    assert first[0] == 201 and again == (200, first[1])
    assert len(first[1]["receipts"]) == 1
    assert StockRepository(default_table()).get(SKU).on_hand == 8
    assert [e for e in _ledger(stack, context) if e[1] == "return"] == [(1, "return", return_id)]
    status, answer = _receive(stack, context, return_id, {**line, "grade": "damaged"}, key="scan-7")
    assert status == 409 and "different receipt" in answer["error"]["message"]


def test_units_back_on_hand_serve_a_backordered_order_in_the_same_receipt(stack, context, shipped):
    _order("111-9", "Unshipped", [(SKU, 8, 0)])  # 7 on hand: one unit short
    assert "stockShortage" in call_api(stack, context, "GET", "/orders/111-9")[1]["flags"]
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]

    assert _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})[0] == 201

    order = call_api(stack, context, "GET", "/orders/111-9")[1]
    assert "stockShortage" not in order["flags"] and order["items"][0]["quantityShort"] == 0
    row = StockRepository(default_table()).get(SKU)
    assert (row.on_hand, row.reserved, row.backordered, row.available) == (8, 8, 0, 0)


def test_the_refund_is_due_two_business_days_after_a_friday_receipt_skipping_the_weekend(
    stack, context, shipped
):
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 10:00 in Albany (America/New_York)

    with time_machine.travel(friday, tick=False):
        status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})

    assert status == 201, ret
    assert ret["receivedAt"] == "2026-12-04T15:00:00Z"
    assert ret["refundDueBy"] == "2026-12-08T23:00:00Z"  # Tuesday 18:00 in Albany, the warehouse's close
    assert ret["status"] == "restocked"


def test_receiving_a_sellable_unit_into_an_unknown_location_is_refused(stack, context, shipped):
    return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]
    status, answer = _receive(
        stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable", "location": "shelf-Z"}
    )
    assert status == 400 and answer["error"]["details"][0]["field"] == "items[0].location"
    assert call_api(stack, context, "GET", f"/returns/{return_id}")[1]["receipts"] == []
    assert default_table().get(keys.stock_key(SKU, "shelf-Z")) is None


def test_receipts_racing_for_the_last_units_of_a_return_take_each_unit_once(served_stack):
    import threading

    from oms.domain.returns import Grade, ReceivedUnits, ReturnItem
    from oms.errors import Conflict
    from oms.returns.receiving import receive
    from oms.returns.records import ReturnRecords
    from oms.warehouse.settings import ShippingSettingsStore

    table = default_table()
    set_policy(table, SKU, StockPolicy())
    adjust_stock(table, SKU, 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [(SKU, 3, 3)])
    ret, _ = ReturnRecords(table).record("111-1", [ReturnItem(sku=SKU, quantity=3)], return_id="RET-RACE")
    calendar = ShippingSettingsStore(table).get().calendar
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan(n: int) -> None:
        try:
            receive(
                table,
                ret.return_id,
                [ReceivedUnits(sku=SKU, quantity=1, grade=Grade.SELLABLE)],
                actor="test",
                calendar=calendar,
                receipt_id=f"scan-{n}",
            )
            result = "ok"
        except Conflict as refused:
            result = "refused" if "cannot receive" in refused.message else refused.message
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 3
    assert StockRepository(table).get(SKU).on_hand == 10
    restocked = [e for e in table.query_all(keys.ledger_of(SKU)) if e["reason"] == "return"]
    assert len(restocked) == 3
    assert ReturnRecords(table).get(ret.return_id).status.value == "restocked"


# --- the refund clock: the deadline guard weighs every return awaiting its refund ---------------------

FRIDAY_2PM = TEST_CLOCK + timedelta(days=3, hours=4)  # Friday 27 November, 14:00 in Albany


def _new_york(day: datetime, hour: int, minute: int = 0) -> datetime:
    """`day`'s date at a New York wall time, in UTC."""
    local = day.astimezone(ALBANY).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local.astimezone(UTC)


def _guard_at(stack, context, instant: datetime) -> dict:
    with time_machine.travel(instant, tick=False):
        return stack.handler("ship_guard").lambda_handler({}, context)


def _published(stack, context) -> list[dict]:
    """Every committed change so far, from the table's stream through publish_events onto the bus: what a
    subscriber heard (an SQS queue subscribed to the bus)."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="heard")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.environment["EVENT_BUS_NAME"]
    events.put_rule(Name="hear-all", EventBusName=bus, EventPattern=json.dumps({"source": ["oms"]}))
    events.put_targets(Rule="hear-all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    streams = boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=STREAMS_ENDPOINT)
    stream = stack.client("dynamodb").describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while batch := (answer := streams.get_records(ShardIterator=iterator))["Records"]:
            records += batch
            iterator = answer["NextShardIterator"]
    for record in records:
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
    answer = stack.handler("publish_events").lambda_handler({"Records": records}, context)
    assert answer == {"batchItemFailures": []}
    heard = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        heard += [json.loads(m["Body"]) for m in messages]
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return heard


def test_a_refund_left_waiting_is_flagged_at_risk_then_late_by_the_guard_and_announced_once_each(
    stack, context, shipped
):
    with time_machine.travel(FRIDAY_2PM, tick=False):
        return_id = _record(stack, context, shipped, quantity=1)[1]["returnId"]
        status, ret = _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})
    assert status == 201, ret
    tuesday = FRIDAY_2PM + timedelta(days=4)
    assert ret["refundDueBy"] == iso_z(_new_york(tuesday, 18))  # Monday and Tuesday: closes 18:00
    assert ret["flags"] == []

    def flags() -> list[str]:
        listed = call_api(stack, context, "GET", "/returns", query={"sku": SKU})[1]["items"]
        assert [r["returnId"] for r in listed] == [return_id]
        assert call_api(stack, context, "GET", f"/returns/{return_id}")[1]["flags"] == listed[0]["flags"]
        return listed[0]["flags"]

    # 24 working hours from Friday 14:00 to Tuesday's close; at risk with less than a quarter (6 h) left
    monday = _guard_at(stack, context, _new_york(tuesday - timedelta(days=1), 16))
    assert (monday["refundsChecked"], monday["refundsFlagged"], flags()) == (1, 0, [])
    near = _guard_at(stack, context, _new_york(tuesday, 12, 30))
    assert near["refundsFlagged"] == 1 and flags() == ["refundAtRisk"]
    again = _guard_at(stack, context, _new_york(tuesday, 12, 45))
    assert again["refundsFlagged"] == 0 and flags() == ["refundAtRisk"]
    late = _guard_at(stack, context, _new_york(tuesday, 18, 15))
    assert late["refundsFlagged"] == 1 and flags() == ["refundAtRisk", "refundLate"]
    still = _guard_at(stack, context, _new_york(tuesday + timedelta(days=1), 9))
    assert still["refundsFlagged"] == 0

    heard = [e for e in _published(stack, context) if e["detail"]["data"].get("returnId") == return_id]
    assert [e["detail-type"] for e in heard] == [
        "ReturnRequested",
        "ReturnReceived",
        "RefundAtRisk",
        "RefundLate",
    ]
    assert heard[-1]["detail"]["data"]["refundDueBy"] == ret["refundDueBy"]


def test_a_return_not_yet_received_or_already_closed_is_not_on_the_refund_clock(stack, context, shipped):
    waiting = _record(stack, context, shipped, quantity=1)[1]["returnId"]
    with time_machine.travel(FRIDAY_2PM, tick=False):
        received = _record(stack, context, shipped, quantity=1)[1]["returnId"]
        _receive(stack, context, received, {"sku": SKU, "quantity": 1, "grade": "damaged"})

    counts = _guard_at(stack, context, FRIDAY_2PM + timedelta(days=30))

    assert counts["refundsChecked"] == 1 and counts["refundsFlagged"] == 1
    assert call_api(stack, context, "GET", f"/returns/{waiting}")[1]["flags"] == []
    assert call_api(stack, context, "GET", f"/returns/{received}")[1]["flags"] == [
        "refundAtRisk",
        "refundLate",
    ]


def test_a_receipt_landing_while_the_clock_weighs_the_return_is_kept_and_the_flags_still_move(
    stack, context, shipped
):
    from oms.returns import deadlines

    with time_machine.travel(FRIDAY_2PM, tick=False):
        return_id = _record(stack, context, shipped, quantity=2)[1]["returnId"]
        _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "sellable"})
    table = default_table()
    stale = table.get(keys.return_key(return_id), consistent=True)  # what the clock's query found
    tuesday_noon = _new_york(FRIDAY_2PM + timedelta(days=4), 12, 30)
    with time_machine.travel(tuesday_noon - timedelta(minutes=5), tick=False):  # the second parcel arrives
        assert _receive(stack, context, return_id, {"sku": SKU, "quantity": 1, "grade": "damaged"})[0] == 201

    settings = deadlines.ShippingSettingsStore(table).get()
    assert deadlines.reflag_return(table, stale, settings, tuesday_noon) is True

    ret = call_api(stack, context, "GET", f"/returns/{return_id}")[1]
    assert ret["flags"] == ["refundAtRisk"]
    assert len(ret["receipts"]) == 2  # the second parcel was not overwritten by the stale return
    assert ret["status"] == "restocked"
