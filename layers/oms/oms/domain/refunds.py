"""Refunding a return, pure: what a refund may take (never more than was paid, never twice), where Amazon's
policy allows a restocking fee, the order adjustment Amazon takes (POST_PAYMENT_ADJUSTMENT_DATA, XML) and
what its processing report says.

Amounts are Decimals in the order's currency, two places. The item price (Principal) of a line is at most
the order's unit price times the units refunded; everything refunded on one order, across its returns, is
at most the order's total (item prices, shipping, tax) when Amazon has told it. A restocking fee follows
Amazon's US policy (docs/decisions.md): only on units the buyer sent back for a reason of their own, graded
sellable or customer-damaged, and at most 20% of those units' item price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree import ElementTree as ET  # building only: reports are read with defusedxml

from defusedxml import ElementTree as SafeET
from pydantic import Field

from oms.domain.orders import Order, OrderItem
from oms.domain.returns import (
    AWAITING_REFUND,
    Grade,
    Refund,
    RefundComponent,
    RefundLine,
    RefundStatus,
    Return,
    ReturnSource,
    ReturnStatus,
    TimelineEntry,
    moved,
    with_refund_flags,
)
from oms.domain.types import ApiModel, Money
from oms.errors import Conflict, FieldProblem, InvalidInput

FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
CUSTOMER_RETURN = "CustomerReturn"  # Amazon's AdjustmentReason for a refund of returned units
PRINCIPAL = "Principal"
RESTOCKING_FEE = "RestockingFee"
# The ItemPriceAdjustments components a seller refunds on a return (Amazon's OrderAdjustment XSD).
COMPONENTS = ("Principal", "Shipping", "Tax", "ShippingTax", "GiftWrap", "GiftWrapTax")
MAX_RESTOCKING_SHARE = Decimal("0.20")  # Amazon US: at most 20% of the item price
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 9  # no order is worth this much; larger figures are typing mistakes
# Buyer reasons (Amazon's return reason codes, with or without their CR- prefix) that mean the seller or
# the carrier caused the return: no restocking fee.
SELLER_CAUSED_REASONS = frozenset(
    {
        "DEFECTIVE",
        "DAMAGED_BY_CARRIER",
        "DAMAGED_BY_FC",
        "SWITCHEROO",  # a different item than ordered
        "WRONG_ITEM",
        "NOT_AS_DESCRIBED",
        "MISSING_PARTS",
        "QUALITY_UNACCEPTABLE",
        "EXTRA_ITEM",
        "MISSED_ESTIMATED_DELIVERY",
    }
)
# Grades that put the fault with the seller or the carrier, whatever the buyer said.
SELLER_CAUSED_GRADES = frozenset({Grade.DEFECTIVE, Grade.CARRIER_DAMAGED, Grade.WRONG_ITEM, Grade.DAMAGED})
OPEN_REFUND = frozenset({RefundStatus.PENDING, RefundStatus.SUBMITTED, RefundStatus.CONFIRMED})


class RefundItemAsk(ApiModel):
    """One SKU of the return to refund; without components, its item price for the units."""

    sku: str = Field(min_length=1, max_length=200)
    quantity: int | None = Field(default=None, gt=0, le=10_000, description="default: every unit received")
    components: list[RefundComponent] | None = Field(
        default=None,
        max_length=len(COMPONENTS),
        description="default: the item price (Principal) of the units",
    )


class RefundAsk(ApiModel):
    """POST /returns/{returnId}/refund."""

    items: list[RefundItemAsk] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="default: every SKU received, at its item price",
    )
    restocking_fee: Money | None = Field(
        default=None, description="kept from the refund, where Amazon's policy allows one (at most 20%)"
    )


def money(text: str | Decimal) -> Decimal:
    return Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP)


def text(amount: Decimal) -> str:
    return str(money(amount))


def _amount(value: str, where: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidInput.for_field(where, f"{value!r} is not an amount like 12.34") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput.for_field(where, "must be more than 0")
    if amount >= MAX_AMOUNT:
        raise InvalidInput.for_field(where, f"must be less than {MAX_AMOUNT}")
    if amount != amount.quantize(CENT):
        raise InvalidInput.for_field(where, "at most two decimal places")
    return amount


def _reason_code(reason: str | None) -> str:
    return (reason or "").strip().upper().removeprefix("CR-")


def fee_allowed(ret: Return, sku: str) -> str | None:
    """None when Amazon's policy allows a restocking fee on the SKU's units; else why not, in plain words."""
    if not ret.receipts:
        return "nothing was received back"
    reasons = {_reason_code(item.reason) for item in ret.items if item.sku == sku}
    caused = sorted(reasons & SELLER_CAUSED_REASONS)
    if caused:
        return f"the buyer returned it as {caused[0].lower().replace('_', ' ')}"
    grades = {line.grade for receipt in ret.receipts for line in receipt.items if line.sku == sku}
    faulty = sorted(g.value for g in grades & SELLER_CAUSED_GRADES)
    if faulty:
        return f"units came back {faulty[0]}"
    return None


def _order_line(order: Order, sku: str) -> OrderItem:
    return next(item for item in order.items if item.sku == sku)


def plan_refund(
    ret: Return,
    order: Order,
    ask: RefundAsk,
    *,
    refund_id: str,
    at: datetime,
    actor: str,
    refunded_before: Decimal = Decimal(0),
) -> Refund:
    """The pending refund `ask` makes of the return, or a 400/409 saying what it may not take.
    `refunded_before`: what the order's other returns have refunded or are refunding."""
    if ret.source is ReturnSource.FBA:
        raise Conflict(f"return {ret.return_id} went back to Amazon (FBA): Amazon refunds the buyer itself")
    if ret.refund is not None and ret.refund.status in OPEN_REFUND:
        raise Conflict(
            f"return {ret.return_id} has a refund {ret.refund.status.value} already: it is refunded once",
            [FieldProblem("returnId", f"refund {ret.refund.status.value}")],
        )
    if ret.status not in AWAITING_REFUND:
        raise Conflict(
            f"return {ret.return_id} is {ret.status.value}: a refund follows the receipt of the units "
            "(receive them first)"
        )
    received = ret.received()
    asked = ask.items or [RefundItemAsk(sku=sku) for sku in received if received[sku] > 0]
    lines: list[tuple[OrderItem, int, list[RefundComponent]]] = []
    seen: set[str] = set()
    currency: str | None = None
    for index, item in enumerate(asked):
        where = f"items[{index}]"
        if item.sku in seen:
            raise InvalidInput.for_field(f"{where}.sku", f"{item.sku} is listed twice")
        seen.add(item.sku)
        if received[item.sku] <= 0:
            raise Conflict(
                f"no unit of {item.sku} was received in return {ret.return_id}",
                [FieldProblem(f"{where}.sku", "not received in this return")],
            )
        quantity = item.quantity or received[item.sku]
        if quantity > received[item.sku]:
            raise Conflict(
                f"return {ret.return_id} received {received[item.sku]} unit(s) of {item.sku}: "
                f"cannot refund {quantity}",
                [FieldProblem(f"{where}.quantity", f"at most {received[item.sku]}")],
            )
        line = _order_line(order, item.sku)
        if line.unit_price is None:
            raise Conflict(
                f"the price of {item.sku} on order {order.order_id} is not known yet (Amazon's prices arrive "
                "with the next order check): try again in a few minutes"
            )
        currency = currency or line.unit_price.currency_code
        paid = money(line.unit_price.amount) * quantity
        components = item.components or [RefundComponent(type=PRINCIPAL, amount=text(paid))]
        types: set[str] = set()
        for n, component in enumerate(components):
            here = f"{where}.components[{n}]"
            if component.type not in COMPONENTS:
                raise InvalidInput.for_field(f"{here}.type", f"one of {', '.join(COMPONENTS)}")
            if component.type in types:
                raise InvalidInput.for_field(f"{here}.type", f"{component.type} is listed twice")
            types.add(component.type)
            amount = _amount(component.amount, f"{here}.amount")
            if component.type == PRINCIPAL and amount > paid:
                raise Conflict(
                    f"the buyer paid {text(paid)} {currency} for {quantity} unit(s) of {item.sku}: "
                    f"cannot refund {text(amount)} of its item price",
                    [FieldProblem(f"{here}.amount", f"at most {text(paid)}")],
                )
        lines.append(
            (line, quantity, [RefundComponent(type=c.type, amount=text(money(c.amount))) for c in components])
        )
    assert currency is not None  # at least one line: received units exist in a return awaiting its refund

    gross = sum((money(c.amount) for _, _, cs in lines for c in cs), Decimal(0))
    extras = any(c.type != PRINCIPAL for _, _, cs in lines for c in cs)
    if order.order_total is None and extras:
        raise Conflict(
            f"what the buyer paid for shipping and tax on order {order.order_id} is not known yet: "
            "refund the item price now, or try again after the next order check"
        )
    if order.order_total is not None and gross + refunded_before > money(order.order_total.amount):
        left = max(money(order.order_total.amount) - refunded_before, Decimal(0))
        raise Conflict(
            f"order {order.order_id} was paid {text(money(order.order_total.amount))} {currency}"
            + (f", {text(refunded_before)} refunded already" if refunded_before else "")
            + f": cannot refund {text(gross)} more (at most {text(left)})",
            [FieldProblem("items", f"at most {text(left)} in all")],
        )
    fees = _restocking_fees(ret, ask.restocking_fee, lines, currency)
    refund_lines = [
        RefundLine(
            sku=line.sku,
            order_item_id=line.order_item_id,
            quantity=quantity,
            adjustment_reason=CUSTOMER_RETURN,
            components=components,
            restocking_fee=text(fees[line.sku]) if fees.get(line.sku) else None,
            amount=text(
                sum((money(c.amount) for c in components), Decimal(0)) - fees.get(line.sku, Decimal(0))
            ),
        )
        for line, quantity, components in lines
    ]
    fee_total = sum(fees.values(), Decimal(0))
    return Refund(
        status=RefundStatus.PENDING,
        amount=Money(amount=text(gross - fee_total), currency_code=currency),
        refund_id=refund_id,
        attempt=(ret.refund.attempt + 1) if ret.refund is not None else 1,
        lines=refund_lines,
        restocking_fee=Money(amount=text(fee_total), currency_code=currency) if fee_total else None,
        requested_at=at,
        requested_by=actor,
    )


