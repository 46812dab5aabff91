"""The supply rules without a table: lead times typed then observed, and a purchase order's life."""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal

import pytest

from oms.domain.supply import (
    OBSERVED_AFTER,
    LeadTimeLegs,
    ObservedLeadTimes,
    PoLine,
    PoReceipt,
    PoStatus,
    PurchaseOrder,
    ReceiptLine,
    TermsRequest,
    closed,
    effective_terms,
    lead_time_days,
    lead_time_explained,
    money_amount,
    on_order_change,
    po_total,
    received,
    sent,
)
from oms.domain.types import Money
from oms.errors import Conflict, InvalidInput
from tests.conftest import TEST_CLOCK

USD = "USD"


def _cost(amount: str) -> Money:
    return Money(amount=amount, currency_code=USD)


TYPED = TermsRequest(
    lead_time=LeadTimeLegs(production_days=10, transit_days=3.5, receiving_days=1),
    minimum_order_quantity=24,
    case_pack=12,
    unit_cost=_cost("4.20"),
)


def test_typed_lead_time_is_the_sum_of_its_legs_until_three_lines_were_received():
    observed = ObservedLeadTimes()
    terms = effective_terms("SUP-1", TYPED, observed)
    assert (terms.leadTimeDays, terms.leadTimeSd, terms.source) == (14.5, 0.0, "typed")
    assert (terms.moq, terms.casePack, terms.unitCost) == (24, 12, _cost("4.20"))

    for days in (20.0, 22.0):
        observed = observed.with_sample(days)
    assert effective_terms("SUP-1", TYPED, observed).source == "typed"
    assert "2 received so far, 3 needed" in lead_time_explained(
        effective_terms("SUP-1", TYPED, observed), observed
    )

    observed = observed.with_sample(27.0)
    assert observed.count == OBSERVED_AFTER
    terms = effective_terms("SUP-1", TYPED, observed)
    assert terms.source == "observed"
    assert terms.leadTimeDays == pytest.approx(statistics.mean([20, 22, 27]), abs=0.01)
    assert terms.leadTimeSd == pytest.approx(statistics.stdev([20, 22, 27]), abs=0.01)
    assert lead_time_explained(terms, observed).startswith("observed: mean of 3 received")


def test_observed_spread_matches_the_sample_standard_deviation_of_many():
    samples = [12.0, 15.5, 9.25, 30.0, 14.0, 14.0, 11.75]
    observed = ObservedLeadTimes()
    for days in samples:
        observed = observed.with_sample(days)
    assert observed.mean_days == pytest.approx(statistics.mean(samples))
    assert observed.sd_days == pytest.approx(statistics.stdev(samples))
    assert ObservedLeadTimes().with_sample(5).sd_days == 0.0


def _po(*lines: tuple[str, int]) -> PurchaseOrder:
    po_lines = [PoLine(sku=sku, quantity=quantity, unit_cost=_cost("2.50")) for sku, quantity in lines]
    return PurchaseOrder(
        po_id="PO-1",
        supplier_id="SUP-1",
        supplier_name="Mug Works",
        status=PoStatus.DRAFT,
        currency_code=USD,
        lines=po_lines,
        total=po_total(po_lines, USD),
        created_at=TEST_CLOCK,
    )


def _receipt(receipt_id: str, days_after: float, *lines: tuple[str, int]) -> PoReceipt:
    return PoReceipt(
        receipt_id=receipt_id,
        at=TEST_CLOCK + timedelta(days=days_after),
        actor="user:ann@example.com",
        lines=[ReceiptLine(sku=sku, quantity=quantity) for sku, quantity in lines],
    )


