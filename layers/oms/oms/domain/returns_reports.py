"""Amazon's returns reports, pure: the two tab-separated flat files read into returns, bad rows named by line.

- GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE (seller-fulfilled): one row per returned SKU of a return
  authorization; a return is keyed by its Amazon RMA ID, its rows grouped into one return.
- GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA (FBA): one row per unit group back at a fulfilment centre; a
  return is keyed by (order, SKU, licence plate). Amazon lists one return more than once with different
  return dates: the rows of one key are one return (the earliest date kept).

Columns are found by name (case and spacing ignored), so unknown or reordered columns are tolerated; a
report missing a column a return cannot be made without is refused whole. A row with a missing or
malformed field is a bad row: counted with its line number (the header is line 1) and its problem, while
the good rows are applied. Column names: ../shared/sp-api-models/returns-reports.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from oms.domain.orders import Order
from oms.domain.returns import Return, ReturnItem, ReturnSource, ReturnStatus, moved, new_return
from oms.domain.types import Money

MFN_RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_RETURNS_REPORT = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
RETURNS_REPORTS = (MFN_RETURNS_REPORT, FBA_RETURNS_REPORT)
SELLABLE = "SELLABLE"  # the FBA disposition of a unit Amazon put back into sellable stock


class ReportFormatError(ValueError):
    """The report cannot be read at all (a required column missing): nothing of it is applied."""


class AmazonReturnStatus(StrEnum):
    """Where Amazon's flow has the request (the report's Return request status, mapped)."""

    REQUESTED = "requested"  # waiting for the seller's decision
    AUTHORIZED = "authorized"  # approved (in policy: automatically)
    CLOSED = "closed"  # declined, cancelled or closed by Amazon


_STATUSES = {
    "approved": AmazonReturnStatus.AUTHORIZED,
    "authorized": AmazonReturnStatus.AUTHORIZED,
    "authorised": AmazonReturnStatus.AUTHORIZED,
    "pending": AmazonReturnStatus.REQUESTED,
    "pendingapproval": AmazonReturnStatus.REQUESTED,
    "pendingaction": AmazonReturnStatus.REQUESTED,
    "requested": AmazonReturnStatus.REQUESTED,
    "closed": AmazonReturnStatus.CLOSED,
    "rejected": AmazonReturnStatus.CLOSED,
    "declined": AmazonReturnStatus.CLOSED,
    "cancelled": AmazonReturnStatus.CLOSED,
    "canceled": AmazonReturnStatus.CLOSED,
}
_YES, _NO = {"y", "yes", "true", "1"}, {"n", "no", "false", "0"}
MFN_REQUIRED = ("Order ID", "Return request date", "Return request status", "Amazon RMA ID", "Merchant SKU",
                "Return quantity")  # fmt: skip
FBA_REQUIRED = ("return-date", "order-id", "sku", "quantity", "detailed-disposition", "license-plate-number")


@dataclass(frozen=True)
class BadRow:
    line: int
    problem: str


@dataclass(frozen=True)
class MfnItem:
    sku: str
    quantity: int
    reason: str | None
    asin: str | None
    line: int


@dataclass
class MfnReturn:
    """One seller-fulfilled return authorization, its rows grouped (items in the order first seen)."""

    rma_id: str
    order_id: str
    requested_at: datetime
    status: AmazonReturnStatus
    status_text: str
    in_policy: bool | None
    tracking_id: str | None
    carrier: str | None
    label_cost: Money | None
    label_paid_by: str | None
    resolution: str | None
    items: list[MfnItem]
    lines: list[int]


@dataclass(frozen=True)
class FbaReturn:
    order_id: str
    sku: str
    license_plate: str
    returned_at: datetime
    quantity: int
    asin: str | None
    fnsku: str | None
    fulfillment_center: str | None
    disposition: str
    reason: str | None
    status: str | None
    line: int

    @property
    def sellable(self) -> bool:
        return self.disposition.upper() == SELLABLE


@dataclass
class Parsed:
    """A report read: its returns (deduplicated), its bad rows, and how many rows repeated a return."""

    mfn: list[MfnReturn] = field(default_factory=list)
    fba: list[FbaReturn] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    rows: int = 0
    duplicates: int = 0


def amazon_return_id(rma_id: str) -> str:
    """The return's id here for an Amazon RMA: the same RMA always names the same return."""
    return "RET-A" + hashlib.sha256(f"rma:{rma_id}".encode()).hexdigest()[:11].upper()


