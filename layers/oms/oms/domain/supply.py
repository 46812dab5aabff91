"""Suppliers, their supply terms per SKU, and purchase orders: the pure rules (no I/O).

A SKU's lead time is typed by the seller per leg (production, transit, receiving); once at least
`OBSERVED_AFTER` purchase-order lines of that supplier and SKU have been received, the lead times
observed (sent to first receipt) replace it: their mean, and their standard deviation as the spread.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator

from oms.domain.types import ApiModel, Money, UtcDateTime
from oms.errors import Conflict, FieldProblem, InvalidInput

OBSERVED_AFTER = 3  # received lines before observed lead times replace the typed ones
MAX_PO_LINES = 50  # a PO's send (the PO and one on-order counter per line) fits one transaction
MAX_RECEIPT_LINES = 10  # a receipt's stock rows, ledger entries, orders served and counters fit one too
_SECONDS_PER_DAY = 86_400
_CENTS = Decimal("0.01")
_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,4})?")  # no sign, exponent or NaN: totals stay exact


def money_amount(money: Money, field: str) -> Decimal:
    """The amount of a money value, refused with the field's name unless a non-negative decimal."""
    if not _AMOUNT.fullmatch(money.amount):
        raise InvalidInput.for_field(
            f"{field}.amount",
            f'{money.amount!r} is not an amount of 0 or more such as "12.34" (at most 4 decimals)',
        )
    amount = Decimal(money.amount)
    if (
        len(money.currency_code) != 3
        or not money.currency_code.isalpha()
        or not money.currency_code.isupper()
    ):
        raise InvalidInput.for_field(f"{field}.currencyCode", "a three-letter ISO 4217 code, e.g. USD")
    return amount


def money(amount: Decimal, currency_code: str) -> Money:
    return Money(amount=format(amount.quantize(_CENTS), "f"), currency_code=currency_code)


# ------------------------------------------------------------------------------------------- supply terms


class LeadTimeLegs(ApiModel):
    """The lead time the seller types, in days per leg; the lead time is their sum."""

    production_days: float = Field(default=0, ge=0, le=365, description="from the order to goods ready")
    transit_days: float = Field(default=0, ge=0, le=365, description="from the supplier to the warehouse")
    receiving_days: float = Field(default=0, ge=0, le=60, description="from arrival to on the shelf")

    @property
    def total(self) -> float:
        return self.production_days + self.transit_days + self.receiving_days


class TermsRequest(ApiModel):
    """A supplier's terms for one SKU (PUT /suppliers/{supplierId}/skus/{sku}): replaces the typed ones."""

    lead_time: LeadTimeLegs = Field(default_factory=LeadTimeLegs)
    minimum_order_quantity: int = Field(default=1, ge=1, le=1_000_000)
    case_pack: int = Field(default=1, ge=1, le=100_000, description="units per case: orders are whole cases")
    unit_cost: Money | None = None
    supplier_sku: str | None = Field(default=None, max_length=100, description="the supplier's own code")
    preferred: bool = Field(
        default=False, description="the supplier this SKU is reordered from when several supply it"
    )


@dataclass(frozen=True)
class ObservedLeadTimes:
    """Lead times observed on received PO lines: count, mean and the sum of squared deviations (Welford),
    so each new one is added in one step without keeping them all."""

    count: int = 0
    mean_days: float = 0.0
    squares: float = 0.0

    def with_sample(self, days: float) -> ObservedLeadTimes:
        count = self.count + 1
        delta = days - self.mean_days
        mean = self.mean_days + delta / count
        return ObservedLeadTimes(count, mean, self.squares + delta * (days - mean))

    @property
    def sd_days(self) -> float:
        """The sample standard deviation (0 with fewer than two)."""
        return math.sqrt(self.squares / (self.count - 1)) if self.count > 1 else 0.0


LeadTimeSource = Literal["typed", "observed"]


@dataclass(frozen=True)
class SupplyTerms:
    """What the reorder rules need of a SKU's supplier: the effective lead time (observed once there are
    enough received lines, else typed) with its spread, the order rounding and the unit cost."""

    supplierId: str
    leadTimeDays: float
    leadTimeSd: float
    source: LeadTimeSource
    moq: int
    casePack: int
    unitCost: Money | None