def _restocking_fees(
    ret: Return,
    fee: Money | None,
    lines: Sequence[tuple[OrderItem, int, list[RefundComponent]]],
    currency: str,
) -> dict[str, Decimal]:
    """The fee spread over the lines that may carry one, in proportion to their item price (the last takes
    the rounding); 409 where the policy allows none or the fee is above 20% of those units' item price."""
    if fee is None:
        return {}
    if fee.currency_code != currency:
        raise InvalidInput.for_field("restockingFee.currencyCode", f"the order is in {currency}")
    total = _amount(fee.amount, "restockingFee.amount")
    principal = {
        line.sku: sum((money(c.amount) for c in cs if c.type == PRINCIPAL), Decimal(0))
        for line, _, cs in lines
    }
    refused = {sku: why for sku in principal if (why := fee_allowed(ret, sku)) is not None}
    eligible = {sku: amount for sku, amount in principal.items() if sku not in refused and amount > 0}
    if not eligible:
        sku, why = next(iter(refused.items()), (next(iter(principal)), "no item price is refunded"))
        raise Conflict(
            f"Amazon's policy allows no restocking fee here: {sku}: {why}",
            [FieldProblem("restockingFee", "not allowed for this return")],
        )
    base = sum(eligible.values(), Decimal(0))
    cap = money(base * MAX_RESTOCKING_SHARE)
    if total > cap:
        raise Conflict(
            f"a restocking fee is at most 20% of the item price refunded ({text(base)} {currency}): "
            f"at most {text(cap)}, not {text(total)}",
            [FieldProblem("restockingFee.amount", f"at most {text(cap)}")],
        )
    fees: dict[str, Decimal] = {}
    spread = Decimal(0)
    skus = list(eligible)
    for sku in skus[:-1]:
        fees[sku] = money(total * eligible[sku] / base)
        spread += fees[sku]
    fees[skus[-1]] = total - spread
    return fees


