"""Returns, pure: the Return entity, its state machine, what a receipt may take and what each grade
does to stock (docs/openapi.json: Return).

requested -> authorized (or closed, with the reason) -> in-transit -> received -> graded ->
restocked / quarantined / written-off -> refunded -> closed. A receipt takes units of the returned
SKUs, never more than were returned (per SKU, across receipts); sellable units go back on hand, every
other grade is written off (docs/decisions.md: why not a quarantine stock row). The refund is due two
business days after the first receipt, on the warehouse calendar; a return awaiting its refund is
refundAtRisk, then refundLate, as an order awaiting shipment is atRisk, then late (domain/deadlines.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field, model_validator

from oms.domain.calendar import BusinessCalendar
from oms.domain.orders import FulfillmentChannel, Order, units_by_sku
from oms.domain.stock import DEFAULT_LOCATION
from oms.domain.types import ApiModel, Money, UtcDateTime
from oms.errors import Conflict, FieldProblem, InvalidInput

REFUND_BUSINESS_DAYS = 2  # Amazon: refund within two business days of receiving the return
DECISION_HOURS = 24  # Amazon: answer a return request within 24 hours (calendar time, not business time)
MAX_ITEMS = 50


class ReturnSource(StrEnum):
    AMAZON = "amazon"  # a seller-fulfilled return authorized in Amazon's flow
    FBA = "fba"  # returned to Amazon's fulfilment centre: changes no local stock
    SELLER = "seller"  # recorded by the seller, outside Amazon's flow (POST /returns)


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    IN_TRANSIT = "in-transit"
    RECEIVED = "received"
    GRADED = "graded"
    RESTOCKED = "restocked"
    QUARANTINED = "quarantined"
    WRITTEN_OFF = "written-off"
    REFUNDED = "refunded"
    CLOSED = "closed"


S = ReturnStatus
_DISPOSED = frozenset({S.RESTOCKED, S.QUARANTINED, S.WRITTEN_OFF})
# More units of a return may arrive after some were received and graded (a return of 3 in two parcels).
TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    S.REQUESTED: frozenset({S.AUTHORIZED, S.CLOSED}),
    S.AUTHORIZED: frozenset({S.IN_TRANSIT, S.RECEIVED, S.CLOSED}),
    S.IN_TRANSIT: frozenset({S.RECEIVED, S.CLOSED}),
    S.RECEIVED: frozenset({S.GRADED}),
    S.GRADED: frozenset({S.RECEIVED, S.REFUNDED} | _DISPOSED),  # refunded: the units received so far
    S.RESTOCKED: frozenset({S.RECEIVED, S.REFUNDED, S.CLOSED}),
    S.QUARANTINED: frozenset({S.RECEIVED, S.REFUNDED, S.CLOSED}),
    S.WRITTEN_OFF: frozenset({S.RECEIVED, S.REFUNDED, S.CLOSED}),
    S.REFUNDED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
RECEIVABLE = frozenset({S.AUTHORIZED, S.IN_TRANSIT, S.GRADED} | _DISPOSED)
# Units came back and the refund is not done: the refund clock runs (and the refund-due index holds it).
AWAITING_REFUND = frozenset({S.RECEIVED, S.GRADED} | _DISPOSED)


class Grade(StrEnum):
    SELLABLE = "sellable"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    CUSTOMER_DAMAGED = "customer-damaged"
    CARRIER_DAMAGED = "carrier-damaged"
    WRONG_ITEM = "wrong-item"


class Disposition(StrEnum):
    RESTOCKED = "restocked"  # back on hand at a location, available to orders
    WRITTEN_OFF = "written-off"  # never counted as stock again: a ledger entry records it


def disposition_of(grade: Grade) -> Disposition:
    """Only a sellable unit goes back on hand; any other could be sold to the next buyer if it did."""
    return Disposition.RESTOCKED if grade is Grade.SELLABLE else Disposition.WRITTEN_OFF


class ReturnFlag(StrEnum):
    DECISION_AT_RISK = "decisionAtRisk"
    DECISION_LATE = "decisionLate"
    REFUND_AT_RISK = "refundAtRisk"
    REFUND_LATE = "refundLate"


DECISION_FLAGS = (ReturnFlag.DECISION_AT_RISK, ReturnFlag.DECISION_LATE)
REFUND_FLAGS = (ReturnFlag.REFUND_AT_RISK, ReturnFlag.REFUND_LATE)


class ReturnItem(ApiModel):
    sku: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0, le=10_000)
    reason: str | None = Field(default=None, max_length=200, description="the buyer's reason (Amazon's code)")
    disposition: str | None = Field(
        default=None,
        max_length=64,
        description="FBA: Amazon's detailed disposition of the units (SELLABLE, CUSTOMER_DAMAGED, DEFECTIVE...)",
    )
    fulfillment_center_id: str | None = Field(
        default=None, max_length=64, description="FBA: the fulfilment centre the units went back to"
    )
    for_removal: bool = Field(
        default=False, description="FBA: unsellable units at Amazon, to be removed (a removal order)"
    )


class ReceiptLine(ApiModel):
    sku: str
    quantity: int = Field(gt=0)
    grade: Grade
    location: str = DEFAULT_LOCATION
    disposition: Disposition


class Receipt(ApiModel):
    receipt_id: str
    at: UtcDateTime
    actor: str
    items: list[ReceiptLine]


class RefundStatus(StrEnum):
    PENDING = "pending"  # recorded here, not yet accepted by Amazon
    SUBMITTED = "submitted"  # Amazon processed the order adjustment: the buyer is refunded
    CONFIRMED = "confirmed"  # the refund shows in Amazon's finances
    REFUSED = "refused"  # Amazon refused the adjustment: `reason` says why; POST the refund again


class RefundComponent(ApiModel):
    """One price component refunded for a line (Amazon's ItemPriceAdjustments Component)."""

    type: str = Field(description="Principal (item price), Shipping, Tax, ShippingTax, GiftWrap, GiftWrapTax")
    amount: str = Field(description="the amount refunded, a decimal string in the order's currency")


class RefundLine(ApiModel):
    sku: str
    order_item_id: str
    quantity: int = Field(gt=0)
    adjustment_reason: str = Field(description="Amazon's AdjustmentReason, e.g. CustomerReturn")
    components: list[RefundComponent]
    restocking_fee: str | None = Field(
        default=None, description="kept by the seller (Amazon's RestockingFee)"
    )
    amount: str = Field(description="refunded for this line: the components less the restocking fee")


class Refund(ApiModel):
    status: RefundStatus = Field(description="pending -> submitted -> confirmed (or refused)")
    amount: Money | None = None
    refund_id: str | None = None
    attempt: int = 1
    lines: list[RefundLine] = Field(default_factory=list)
    restocking_fee: Money | None = None
    requested_at: UtcDateTime | None = None
    requested_by: str | None = None
    claimed_at: UtcDateTime | None = Field(
        default=None,
        description="when the sender began sending it to Amazon (a crash after this never resends)",
    )
    sending_at: UtcDateTime | None = Field(
        default=None,
        description=(
            "when the sender asked Amazon to create the feed, alone in its marketplace (an adjustment feed "
            "Amazon lists from then on that nobody recorded is this refund's)"
        ),
    )
    feed_id: str | None = Field(default=None, description="Amazon's feed that carries the adjustment")
    submitted_at: UtcDateTime | None = None
    confirmed_at: UtcDateTime | None = None
    refused_at: UtcDateTime | None = None
    reason: str | None = Field(default=None, description="why Amazon refused it, in Amazon's words")


class TimelineEntry(ApiModel):
    at: UtcDateTime
    status: ReturnStatus
    note: str | None = None


class Return(ApiModel):
    return_id: str
    order_id: str
    source: ReturnSource
    amazon_rma_id: str | None = None
    license_plate_number: str | None = Field(default=None, description="FBA: Amazon's licence plate")
    status: ReturnStatus
    items: list[ReturnItem]
    receipts: list[Receipt] = Field(default_factory=list)
    requested_at: UtcDateTime
    decision_due_by: UtcDateTime | None = Field(
        default=None,
        description="a request waiting for the seller's decision: answer by then (requested + 24 hours)",
    )
    decided_at: UtcDateTime | None = Field(
        default=None, description="when the request was authorized or declined"
    )
    received_at: UtcDateTime | None = Field(default=None, description="the first receipt")
    refund_due_by: UtcDateTime | None = None
    refund: Refund | None = None
    tracking_id: str | None = Field(
        default=None, max_length=200, description="the return parcel's tracking number (Amazon's report)"
    )
    carrier: str | None = Field(default=None, max_length=200, description="the return parcel's carrier")
    label_cost: Money | None = Field(default=None, description="the return label's cost")
    label_paid_by: str | None = Field(default=None, description="who pays the return label (Amazon's words)")
    in_policy: bool | None = Field(default=None, description="Amazon: within its return policy")
    resolution: str | None = Field(default=None, description="Amazon's resolution (e.g. StandardRefund)")
    flags: list[ReturnFlag] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _decision_clock(self) -> Return:
        """A request waiting for the seller's decision is due 24 hours after it was made, however it was
        created (the returns sync, a test, an old item): the clock never depends on the writer."""
        seller_decides = self.source is not ReturnSource.FBA  # Amazon decides on returns to its own centres
        if self.status is ReturnStatus.REQUESTED and self.decision_due_by is None and seller_decides:
            self.decision_due_by = self.requested_at + timedelta(hours=DECISION_HOURS)
        return self

    def returned(self) -> Counter[str]:
        units: Counter[str] = Counter()
        for item in self.items:
            units[item.sku] += item.quantity
        return units

    def received(self) -> Counter[str]:
        units: Counter[str] = Counter()
        for receipt in self.receipts:
            for line in receipt.items:
                units[line.sku] += line.quantity
        return units

    def outcome(self) -> dict[str, int]:
        """Units received so far by what became of them: back in stock, written off (lists word a return
        per unit: one of two units written off is not "back in stock")."""
        units = {"backInStock": 0, "writtenOff": 0}
        for receipt in self.receipts:
            for line in receipt.items:
                units["backInStock" if line.disposition is Disposition.RESTOCKED else "writtenOff"] += (
                    line.quantity
                )
        return units

    def receipt(self, receipt_id: str) -> Receipt | None:
        return next((r for r in self.receipts if r.receipt_id == receipt_id), None)


def lookup_text(text: str) -> str:
    """An identifier as scanned or typed, compared without case or spaces ("1z 999" finds "1Z999")."""
    return "".join(text.split()).upper()


def lookup_identifiers(ret: Return) -> set[str]:
    """What finds the return besides its own id and its order's id: Amazon's RMA id, the parcel's tracking."""
    return {lookup_text(v) for v in (ret.amazon_rma_id, ret.tracking_id) if v and lookup_text(v)}


def moved(ret: Return, to: ReturnStatus, at: datetime, note: str | None = None) -> Return:
    """The return in its next state, with a timeline entry; a move the state machine forbids is a 409."""
    if to not in TRANSITIONS[ret.status]:
        raise Conflict(f"return {ret.return_id} is {ret.status.value}: it cannot become {to.value}")
    entry = TimelineEntry(at=at, status=to, note=note)
    return ret.model_copy(update={"status": to, "timeline": [*ret.timeline, entry]})


def _decided(before: Return, after: Return, at: datetime) -> Return:
    """A request answered: when, and its decision flags gone (the clock stops)."""
    if before.status is not S.REQUESTED:
        return after
    kept = [f for f in after.flags if f not in DECISION_FLAGS]
    return after.model_copy(update={"decided_at": at, "flags": kept})


def authorize(ret: Return, at: datetime, note: str | None = None) -> Return:
    """The seller lets the buyer send it back (requested -> authorized); any other state is a 409."""
    return _decided(ret, moved(ret, S.AUTHORIZED, at, note), at)


def close(ret: Return, at: datetime, reason: str) -> Return:
    """Closed with the reason (a request declined, a return that never came back, a refund done)."""
    if not reason.strip():
        raise InvalidInput.for_field("reason", "a return is closed with its reason")
    return _decided(ret, moved(ret, S.CLOSED, at, reason.strip()), at)


def in_transit(ret: Return, at: datetime, note: str | None = None) -> Return:
    return moved(ret, S.IN_TRANSIT, at, note)


def returnable_units(order: Order, returns: Sequence[Return]) -> dict[str, int]:
    """Per SKU of the order: units shipped less the units already in its other returns."""
    already: Counter[str] = Counter()
    for other in returns:
        if other.status is not S.CLOSED or other.receipts:
            already.update(other.returned())
    return {sku: shipped - already[sku] for sku, (shipped, _) in units_by_sku(order).items()}


def new_return(
    order: Order,
    items: Sequence[ReturnItem],
    *,
    return_id: str,
    at: datetime,
    source: ReturnSource = ReturnSource.SELLER,
    amazon_rma_id: str | None = None,
    earlier: Sequence[Return] = (),
) -> Return:
    """A return of shipped units of `order`: each SKU once, of the order, at most its units shipped and not
    already returned (400 for what the request got wrong, 409 for what the order's state refuses)."""
    if order.fulfillment_channel is FulfillmentChannel.AFN and source is not ReturnSource.FBA:
        raise Conflict(
            f"order {order.order_id} is fulfilled by Amazon: its returns come from Amazon's FBA returns report",
            [FieldProblem("orderId", "is fulfilled by Amazon (FBA)")],
        )
    if not items:
        raise InvalidInput.for_field("items", "name at least one returned SKU")
    left = returnable_units(order, earlier)
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.sku in seen:
            raise InvalidInput.for_field(f"items[{index}].sku", f"{item.sku} is listed twice")
        seen.add(item.sku)
        if item.sku not in left:
            raise InvalidInput.for_field(
                f"items[{index}].sku", f"{item.sku} is not in order {order.order_id}"
            )
        if item.quantity > left[item.sku]:
            raise Conflict(
                f"order {order.order_id} has {max(left[item.sku], 0)} unit(s) of {item.sku} shipped and not "
                f"already returned; cannot return {item.quantity}",
                [FieldProblem(f"items[{index}].quantity", f"at most {max(left[item.sku], 0)}")],
            )
    first = S.AUTHORIZED if source is ReturnSource.SELLER else S.REQUESTED
    timeline = [TimelineEntry(at=at, status=S.REQUESTED, note=_source_note(source))]
    if first is S.AUTHORIZED:
        timeline.append(TimelineEntry(at=at, status=S.AUTHORIZED, note="recorded by the seller"))
    return Return(
        return_id=return_id,
        order_id=order.order_id,
        source=source,
        amazon_rma_id=amazon_rma_id,
        status=first,
        items=list(items),
        requested_at=at,
        timeline=timeline,
    )


def _source_note(source: ReturnSource) -> str:
    return {
        ReturnSource.SELLER: "recorded by the seller",
        ReturnSource.AMAZON: "requested through Amazon",
        ReturnSource.FBA: "returned to Amazon's fulfilment centre",
    }[source]


class ReceivedUnits(ApiModel):
    """One line of a receipt as asked (POST /returns/{returnId}/receipts)."""

    sku: str = Field(min_length=1, max_length=200)
    quantity: int = Field(gt=0, le=10_000)
    grade: Grade
    location: str | None = Field(
        default=None, min_length=1, max_length=64, description="where sellable units go (default: default)"
    )


def receipt_lines(ret: Return, units: Sequence[ReceivedUnits]) -> list[ReceiptLine]:
    """What a receipt may take: units of the return's SKUs, never more than returned per SKU across every
    receipt (409 naming the line), only once the return is authorized and until it is refunded."""
    if ret.source is ReturnSource.FBA:
        raise Conflict(f"return {ret.return_id} went back to Amazon (FBA): nothing arrives here to receive")
    if ret.status not in RECEIVABLE:
        raise Conflict(f"return {ret.return_id} is {ret.status.value}: units cannot be received now")
    if not units:
        raise InvalidInput.for_field("items", "name at least one received SKU")
    returned, before, taken = ret.returned(), ret.received(), ret.received()
    lines: list[ReceiptLine] = []
    for index, unit in enumerate(units):
        if unit.sku not in returned:
            raise Conflict(
                f"{unit.sku} is not in return {ret.return_id}",
                [FieldProblem(f"items[{index}].sku", f"not in return {ret.return_id}")],
            )
        left = returned[unit.sku] - taken[unit.sku]
        if unit.quantity > left:
            here = taken[unit.sku] - before[unit.sku]
            raise Conflict(
                f"return {ret.return_id} has {returned[unit.sku]} unit(s) of {unit.sku}, "
                f"{before[unit.sku]} received already"
                + (f" and {here} in this receipt" if here else "")
                + f": cannot receive {unit.quantity} more",
                [FieldProblem(f"items[{index}].quantity", f"at most {left}")],
            )
        taken[unit.sku] += unit.quantity
        disposition = disposition_of(unit.grade)
        location = unit.location or DEFAULT_LOCATION
        lines.append(
            ReceiptLine(
                sku=unit.sku,
                quantity=unit.quantity,
                grade=unit.grade,
                location=location,
                disposition=disposition,
            )
        )
    return lines


def received(ret: Return, receipt: Receipt, calendar: BusinessCalendar) -> Return:
    """The return after a receipt: received and graded, then restocked when any unit went back on hand
    (else written off) once every returned unit is in; the refund due two business days after the first
    receipt."""
    at = receipt.at
    units = sum(line.quantity for line in receipt.items)
    after = moved(ret, S.RECEIVED, at, f"{units} unit(s) received ({receipt.receipt_id})")
    grades = Counter[str]()
    for line in receipt.items:
        grades[line.grade.value] += line.quantity
    after = moved(after, S.GRADED, at, ", ".join(f"{n} {grade}" for grade, n in sorted(grades.items())))
    after = after.model_copy(update={"receipts": [*ret.receipts, receipt]})
    if ret.received_at is None:
        after = after.model_copy(
            update={
                "received_at": at,
                "refund_due_by": calendar.add_working_days(at, REFUND_BUSINESS_DAYS),
            }
        )
    if after.received() == after.returned():
        restocked = any(line.disposition is Disposition.RESTOCKED for r in after.receipts for line in r.items)
        after = moved(after, S.RESTOCKED if restocked else S.WRITTEN_OFF, at)
    return after


def awaiting_refund(ret: Return) -> bool:
    """Received (so its refund is due by a date) and neither refunded nor closed."""
    return ret.status in AWAITING_REFUND and ret.refund_due_by is not None


def refund_flags(
    ret: Return, now: datetime, calendar: BusinessCalendar, *, at_risk_share: float
) -> list[ReturnFlag]:
    """Where a return's refund stands against refundDueBy, in the warehouse's working time: refundAtRisk once
    less than `at_risk_share` of the window from the first receipt to refundDueBy is left, refundLate (with
    refundAtRisk, as an order late is also at risk) once refundDueBy has passed. A refunded or closed return,
    or one not yet received, carries neither."""
    if not 0 < at_risk_share < 1:
        raise ValueError("the at-risk share is a fraction between 0 and 1")
    due, start = ret.refund_due_by, ret.received_at
    if not awaiting_refund(ret) or due is None or start is None:
        return []
    if now > due:
        return [ReturnFlag.REFUND_AT_RISK, ReturnFlag.REFUND_LATE]
    window = calendar.working_time_between(min(start, now), due)
    left = calendar.working_time_between(now, due)
    if window > timedelta() and left < window * at_risk_share:
        return [ReturnFlag.REFUND_AT_RISK]
    return []


def with_refund_flags(ret: Return, raised: Sequence[ReturnFlag]) -> Return:
    """The return with exactly `raised` of the refund flags (any other flag kept), itself when unchanged."""
    return _with_flags(ret, raised, REFUND_FLAGS)


def awaiting_decision(ret: Return) -> bool:
    """A request the seller has neither authorized nor declined (the decision clock runs); never an FBA
    return, which Amazon decides on."""
    return (
        ret.status is S.REQUESTED and ret.decision_due_by is not None and ret.source is not ReturnSource.FBA
    )


def decision_flags(ret: Return, now: datetime, *, at_risk_share: float) -> list[ReturnFlag]:
    """Where a request stands against decisionDueBy, in calendar time (Amazon's 24 hours run through nights
    and weekends): decisionAtRisk once less than `at_risk_share` of the 24 hours is left (the shipping
    setup's share, as for orders and refunds), decisionLate (with decisionAtRisk) once decisionDueBy has
    passed. An answered request carries neither."""
    if not 0 < at_risk_share < 1:
        raise ValueError("the at-risk share is a fraction between 0 and 1")
    due = ret.decision_due_by
    if not awaiting_decision(ret) or due is None:
        return []
    if now > due:
        return [ReturnFlag.DECISION_AT_RISK, ReturnFlag.DECISION_LATE]
    window = due - min(ret.requested_at, now)
    if window > timedelta() and due - now < window * at_risk_share:
        return [ReturnFlag.DECISION_AT_RISK]
    return []


def with_decision_flags(ret: Return, raised: Sequence[ReturnFlag]) -> Return:
    return _with_flags(ret, raised, DECISION_FLAGS)


def clock_flags(ret: Return, now: datetime, calendar: BusinessCalendar, *, at_risk_share: float) -> Return:
    """The return with both clocks' flags as of `now` (a return is on at most one of them), itself when
    unchanged: what the deadline guard writes."""
    after = with_decision_flags(ret, decision_flags(ret, now, at_risk_share=at_risk_share))
    return with_refund_flags(after, refund_flags(after, now, calendar, at_risk_share=at_risk_share))


def _with_flags(ret: Return, raised: Sequence[ReturnFlag], family: Sequence[ReturnFlag]) -> Return:
    kept = [f for f in ret.flags if f not in family]
    flags = kept + [f for f in family if f in raised]
    return ret if flags == ret.flags else ret.model_copy(update={"flags": flags})
