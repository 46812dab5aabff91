"""Refund rules, pure: what a refund of a received return may take (never more than was paid, never twice),
where Amazon's policy allows a restocking fee, the order adjustment XML Amazon takes and its processing
report, and the refund's states on the return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from defusedxml import ElementTree as SafeET

from oms.domain.calendar import BusinessCalendar
from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.domain.refunds import (
    RefundAsk,
    RefundItemAsk,
    adjustment_feed,
    adjustments_feed,
    confirmed,
    fee_allowed,
    plan_refund,
    read_message_outcomes,
    read_processing_report,
    refund_total,
    refused,
    requested,
    submitted,
)
from oms.domain.returns import (
    AWAITING_REFUND,
    Grade,
    Receipt,
    RefundComponent,
    RefundStatus,
    Return,
    ReturnFlag,
    ReturnItem,
    ReturnSource,
    ReturnStatus,
    awaiting_refund,
    new_return,
    receipt_lines,
    received,
)
from oms.domain.types import Money
from oms.errors import Conflict, InvalidInput

T = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ALBANY = BusinessCalendar(timezone="America/New_York", country="US")


def _order(total: str | None = "70.00") -> Order:
    return Order(
        order_id="111-0000001-0000001",
        marketplace_id="ATVPDKIKX0DER",
        status=OrderStatus.SHIPPED,
        fulfillment_channel=FulfillmentChannel.MFN,
        purchase_date=T - timedelta(days=10),
        last_update_date=T - timedelta(days=8),
        order_total=Money(amount=total, currency_code="USD") if total else None,
        items=[
            OrderItem(
                order_item_id="OI-MUG",
                sku="MUG",
                quantity=3,
                quantity_shipped=3,
                unit_price=Money(amount="15.00", currency_code="USD"),
            ),
            OrderItem(
                order_item_id="OI-CUP",
                sku="CUP",
                quantity=2,
                quantity_shipped=2,
                unit_price=Money(amount="10.00", currency_code="USD"),
            ),
        ],
    )


def _received(
    *lines: tuple[str, int, Grade], reasons: dict[str, str] | None = None, order: Order | None = None
) -> Return:
    """A seller's return of MUG x2 and CUP x1 (reasons per SKU), with the given units received."""
    reasons = reasons or {}
    ret = new_return(
        order or _order(),
        [
            ReturnItem(sku="MUG", quantity=2, reason=reasons.get("MUG")),
            ReturnItem(sku="CUP", quantity=1, reason=reasons.get("CUP")),
        ],
        return_id="RET-1",
        at=T,
        source=ReturnSource.SELLER,
    )
    from oms.domain.returns import ReceivedUnits

    units = [ReceivedUnits(sku=s, quantity=q, grade=g) for s, q, g in lines]
    receipt = Receipt(
        receipt_id="r1", at=T + timedelta(days=1), actor="user:t", items=receipt_lines(ret, units)
    )
    return received(ret, receipt, ALBANY)


def _plan(ret: Return, ask: RefundAsk | None = None, order: Order | None = None, before: str = "0") -> object:
    return plan_refund(
        ret,
        order or _order(),
        ask or RefundAsk(),
        refund_id="RF-1",
        at=T + timedelta(days=1, hours=1),
        actor="user:t",
        refunded_before=Decimal(before),
    )


ALL_IN = (("MUG", 2, Grade.SELLABLE), ("CUP", 1, Grade.SELLABLE))


def test_a_full_refund_is_each_received_skus_item_price():
    refund = _plan(_received(*ALL_IN))
    assert refund.status is RefundStatus.PENDING
    assert refund.amount == Money(amount="40.00", currency_code="USD")
    assert [(line.sku, line.order_item_id, line.quantity, line.amount) for line in refund.lines] == [
        ("MUG", "OI-MUG", 2, "30.00"),
        ("CUP", "OI-CUP", 1, "10.00"),
    ]
    assert refund.lines[0].components == [RefundComponent(type="Principal", amount="30.00")]
    assert refund.lines[0].adjustment_reason == "CustomerReturn"


def test_a_partial_refund_by_item_and_component():
    ask = RefundAsk(
        items=[
            RefundItemAsk(
                sku="MUG",
                quantity=1,
                components=[
                    RefundComponent(type="Principal", amount="15.00"),
                    RefundComponent(type="Shipping", amount="4.99"),
                ],
            )
        ]
    )
    refund = _plan(_received(*ALL_IN), ask)
    assert refund.amount.amount == "19.99"
    assert [(c.type, c.amount) for c in refund.lines[0].components] == [
        ("Principal", "15.00"),
        ("Shipping", "4.99"),
    ]