def refund_total(ret: Return) -> Decimal:
    """What the return's refund takes from the order's total: nothing once refused."""
    if ret.refund is None or ret.refund.status not in OPEN_REFUND or ret.refund.amount is None:
        return Decimal(0)
    fee = money(ret.refund.restocking_fee.amount) if ret.refund.restocking_fee else Decimal(0)
    return money(ret.refund.amount.amount) + fee


def adjustment_feed(refund: Refund, *, order_id: str, seller_id: str) -> bytes:
    """The POST_PAYMENT_ADJUSTMENT_DATA document of one refund (message 1)."""
    return adjustments_feed([(1, refund, order_id)], seller_id=seller_id)


def adjustments_feed(messages: Sequence[tuple[int, Refund, str]], *, seller_id: str) -> bytes:
    """The POST_PAYMENT_ADJUSTMENT_DATA document of several refunds: per (MessageID, refund, order id) one
    OrderAdjustment message for the order, one AdjustedItem per line with its components (the restocking fee
    as Amazon's negative RestockingFee component)."""
    if not messages:
        raise ValueError("an adjustment feed carries at least one refund")
    envelope = ET.Element("AmazonEnvelope")
    envelope.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    envelope.set("xsi:noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = seller_id
    ET.SubElement(envelope, "MessageType").text = "OrderAdjustment"
    for message_id, refund, order_id in messages:
        if refund.amount is None:
            raise ValueError("a refund without an amount cannot be sent")
        currency = refund.amount.currency_code
        message = ET.SubElement(envelope, "Message")
        ET.SubElement(message, "MessageID").text = str(message_id)
        adjustment = ET.SubElement(message, "OrderAdjustment")
        ET.SubElement(adjustment, "AmazonOrderID").text = order_id
        for n, line in enumerate(refund.lines, start=1):
            item = ET.SubElement(adjustment, "AdjustedItem")
            ET.SubElement(item, "AmazonOrderItemCode").text = line.order_item_id
            ET.SubElement(item, "MerchantAdjustmentItemID").text = f"{refund.refund_id}-{n}"
            ET.SubElement(item, "AdjustmentReason").text = line.adjustment_reason
            prices = ET.SubElement(item, "ItemPriceAdjustments")
            parts = [(c.type, money(c.amount)) for c in line.components]
            if line.restocking_fee:
                parts.append((RESTOCKING_FEE, -money(line.restocking_fee)))
            for kind, amount in parts:
                component = ET.SubElement(prices, "Component")
                ET.SubElement(component, "Type").text = kind
                value = ET.SubElement(component, "Amount", currency=currency)
                value.text = text(amount)
            ET.SubElement(item, "QuantityCancelled").text = "0"
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        envelope, encoding="utf-8", xml_declaration=False
    )


