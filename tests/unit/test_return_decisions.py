"""The 24-hour decision clock, pure: a return request waiting for the seller is due 24 hours after it was
made (calendar time: nights and weekends count), at risk with less than the setup's share left, late after;
authorizing or declining stops the clock, and the decision-due index holds exactly the waiting requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_type_hints

import pytest

from oms.domain.calendar import BusinessCalendar
from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.domain.returns import (
    Grade,
    Receipt,
    ReceivedUnits,
    Return,
    ReturnFlag,
    ReturnItem,
    ReturnSource,
    ReturnStatus,
    authorize,
    clock_flags,
    close,
    decision_flags,
    new_return,
    receipt_lines,
    received,
)
from oms.errors import Conflict
from oms.events import ReturnDecisionAtRisk, ReturnDecisionLate, events_from_change
from oms.returns.records import return_from_item, return_item
from oms.store import keys

FRIDAY_9PM = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # Friday 21:00 in New York: the warehouse is closed
ALBANY = BusinessCalendar(timezone="America/New_York", country="US")
AT_RISK, LATE = ReturnFlag.DECISION_AT_RISK, ReturnFlag.DECISION_LATE


def _order() -> Order:
    return Order(
        order_id="111-1",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.SHIPPED,
        fulfillment_channel=FulfillmentChannel.MFN,
        purchase_date=FRIDAY_9PM - timedelta(days=10),
        last_update_date=FRIDAY_9PM - timedelta(days=8),
        items=[OrderItem(order_item_id="i1", sku="MUG", quantity=2, quantity_shipped=2)],
    )


def _request(at: datetime = FRIDAY_9PM, source: ReturnSource = ReturnSource.AMAZON) -> Return:
    return new_return(_order(), [ReturnItem(sku="MUG", quantity=1)], return_id="RET-1", at=at, source=source)


def _flags(ret: Return, now: datetime, share: float = 0.25) -> list[ReturnFlag]:
    return decision_flags(ret, now, at_risk_share=share)


def test_a_request_is_due_24_calendar_hours_later_even_over_a_weekend_at_risk_in_the_last_quarter():
    ret = _request()
    assert ret.status is ReturnStatus.REQUESTED
    assert ret.decision_due_by == FRIDAY_9PM + timedelta(hours=24)  # not Monday: Amazon counts every hour
    assert _flags(ret, FRIDAY_9PM) == []
    assert _flags(ret, FRIDAY_9PM + timedelta(hours=17, minutes=59)) == []  # 6 h 1 min left
    assert _flags(ret, FRIDAY_9PM + timedelta(hours=18, minutes=1)) == [AT_RISK]
    assert _flags(ret, FRIDAY_9PM + timedelta(hours=24)) == [AT_RISK]  # the deadline itself is on time
    assert _flags(ret, FRIDAY_9PM + timedelta(hours=24, seconds=1)) == [AT_RISK, LATE]
    assert _flags(ret, FRIDAY_9PM + timedelta(hours=12), share=0.5) == []
    assert _flags(ret, FRIDAY_9PM + timedelta(hours=12, seconds=1), share=0.5) == [AT_RISK]
    with pytest.raises(ValueError, match="fraction"):
        _flags(ret, FRIDAY_9PM, share=0)


def test_a_request_stored_by_any_writer_gets_its_deadline_and_a_seller_recorded_return_has_none():
    stored = return_item(_request())
    del stored["decisionDueBy"]  # written by a sync that never heard of the clock
    assert return_from_item(stored).decision_due_by == FRIDAY_9PM + timedelta(hours=24)
    seller = _request(source=ReturnSource.SELLER)
    assert (seller.status, seller.decision_due_by) == (ReturnStatus.AUTHORIZED, None)
    assert _flags(seller, FRIDAY_9PM + timedelta(days=3)) == []


def test_authorizing_or_declining_stops_the_clock_and_clears_its_flags_and_records_when():
    late = clock_flags(_request(), FRIDAY_9PM + timedelta(hours=30), ALBANY, at_risk_share=0.25)
    assert late.flags == [AT_RISK, LATE]
    answered_at = FRIDAY_9PM + timedelta(hours=31)
    for answered in (authorize(late, answered_at), close(late, answered_at, "outside the return window")):
        assert (answered.flags, answered.decided_at) == ([], answered_at)
        assert answered.decision_due_by == late.decision_due_by  # kept: was it answered on time?
        assert clock_flags(answered, answered_at + timedelta(days=2), ALBANY, at_risk_share=0.25) == answered
    with pytest.raises(Conflict, match="is authorized: it cannot become authorized"):
        authorize(authorize(late, answered_at), answered_at)


def test_a_return_is_on_one_clock_at_a_time_in_the_index_the_guard_reads():
    def clock(ret: Return) -> str | None:
        return return_item(ret).get("gsi3pk")

    requested = _request()
    assert clock(requested) == keys.DECISIONS_DUE
    assert return_item(requested)["gsi3sk"] == "2026-12-06T02:00:00Z#RET-1"
    authorized = authorize(requested, FRIDAY_9PM + timedelta(hours=1))
    assert clock(authorized) is None
    lines = receipt_lines(authorized, [ReceivedUnits(sku="MUG", quantity=1, grade=Grade.SELLABLE)])
    at = FRIDAY_9PM + timedelta(days=3)
    receipt = Receipt(receipt_id="r1", at=at, actor="t", items=lines)
    assert clock(received(authorized, receipt, ALBANY)) == keys.REFUNDS_DUE
    assert clock(close(requested, at, "declined: bought elsewhere")) is None


def test_the_decision_flags_are_announced_once_each_when_they_appear():
    ret = _request()
    risky = clock_flags(ret, FRIDAY_9PM + timedelta(hours=20), ALBANY, at_risk_share=0.25)
    late = clock_flags(ret, FRIDAY_9PM + timedelta(hours=25), ALBANY, at_risk_share=0.25)
    answered = authorize(late, FRIDAY_9PM + timedelta(hours=26))

    def kinds(old: Return, new: Return) -> list[str]:
        changes = events_from_change(return_item(old), return_item(new), event_id="e", occurred_at=FRIDAY_9PM)
        return [e.detail_type for e in changes]

    steps = [(ret, risky), (risky, risky), (risky, late), (late, late), (late, answered), (ret, late)]
    assert [kinds(old, new) for old, new in steps] == [
        ["ReturnDecisionAtRisk"],
        [],
        ["ReturnDecisionLate"],
        [],
        [],
        ["ReturnDecisionAtRisk", "ReturnDecisionLate"],
    ]
    (news,) = events_from_change(return_item(risky), return_item(late), event_id="e", occurred_at=FRIDAY_9PM)
    assert (
        set(news.data) == set(get_type_hints(ReturnDecisionLate)) == set(get_type_hints(ReturnDecisionAtRisk))
    )
    assert (news.data["requestedAt"], news.data["decisionDueBy"]) == (
        "2026-12-05T02:00:00Z",
        "2026-12-06T02:00:00Z",
    )


def test_a_return_is_found_by_its_rma_id_and_tracking_number_as_scanned_and_a_new_one_adds_a_marker():
    from oms.domain.returns import lookup_text
    from oms.returns.records import lookup_writes

    assert lookup_text(" 1z 999aa1\t0123456784 ") == "1Z999AA10123456784"
    ret = _request().model_copy(update={"amazon_rma_id": "DqV7xBbmRRMA"})
    assert [w.item["pk"] for w in lookup_writes(ret) if w.item] == ["RETURNS#FIND#DQV7XBBMRRMA"]
    tracked = ret.model_copy(update={"tracking_id": "1Z 999 AA1 0123 4567 84"})
    (marker,) = lookup_writes(tracked, before=ret)  # the report brought the tracking number later
    assert marker.item == {
        "pk": "RETURNS#FIND#1Z999AA10123456784",
        "sk": "RETURN#RET-1",
        "entity": "ReturnLookup",
        "returnId": "RET-1",
    }
    assert lookup_writes(tracked, before=tracked) == []


def test_an_fba_return_waiting_at_amazon_is_never_on_the_sellers_decision_clock():
    fba = Return(
        return_id="RET-F",
        order_id="111-9",
        source=ReturnSource.FBA,
        status=ReturnStatus.REQUESTED,
        items=[ReturnItem(sku="MUG", quantity=1)],
        requested_at=FRIDAY_9PM,
    )
    assert fba.decision_due_by is None
    assert _flags(fba, FRIDAY_9PM + timedelta(days=3)) == []
    assert "gsi3pk" not in return_item(fba)
