"""The return rules, pure: the state machine, what a return and a receipt may take, what each grade does
to stock, and when the refund is due on the warehouse calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oms.domain.calendar import BusinessCalendar
from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.domain.returns import (
    TRANSITIONS,
    Disposition,
    Grade,
    Receipt,
    ReceivedUnits,
    Return,
    ReturnFlag,
    ReturnItem,
    ReturnSource,
    ReturnStatus,
    authorize,
    close,
    disposition_of,
    in_transit,
    new_return,
    receipt_lines,
    received,
    refund_flags,
    with_refund_flags,
)
from oms.errors import Conflict, InvalidInput

T = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
ALBANY = BusinessCalendar(timezone="America/New_York", country="US")


def _order(
    *lines: tuple[str, int, int], status: OrderStatus = OrderStatus.SHIPPED, channel=FulfillmentChannel.MFN
) -> Order:
    return Order(
        order_id="111-1",
        marketplace_id="ATVPDKIKX0DER",
        status=status,
        fulfillment_channel=channel,
        purchase_date=T - timedelta(days=10),
        last_update_date=T - timedelta(days=8),
        items=[
            OrderItem(order_item_id=f"i{n}", sku=sku, quantity=q, quantity_shipped=s)
            for n, (sku, q, s) in enumerate(lines)
        ],
    )


def _return(*items: tuple[str, int], source=ReturnSource.SELLER, order: Order | None = None) -> Return:
    order = order or _order(("MUG", 3, 3), ("CUP", 2, 2))
    return new_return(
        order, [ReturnItem(sku=s, quantity=q) for s, q in items], return_id="RET-1", at=T, source=source
    )


def _receive(ret: Return, *units: tuple[str, int, Grade], at: datetime = T, receipt_id: str = "r1") -> Return:
    lines = receipt_lines(ret, [ReceivedUnits(sku=s, quantity=q, grade=g) for s, q, g in units])
    return received(ret, Receipt(receipt_id=receipt_id, at=at, actor="test", items=lines), ALBANY)


def test_a_return_the_seller_records_is_authorized_and_one_from_amazon_waits_for_a_decision():
    assert _return(("MUG", 1)).status is ReturnStatus.AUTHORIZED
    requested = _return(("MUG", 1), source=ReturnSource.AMAZON)
    assert requested.status is ReturnStatus.REQUESTED
    with pytest.raises(Conflict, match="cannot be received now"):
        receipt_lines(requested, [ReceivedUnits(sku="MUG", quantity=1, grade=Grade.SELLABLE)])
    assert authorize(requested, T).status is ReturnStatus.AUTHORIZED


def test_a_declined_request_is_closed_with_its_reason_and_then_nothing_more_happens():
    declined = close(_return(("MUG", 1), source=ReturnSource.AMAZON), T, "outside the return window")
    assert (declined.status, declined.timeline[-1].note) == (ReturnStatus.CLOSED, "outside the return window")
    assert TRANSITIONS[ReturnStatus.CLOSED] == frozenset()
    with pytest.raises(Conflict, match="is closed: it cannot become authorized"):
        authorize(declined, T)
    with pytest.raises(InvalidInput):
        close(_return(("MUG", 1)), T, "  ")


def test_the_state_machine_runs_forward_only_from_request_to_close():
    order = list(ReturnStatus)
    for state, nexts in TRANSITIONS.items():
        for target in nexts - {ReturnStatus.CLOSED, ReturnStatus.RECEIVED}:
            assert order.index(target) > order.index(state), (state, target)
    assert ReturnStatus.REFUNDED not in TRANSITIONS[ReturnStatus.AUTHORIZED]  # a refund follows receipt
    assert in_transit(_return(("MUG", 1)), T).status is ReturnStatus.IN_TRANSIT


def test_a_return_takes_only_shipped_units_not_already_returned():
    order = _order(("MUG", 3, 2), status=OrderStatus.PARTIALLY_SHIPPED)
    with pytest.raises(Conflict) as refused:
        new_return(order, [ReturnItem(sku="MUG", quantity=3)], return_id="R", at=T)
    assert refused.value.details[0].field == "items[0].quantity"
    first = new_return(order, [ReturnItem(sku="MUG", quantity=2)], return_id="R1", at=T)
    with pytest.raises(Conflict, match="0 unit"):
        new_return(order, [ReturnItem(sku="MUG", quantity=1)], return_id="R2", at=T, earlier=[first])
    with pytest.raises(InvalidInput) as unknown:
        new_return(order, [ReturnItem(sku="TEAPOT", quantity=1)], return_id="R", at=T)
    assert unknown.value.details[0].field == "items[0].sku"
    with pytest.raises(Conflict) as fba:
        new_return(
            _order(("MUG", 1, 1), channel=FulfillmentChannel.AFN),
            [ReturnItem(sku="MUG", quantity=1)],
            return_id="R",
            at=T,
        )
    assert fba.value.details[0].field == "orderId"


def test_only_a_sellable_unit_goes_back_on_hand():
    assert disposition_of(Grade.SELLABLE) is Disposition.RESTOCKED
    for grade in set(Grade) - {Grade.SELLABLE}:
        assert disposition_of(grade) is Disposition.WRITTEN_OFF, grade


def test_receipts_never_take_more_units_than_returned_per_sku_across_receipts():
    ret = _receive(_return(("MUG", 2), ("CUP", 1)), ("MUG", 1, Grade.SELLABLE))
    assert ret.status is ReturnStatus.GRADED  # one MUG and the CUP still to come

    with pytest.raises(Conflict) as refused:
        receipt_lines(
            ret,
            [
                ReceivedUnits(sku="CUP", quantity=1, grade=Grade.DAMAGED),
                ReceivedUnits(sku="MUG", quantity=1, grade=Grade.SELLABLE),
                ReceivedUnits(sku="MUG", quantity=1, grade=Grade.DEFECTIVE),
            ],
        )
    assert refused.value.details[0].field == "items[2].quantity"
    assert "1 received already and 1 in this receipt" in refused.value.message
    with pytest.raises(Conflict) as foreign:
        receipt_lines(ret, [ReceivedUnits(sku="TEAPOT", quantity=1, grade=Grade.SELLABLE)])
    assert foreign.value.details[0].field == "items[0].sku"


def test_a_return_fully_in_is_restocked_when_a_unit_went_back_else_written_off():
    mixed = _receive(_return(("MUG", 2)), ("MUG", 1, Grade.SELLABLE), ("MUG", 1, Grade.CARRIER_DAMAGED))
    assert mixed.status is ReturnStatus.RESTOCKED
    assert [e.status for e in mixed.timeline][-3:] == [
        ReturnStatus.RECEIVED,
        ReturnStatus.GRADED,
        ReturnStatus.RESTOCKED,
    ]
    assert mixed.timeline[-2].note == "1 carrier-damaged, 1 sellable"
    broken = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.WRONG_ITEM))
    assert broken.status is ReturnStatus.WRITTEN_OFF
    with pytest.raises(Conflict, match="1 received already: cannot receive 1 more"):
        _receive(broken, ("MUG", 1, Grade.SELLABLE), receipt_id="r2")


def test_the_refund_is_due_at_the_close_of_the_second_business_day_after_the_first_receipt():
    wednesday = _receive(_return(("MUG", 2)), ("MUG", 1, Grade.SELLABLE))
    assert wednesday.refund_due_by == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # Friday 18:00 New York
    friday_evening = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # after closing: counts from Monday
    late = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=friday_evening)
    assert late.refund_due_by == datetime(2026, 12, 9, 23, 0, tzinfo=UTC)  # Wednesday, weekend skipped
    second = _receive(wednesday, ("MUG", 1, Grade.SELLABLE), at=T + timedelta(days=5), receipt_id="r2")
    assert (second.received_at, second.refund_due_by) == (wednesday.received_at, wednesday.refund_due_by)


def test_thanksgiving_is_not_a_business_day_for_the_refund():
    wednesday_before = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    ret = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=wednesday_before)
    assert ret.refund_due_by == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # Fri 27th, then Mon 30th


def test_fba_returns_change_no_local_stock():
    fba = _return(("MUG", 1), source=ReturnSource.FBA)
    with pytest.raises(Conflict, match="FBA"):
        receipt_lines(authorize(fba, T), [ReceivedUnits(sku="MUG", quantity=1, grade=Grade.SELLABLE)])


def test_a_new_return_is_requested_and_each_receipt_received_once_for_subscribers():
    from typing import get_type_hints

    from oms.events import ReturnReceived, ReturnRequested, events_from_change
    from oms.returns.records import return_item

    def events(old: Return | None, new: Return) -> list:
        before = return_item(old) if old else None
        return events_from_change(before, return_item(new), event_id="e", occurred_at=T)

    recorded = _return(("MUG", 2))
    (requested,) = events(None, recorded)
    assert requested.detail_type == "ReturnRequested"
    assert set(requested.data) == set(get_type_hints(ReturnRequested))
    assert (requested.data["returnId"], requested.data["status"]) == ("RET-1", "authorized")

    one = _receive(recorded, ("MUG", 1, Grade.SELLABLE))
    (arrived,) = events(recorded, one)
    assert arrived.detail_type == "ReturnReceived"
    assert set(arrived.data) == set(get_type_hints(ReturnReceived))
    assert arrived.data["receipt"]["items"][0]["grade"] == "sellable"
    assert arrived.data["refundDueBy"] == "2026-12-04T23:00:00Z"
    assert events(one, one) == []  # a retried receipt writes nothing new: nothing announced
    two = _receive(one, ("MUG", 1, Grade.DAMAGED), receipt_id="r2")
    assert [e.data["receipt"]["receiptId"] for e in events(one, two)] == ["r2"]


# --- the refund clock ------------------------------------------------------------------------------

AT_RISK, LATE = ReturnFlag.REFUND_AT_RISK, ReturnFlag.REFUND_LATE
FRIDAY_2PM = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)  # 14:00 in New York


def _new_york(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A December (or `month`) 2026 instant given as New York wall time, in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def _flags(ret: Return, now: datetime, share: float = 0.25) -> list[ReturnFlag]:
    return refund_flags(ret, now, ALBANY, at_risk_share=share)


def test_a_return_received_friday_afternoon_is_due_tuesday_at_risk_near_the_end_and_late_after_close():
    ret = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    assert ret.refund_due_by == _new_york(8, 18)  # Tuesday's close: Monday and Tuesday are the 2 days
    # The window is 24 working hours (Fri 14-18, Mon, Tue): a quarter of it is 6 hours.
    assert _flags(ret, FRIDAY_2PM) == []
    assert _flags(ret, _new_york(6, 12)) == []  # Sunday: no working time passes
    assert _flags(ret, _new_york(7, 16)) == []  # Monday afternoon: 12 of 24 hours left
    assert _flags(ret, _new_york(8, 11, 59)) == []  # 6 hours and a minute left
    assert _flags(ret, _new_york(8, 12, 1)) == [AT_RISK]
    assert _flags(ret, _new_york(8, 18)) == [AT_RISK]  # the deadline itself is still on time
    assert _flags(ret, _new_york(8, 18, 1)) == [AT_RISK, LATE]
    assert _flags(ret, _new_york(14, 9)) == [AT_RISK, LATE]  # and stays late until refunded


def test_a_seller_who_wants_earlier_warning_sets_a_larger_share_at_risk_on_monday_afternoon():
    ret = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    assert _flags(ret, _new_york(7, 15, 59), share=0.5) == []  # 12 h 1 min of 24 left
    assert _flags(ret, _new_york(7, 16, 1), share=0.5) == [AT_RISK]


def test_a_holiday_in_the_window_gives_the_refund_a_day_more_and_the_flags_follow():
    wednesday = _new_york(25, 14, month=11)  # the day before Thanksgiving
    ret = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=wednesday)
    assert ret.refund_due_by == _new_york(30, 18, month=11)  # Friday 27th, then Monday 30th
    friday_evening = _new_york(27, 19, month=11)  # would be late without the holiday
    assert _flags(ret, friday_evening) == []  # 10 of 24 working hours left: Monday
    assert _flags(ret, _new_york(30, 12, 1, month=11)) == [AT_RISK]
    assert _flags(ret, _new_york(30, 18, 1, month=11)) == [AT_RISK, LATE]


def test_a_refunded_or_closed_return_carries_no_refund_flag_and_one_not_received_has_no_clock():
    authorized = _return(("MUG", 1))
    assert _flags(authorized, FRIDAY_2PM + timedelta(days=30)) == []
    ret = _receive(authorized, ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    after_the_deadline = _new_york(9, 10)
    flagged = with_refund_flags(ret, _flags(ret, after_the_deadline))
    assert flagged.flags == [AT_RISK, LATE]
    refunded = flagged.model_copy(update={"status": ReturnStatus.REFUNDED})
    assert _flags(refunded, after_the_deadline) == []
    assert with_refund_flags(refunded, []).flags == []
    closed = close(refunded, after_the_deadline, "refunded in full")
    assert _flags(closed, after_the_deadline) == []


def test_a_partial_receipt_starts_the_clock_and_a_later_parcel_does_not_restart_it():
    first = _receive(_return(("MUG", 2)), ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    assert first.status is ReturnStatus.GRADED  # one unit still to come: the refund is due all the same
    second = _receive(first, ("MUG", 1, Grade.DAMAGED), at=_new_york(8, 10), receipt_id="r2")
    assert second.status is ReturnStatus.RESTOCKED
    assert _flags(second, _new_york(8, 12, 1)) == [AT_RISK]


def test_moving_the_refund_flags_keeps_the_same_return_when_nothing_changes():
    ret = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    assert with_refund_flags(ret, []) is ret
    risky = with_refund_flags(ret, [AT_RISK])
    assert with_refund_flags(risky, [AT_RISK]) is risky
    assert with_refund_flags(risky, [LATE, AT_RISK]).flags == [AT_RISK, LATE]
    with pytest.raises(ValueError, match="fraction"):
        _flags(ret, FRIDAY_2PM, share=1.0)


def test_the_refund_flags_are_announced_once_each_when_they_appear():
    from oms.events import events_from_change
    from oms.returns.records import return_item

    ret = _receive(_return(("MUG", 1)), ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    risky = with_refund_flags(ret, [AT_RISK])
    late = with_refund_flags(ret, [AT_RISK, LATE])
    refunded = with_refund_flags(late.model_copy(update={"status": ReturnStatus.REFUNDED}), [])
    straight_to_late = [(ret, late)]  # the clock did not run while it was only at risk: both are news

    def kinds(old: Return, new: Return) -> list[str]:
        changes = events_from_change(return_item(old), return_item(new), event_id="e", occurred_at=T)
        return [e.detail_type for e in changes]

    steps = [(ret, risky), (risky, risky), (risky, late), (late, late), (late, refunded), *straight_to_late]
    assert [kinds(old, new) for old, new in steps] == [
        ["RefundAtRisk"],
        [],
        ["RefundLate"],
        [],
        [],
        ["RefundAtRisk", "RefundLate"],
    ]
    (news,) = events_from_change(return_item(risky), return_item(late), event_id="e", occurred_at=T)
    assert (news.data["returnId"], news.data["refundDueBy"]) == ("RET-1", "2026-12-08T23:00:00Z")
    assert news.data["receivedAt"] == "2026-12-04T19:00:00Z"


def test_the_refund_due_index_holds_a_return_from_its_first_receipt_until_it_is_refunded_or_closed():
    from oms.returns.records import return_item
    from oms.store import keys

    def indexed(ret: Return) -> bool:
        return return_item(ret).get("gsi3pk") == keys.REFUNDS_DUE

    authorized = _return(("MUG", 2))
    part = _receive(authorized, ("MUG", 1, Grade.SELLABLE), at=FRIDAY_2PM)
    whole = _receive(part, ("MUG", 1, Grade.DAMAGED), at=FRIDAY_2PM, receipt_id="r2")
    refunded = whole.model_copy(update={"status": ReturnStatus.REFUNDED})
    assert [indexed(r) for r in (authorized, part, whole, refunded, close(refunded, T, "done"))] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert return_item(part)["gsi3sk"] == "2026-12-08T23:00:00Z#RET-1"