class ProcessingOutcome(ApiModel):
    accepted: bool
    reason: str | None = None


def read_processing_report(document: bytes | str) -> ProcessingOutcome:
    """Amazon's XML processing report of a one-message adjustment feed: its message's outcome."""
    return read_message_outcomes(document, [1])[1]


def read_message_outcomes(document: bytes | str, message_ids: Sequence[int]) -> dict[int, ProcessingOutcome]:
    """Amazon's XML processing report of an adjustment feed, per message: a message with an error result
    (the Result naming its MessageID) is refused with Amazon's words (ResultMessageCode: ResultDescription);
    one without is accepted. Refused, every message, when the report cannot be read, names an error of no
    message of the feed (the envelope's: MessageID 0 or none), processed nothing, or counts more messages
    with an error than its results name (which ones cannot be told)."""

    def every(reason: str) -> dict[int, ProcessingOutcome]:
        return {m: ProcessingOutcome(accepted=False, reason=reason) for m in message_ids}

    try:
        root = SafeET.fromstring(document)
    except SafeET.ParseError as error:
        return every(f"Amazon's processing report could not be read ({error})")
    report = root.find(".//ProcessingReport")
    if report is None:
        return every("Amazon's processing report has no ProcessingReport")
    words: dict[int, list[str]] = {}
    whole: list[str] = []
    for result in report.findall("Result"):
        if (result.findtext("ResultCode") or "").strip().lower() != "error":
            continue
        said = (
            f"{(result.findtext('ResultMessageCode') or '').strip()}: "
            f"{(result.findtext('ResultDescription') or '').strip()}"
        )
        raw = (result.findtext("MessageID") or "").strip()
        message_id = int(raw) if raw.isdigit() else 0
        if message_id in message_ids:
            words.setdefault(message_id, []).append(said)
        else:
            whole.append(said)
    if whole:
        return every("; ".join(whole))
    try:
        failed = int((report.findtext("ProcessingSummary/MessagesWithError") or "0").strip() or 0)
        processed = int((report.findtext("ProcessingSummary/MessagesProcessed") or "0").strip() or 0)
    except ValueError:
        return every("Amazon's processing report has a summary that could not be read")
    if processed == 0:
        return every("Amazon processed no adjustment from the feed")
    if failed > len(words):
        return every(f"Amazon reported {failed} adjustment(s) refused without saying which")
    return {
        m: ProcessingOutcome(accepted=False, reason="; ".join(words[m]))
        if m in words
        else ProcessingOutcome(accepted=True)
        for m in message_ids
    }


