"""The returns' figures in account health: refunds issued by refundDueBy and requests answered within 24
hours over 30 days, projected with the returns flagged at risk now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oms.domain.returns import ReturnFlag, ReturnStatus, TimelineEntry, authorize, close, moved
from oms.returns.health import returns_health
from tests.unit.test_return_decisions import _request

NOW = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


def _received(n: int, due: datetime, refunded: datetime | None = None, flags=()):
    ret = authorize(_request(at=due - timedelta(days=5)), due - timedelta(days=5)).model_copy(
        update={
            "return_id": f"RET-{n}",
            "status": ReturnStatus.RESTOCKED,
            "received_at": due - timedelta(days=2),
            "refund_due_by": due,
            "flags": list(flags),
        }
    )
    if refunded is not None:
        ret = moved(ret, ReturnStatus.REFUNDED, refunded)
    return ret


def test_the_refund_on_time_rate_counts_refunds_due_in_the_window_by_their_deadline():
    due = NOW - timedelta(days=3)
    returns = [
        _received(1, due, refunded=due - timedelta(hours=5)),  # on time
        _received(2, due, refunded=due + timedelta(hours=1)),  # late
        _received(3, due),  # never refunded: late
        _received(4, NOW - timedelta(days=31), refunded=NOW - timedelta(days=40)),  # outside the window
        close(_received(5, due), due, "buyer kept the refund from the carrier claim"),  # nothing owed
        _received(6, NOW + timedelta(days=1), flags=[ReturnFlag.REFUND_AT_RISK]),  # due later, at risk
        _received(7, NOW + timedelta(days=1)),  # due later, fine
    ]
    rate = returns_health(returns, NOW)["refund_on_time_rate"]
    assert (rate.numerator, rate.denominator, rate.value) == (1, 3, round(1 / 3, 4))
    assert (rate.projected_numerator, rate.projected_denominator) == (1, 4)
    assert (rate.target, rate.comparison, rate.window, rate.meets_target) == (0.98, "above", "30d", False)


def test_the_decision_on_time_rate_counts_requests_answered_within_24_hours():
    asked = NOW - timedelta(days=2)
    on_time = authorize(_request(at=asked), asked + timedelta(hours=23))
    late = close(_request(at=asked), asked + timedelta(hours=25), "outside the return window")
    unanswered = _request(at=asked)
    waiting = _request(at=NOW - timedelta(hours=20)).model_copy(
        update={"flags": [ReturnFlag.DECISION_AT_RISK]}
    )
    recorded_by_seller = _request(at=asked).model_copy(
        update={
            "status": ReturnStatus.AUTHORIZED,
            "decision_due_by": None,
            "timeline": [TimelineEntry(at=asked, status=ReturnStatus.AUTHORIZED)],
        }
    )
    rate = returns_health([on_time, late, unanswered, waiting, recorded_by_seller], NOW)[
        "return_decision_on_time_rate"
    ]
    assert (rate.numerator, rate.denominator) == (1, 3)
    assert (rate.projected_numerator, rate.projected_denominator) == (1, 4)
    assert returns_health([], NOW)["refund_on_time_rate"].value is None
