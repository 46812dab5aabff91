"""Returns report columns: the catalogue (Amazon's returns-report names where Amazon has the column) and the
rows of one stored return, one per returned SKU, times in the warehouse's zone, safe to open in a
spreadsheet. Reads the stored return as a plain item, as the order report reads orders (reports sits beside
returns, never on it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from oms.errors import FieldProblem, InvalidInput
from oms.reports.columns import Row, spreadsheet_safe
from oms.store.table import Item

Reader = Callable[[Item, Item, ZoneInfo], str | None]  # (the return, its line for one SKU, the zone)


def _text(value: Any) -> str | None:
    if value is None or value in ("", []):
        return None
    return str(value)


def _local(value: Any, zone: ZoneInfo) -> str | None:
    """A stored UTC instant as the warehouse's wall time with its offset (2026-11-24T10:00:00-05:00)."""
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(zone).isoformat()


def _field(name: str) -> Reader:
    return lambda ret, _line, _zone: _text(ret.get(name))


def _time(name: str) -> Reader:
    return lambda ret, _line, zone: _local(ret.get(name), zone)


def _receipt_lines(ret: Item, line: Item) -> list[dict[str, Any]]:
    return [
        entry
        for receipt in ret.get("receipts") or []
        for entry in receipt.get("items") or []
        if entry.get("sku") == line.get("sku")
    ]


def _units(ret: Item, line: Item, grade: str | None = None) -> str:
    return str(
        sum(int(e.get("quantity") or 0) for e in _receipt_lines(ret, line) if grade in (None, e.get("grade")))
    )


def _grades(ret: Item, line: Item, _zone: ZoneInfo) -> str | None:
    totals: dict[str, int] = {}
    for entry in _receipt_lines(ret, line):
        totals[str(entry.get("grade"))] = totals.get(str(entry.get("grade")), 0) + int(
            entry.get("quantity") or 0
        )
    return " ".join(f"{grade}:{units}" for grade, units in sorted(totals.items())) or None


def _closed_reason(ret: Item, _line: Item, _zone: ZoneInfo) -> str | None:
    if ret.get("status") != "closed":
        return None
    closing = [t for t in ret.get("timeline") or [] if t.get("status") == "closed"]
    return _text(closing[-1].get("note")) if closing else None


@dataclass(frozen=True)
class ReturnColumn:
    name: str
    description: str
    read: Reader
    amazon: bool = True  # Amazon's returns report has a column of this meaning
    free_text: bool = False  # text from outside: guarded against spreadsheet formulas


_COLUMNS = [
    ReturnColumn("return-id", "The return's id here", _field("returnId"), amazon=False),
    ReturnColumn("order-id", "Amazon's order id", _field("orderId")),
    ReturnColumn(
        "amazon-rma-id", "Amazon's RMA id (empty for a return recorded outside Amazon)", _field("amazonRmaId")
    ),
    ReturnColumn(
        "source", "amazon, fba, or seller (recorded outside Amazon's flow)", _field("source"), amazon=False
    ),
    ReturnColumn(
        "status", "requested, authorized, in-transit, received, ..., refunded, closed", _field("status")
    ),
    ReturnColumn("return-request-date", "When the buyer asked (warehouse time)", _time("requestedAt")),
    ReturnColumn(
        "decision-due-by",
        "Answer a request by then (requested + 24 hours)",
        _time("decisionDueBy"),
        amazon=False,
    ),
    ReturnColumn(
        "decided-at", "When the request was authorized or declined", _time("decidedAt"), amazon=False
    ),
    ReturnColumn("sku", "Your seller SKU", lambda _r, line, _z: _text(line.get("sku"))),
    ReturnColumn(
        "return-quantity", "Units of the SKU returned", lambda _r, line, _z: _text(line.get("quantity"))
    ),
    ReturnColumn(
        "return-reason",
        "The buyer's reason (Amazon's code)",
        lambda _r, line, _z: _text(line.get("reason")),
        free_text=True,
    ),
    ReturnColumn("tracking-id", "The return parcel's tracking number", _field("trackingId"), free_text=True),
    ReturnColumn("return-carrier", "The return parcel's carrier", _field("carrier"), free_text=True),
    ReturnColumn("received-at", "The first receipt (warehouse time)", _time("receivedAt"), amazon=False),
    ReturnColumn(
        "units-received",
        "Units of the SKU received so far",
        lambda r, line, _z: _units(r, line),
        amazon=False,
    ),
    ReturnColumn(
        "units-sellable",
        "Units of the SKU received sellable (back on hand)",
        lambda r, line, _z: _units(r, line, "sellable"),
        amazon=False,
    ),
    ReturnColumn("grades", "Units received per grade (grade:units, space separated)", _grades, amazon=False),
    ReturnColumn(
        "refund-due-by",
        "Refund by then: 2 business days after the receipt",
        _time("refundDueBy"),
        amazon=False,
    ),
    ReturnColumn(
        "refund-status",
        "pending, submitted, confirmed or refused (empty: no refund yet)",
        lambda r, _line, _z: _text((r.get("refund") or {}).get("status")),
        amazon=False,
    ),
    ReturnColumn(
        "flags",
        "Warnings, space separated: decisionAtRisk, decisionLate, refundAtRisk, refundLate",
        lambda r, _line, _z: " ".join(r.get("flags") or []) or None,
        amazon=False,
    ),
    ReturnColumn("closed-reason", "Why the return was closed", _closed_reason, amazon=False, free_text=True),
]
RETURN_CATALOGUE: dict[str, ReturnColumn] = {c.name: c for c in _COLUMNS}
DEFAULT_RETURN_COLUMNS = (
    "return-id",
    "order-id",
    "amazon-rma-id",
    "status",
    "return-request-date",
    "sku",
    "return-quantity",
    "return-reason",
    "received-at",
    "refund-due-by",
)


def return_catalogue() -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "description": c.description,
            "amazonColumn": c.amazon,
            "default": c.name in DEFAULT_RETURN_COLUMNS,
        }
        for c in _COLUMNS
    ]


def parse_return_columns(text: str | None) -> tuple[str, ...]:
    """The columns asked for (comma list; none: the defaults); unknown or repeated ones refused, naming the valid."""
    names = tuple(n.strip() for n in (text or "").split(",") if n.strip()) or DEFAULT_RETURN_COLUMNS
    unknown = [n for n in names if n not in RETURN_CATALOGUE]
    if unknown:
        message = f"unknown column(s) {', '.join(unknown)}; valid columns: {', '.join(RETURN_CATALOGUE)}"
        raise InvalidInput(f"columns: {message}", [FieldProblem("columns", message)])
    if len(set(names)) != len(names):
        raise InvalidInput.for_field("columns", "names a column twice")
    return names


def return_rows(ret: Item, columns: Sequence[str], zone: ZoneInfo) -> list[Row]:
    """The report rows of one stored return: one per returned SKU."""
    rows = []
    for line in ret.get("items") or [{}]:
        row: Row = {}
        for name in columns:
            column = RETURN_CATALOGUE[name]
            value = column.read(ret, line, zone)
            row[name] = spreadsheet_safe(value) if column.free_text else value
        rows.append(row)
    return rows
