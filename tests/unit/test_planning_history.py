"""Reading a demand history: stockout days are unknown (not zero), every bad line is named, nothing half-read."""

from __future__ import annotations

from datetime import date

from oms.planning.history import LineProblem, read_history_csv


def test_days_are_filled_stockouts_unknown_and_every_history_runs_to_the_last_day_of_the_file() -> None:
    read = read_history_csv(
        "sku,date,units,available\n"
        "A,2025-03-01,4,10\n"
        "A,2025-03-02,0,0\n"  # out of stock: sold 0, demand unknown
        "A,2025-03-04,2,\n"  # 03-03 missing: sold nothing
        "B,2025-03-05,1,3\n"
    )
    assert read.problems == []
    a, b = read.histories
    assert (a.sku, a.start, a.units) == ("A", date(2025, 3, 1), [4.0, None, 0.0, 2.0, 0.0])
    assert a.end == b.end == date(2025, 3, 5)
    assert (a.known_days, a.stockout_days) == (4, 1)
    assert b.units == [1.0]


def test_available_is_optional_and_columns_may_come_in_any_order_with_a_byte_order_mark_stripped_by_the_caller() -> (
    None
):
    read = read_history_csv("Date,SKU,Units\n2025-03-01,A,3\n2025-03-02,A,5\n")
    assert read.problems == []
    assert read.histories[0].units == [3.0, 5.0]


def test_each_bad_line_is_named_with_its_problems_and_no_history_comes_from_a_bad_line() -> None:
    read = read_history_csv(
        "sku,date,units,available\n"
        "A,2025-03-01,4,1\n"
        "A,2025-02-30,1,1\n"
        "A,2025-03-02,-2,1\n"
        "A,2025-03-03,many,1\n"
        ",2025-03-04,1,1\n"
        "A,03/05/2025,1,-1\n"
        "A,2025-03-01,7,1\n"
        "A,2025-03-06,1\n"
    )
    assert read.problems == [
        LineProblem(3, "date '2025-02-30' is not a date (YYYY-MM-DD)"),
        LineProblem(4, "units '-2' is negative"),
        LineProblem(5, "units 'many' is not a number"),
        LineProblem(6, "sku is empty"),
        LineProblem(7, "date '03/05/2025' is not a date (YYYY-MM-DD); available '-1' is negative"),
        LineProblem(8, "A on 2025-03-01 is already on line 2"),
        LineProblem(9, "3 values for 4 columns"),
    ]
    assert str(read.problems[0]) == "line 3: date '2025-02-30' is not a date (YYYY-MM-DD)"
    assert [h.units for h in read.histories] == [[4.0]]  # the good part, for --accept-partial only


def test_an_unknown_or_missing_column_is_a_problem_of_line_one_and_nothing_is_read() -> None:
    read = read_history_csv("sku,date,units,colour\nA,2025-03-01,1,red\n")
    assert read.problems == [LineProblem(1, "unknown column(s) colour: expected sku,date,units[,available]")]
    assert read.histories == []
    assert read_history_csv("sku,units\nA,1\n").problems == [LineProblem(1, "missing column(s) date")]
    assert read_history_csv("").problems[0].line == 1