def test_only_received_units_are_refunded():
    ret = _received(("MUG", 1, Grade.SELLABLE))  # one of two mugs in; the cup not yet
    assert _plan(ret).amount.amount == "15.00"
    with pytest.raises(Conflict, match="received 1 unit"):
        _plan(ret, RefundAsk(items=[RefundItemAsk(sku="MUG", quantity=2)]))
    with pytest.raises(Conflict, match="no unit of CUP was received"):
        _plan(ret, RefundAsk(items=[RefundItemAsk(sku="CUP")]))


def test_never_more_item_price_than_the_buyer_paid():
    ask = RefundAsk(
        items=[
            RefundItemAsk(
                sku="MUG", quantity=2, components=[RefundComponent(type="Principal", amount="30.01")]
            )
        ]
    )
    with pytest.raises(Conflict, match=r"paid 30\.00 USD for 2 unit\(s\) of MUG"):
        _plan(_received(*ALL_IN), ask)
    exact = RefundAsk(
        items=[
            RefundItemAsk(
                sku="MUG", quantity=2, components=[RefundComponent(type="Principal", amount="30.00")]
            )
        ]
    )
    assert _plan(_received(*ALL_IN), exact).amount.amount == "30.00"


def test_never_more_than_the_order_total_across_its_returns():
    ask = RefundAsk(
        items=[
            RefundItemAsk(
                sku="MUG",
                components=[
                    RefundComponent(type="Principal", amount="30.00"),
                    RefundComponent(type="Shipping", amount="10.00"),
                ],
            )
        ]
    )
    assert _plan(_received(*ALL_IN), ask, before="30.00").amount.amount == "40.00"  # 30 + 40 = the 70 paid
    with pytest.raises(Conflict, match=r"30\.01 refunded already.*at most 39\.99"):
        _plan(_received(*ALL_IN), ask, before="30.01")


def test_shipping_and_tax_wait_for_the_order_total():
    ask = RefundAsk(items=[RefundItemAsk(sku="CUP", components=[RefundComponent(type="Tax", amount="0.80")])])
    with pytest.raises(Conflict, match="shipping and tax"):
        _plan(_received(*ALL_IN), ask, order=_order(total=None))
    assert (
        _plan(_received(*ALL_IN), order=_order(total=None)).amount.amount == "40.00"
    )  # item prices are known


def test_bad_components_are_400s():
    for components, field in (
        ([RefundComponent(type="Bonus", amount="1.00")], "items[0].components[0].type"),
        ([RefundComponent(type="Principal", amount="1.001")], "items[0].components[0].amount"),
        ([RefundComponent(type="Principal", amount="-1")], "items[0].components[0].amount"),
        ([RefundComponent(type="Principal", amount="abc")], "items[0].components[0].amount"),
        ([RefundComponent(type="Principal", amount="1e400")], "items[0].components[0].amount"),
        ([RefundComponent(type="Principal", amount="NaN")], "items[0].components[0].amount"),
        (
            [RefundComponent(type="Tax", amount="1"), RefundComponent(type="Tax", amount="1")],
            "items[0].components[1].type",
        ),
    ):
        with pytest.raises(InvalidInput) as raised:
            _plan(_received(*ALL_IN), RefundAsk(items=[RefundItemAsk(sku="MUG", components=components)]))
        assert str(raised.value).startswith(field + ":")


def test_never_twice_but_a_refused_refund_is_sent_again():
    ret = requested(_received(*ALL_IN), _plan(_received(*ALL_IN)))
    with pytest.raises(Conflict, match="refund pending already"):
        _plan(ret)
    done = submitted(ret, T + timedelta(days=2))
    with pytest.raises(Conflict, match="refund submitted already"):
        _plan(done)
    again = _plan(refused(ret, T + timedelta(days=2), "18028: bad"))
    assert again.status is RefundStatus.PENDING
    assert again.attempt == 2


def test_a_return_not_received_or_fba_is_not_refunded():
    ret = new_return(_order(), [ReturnItem(sku="MUG", quantity=1)], return_id="RET-2", at=T)
    with pytest.raises(Conflict, match="receive them first"):
        _plan(ret)
    fba = _received(*ALL_IN).model_copy(update={"source": ReturnSource.FBA})
    with pytest.raises(Conflict, match="Amazon refunds the buyer itself"):
        _plan(fba)