def effective_terms(supplier_id: str, typed: TermsRequest, observed: ObservedLeadTimes) -> SupplyTerms:
    """Observed lead times win over the typed ones from the `OBSERVED_AFTER`th received line on; before
    that the typed sum, with no spread known (0)."""
    if observed.count >= OBSERVED_AFTER:
        lead, spread, source = observed.mean_days, observed.sd_days, "observed"
    else:
        lead, spread, source = typed.lead_time.total, 0.0, "typed"
    return SupplyTerms(
        supplierId=supplier_id,
        leadTimeDays=round(lead, 2),
        leadTimeSd=round(spread, 2),
        source=source,  # type: ignore[arg-type]
        moq=typed.minimum_order_quantity,
        casePack=typed.case_pack,
        unitCost=typed.unit_cost,
    )


def lead_time_explained(terms: SupplyTerms, observed: ObservedLeadTimes) -> str:
    """One sentence a seller reads beside the figure."""
    if terms.source == "observed":
        return (
            f"observed: mean of {observed.count} received purchase-order lines "
            f"({terms.leadTimeDays} days, spread {terms.leadTimeSd} days)"
        )
    seen = (
        f"; {observed.count} received so far, {OBSERVED_AFTER} needed to use them" if observed.count else ""
    )
    return f"typed: production + transit + receiving = {terms.leadTimeDays} days{seen}"


def lead_time_days(sent_at: datetime, received_at: datetime) -> float:
    """Days from sending the PO to the first receipt of a line, to the hundredth."""
    return round(max((received_at - sent_at).total_seconds(), 0) / _SECONDS_PER_DAY, 2)


# ----------------------------------------------------------------------------------------- purchase orders


class PoStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_RECEIVED = "partially-received"
    RECEIVED = "received"
    CLOSED = "closed"


class NewPoLine(ApiModel):
    sku: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1_000_000)
    unit_cost: Money | None = Field(default=None, description="default: the supplier's cost for the SKU")


class PoLine(ApiModel):
    sku: str
    supplier_sku: str | None = None
    quantity: int = Field(description="units ordered")
    unit_cost: Money
    received: int = 0
    cancelled: int = Field(default=0, description="units given up when the PO was closed")
    first_received_at: UtcDateTime | None = None
    lead_time_days: float | None = Field(default=None, description="from sentAt to the first receipt")
    expected_by: UtcDateTime | None = Field(
        default=None, description="sentAt plus the lead time used for this supplier and SKU when it was sent"
    )

    @property
    def open_units(self) -> int:
        return self.quantity - self.received - self.cancelled


class ReceiptLine(ApiModel):
    sku: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=1_000_000)
    location: str | None = Field(default=None, min_length=1, max_length=64, description="default: default")


class PoReceipt(ApiModel):
    receipt_id: str
    at: UtcDateTime
    actor: str
    lines: list[ReceiptLine]


class PurchaseOrder(ApiModel):
    po_id: str
    supplier_id: str
    supplier_name: str
    status: PoStatus
    currency_code: str
    lines: list[PoLine]
    total: Money = Field(description="units ordered times their unit cost")
    created_at: UtcDateTime
    sent_at: UtcDateTime | None = None
    closed_at: UtcDateTime | None = None
    received_at: UtcDateTime | None = Field(default=None, description="when the last open unit arrived")
    receipts: list[PoReceipt] = Field(default_factory=list)
    note: str | None = None
    pdf_url: str | None = Field(default=None, description="the PDF sent to the supplier (a link for an hour)")

    def receipt(self, receipt_id: str) -> PoReceipt | None:
        return next((r for r in self.receipts if r.receipt_id == receipt_id), None)

    def on_order(self) -> dict[str, int]:
        """Units sent to the supplier and not yet received or cancelled, per SKU."""
        if self.status not in (PoStatus.SENT, PoStatus.PARTIALLY_RECEIVED):
            return {}
        return {line.sku: line.open_units for line in self.lines if line.open_units}


def po_total(lines: list[PoLine], currency_code: str) -> Money:
    return money(
        sum((Decimal(line.unit_cost.amount) * line.quantity for line in lines), Decimal(0)), currency_code
    )


def check_new_lines(lines: list[NewPoLine]) -> None:
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.sku in seen:
            raise InvalidInput.for_field(
                f"lines[{index}].sku", f"SKU {line.sku} is on line {seen[line.sku]} already: one line per SKU"
            )
        seen[line.sku] = index