def test_a_po_is_on_order_once_sent_and_off_order_as_its_units_arrive():
    draft = _po(("MUG-RED", 100), ("MUG-BLUE", 40))
    assert draft.total == _cost("350.00")
    assert draft.on_order() == {}

    out = sent(draft, TEST_CLOCK, {"MUG-RED": 14.5})
    assert on_order_change(draft, out) == {"MUG-BLUE": 40, "MUG-RED": 100}
    assert [line.expected_by for line in out.lines] == [
        TEST_CLOCK + timedelta(days=14.5),
        None,
    ]  # blue: no terms

    part, lead_times = received(out, _receipt("r1", 12.5, ("MUG-RED", 60)))
    assert part.status is PoStatus.PARTIALLY_RECEIVED
    assert lead_times == {"MUG-RED": 12.5}
    assert on_order_change(out, part) == {"MUG-RED": -60}
    red = part.lines[0]
    assert (red.received, red.lead_time_days, red.first_received_at) == (
        60,
        12.5,
        TEST_CLOCK + timedelta(days=12.5),
    )

    # the rest of the red mugs later: the line's lead time stays the first receipt's
    rest, lead_times = received(part, _receipt("r2", 20, ("MUG-RED", 40), ("MUG-BLUE", 40)))
    assert lead_times == {"MUG-BLUE": 20.0}
    assert rest.lines[0].lead_time_days == 12.5
    assert rest.status is PoStatus.RECEIVED and rest.received_at == TEST_CLOCK + timedelta(days=20)
    assert rest.on_order() == {}
    assert [r.receipt_id for r in rest.receipts] == ["r1", "r2"]


def test_more_units_than_open_are_refused_naming_the_line_and_counting_earlier_lines():
    out = sent(_po(("MUG-RED", 10)), TEST_CLOCK)
    part, _ = received(out, _receipt("r1", 3, ("MUG-RED", 7)))

    with pytest.raises(Conflict) as refused:
        received(part, _receipt("r2", 4, ("MUG-RED", 2), ("MUG-RED", 2)))
    assert [d.as_dict() for d in refused.value.details] == [
        {"field": "lines[1].quantity", "message": "at most 1"}
    ]

    with pytest.raises(Conflict) as refused:
        received(part, _receipt("r2", 4, ("TEAPOT", 1)))
    assert refused.value.details[0].field == "lines[0].sku"


def test_only_a_sent_po_is_received_and_only_a_draft_is_sent():
    draft = _po(("MUG-RED", 10))
    with pytest.raises(Conflict, match="only a sent purchase order"):
        received(draft, _receipt("r1", 1, ("MUG-RED", 1)))
    out = sent(draft, TEST_CLOCK)
    with pytest.raises(Conflict, match="only a draft"):
        sent(out, TEST_CLOCK)


def test_closing_cancels_what_did_not_arrive_and_takes_it_off_order():
    out = sent(_po(("MUG-RED", 10), ("MUG-BLUE", 5)), TEST_CLOCK)
    part, _ = received(out, _receipt("r1", 3, ("MUG-RED", 7)))
    shut = closed(part, TEST_CLOCK + timedelta(days=30))

    assert [(line.received, line.cancelled) for line in shut.lines] == [(7, 3), (0, 5)]
    assert on_order_change(part, shut) == {"MUG-BLUE": -5, "MUG-RED": -3}
    with pytest.raises(Conflict):
        received(shut, _receipt("r2", 31, ("MUG-RED", 1)))

    whole, _ = received(sent(_po(("MUG-RED", 1)), TEST_CLOCK), _receipt("r1", 1, ("MUG-RED", 1)))
    with pytest.raises(Conflict, match="received already"):
        closed(whole, TEST_CLOCK)


def test_lead_time_counts_from_sending_to_the_first_receipt_in_days():
    assert lead_time_days(TEST_CLOCK, TEST_CLOCK + timedelta(days=9, hours=6)) == 9.25
    assert lead_time_days(TEST_CLOCK, TEST_CLOCK - timedelta(hours=1)) == 0.0


@pytest.mark.parametrize("amount", ["-1", "1e9", "NaN", "Infinity", "1.23456", "", "12,50", "1234567890123"])
def test_an_amount_that_would_not_add_up_exactly_is_refused_naming_it(amount):
    with pytest.raises(InvalidInput) as refused:
        money_amount(Money(amount=amount, currency_code=USD), "lines[0].unitCost")
    assert refused.value.details[0].field == "lines[0].unitCost.amount"


def test_amounts_keep_their_decimals_and_totals_round_to_cents():
    assert money_amount(_cost("0.0125"), "unitCost") == Decimal("0.0125")
    line = PoLine(sku="MUG-RED", quantity=3, unit_cost=_cost("0.0125"))
    assert po_total([line], USD) == _cost("0.04")
