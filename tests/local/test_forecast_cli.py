"""`oms forecast` as a seller runs it: a subprocess on a small CSV, no stack, forecasts on standard output."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

OMS = Path(sys.executable).parent / "oms"
WEEK = [5, 8, 10, 12, 9, 3, 0]
FIRST = date(2025, 1, 6)  # the history's own dates: nothing here reads today's


def oms_forecast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(OMS), "forecast", *args], capture_output=True, text=True, timeout=120, check=False
    )


def history(tmp_path: Path) -> Path:
    lines = ["sku,date,units,available"]
    for i in range(150):  # a weekly seller, out of stock on days 120 and 121 (sold 0: demand unknown)
        lines.append(
            f"MUG-1,{FIRST + timedelta(days=i)},{0 if i in (120, 121) else WEEK[i % 7]},{0 if i in (120, 121) else 30}"
        )
    for i in range(140, 150, 3):  # a new SKU with a few sales
        lines.append(f"NEW-2,{FIRST + timedelta(days=i)},2,")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_forecast_writes_each_skus_days_with_an_interval_and_a_summary_on_standard_error(
    tmp_path: Path,
) -> None:
    run = oms_forecast("--history", str(history(tmp_path)), "--horizon", "14")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert list(rows[0]) == ["sku", "date", "units", "low", "high"]
    mug = [r for r in rows if r["sku"] == "MUG-1"]
    new = [r for r in rows if r["sku"] == "NEW-2"]
    assert len(mug) == len(new) == 14
    last = FIRST + timedelta(days=149)
    assert [r["date"] for r in mug] == [str(last + timedelta(days=k)) for k in range(1, 15)]
    for k, r in enumerate(mug):  # the weekly pattern carries on: Monday 5 ... Sunday 0
        assert abs(float(r["units"]) - WEEK[(150 + k) % 7]) < 0.5
        assert float(r["low"]) <= float(r["units"]) <= float(r["high"])
    assert "MUG-1: " in run.stderr and "WAPE" in run.stderr and "seasonal naive" in run.stderr
    assert "NEW-2: average (only 10 day(s) of known demand" in run.stderr
    assert float(new[0]["units"]) < 1  # 4 sales of 2 over the 10 days from its first sale


def test_a_file_with_bad_lines_names_each_and_writes_nothing_unless_partial_is_accepted(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,date,units\nA,2025-01-01,3\nA,2025-13-01,1\nA,2025-01-03,-4\nA,2025-01-04,lots\n")
    run = oms_forecast("--history", str(bad), "--horizon", "3")
    assert run.returncode != 0
    assert run.stdout == ""
    assert "line 3: date '2025-13-01' is not a date" in run.stderr
    assert "line 4: units '-4' is negative" in run.stderr
    assert "line 5: units 'lots' is not a number" in run.stderr
    assert "3 bad line(s); nothing forecast" in run.stderr
    partial = oms_forecast("--history", str(bad), "--horizon", "3", "--accept-partial", "--quiet")
    assert partial.returncode == 0, partial.stderr
    assert partial.stdout.splitlines() == [
        "sku,date,units,low,high",
        "A,2025-01-02,3.00,3.00,3.00",
        "A,2025-01-03,3.00,3.00,3.00",
        "A,2025-01-04,3.00,3.00,3.00",
    ]


def test_unknown_columns_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,date,units,price\nA,2025-01-01,3,9.99\n")
    run = oms_forecast("--history", str(bad), "--horizon", "3")
    assert run.returncode != 0 and run.stdout == ""
    assert "line 1: unknown column(s) price" in run.stderr
