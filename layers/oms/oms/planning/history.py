"""Demand history: units per SKU and day, with the days the SKU could not sell marked unknown.

A day with `available` 0 was a stockout: what sold that day is not what buyers wanted, so its demand is
unknown (None), never zero. A day missing from the history after a SKU's first row sold
nothing (exports leave out empty days). Reading a CSV names every bad line; nothing is returned as good
unless the whole file is, or the caller accepts the good part.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

REQUIRED = ("sku", "date", "units")
OPTIONAL = ("available",)


@dataclass(frozen=True)
class LineProblem:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


@dataclass(frozen=True)
class SkuHistory:
    """One value per day from `start`: units demanded, or None where demand is unknown (stockout)."""

    sku: str
    start: date
    units: list[float | None]

    @property
    def end(self) -> date:
        """The last day of history."""
        return self.start + timedelta(days=len(self.units) - 1)

    @property
    def known_days(self) -> int:
        return sum(1 for u in self.units if u is not None)

    @property
    def stockout_days(self) -> int:
        return sum(1 for u in self.units if u is None)


@dataclass
class ReadHistory:
    histories: list[SkuHistory]
    problems: list[LineProblem] = field(default_factory=list)
    rows: int = 0


def build_histories(days: Iterable[tuple[str, date, float, float | None]]) -> list[SkuHistory]:
    """Histories from (sku, day, units, available) rows, one per SKU and day; SKUs in name order.

    Every history runs from the SKU's first row to the last day of the whole file: a SKU that stopped
    selling has zeros at its end, as its missing rows mean.
    """
    per_sku: dict[str, dict[date, float | None]] = {}
    for sku, day, units, available in days:
        per_sku.setdefault(sku, {})[day] = None if available is not None and available <= 0 else units
    histories = []
    end = max((max(by_day) for by_day in per_sku.values()), default=None)
    for sku in sorted(per_sku):
        by_day = per_sku[sku]
        start = min(by_day)
        assert end is not None
        span = (end - start).days + 1
        histories.append(
            SkuHistory(sku, start, [by_day.get(start + timedelta(days=i), 0.0) for i in range(span)])
        )
    return histories


def _number(text: str, column: str) -> tuple[float | None, str | None]:
    try:
        value = float(text)
    except ValueError:
        return None, f"{column} {text!r} is not a number"
    if not math.isfinite(value):
        return None, f"{column} {text!r} is not a number"
    if value < 0:
        return None, f"{column} {text!r} is negative"
    return value, None


def _header_problems(columns: list[str]) -> list[LineProblem]:
    problems = []
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    missing = [c for c in REQUIRED if c not in columns]
    if unknown:
        problems.append(
            LineProblem(1, f"unknown column(s) {', '.join(unknown)}: expected sku,date,units[,available]")
        )
    if missing:
        problems.append(LineProblem(1, f"missing column(s) {', '.join(missing)}"))
    if len(set(columns)) != len(columns):
        problems.append(LineProblem(1, "a column is named twice"))
    return problems


def _row(
    row: list[str], at: dict[str, int]
) -> tuple[tuple[str, date, float, float | None] | None, list[str]]:
    """One data row read, or what is wrong with it."""
    errors: list[str] = []
    sku = row[at["sku"]].strip()
    if not sku:
        errors.append("sku is empty")
    day: date | None = None
    raw_date = row[at["date"]].strip()
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        errors.append(f"date {raw_date!r} is not a date (YYYY-MM-DD)")
    units, error = _number(row[at["units"]].strip(), "units")
    if error:
        errors.append(error)
    available: float | None = None
    if "available" in at and row[at["available"]].strip():
        available, error = _number(row[at["available"]].strip(), "available")
        if error:
            errors.append(error)
    if errors or day is None or units is None:
        return None, errors
    return (sku, day, units, available), []


def read_history_csv(text: str) -> ReadHistory:
    """Parse `sku,date,units[,available]` (a header row, ISO dates): the good rows and every bad line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return ReadHistory(
            [], [LineProblem(1, "the file is empty: expected the header sku,date,units[,available]")]
        )
    columns = [c.strip().lower() for c in header]
    problems = _header_problems(columns)
    if problems:
        return ReadHistory([], problems)
    at = {c: columns.index(c) for c in columns}
    good: list[tuple[str, date, float, float | None]] = []
    seen: dict[tuple[str, date], int] = {}
    rows = 0
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if len(row) != len(columns):
            problems.append(LineProblem(line, f"{len(row)} values for {len(columns)} columns"))
            continue
        parsed, errors = _row(row, at)
        if parsed is not None:
            earlier = seen.get((parsed[0], parsed[1]))
            if earlier is not None:
                errors = [f"{parsed[0]} on {parsed[1]} is already on line {earlier}"]
            else:
                seen[(parsed[0], parsed[1])] = line
        if errors or parsed is None:
            problems.append(LineProblem(line, "; ".join(errors)))
            continue
        good.append(parsed)
    return ReadHistory(build_histories(good), problems, rows)