def fba_return_id(order_id: str, sku: str, license_plate: str) -> str:
    """The return's id here for an FBA return: Amazon's key is the order, the SKU and the licence plate."""
    return (
        "RET-F" + hashlib.sha256(f"fba:{order_id}\t{sku}\t{license_plate}".encode()).hexdigest()[:11].upper()
    )


def parse_returns_report(report_type: str, text: str) -> Parsed:
    if report_type == MFN_RETURNS_REPORT:
        return parse_mfn(text)
    if report_type == FBA_RETURNS_REPORT:
        return parse_fba(text)
    raise ReportFormatError(f"{report_type} is not a returns report")


class _RowProblem(ValueError):
    pass


def _name(column: str) -> str:
    return re.sub(r"[^a-z0-9]", "", column.lower())


def _table(text: str, required: Sequence[str]) -> tuple[list[tuple[int, dict[str, str]]], int]:
    """The rows as {normalized column: value} with their line numbers (blank lines skipped)."""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return [], 0
    header = [_name(c) for c in lines[0].split("\t")]
    missing = [c for c in required if _name(c) not in header]
    if missing:
        raise ReportFormatError(f"the report has no column {', '.join(missing)}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        values = line.split("\t")
        rows.append((number, {name: (values[i].strip() if i < len(values) else "") for i, name in
                              enumerate(header)}))  # fmt: skip
    return rows, len(rows)


def _required(row: dict[str, str], column: str) -> str:
    value = row.get(_name(column), "")
    if not value:
        raise _RowProblem(f"{column} is missing")
    return value


def _optional(row: dict[str, str], column: str) -> str | None:
    return row.get(_name(column)) or None


_DATE_FORMATS = ("%Y-%m-%d", "%d-%b-%Y", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%d-%b-%Y %H:%M:%S")


def parse_instant(text: str, column: str) -> datetime:
    """Amazon's dates: ISO 8601 with or without a zone (UTC when none), or its day formats."""
    candidate = text.strip().replace(" UTC", "+00:00").replace(" PST", "-08:00").replace(" PDT", "-07:00")
    try:
        value = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        value = None
        for pattern in _DATE_FORMATS:
            try:
                value = datetime.strptime(candidate, pattern)
                break
            except ValueError:
                continue
    if value is None:
        raise _RowProblem(f"{column} {text!r} is not a date")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _quantity(text: str, column: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _RowProblem(f"{column} {text!r} is not a whole number") from None
    if not 0 < value <= 10_000:
        raise _RowProblem(f"{column} {value} is not between 1 and 10000")
    return value


def _yes_no(text: str | None, column: str) -> bool | None:
    if text is None:
        return None
    if text.lower() in _YES:
        return True
    if text.lower() in _NO:
        return False
    raise _RowProblem(f"{column} {text!r} is neither Y nor N")


def _money(amount: str | None, currency: str | None) -> Money | None:
    if amount is None:
        return None
    try:
        value = Decimal(amount.replace(",", ""))
    except InvalidOperation:
        raise _RowProblem(f"Label cost {amount!r} is not an amount") from None
    if not value.is_finite() or value < 0:
        raise _RowProblem(f"Label cost {amount!r} is not an amount")
    if not currency or not re.fullmatch(r"[A-Z]{3}", currency):
        raise _RowProblem("Currency code is missing or not a currency")
    return Money(amount=str(value.quantize(Decimal("0.01"))), currency_code=currency)


def _each(rows: Iterable[tuple[int, dict[str, str]]], parsed: Parsed, read: Callable[[int, dict[str, str]], Any]) -> list[Any]:  # fmt: skip
    out = []
    for number, row in rows:
        try:
            out.append(read(number, row))
        except _RowProblem as problem:
            parsed.bad.append(BadRow(number, str(problem)))
    return out


def parse_mfn(text: str) -> Parsed:
    rows, count = _table(text, MFN_REQUIRED)
    parsed = Parsed(rows=count)

    def read(number: int, row: dict[str, str]) -> MfnReturn:
        status_text = _required(row, "Return request status")
        status = _STATUSES.get(_name(status_text))
        if status is None:
            raise _RowProblem(f"Return request status {status_text!r} is not one this product knows")
        return MfnReturn(
            rma_id=_required(row, "Amazon RMA ID"),
            order_id=_required(row, "Order ID"),
            requested_at=parse_instant(_required(row, "Return request date"), "Return request date"),
            status=status,
            status_text=status_text,
            in_policy=_yes_no(_optional(row, "In policy"), "In policy"),
            tracking_id=_optional(row, "Tracking ID"),
            carrier=_optional(row, "Return carrier"),
            label_cost=_money(_optional(row, "Label cost"), _optional(row, "Currency code")),
            label_paid_by=_optional(row, "Label to be paid by"),
            resolution=_optional(row, "Resolution"),
            items=[
                MfnItem(
                    sku=_required(row, "Merchant SKU"),
                    quantity=_quantity(_required(row, "Return quantity"), "Return quantity"),
                    reason=_optional(row, "Return Reason"),
                    asin=_optional(row, "ASIN"),
                    line=number,
                )
            ],
            lines=[number],
        )

    by_rma: dict[str, MfnReturn] = {}
    for one in _each(rows, parsed, read):
        group = by_rma.get(one.rma_id)
        if group is None:
            by_rma[one.rma_id] = one
            continue
        if group.order_id != one.order_id:
            parsed.bad.append(
                BadRow(one.lines[0], f"Amazon RMA ID {one.rma_id} is also on order {group.order_id}")
            )
            continue
        item = one.items[0]
        group.lines.append(item.line)
        if any(i.sku == item.sku for i in group.items):
            parsed.duplicates += 1  # the same SKU of the same return listed again
        else:
            group.items.append(item)
        _merge_facts(group, one)
    parsed.mfn = list(by_rma.values())
    return parsed


_RANK = {AmazonReturnStatus.REQUESTED: 0, AmazonReturnStatus.AUTHORIZED: 1, AmazonReturnStatus.CLOSED: 2}


def _merge_facts(group: MfnReturn, row: MfnReturn) -> None:
    """Rows of one return: the furthest status, the earliest request date, the first value of each fact."""
    if _RANK[row.status] > _RANK[group.status]:
        group.status, group.status_text = row.status, row.status_text
    group.requested_at = min(group.requested_at, row.requested_at)
    for name in ("in_policy", "tracking_id", "carrier", "label_cost", "label_paid_by", "resolution"):
        if getattr(group, name) is None:
            setattr(group, name, getattr(row, name))


def parse_fba(text: str) -> Parsed:
    rows, count = _table(text, FBA_REQUIRED)
    parsed = Parsed(rows=count)

    def read(number: int, row: dict[str, str]) -> FbaReturn:
        return FbaReturn(
            order_id=_required(row, "order-id"),
            sku=_required(row, "sku"),
            license_plate=_required(row, "license-plate-number"),
            returned_at=parse_instant(_required(row, "return-date"), "return-date"),
            quantity=_quantity(_required(row, "quantity"), "quantity"),
            asin=_optional(row, "asin"),
            fnsku=_optional(row, "fnsku"),
            fulfillment_center=_optional(row, "fulfillment-center-id"),
            disposition=_required(row, "detailed-disposition").upper(),
            reason=_optional(row, "reason"),
            status=_optional(row, "status"),
            line=number,
        )

    by_key: dict[tuple[str, str, str], FbaReturn] = {}
    for one in _each(rows, parsed, read):
        key = (one.order_id, one.sku, one.license_plate)
        if key in by_key:
            parsed.duplicates += 1
            if one.returned_at < by_key[key].returned_at:
                by_key[key] = one
            continue
        by_key[key] = one
    parsed.fba = list(by_key.values())
    return parsed


# --- a report's return as a Return ------------------------------------------------------------------


def mfn_return(order: Order, found: MfnReturn, *, earlier: Sequence[Return], now: datetime) -> Return:
    """A seller-fulfilled return first seen in the report: requested at Amazon's request date, then as far
    along as the report says (new_return refuses units not shipped or already returned)."""
    items = [ReturnItem(sku=i.sku, quantity=i.quantity, reason=_short(i.reason)) for i in found.items]
    ret = new_return(
        order,
        items,
        return_id=amazon_return_id(found.rma_id),
        at=found.requested_at,
        source=ReturnSource.AMAZON,
        amazon_rma_id=found.rma_id,
        earlier=earlier,
    )
    return updated_from_mfn(ret, found, now=now)


def updated_from_mfn(ret: Return, found: MfnReturn, *, now: datetime) -> Return:
    """The return with what the report adds: facts it lacked (a fact it has is kept, so rows read in any
    order give one result) and Amazon's status, forward only (an older row never moves it back; Amazon's
    close never closes a return whose units came back here)."""
    facts: dict[str, Any] = {}
    for name in ("tracking_id", "carrier", "label_cost", "label_paid_by", "in_policy", "resolution"):
        value = getattr(found, name)
        if getattr(ret, name) is None and value is not None:
            facts[name] = value
    reasons = {i.sku: _short(i.reason) for i in found.items if i.reason}
    items = [i.model_copy(update={"reason": reasons[i.sku]}) if i.reason is None and i.sku in reasons else i
             for i in ret.items]  # fmt: skip
    if items != ret.items:
        facts["items"] = items
    after = ret.model_copy(update=facts) if facts else ret
    in_policy = found.in_policy is True
    if found.status is AmazonReturnStatus.CLOSED:
        if (
            after.status in (ReturnStatus.REQUESTED, ReturnStatus.AUTHORIZED, ReturnStatus.IN_TRANSIT)
            and not after.receipts
        ):
            after = moved(after, ReturnStatus.CLOSED, now, f"closed on Amazon ({found.status_text})")
    elif after.status is ReturnStatus.REQUESTED and (
        found.status is AmazonReturnStatus.AUTHORIZED or in_policy
    ):
        automatic = in_policy and found.status is not AmazonReturnStatus.AUTHORIZED
        note = "authorized automatically by Amazon (in policy)" if in_policy else "approved on Amazon"
        after = moved(after, ReturnStatus.AUTHORIZED, found.requested_at if automatic else now, note)
    return after


def fba_return(order: Order, found: FbaReturn, *, earlier: Sequence[Return]) -> Return:
    """An FBA return: the units are at Amazon's fulfilment centre already, graded by Amazon. Sellable units
    went back into Amazon's stock (restocked there); others are quarantined there, listed for removal.
    Nothing here moves local stock."""
    item = ReturnItem(
        sku=found.sku,
        quantity=found.quantity,
        reason=_short(found.reason),
        disposition=found.disposition[:64],
        fulfillment_center_id=found.fulfillment_center[:64] if found.fulfillment_center else None,
        for_removal=not found.sellable,
    )
    ret = new_return(
        order,
        [item],
        return_id=fba_return_id(found.order_id, found.sku, found.license_plate),
        at=found.returned_at,
        source=ReturnSource.FBA,
        earlier=earlier,
    )
    ret = ret.model_copy(update={"license_plate_number": found.license_plate})
    at, centre = found.returned_at, found.fulfillment_center or "Amazon's fulfilment centre"
    ret = moved(ret, ReturnStatus.AUTHORIZED, at, "authorized by Amazon")
    ret = moved(ret, ReturnStatus.RECEIVED, at, f"{found.quantity} unit(s) back at {centre}")
    grade = found.disposition.replace("_", " ").lower()  # CUSTOMER_DAMAGED -> customer damaged
    ret = moved(ret, ReturnStatus.GRADED, at, f"{found.quantity} unit(s) {grade}, graded by Amazon")
    if found.sellable:
        return moved(ret, ReturnStatus.RESTOCKED, at, "back in Amazon's sellable stock")
    return moved(ret, ReturnStatus.QUARANTINED, at, "unsellable at Amazon: to be removed")


def _short(text: str | None) -> str | None:
    return text[:200] if text else None