def test_restocking_fee_up_to_20_percent_of_the_item_price_on_a_buyers_own_reason():
    ret = _received(*ALL_IN, reasons={"MUG": "CR-UNWANTED_ITEM", "CUP": "UNWANTED_ITEM"})
    refund = _plan(ret, RefundAsk(restocking_fee=Money(amount="8.00", currency_code="USD")))
    assert refund.amount.amount == "32.00"
    assert refund.restocking_fee.amount == "8.00"
    assert [line.restocking_fee for line in refund.lines] == ["6.00", "2.00"]  # in proportion to item price
    assert [line.amount for line in refund.lines] == ["24.00", "8.00"]
    assert refund_total(requested(ret, refund)) == Decimal("40.00")  # the fee was paid too: it counts
    with pytest.raises(Conflict, match=r"at most 8\.00, not 8\.01"):
        _plan(ret, RefundAsk(restocking_fee=Money(amount="8.01", currency_code="USD")))
    with pytest.raises(InvalidInput):
        _plan(ret, RefundAsk(restocking_fee=Money(amount="1.00", currency_code="EUR")))


@pytest.mark.parametrize(
    ("reason", "grade", "why"),
    [
        ("CR-DEFECTIVE", Grade.SELLABLE, "returned it as defective"),
        ("DAMAGED_BY_CARRIER", Grade.SELLABLE, "damaged by carrier"),
        ("SWITCHEROO", Grade.SELLABLE, "switcheroo"),
        ("UNWANTED_ITEM", Grade.CARRIER_DAMAGED, "came back carrier-damaged"),
        ("UNWANTED_ITEM", Grade.WRONG_ITEM, "came back wrong-item"),
        ("UNWANTED_ITEM", Grade.DEFECTIVE, "came back defective"),
    ],
)
def test_no_restocking_fee_for_a_return_the_seller_or_carrier_caused(reason, grade, why):
    ret = _received(
        ("MUG", 2, grade), ("CUP", 1, Grade.SELLABLE), reasons={"MUG": reason, "CUP": "DEFECTIVE"}
    )
    assert why in (fee_allowed(ret, "MUG") or "")
    with pytest.raises(Conflict, match="allows no restocking fee"):
        _plan(ret, RefundAsk(restocking_fee=Money(amount="1.00", currency_code="USD")))


def test_a_fee_falls_only_on_lines_that_may_carry_one():
    ret = _received(
        ("MUG", 2, Grade.CUSTOMER_DAMAGED),
        ("CUP", 1, Grade.SELLABLE),
        reasons={"MUG": "UNWANTED_ITEM", "CUP": "DEFECTIVE"},
    )
    refund = _plan(ret, RefundAsk(restocking_fee=Money(amount="6.00", currency_code="USD")))
    assert [line.restocking_fee for line in refund.lines] == ["6.00", None]
    with pytest.raises(Conflict, match=r"30\.00 USD.*at most 6\.00"):  # 20% of the mugs only
        _plan(ret, RefundAsk(restocking_fee=Money(amount="6.01", currency_code="USD")))


def test_the_adjustment_feed_is_amazons_order_adjustment():
    ret = _received(*ALL_IN, reasons={"MUG": "UNWANTED_ITEM", "CUP": "UNWANTED_ITEM"})
    ask = RefundAsk(
        items=[
            RefundItemAsk(
                sku="MUG",
                components=[
                    RefundComponent(type="Principal", amount="30.00"),
                    RefundComponent(type="Tax", amount="2.40"),
                ],
            )
        ],
        restocking_fee=Money(amount="3.00", currency_code="USD"),
    )
    xml = adjustment_feed(_plan(ret, ask), order_id="111-0000001-0000001", seller_id="A1SELLER")
    root = SafeET.fromstring(xml)
    assert root.tag == "AmazonEnvelope"
    assert root.findtext("Header/MerchantIdentifier") == "A1SELLER"
    assert root.findtext("MessageType") == "OrderAdjustment"
    adjustment = root.find("Message/OrderAdjustment")
    assert adjustment.findtext("AmazonOrderID") == "111-0000001-0000001"
    (item,) = adjustment.findall("AdjustedItem")
    assert item.findtext("AmazonOrderItemCode") == "OI-MUG"
    assert item.findtext("AdjustmentReason") == "CustomerReturn"
    parts = [
        (c.findtext("Type"), c.find("Amount").get("currency"), c.findtext("Amount"))
        for c in item.findall("ItemPriceAdjustments/Component")
    ]
    assert parts == [("Principal", "USD", "30.00"), ("Tax", "USD", "2.40"), ("RestockingFee", "USD", "-3.00")]


REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">
  <Header><DocumentVersion>1.02</DocumentVersion><MerchantIdentifier>A1SELLER</MerchantIdentifier></Header>
  <MessageType>ProcessingReport</MessageType>
  <Message><MessageID>1</MessageID><ProcessingReport>
    <DocumentTransactionID>50001</DocumentTransactionID><StatusCode>Complete</StatusCode>
    <ProcessingSummary><MessagesProcessed>1</MessagesProcessed><MessagesSuccessful>{ok}</MessagesSuccessful>
    <MessagesWithError>{errors}</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>
    {result}
  </ProcessingReport></Message>
</AmazonEnvelope>"""


def test_the_processing_report_accepts_or_refuses_with_amazons_words():
    assert read_processing_report(REPORT.format(ok=1, errors=0, result="")).accepted
    error = (
        "<Result><MessageID>1</MessageID><ResultCode>Error</ResultCode><ResultMessageCode>18028</ResultMessageCode>"
        "<ResultDescription>The refund amount exceeds the amount charged.</ResultDescription></Result>"
    )
    outcome = read_processing_report(REPORT.format(ok=0, errors=1, result=error))
    assert not outcome.accepted
    assert outcome.reason == "18028: The refund amount exceeds the amount charged."
    warning = error.replace("Error", "Warning")
    assert read_processing_report(REPORT.format(ok=1, errors=0, result=warning)).accepted
    assert not read_processing_report(REPORT.format(ok=0, errors=1, result="")).accepted
    assert not read_processing_report("not xml").accepted


def test_an_adjustment_feed_of_several_refunds_has_one_message_each():
    ret = _received(*ALL_IN)
    refund = _plan(ret)
    xml = adjustments_feed([(1, refund, "111-1"), (2, refund, "111-2"), (3, refund, "111-3")], seller_id="A1")
    root = SafeET.fromstring(xml)
    messages = root.findall("Message")
    assert [(m.findtext("MessageID"), m.findtext("OrderAdjustment/AmazonOrderID")) for m in messages] == [
        ("1", "111-1"),
        ("2", "111-2"),
        ("3", "111-3"),
    ]
    assert root.findtext("Header/MerchantIdentifier") == "A1"
    with pytest.raises(ValueError):
        adjustments_feed([], seller_id="A1")


def _result(message_id: str, code: str = "18028", kind: str = "Error") -> str:
    return (
        f"<Result><MessageID>{message_id}</MessageID><ResultCode>{kind}</ResultCode>"
        f"<ResultMessageCode>{code}</ResultMessageCode><ResultDescription>no</ResultDescription></Result>"
    )


def _report(processed: int, errors: int, results: str) -> str:
    return REPORT.replace("<MessagesProcessed>1<", f"<MessagesProcessed>{processed}<").format(
        ok=processed - errors, errors=errors, result=results
    )


def test_a_report_of_several_messages_settles_each_by_its_own_message_id():
    outcomes = read_message_outcomes(_report(3, 1, _result("2") + _result("3", kind="Warning")), [1, 2, 3])
    assert {m: o.accepted for m, o in outcomes.items()} == {1: True, 2: False, 3: True}
    assert outcomes[2].reason == "18028: no"
    # an error naming no message of the feed (the envelope's: MessageID 0), nothing processed, or more
    # messages with an error than the results name: which one failed cannot be told, so none is accepted
    for report in (
        _report(3, 1, _result("0", "5000")),
        _report(3, 1, _result("", "5000")),
        _report(0, 0, ""),
        _report(3, 2, _result("2")),
    ):
        assert not any(o.accepted for o in read_message_outcomes(report, [1, 2, 3]).values()), report
    assert {
        o.reason for o in read_message_outcomes(_report(3, 1, _result("0", "5000")), [1, 2]).values()
    } == {"5000: no"}
    assert not any(o.accepted for o in read_message_outcomes("not xml", [1, 2]).values())


def test_submitted_refunds_the_return_and_stops_the_clock_refused_keeps_it_running():
    ret = requested(_received(*ALL_IN), _plan(_received(*ALL_IN)))
    assert awaiting_refund(ret)  # pending: the clock still runs
    late = ret.model_copy(update={"flags": [ReturnFlag.REFUND_AT_RISK, ReturnFlag.REFUND_LATE]})
    done = submitted(late, T + timedelta(days=2))
    assert done.status is ReturnStatus.REFUNDED
    assert not awaiting_refund(done)
    assert done.flags == []  # the clock stopped: a refunded return is neither at risk nor late
    assert confirmed(done, T + timedelta(days=3)).refund.status is RefundStatus.CONFIRMED
    no = refused(ret, T + timedelta(days=2), "18028: too much")
    assert no.status in AWAITING_REFUND and awaiting_refund(no)
    assert no.refund.reason == "18028: too much"
    assert "refund refused by Amazon: 18028: too much" in no.timeline[-1].note
    # an interrupted send confirmed straight from Amazon's finances is refunded too
    assert confirmed(ret, T + timedelta(days=3)).status is ReturnStatus.REFUNDED


def test_a_partly_received_return_refunded_is_refunded():
    ret = requested(_received(("MUG", 1, Grade.SELLABLE)), _plan(_received(("MUG", 1, Grade.SELLABLE))))
    assert ret.status is ReturnStatus.GRADED
    assert submitted(ret, T + timedelta(days=2)).status is ReturnStatus.REFUNDED


def test_refund_events_are_announced_once_each():
    from oms.events import events_from_change
    from oms.returns.records import return_item

    ret = requested(_received(*ALL_IN), _plan(_received(*ALL_IN)))
    done = submitted(ret, T + timedelta(days=2))
    sure = confirmed(done, T + timedelta(days=3))
    no = refused(ret, T + timedelta(days=2), "18028: too much")

    def heard(old: Return, new: Return) -> list[str]:
        return [
            e.detail_type
            for e in events_from_change(return_item(old), return_item(new), event_id="e", occurred_at=T)
            if e.detail_type.startswith("Refund")
        ]

    assert heard(_received(*ALL_IN), ret) == []
    assert heard(ret, done) == ["RefundIssued"]
    assert heard(done, sure) == []
    assert heard(ret, sure) == ["RefundIssued"]  # confirmed straight from pending (an interrupted send)
    assert heard(ret, no) == ["RefundRefused"]
    assert heard(no, no) == []


def test_a_refund_event_confirms_the_refund_of_its_own_skus_posted_after_it():
    from oms.amazon.finances_api import ListFinancialEventsResponse, refund_posted

    def event(sku: str, posted: str) -> dict:
        return {
            "AmazonOrderId": "111-0000001-0000001",
            "PostedDate": posted,
            "ShipmentItemAdjustmentList": [{"SellerSKU": sku, "ItemChargeAdjustmentList": []}],
        }

    answer = ListFinancialEventsResponse.model_validate(
        {
            "payload": {
                "FinancialEvents": {
                    "RefundEventList": [
                        event("MUG", "2026-12-01T10:00:00Z"),
                        event("CUP", "2026-12-03T10:00:00Z"),
                    ]
                }
            }
        }
    )
    events = answer.payload.financial_events.refund_event_list
    since = datetime(2026, 12, 2, tzinfo=UTC)
    assert refund_posted(events, "111-0000001-0000001", since, {"CUP"}).posted_date.day == 3
    assert refund_posted(events, "111-0000001-0000001", since, {"MUG"}) is None  # the mug's came before
    assert refund_posted(events, "111-0000001-0000001", since, {"MUG", "CUP"}) is None
    assert refund_posted(events, "222-0000001-0000001", since, {"CUP"}) is None


def test_a_retry_is_the_same_request_only_with_the_same_items_components_and_fee():
    ret = _received(*ALL_IN, reasons={"MUG": "UNWANTED_ITEM", "CUP": "UNWANTED_ITEM"})
    partial = RefundAsk(items=[RefundItemAsk(sku="MUG", quantity=1)])
    from oms.domain.refunds import same_request

    assert same_request(_plan(ret), RefundAsk(), ret.received())
    assert same_request(_plan(ret, partial), partial, ret.received())
    assert not same_request(
        _plan(ret, partial), RefundAsk(items=[RefundItemAsk(sku="MUG", quantity=2)]), ret.received()
    )
    assert not same_request(
        _plan(ret, partial), RefundAsk(), ret.received()
    )  # all received units is another refund
    fee = RefundAsk(restocking_fee=Money(amount="2.00", currency_code="USD"))
    assert same_request(
        _plan(ret, fee), RefundAsk(restocking_fee=Money(amount="2", currency_code="USD")), ret.received()
    )
    assert not same_request(_plan(ret, fee), RefundAsk(), ret.received())
