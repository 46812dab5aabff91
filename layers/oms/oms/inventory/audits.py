"""Cycle counts (audits): pick SKUs (a list, or an ABC class), count them, approve the corrections.

An audit item holds its lines, one per SKU and location. Entering a count also records the row's
onHand (and reserved units) at that moment; approval applies (counted - that onHand) to the onHand
of the moment, so what was sold or received between counting and approving is kept. Each line's
correction is one transaction: the stock row, its ledger entry (reason "audit-correction",
reference "audit:<id>") and a correction record under the audit that makes a resumed or repeated
approval skip the line. Lines of SKUs with open picks are flagged and left to the seller
(oms.domain.audits.plan_correction). docs/data-model.md lists the items and access patterns.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, StrictInt

from oms.domain.audits import (
    FLAG_EXPLAINED,
    AbcClass,
    Flag,
    plan_correction,
)
from oms.domain.types import ApiModel, Money, UtcDateTime, iso_z, utc_now
from oms.errors import Busy, Conflict, FieldProblem, InvalidInput, NotFound, VersionConflict
from oms.inventory.allocation import MAX_WRITES, read_book
from oms.inventory.stock import finish_allocation, level_of, stock_change_writes
from oms.inventory.unit_values import DEFAULT_VALUE, UnitValue, sales_classes, unit_value
from oms.store import keys
from oms.store.table import Item, Page, Table, Write, back_off

AUDIT_ENTITY = "Audit"
CORRECTION_ENTITY = "AuditCorrection"
LAST_COUNT_ENTITY = "LastCount"
CORRECTION_REASON = "audit-correction"
MAX_LINES = 500  # one audit item stays far below DynamoDB's 400 KB, one approval within the API's 29 s
_ATTEMPTS = 30


class AuditStatus(StrEnum):
    OPEN = "open"  # counts accepted
    APPROVING = "approving"  # corrections being written (a retried approval resumes)
    APPROVED = "approved"


class CountEntry(ApiModel):
    sku: str = Field(min_length=1, max_length=200)
    location: str = Field(default=keys.DEFAULT_LOCATION, min_length=1, max_length=64)
    counted: StrictInt = Field(ge=0, le=10_000_000, description="units found, a whole number >= 0")


class AuditLine(ApiModel):
    sku: str
    location: str = keys.DEFAULT_LOCATION
    counted: int | None = None
    expected: int | None = Field(default=None, description="onHand when the count was entered")
    reserved_at_count: int | None = Field(default=None, description="units reserved for open picks then")
    variance_units: int | None = None
    counted_at: UtcDateTime | None = None
    counted_by: str | None = None


class VarianceLine(ApiModel):
    sku: str
    location: str
    expected: int | None
    counted: int | None
    variance_units: int | None
    unit_value: Money
    unit_value_source: str = Field(description="unitCost, lastSalePrice or default (1, currency XXX)")
    variance_value: Money | None
    reserved: int = Field(description="units reserved for open picks, when counted or at approval")
    on_hand_before: int | None = Field(default=None, description="onHand at approval, before the correction")
    on_hand_after: int | None = None
    correction_units: int = Field(default=0, description="units applied to onHand through the ledger")
    ledger_entry_id: str | None = None
    flagged: bool = False
    flag: Flag | None = None
    flag_reason: str | None = None


class VarianceTotals(ApiModel):
    lines: int
    counted: int
    flagged: int
    corrected: int
    variance_units: int = Field(description="net: counted - expected over the counted lines")
    absolute_variance_units: int
    correction_units: int
    variance_value: list[Money] = Field(description="net variance value, one entry per currency")


class VarianceReport(ApiModel):
    audit_id: str
    status: AuditStatus
    final: bool = Field(description="false: a preview of an audit not approved yet")
    approved_at: UtcDateTime | None = None
    lines: list[VarianceLine]
    totals: VarianceTotals


class Audit(ApiModel):
    audit_id: str
    status: AuditStatus
    abc_class: AbcClass | None = None
    skus: list[str]
    created_at: UtcDateTime
    created_by: str
    approved_at: UtcDateTime | None = None
    approved_by: str | None = None
    lines: list[AuditLine]
    report: VarianceReport | None = None


# --- audits ---------------------------------------------------------------------------------------


def _audit_item(audit: Audit, version: int | None = None) -> Item:
    body = audit.model_dump(mode="json", by_alias=True, exclude={"report"})
    return {
        **keys.audit_key(audit.audit_id),
        **keys.audit_index_keys(audit.audit_id, body["createdAt"]),
        "entity": AUDIT_ENTITY,
        **({"version": version} if version is not None else {}),
        **body,
    }


_AUDIT_FIELDS = {f.alias or n for n, f in Audit.model_fields.items()} - {"report"}


def _audit_from(item: Item) -> Audit:
    return Audit.model_validate({k: v for k, v in item.items() if k in _AUDIT_FIELDS})


def _load(table: Table, audit_id: str) -> tuple[Audit, Item]:
    item = table.get(keys.audit_key(audit_id), consistent=True)
    if item is None:
        raise NotFound(f"no audit {audit_id}", [FieldProblem("auditId", f"no audit {audit_id}")])
    return _audit_from(item), item


def create_audit(
    table: Table,
    *,
    skus: Sequence[str] | None,
    abc_class: AbcClass | None,
    actor: str,
    now: datetime | None = None,
) -> Audit:
    """A new open audit with one line per stock row of the chosen SKUs."""
    if (skus is None) == (abc_class is None):
        raise InvalidInput.for_field("skus", "give exactly one of skus and abcClass")
    now = now or utc_now()
    rows: list[Item] = []
    if skus is not None:
        audited = list(dict.fromkeys(skus))
        missing: list[FieldProblem] = []
        seen: set[str] = set()
        for index, sku in enumerate(skus):
            if sku in seen:
                continue
            seen.add(sku)
            found = list(table.query_all(keys.stock_rows_of(sku)))
            if not found:
                missing.append(FieldProblem(f"skus[{index}]", f"SKU {sku} has no stock row"))
            rows += found
        if missing:
            raise NotFound("; ".join(f"{p.field}: {p.message}" for p in missing), missing)
    else:
        picked = [s for s in sales_classes(table, now) if s.abc_class == abc_class]
        if not picked:
            raise NotFound(
                f"no SKU is in class {abc_class} now",
                [FieldProblem("abcClass", f"no SKU is in class {abc_class} now")],
            )
        audited = [s.sku for s in picked]
        rows = [row for s in picked for row in s.rows]
    lines = [AuditLine(sku=r["sku"], location=r.get("location", keys.DEFAULT_LOCATION)) for r in rows]
    if len(lines) > MAX_LINES:
        field = "skus" if skus is not None else "abcClass"
        raise InvalidInput.for_field(
            field, f"covers {len(lines)} stock rows; one audit takes at most {MAX_LINES}: split it by skus"
        )
    audit = Audit(
        audit_id=uuid.uuid4().hex,
        status=AuditStatus.OPEN,
        abc_class=abc_class,
        skus=audited,
        created_at=now,
        created_by=actor,
        lines=lines,
    )
    table.transact([Write.put_versioned(_audit_item(audit), None)])
    return audit


def record_counts(
    table: Table, audit_id: str, counts: Sequence[CountEntry], *, actor: str, now: datetime | None = None
) -> Audit:
    """Enter (or enter again) counts; each keeps the row's onHand and reserved units of this moment.

    All or nothing: a count for a SKU outside the audit, or at a location without a stock row, is
    refused naming it, and nothing is recorded.
    """
    for attempt in range(_ATTEMPTS):
        audit, item = _load(table, audit_id)
        if audit.status != AuditStatus.OPEN:
            raise Conflict(f"audit {audit_id} is {audit.status}: counts are closed")
        problems: list[FieldProblem] = []
        seen: set[tuple[str, str]] = set()
        for index, count in enumerate(counts):
            if count.sku not in audit.skus:
                problems.append(FieldProblem(f"counts[{index}].sku", f"SKU {count.sku} is not in this audit"))
            elif (count.sku, count.location) in seen:
                problems.append(
                    FieldProblem(f"counts[{index}]", f"{count.sku} at {count.location} is counted twice")
                )
            seen.add((count.sku, count.location))
        if problems:
            raise InvalidInput("; ".join(f"{p.field}: {p.message}" for p in problems), problems)
        rows = {
            (r["sku"], r.get("location", keys.DEFAULT_LOCATION)): r
            for r in table.get_many([keys.stock_key(c.sku, c.location) for c in counts])
        }
        missing = [
            FieldProblem(f"counts[{i}].location", f"SKU {c.sku} has no stock row at {c.location}")
            for i, c in enumerate(counts)
            if (c.sku, c.location) not in rows
        ]
        if missing:
            raise NotFound("; ".join(f"{p.field}: {p.message}" for p in missing), missing)
        at = now or utc_now()
        lines = {(line.sku, line.location): line for line in audit.lines}
        for count in counts:
            level = level_of(rows[(count.sku, count.location)])
            lines[(count.sku, count.location)] = AuditLine(
                sku=count.sku,
                location=count.location,
                counted=count.counted,
                expected=level.on_hand,
                reserved_at_count=level.reserved,
                variance_units=count.counted - level.on_hand,
                counted_at=at,
                counted_by=actor,
            )
        if len(lines) > MAX_LINES:
            raise InvalidInput.for_field("counts", f"an audit takes at most {MAX_LINES} lines")
        audit = audit.model_copy(update={"lines": list(lines.values())})
        try:
            table.transact([Write.put_versioned(_audit_item(audit), int(item["version"]))])
        except VersionConflict:  # another count or the approval came first: read again
            back_off(attempt)
            continue
        return audit
    raise Busy(f"audit {audit_id} is changing too fast; try again")


def get_audit(table: Table, audit_id: str) -> Audit:
    """The audit with its variance report: final once approved, else a preview of approval now."""
    audit, _ = _load(table, audit_id)
    return audit.model_copy(update={"report": variance_report(table, audit)})


def list_audits(table: Table, *, limit: int, next_token: str | None) -> Page:
    page = table.query_page(keys.audits_newest_first(), limit=limit, next_token=next_token)
    page.items = [
        _audit_from(i).model_dump(mode="json", by_alias=True, exclude={"lines", "report"}) | _progress(i)
        for i in page.items
    ]
    return page


def _progress(item: Item) -> dict[str, int]:
    lines = item.get("lines") or []
    return {
        "lineCount": len(lines),
        "countedCount": sum(1 for line in lines if line.get("counted") is not None),
    }


def _unit_values(table: Table, audit: Audit, rows: Iterable[Item]) -> dict[str, UnitValue]:
    by_sku: dict[str, list[Item]] = defaultdict(list)
    for row in rows:
        by_sku[row["sku"]].append(row)
    return {sku: unit_value(table, sku, by_sku.get(sku, [])) for sku in dict.fromkeys(audit.skus)}


def _current_rows(table: Table, audit: Audit) -> dict[tuple[str, str], Item]:
    items = table.get_many([keys.stock_key(line.sku, line.location) for line in audit.lines])
    return {(i["sku"], i.get("location", keys.DEFAULT_LOCATION)): i for i in items}


def variance_report(table: Table, audit: Audit) -> VarianceReport:
    if audit.status == AuditStatus.APPROVED:
        counted = [i for i, line in enumerate(audit.lines) if line.counted is not None]
        records = table.get_many([keys.audit_correction_key(audit.audit_id, i) for i in counted])
        done = {int(record["line"]): record for record in records}
        uncounted = [line for index, line in enumerate(audit.lines) if index not in done]
        values = _unit_values(table, audit, _current_rows(table, audit).values()) if uncounted else {}
        lines = [
            _line_from_record(done[index])
            if index in done
            else _uncounted(line, values.get(line.sku, DEFAULT_VALUE))
            for index, line in enumerate(audit.lines)
        ]
        return _report(audit, lines, final=True)
    rows = _current_rows(table, audit)
    values = _unit_values(table, audit, rows.values())
    preview = []
    for line in audit.lines:
        value = values.get(line.sku, DEFAULT_VALUE)
        if line.counted is None or line.expected is None:
            preview.append(_uncounted(line, value))
            continue
        row = rows.get((line.sku, line.location))
        level = level_of(row) if row else None
        plan = plan_correction(
            expected=line.expected,
            counted=line.counted,
            reserved_at_count=line.reserved_at_count or 0,
            now=level,
        )
        preview.append(
            _variance_line(
                line,
                value,
                reserved=max(line.reserved_at_count or 0, level.reserved if level else 0),
                on_hand_before=level.on_hand if level else None,
                on_hand_after=(level.on_hand + plan.units) if level else None,
                correction_units=plan.units,
                flag=plan.flag,
            )
        )
    return _report(audit, preview, final=False)


def _uncounted(line: AuditLine, value: UnitValue) -> VarianceLine:
    return VarianceLine(
        sku=line.sku,
        location=line.location,
        expected=None,
        counted=None,
        variance_units=None,
        unit_value=value.money(),
        unit_value_source=value.source,
        variance_value=None,
        reserved=0,
    )


def _variance_line(
    line: AuditLine,
    value: UnitValue,
    *,
    reserved: int,
    on_hand_before: int | None,
    on_hand_after: int | None,
    correction_units: int,
    flag: Flag | None,
    ledger_entry_id: str | None = None,
) -> VarianceLine:
    assert line.counted is not None and line.expected is not None
    variance = line.counted - line.expected
    return VarianceLine(
        sku=line.sku,
        location=line.location,
        expected=line.expected,
        counted=line.counted,
        variance_units=variance,
        unit_value=value.money(),
        unit_value_source=value.source,
        variance_value=value.money(variance),
        reserved=reserved,
        on_hand_before=on_hand_before,
        on_hand_after=on_hand_after,
        correction_units=correction_units,
        ledger_entry_id=ledger_entry_id,
        flagged=flag is not None,
        flag=flag,
        flag_reason=FLAG_EXPLAINED[flag] if flag else None,
    )


def _line_from_record(record: Item) -> VarianceLine:
    fields = {k: v for k, v in record.items() if k in _VARIANCE_FIELDS}
    return VarianceLine.model_validate(fields)


_VARIANCE_FIELDS = {f.alias or n for n, f in VarianceLine.model_fields.items()}


def _report(audit: Audit, lines: list[VarianceLine], *, final: bool) -> VarianceReport:
    counted = [line for line in lines if line.variance_units is not None]
    value_by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for line in counted:
        if line.variance_value is not None:
            value_by_currency[line.variance_value.currency_code] += Decimal(line.variance_value.amount)
    totals = VarianceTotals(
        lines=len(lines),
        counted=len(counted),
        flagged=sum(1 for line in lines if line.flagged),
        corrected=sum(1 for line in lines if line.correction_units),
        variance_units=sum(line.variance_units or 0 for line in counted),
        absolute_variance_units=sum(abs(line.variance_units or 0) for line in counted),
        correction_units=sum(line.correction_units for line in lines),
        variance_value=[
            Money(amount=str(amount.quantize(Decimal("0.01"))), currency_code=currency)
            for currency, amount in sorted(value_by_currency.items())
        ],
    )
    return VarianceReport(
        audit_id=audit.audit_id,
        status=audit.status,
        final=final,
        approved_at=audit.approved_at,
        lines=lines,
        totals=totals,
    )


def approve_audit(
    table: Table,
    audit_id: str,
    *,
    actor: str,
    now: datetime | None = None,
    key_record: Write | None = None,
) -> VarianceReport:
    """Write every counted line's correction to the ledger, once; returns the final variance report.

    The audit first moves to `approving` (counts close); each line is then corrected in its own
    transaction with a correction record, so an approval interrupted half-way is finished by the
    next call without applying any line twice. An approved audit answers 409. `key_record` (an
    Idempotency-Key's record, oms.store.once) is written with the final status, so a retry whose
    first try was approved but lost its answer finds it.
    """
    audit, item = _load(table, audit_id)
    for attempt in range(_ATTEMPTS):
        if audit.status == AuditStatus.APPROVED:
            raise Conflict(f"audit {audit_id} was already approved: GET /audits/{audit_id} shows its report")
        if not any(line.counted is not None for line in audit.lines):
            raise Conflict(f"audit {audit_id} has no counts yet: PUT /audits/{audit_id}/counts first")
        if audit.status == AuditStatus.APPROVING:
            break
        approving = audit.model_copy(update={"status": AuditStatus.APPROVING, "approved_by": actor})
        try:
            table.transact([Write.put_versioned(_audit_item(approving), int(item["version"]))])
        except VersionConflict:  # a count arrived meanwhile: approve what is counted now
            back_off(attempt)
            audit, item = _load(table, audit_id)
            continue
        audit, item = _load(table, audit_id)
    else:
        raise Busy(f"audit {audit_id} is changing too fast; try again")

    values = _unit_values(table, audit, _current_rows(table, audit).values())
    lines = [
        _line_from_record(
            _correct_line(table, audit, index, line, values.get(line.sku, DEFAULT_VALUE), actor)
        )
        if line.counted is not None
        else _uncounted(line, values.get(line.sku, DEFAULT_VALUE))
        for index, line in enumerate(audit.lines)
    ]

    approved = audit.model_copy(update={"status": AuditStatus.APPROVED, "approved_at": now or utc_now()})
    approval_id = uuid.uuid4().hex  # tells this write apart when the SDK's retry of it meets it
    final = Write.put_versioned({**_audit_item(approved), "approvalId": approval_id}, int(item["version"]))
    try:
        table.transact([final, *([key_record] if key_record else [])])
    except VersionConflict:
        stored = table.get(keys.audit_key(audit_id), consistent=True) or {}
        if stored.get("approvalId") != approval_id:  # a concurrent approval finished first
            raise Conflict(
                f"audit {audit_id} was already approved: GET /audits/{audit_id} shows its report"
            ) from None
    return _report(approved, lines, final=True)


def _correct_line(
    table: Table, audit: Audit, index: int, line: AuditLine, value: UnitValue, actor: str
) -> Item:
    """The line's correction record: written now with its correction, or found from an earlier approval."""
    assert line.counted is not None and line.expected is not None
    record_key = keys.audit_correction_key(audit.audit_id, index)
    for attempt in range(_ATTEMPTS):
        if (done := table.get(record_key, consistent=True)) is not None:
            return done  # corrected by an earlier (interrupted or concurrent) approval
        book = read_book(table, line.sku, line.location)
        level = book.level if book.row else None
        plan = plan_correction(
            expected=line.expected,
            counted=line.counted,
            reserved_at_count=line.reserved_at_count or 0,
            now=level,
        )
        stock: list[Write] = []
        after = level
        pending = False
        if plan.units and level is not None:
            # the count is the shelf: orders' demand is allocated again over the corrected onHand
            stock, pending = stock_change_writes(
                table,
                book,
                level.on_hand + plan.units,
                reason=CORRECTION_REASON,
                reference=f"audit:{audit.audit_id}",
                actor=actor,
                room=MAX_WRITES - 2,
            )
            after = level_of(stock[0].item)
        entry_id = str(stock[1].item["id"]) if stock and stock[1].item else None
        report_line = _variance_line(
            line,
            value,
            reserved=max(line.reserved_at_count or 0, level.reserved if level else 0),
            on_hand_before=level.on_hand if level else None,
            on_hand_after=after.on_hand if after else None,
            correction_units=plan.units,
            flag=plan.flag,
            ledger_entry_id=entry_id,
        )
        record = {
            **record_key,
            "entity": CORRECTION_ENTITY,
            "auditId": audit.audit_id,
            "line": index,
            **report_line.model_dump(mode="json", by_alias=True, exclude_none=True),
        }
        writes = [Write.put_new(record), *stock]
        if plan.flag is None:  # a flagged line is not settled: its SKU stays due for counting
            writes.append(
                Write(
                    "Put",
                    item={
                        **keys.last_count_key(line.sku),
                        "entity": LAST_COUNT_ENTITY,
                        "sku": line.sku,
                        "auditId": audit.audit_id,
                        "countedAt": iso_z(line.counted_at or utc_now()),
                    },
                )
            )
        try:
            table.transact(writes)
        except Conflict:  # the stock row moved (a sale, a receipt), or a concurrent approval wrote the line
            back_off(attempt)
        else:
            if pending:
                finish_allocation(table, line.sku, actor=actor)
            return record
    raise Conflict(f"SKU {line.sku} is changing too fast to correct; approve again to finish")
