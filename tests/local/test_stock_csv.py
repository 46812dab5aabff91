"""The stock CSV read by `oms stock import`: every bad row found, by its line number (the header is line 1)."""

from __future__ import annotations

import io

import pytest

from oms_tools.api_client import ApiError
from oms_tools.stock_csv import COLUMNS, export_rows, read_stock_csv, stock_csv_row


def test_good_rows_become_stock_lines_with_their_policy():
    good, bad = read_stock_csv(
        "sku,location,onHand,reorderPoint,leadTimeDays,channel,unitCost,unitCostCurrency\n"
        "MUG,,12,5,7.5,MFN,4.50,USD\n"
        "\n"
        "MUG,shelf-2,,,,,,\n"
    )
    assert bad == []
    assert [(g.line, g.sku, g.location, g.on_hand, g.policy) for g in good] == [
        (
            2,
            "MUG",
            "default",
            12,
            {
                "channel": "MFN",
                "reorderPoint": 5,
                "leadTimeDays": 7.5,
                "unitCost": {"amount": "4.50", "currencyCode": "USD"},
            },
        ),
        (4, "MUG", "shelf-2", None, {}),
    ]


def test_every_bad_row_is_reported_with_its_line_counting_quoted_line_breaks():
    good, bad = read_stock_csv(
        "sku,onHand,reorderPoint,channel,unitCost,unitCostCurrency\n"
        '"MUG\nRED",-3,,,,\n'  # lines 2-3
        "CUP,2.5,x,XYZ,,\n"  # line 4
        "TEA,1,,,abc,usd\n"  # line 5
        "POT,,,,,EUR\n"  # line 6
        ",1,,,,\n"  # line 7
        "OK,1,,,,\n"  # line 8
        "OK,2,,,,\n"  # line 9
        "SHORT,1\n"  # line 10
    )
    assert [g.line for g in good] == [8]
    problems = {row.line: row.problems for row in bad}
    assert problems[2] == ["onHand: must not be negative, got '-3'"]
    assert problems[4][0] == "onHand: must be a whole number, got '2.5'"
    assert "reorderPoint: must be a whole number, got 'x'" in problems[4]
    assert "channel: must be one of 'FBA', 'MFN' or 'BOTH', got 'XYZ'" in problems[4]
    assert problems[5] == [
        "unitCost: must be an amount such as 12.34, got 'abc'",
        "unitCostCurrency: must be a currency code such as USD, got 'usd'",
    ]
    assert problems[6] == ["unitCostCurrency: is set without unitCost"]
    assert problems[7] == ["sku: is empty"]
    assert problems[9] == ["sku OK at default is already on line 8"]
    assert problems[10] == ["has 2 cells, the header has 6"]


def test_a_bad_header_is_line_1_and_makes_every_row_unusable():
    good, bad = read_stock_csv("sku,onhand,colour\nMUG,1,red\n")
    assert good == []
    assert [row.line for row in bad] == [1]
    assert bad[0].problems[0].startswith("unknown column 'onhand'")
    assert read_stock_csv("location,onHand\n")[1][0].problems == ["the sku column is missing"]
    assert read_stock_csv("")[1][0].line == 1


def test_an_exported_row_reads_back_as_the_same_values():
    row = {
        "sku": "Tasse, bleue",
        "location": "default",
        "onHand": 12,
        "reorderPoint": 5,
        "leadTimeDays": 7.0,
        "unitCost": {"amount": "4.50", "currencyCode": "EUR"},
        "reserved": 3,
    }
    text = ",".join(COLUMNS) + "\n" + ",".join(f'"{c}"' for c in stock_csv_row(row)) + "\n"
    (line,), bad = read_stock_csv(text)
    assert bad == []
    assert (line.sku, line.on_hand) == ("Tasse, bleue", 12)
    assert line.policy == {
        "reorderPoint": 5,
        "leadTimeDays": 7.0,
        "unitCost": {"amount": "4.50", "currencyCode": "EUR"},
    }


def test_export_reads_every_page_and_writes_nothing_before_the_first_answers():
    class Pages:
        def __init__(self, pages):
            self.pages, self.queries = pages, []

        def call(self, method, path, *, query=None, **_):
            self.queries.append(query)
            page = self.pages.pop(0)
            if isinstance(page, Exception):
                raise page
            return page

    out = io.StringIO()
    api = Pages([{"items": [{"sku": "A", "onHand": 1}], "nextToken": "t1"}, {"items": [{"sku": "B"}]}])
    assert export_rows(api, out) == 2  # type: ignore[arg-type]
    assert [q.get("nextToken") for q in api.queries] == [None, "t1"]
    assert out.getvalue().splitlines()[1:] == [
        "A,,1" + "," * (len(COLUMNS) - 3),
        "B" + "," * (len(COLUMNS) - 1),
    ]

    out = io.StringIO()
    with pytest.raises(ApiError):
        export_rows(Pages([ApiError(401, {"error": {"message": "no token"}})]), out)  # type: ignore[arg-type]
    assert out.getvalue() == ""