def sent(po: PurchaseOrder, at: datetime, lead_times: Mapping[str, float] | None = None) -> PurchaseOrder:
    """Sent at `at`; each line expected after the lead time the reorder rules use for it (by SKU), if known."""
    if po.status is not PoStatus.DRAFT:
        raise Conflict(f"purchase order {po.po_id} is {po.status.value}: only a draft can be sent")
    known = lead_times or {}
    lines = [
        line.model_copy(update={"expected_by": at + timedelta(days=known[line.sku])})
        if line.sku in known
        else line
        for line in po.lines
    ]
    return po.model_copy(update={"status": PoStatus.SENT, "sent_at": at, "lines": lines})


def received(po: PurchaseOrder, receipt: PoReceipt) -> tuple[PurchaseOrder, dict[str, float]]:
    """The PO after the receipt, and the lead time of each line received for the first time (by SKU).
    Refused whole (409 naming the line) for a PO not sent, a SKU not on it, or more units than are open."""
    if po.status not in (PoStatus.SENT, PoStatus.PARTIALLY_RECEIVED):
        raise Conflict(
            f"purchase order {po.po_id} is {po.status.value}: only a sent purchase order can be received"
        )
    assert po.sent_at is not None
    asked: dict[str, int] = {}
    by_sku = {line.sku: line for line in po.lines}
    for index, line in enumerate(receipt.lines):
        if line.sku not in by_sku:
            raise Conflict(
                f"SKU {line.sku} is not on purchase order {po.po_id}",
                [FieldProblem(f"lines[{index}].sku", "not on this purchase order")],
            )
        asked[line.sku] = asked.get(line.sku, 0) + line.quantity
        open_units = by_sku[line.sku].open_units
        if asked[line.sku] > open_units:
            raise Conflict(
                f"more units of {line.sku} than are still expected on purchase order {po.po_id} "
                f"({open_units} of {by_sku[line.sku].quantity} open)",
                [
                    FieldProblem(
                        f"lines[{index}].quantity", f"at most {open_units - asked[line.sku] + line.quantity}"
                    )
                ],
            )
    lead_times: dict[str, float] = {}
    lines: list[PoLine] = []
    for po_line in po.lines:
        units = asked.get(po_line.sku, 0)
        update: dict[str, object] = {"received": po_line.received + units}
        if units and po_line.received == 0:
            days = lead_time_days(po.sent_at, receipt.at)
            lead_times[po_line.sku] = days
            update |= {"first_received_at": receipt.at, "lead_time_days": days}
        lines.append(po_line.model_copy(update=update))
    done = all(po_line.open_units == 0 for po_line in lines)
    after = po.model_copy(
        update={
            "lines": lines,
            "status": PoStatus.RECEIVED if done else PoStatus.PARTIALLY_RECEIVED,
            "received_at": receipt.at if done else None,
            "receipts": [*po.receipts, receipt],
        }
    )
    return after, lead_times


def closed(po: PurchaseOrder, at: datetime) -> PurchaseOrder:
    """Closed: every unit not received is cancelled (no longer on order). A received or closed PO: 409."""
    if po.status in (PoStatus.CLOSED, PoStatus.RECEIVED):
        raise Conflict(f"purchase order {po.po_id} is {po.status.value} already")
    lines = [line.model_copy(update={"cancelled": line.cancelled + line.open_units}) for line in po.lines]
    return po.model_copy(update={"status": PoStatus.CLOSED, "closed_at": at, "lines": lines})


def on_order_change(before: PurchaseOrder | None, after: PurchaseOrder) -> dict[str, int]:
    """How a change of a PO moves each SKU's units on order (for the counters in the same transaction)."""
    old = before.on_order() if before else {}
    new = after.on_order()
    change = {sku: new.get(sku, 0) - old.get(sku, 0) for sku in {*old, *new}}
    return {sku: units for sku, units in sorted(change.items()) if units}


class SupplierRequest(ApiModel):
    """A supplier as the seller describes it (POST /suppliers, PUT /suppliers/{supplierId})."""

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)
    address: list[str] = Field(default_factory=list, max_length=6, description="address lines, as printed")
    currency_code: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", description="the currency it invoices in"
    )
    note: str | None = Field(default=None, max_length=1000, description="printed on its purchase orders")

    @field_validator("address")
    @classmethod
    def _lines(cls, lines: list[str]) -> list[str]:
        if any(len(line) > 200 for line in lines):
            raise ValueError("each address line at most 200 characters")
        return lines