def _with_refund(ret: Return, **changes: object) -> Return:
    assert ret.refund is not None
    return ret.model_copy(update={"refund": ret.refund.model_copy(update=changes)})


def requested(ret: Return, refund: Refund) -> Return:
    """The return with its refund pending (a refused one is replaced: the retry is a new attempt)."""
    note = (
        f"refund of {refund.amount.amount} {refund.amount.currency_code} requested" if refund.amount else None
    )
    entry = TimelineEntry(at=refund.requested_at or ret.requested_at, status=ret.status, note=note)
    return ret.model_copy(update={"refund": refund, "timeline": [*ret.timeline, entry]})


def claimed(ret: Return, at: datetime) -> Return:
    """The sender is about to create the feed: from now on a retry must not create another."""
    return _with_refund(ret, claimed_at=at)


def sending(ret: Return, at: datetime) -> Return:
    """The sender holds its marketplace's sending slot and asks Amazon to create the feed now."""
    return _with_refund(ret, sending_at=at)


def unclaimed(ret: Return) -> Return:
    """The sender stopped before asking Amazon to create the feed: the next try may send it."""
    return _with_refund(ret, claimed_at=None, sending_at=None)


def sent(ret: Return, feed_id: str) -> Return:
    return _with_refund(ret, feed_id=feed_id)


def submitted(ret: Return, at: datetime) -> Return:
    """Amazon accepted the adjustment: the buyer is refunded, the return is refunded (the clock stops)."""
    after = _with_refund(ret, status=RefundStatus.SUBMITTED, submitted_at=at)
    if after.status is not ReturnStatus.REFUNDED:
        amount = after.refund.amount if after.refund else None
        note = f"refunded {amount.amount} {amount.currency_code} through Amazon" if amount else "refunded"
        after = moved(after, ReturnStatus.REFUNDED, at, note)
    return with_refund_flags(after, [])  # off the refund clock: neither at risk nor late any more


def refused(ret: Return, at: datetime, reason: str) -> Return:
    """Amazon refused the adjustment (or it could not be sent): kept on the return with the reason; the
    return stays awaiting its refund, so the clock runs on and a new POST sends it again."""
    after = _with_refund(ret, status=RefundStatus.REFUSED, refused_at=at, reason=reason)
    entry = TimelineEntry(at=at, status=ret.status, note=f"refund refused by Amazon: {reason}")
    return after.model_copy(update={"timeline": [*after.timeline, entry]})


def confirmed(ret: Return, at: datetime) -> Return:
    """The refund shows in Amazon's finances."""
    after = submitted(ret, at) if ret.refund and ret.refund.status is RefundStatus.PENDING else ret
    return _with_refund(after, status=RefundStatus.CONFIRMED, confirmed_at=at)


def same_request(refund: Refund, ask: RefundAsk, received: Mapping[str, int]) -> bool:
    """Whether `ask` is the request that made `refund` (a retry with the same Idempotency-Key); `received`:
    the return's units received per SKU (what a request without items refunds)."""
    try:
        fee = ask.restocking_fee
        kept = refund.restocking_fee
        if (fee is None) != (kept is None):
            return False
        if (
            fee is not None
            and kept is not None
            and (fee.currency_code, money(fee.amount))
            != (
                kept.currency_code,
                money(kept.amount),
            )
        ):
            return False
        if ask.items is None:
            every = {sku: units for sku, units in received.items() if units > 0}
            return {line.sku: line.quantity for line in refund.lines} == every and all(
                c.type == PRINCIPAL for line in refund.lines for c in line.components
            )
        if [item.sku for item in ask.items] != [line.sku for line in refund.lines]:
            return False
        for item, line in zip(ask.items, refund.lines, strict=True):
            if item.quantity is not None and item.quantity != line.quantity:
                return False
            if item.components is not None and [(c.type, money(c.amount)) for c in item.components] != [
                (c.type, money(c.amount)) for c in line.components
            ]:
                return False
    except InvalidOperation:
        return False
    return True
