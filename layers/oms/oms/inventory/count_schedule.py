"""The count schedule: per SKU, its ABC class, how often to count it and when next (GET /audits/schedule)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from oms.domain.audits import (
    COUNT_EVERY_NAME,
    AbcClass,
    next_count_due,
)
from oms.domain.types import ApiModel, Money, UtcDateTime, utc_now
from oms.inventory.unit_values import SALES_WINDOW_DAYS, sales_classes
from oms.store import keys
from oms.store.table import Table


class ScheduleEntry(ApiModel):
    sku: str
    abc_class: AbcClass
    sales_units: int = Field(description=f"units shipped in the last {SALES_WINDOW_DAYS} days")
    sales_value: Money
    count_every: str
    last_counted_at: UtcDateTime | None = None
    last_audit_id: str | None = None
    next_count_due: UtcDateTime
    due: bool


class CountSchedule(ApiModel):
    as_of: UtcDateTime
    window_days: int = SALES_WINDOW_DAYS
    items: list[ScheduleEntry]


def count_schedule(
    table: Table, *, now: datetime | None = None, abc_class: AbcClass | None = None
) -> CountSchedule:
    """Per SKU: its ABC class, how often to count it (A monthly, B quarterly, C yearly) and when next,
    from its last count in an approved audit; soonest due first."""
    now = now or utc_now()
    sales = [s for s in sales_classes(table, now) if abc_class is None or s.abc_class == abc_class]
    last = {i["sku"]: i for i in table.get_many([keys.last_count_key(s.sku) for s in sales])}
    entries = []
    for s in sales:
        record = last.get(s.sku)
        counted_at = datetime.fromisoformat(record["countedAt"].replace("Z", "+00:00")) if record else None
        due_at = next_count_due(counted_at, s.abc_class, now)
        entries.append(
            ScheduleEntry(
                sku=s.sku,
                abc_class=s.abc_class,
                sales_units=s.units,
                sales_value=s.value.money(s.units),
                count_every=COUNT_EVERY_NAME[s.abc_class],
                last_counted_at=counted_at,
                last_audit_id=record.get("auditId") if record else None,
                next_count_due=due_at,
                due=due_at <= now,
            )
        )
    entries.sort(key=lambda e: (e.next_count_due, e.sku))
    return CountSchedule(as_of=now, items=entries)
