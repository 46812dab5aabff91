"""`oms stock import` and `oms stock export` against the API function (the CLI's HTTP calls go to the handler)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from oms.amazon.notifications import Notification
from oms.domain.types import utc_now
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from oms_tools.api_client import Api
from oms_tools.cli import main
from tests.api_calls import HandlerTransport
from tests.builders import order_change

HEADER = "sku,location,onHand,reorderPoint,channel,unitCost,unitCostCurrency\n"


class Oms:
    """`oms stock ...` with its API calls answered by the API function; `send` can be swapped."""

    def __init__(self, transport: HandlerTransport, folder) -> None:
        self.transport = transport
        self.send = transport
        self.folder = folder

    def __call__(self, *args: str, content: str | None = None):
        if content is not None:
            (self.folder / args[1]).write_text(content)
        arguments = [str(self.folder / a) if a.endswith(".csv") else a for a in args]
        api = Api("https://api.example.test", "token", self.send)
        return CliRunner().invoke(main, ["stock", *arguments], obj={"api": api})


@pytest.fixture
def oms(stack, context, tmp_path):
    return Oms(HandlerTransport(stack, context), tmp_path)


def _row(sku: str, location: str = keys.DEFAULT_LOCATION):
    return StockRepository(default_table()).get(sku, location)


def _ledger(sku: str) -> list[dict]:
    return list(default_table().query_all(keys.ledger_of(sku)))


def test_an_import_sets_stock_and_policies_and_a_second_run_changes_nothing(oms):
    table = default_table()
    set_policy(table, "MUG", StockPolicy(reorder_point=2))
    adjust_stock(table, "MUG", 3, reason="receipt", reference=None, actor="test")
    content = HEADER + "MUG,,12,5,MFN,,\nNEW,,4,,,2.50,EUR\nMUG,shelf-2,7,,,,\nQUIET,,,1,,,\n"

    result = oms("import", "stock.csv", content=content)

    assert result.exit_code == 0, result.output
    assert "4 row(s) changed, 0 unchanged, 0 refused, 0 bad" in result.stdout
    mug = _row("MUG")
    assert (mug.on_hand, mug.reorder_point, mug.channel) == (12, 5, "MFN")
    new = _row("NEW")
    assert new.on_hand == 4 and new.unit_cost and new.unit_cost.amount == "2.50"
    assert (_row("MUG", "shelf-2").on_hand, _row("QUIET").on_hand, _row("QUIET").reorder_point) == (7, 0, 1)
    imported = [
        (e["delta"], e["reason"], e["reference"]) for e in _ledger("MUG") if e["reason"] == "adjustment"
    ]
    assert sorted(imported) == [
        (7, "adjustment", "import:stock.csv:4"),
        (9, "adjustment", "import:stock.csv:2"),
    ]
    assert sum(int(e["delta"]) for e in _ledger("MUG")) == 12 + 7

    again = oms("import", "stock.csv")

    assert again.exit_code == 0, again.output
    assert "0 row(s) changed, 4 unchanged" in again.stdout
    assert len(_ledger("MUG")) == 3


def test_an_import_interrupted_after_the_api_applied_a_row_never_applies_it_twice(oms):
    set_policy(default_table(), "MUG", StockPolicy())
    content = HEADER + "MUG,,12,,,,\n"

    def answer_lost(method, url, headers, body):
        answer = oms.transport(method, url, headers, body)
        if method == "POST":
            raise ConnectionResetError("the connection dropped before the answer")
        return answer

    oms.send = answer_lost
    assert oms("import", "stock.csv", content=content).exit_code != 0
    oms.send = oms.transport
    assert _row("MUG").on_hand == 12

    result = oms("import", "stock.csv")

    assert result.exit_code == 0, result.output
    assert _row("MUG").on_hand == 12
    assert [e["delta"] for e in _ledger("MUG")] == [12]


def test_a_retried_adjustment_with_the_same_file_and_line_is_applied_once(oms):
    set_policy(default_table(), "MUG", StockPolicy())
    content = HEADER + "MUG,,12,,,,\n"
    assert oms("import", "stock.csv", content=content).exit_code == 0
    post = next(r for r in oms.transport.requests if r[0] == "POST")
    key = post[2]["Idempotency-Key"]
    adjust_stock(default_table(), "MUG", -12, reason="adjustment", reference="undo", actor="test")

    # the same request again (a client retry after a lost answer): the API answers from its record
    api = Api("https://api.example.test", "token", oms.transport)
    api.call(
        "POST",
        "/inventory/MUG/adjustments",
        body={"delta": 12, "reason": "adjustment", "reference": "import:stock.csv:2", "location": "default"},
        headers={"Idempotency-Key": key},
    )

    assert _row("MUG").on_hand == 0


def test_bad_rows_are_reported_by_line_and_nothing_is_imported_unless_asked(oms):
    content = HEADER + "GOOD,,5,,,,\nBAD1,,-3,,,,\nBAD2,,2.5,x,,,\nGOOD2,,1,,FBA,,\n,,1,,,,\n"

    result = oms("import", "stock.csv", content=content)

    assert result.exit_code == 1
    assert "line 3: onHand: must not be negative, got '-3'" in result.stderr
    assert "line 4: onHand: must be a whole number, got '2.5'" in result.stderr
    assert "line 4:" in result.stderr and "reorderPoint" in result.stderr
    assert "line 6: sku: is empty" in result.stderr
    assert "3 bad row(s), nothing imported" in result.stderr and "2 good row(s)" in result.stderr
    assert oms.transport.requests == []  # not one call: nothing imported

    partial = oms("import", "stock.csv", "--accept-partial")

    assert partial.exit_code == 1  # some rows were not imported
    assert "2 row(s) changed, 0 unchanged, 0 refused, 3 bad" in partial.stdout
    assert (_row("GOOD").on_hand, _row("GOOD2").on_hand, _row("GOOD2").channel) == (5, 1, "FBA")
    assert "line 3: onHand" in partial.stderr


def test_a_dry_run_shows_what_would_change_and_changes_nothing(oms):
    set_policy(default_table(), "MUG", StockPolicy())
    adjust_stock(default_table(), "MUG", 3, reason="receipt", reference=None, actor="test")

    result = oms(
        "import", "stock.csv", "--dry-run", content=HEADER + "MUG,,10,4,,,\nNEW,,2,,,,\nBAD,,-1,,,,\n"
    )

    assert result.exit_code == 1  # a bad row
    assert "line 2: would change MUG at default: onHand 3 -> 10 (+7); policy: reorderPoint" in result.stdout
    assert "line 3: would change NEW at default: new stock row; onHand 0 -> 2 (+2)" in result.stdout
    assert "line 4: onHand: must not be negative" in result.stderr
    assert "nothing imported" in result.stdout
    assert not [r for r in oms.transport.requests if r[0] != "GET"]
    assert _row("MUG").on_hand == 3


def test_a_row_the_api_refuses_is_reported_by_line_and_the_others_are_imported(oms):
    table = default_table()
    set_policy(table, "MUG", StockPolicy())
    adjust_stock(table, "MUG", 5, reason="receipt", reference=None, actor="test")

    def damaged_meanwhile(method, url, headers, body):
        if method == "POST" and "/inventory/MUG/" in url:  # 3 found damaged between the read and the import
            adjust_stock(table, "MUG", -3, reason="damaged", reference=None, actor="test")
        return oms.transport(method, url, headers, body)

    oms.send = damaged_meanwhile
    result = oms("import", "stock.csv", content=HEADER + "MUG,,1,,,,\nCUP,,2,,,,\n")

    assert result.exit_code == 1
    assert "line 2: refused: MUG at default: SKU MUG has only 2 on hand at default" in result.stderr
    assert (_row("MUG").on_hand, _row("CUP").on_hand) == (2, 2)


def test_an_import_below_the_reserved_units_records_the_shelf_and_the_order_goes_short(oms):
    table = default_table()
    set_policy(table, "MUG", StockPolicy())
    adjust_stock(table, "MUG", 5, reason="receipt", reference=None, actor="test")
    document = order_change("111-1", "Unshipped", [("MUG", 3, 0)], at=utc_now())
    apply_change(table, change_from_notification(Notification.model_validate(document)))

    result = oms("import", "stock.csv", content=HEADER + "MUG,,1,,,,\n")

    assert result.exit_code == 0, result.output
    mug = _row("MUG")
    assert (mug.on_hand, mug.reserved, mug.backordered) == (1, 1, 2)
    order = OrderRepository(table).get("111-1")
    assert "stockShortage" in order.flags and order.items[0].quantity_short == 2


def test_export_writes_every_row_with_the_columns_import_reads(oms, tmp_path):
    table = default_table()
    set_policy(
        table,
        "MUG",
        StockPolicy(reorder_point=5, lead_time_days=7, unit_cost={"amount": "4.50", "currencyCode": "USD"}),
    )
    adjust_stock(table, "MUG", 12, reason="receipt", reference=None, actor="test")
    set_policy(table, "MUG", StockPolicy(), location="shelf-2")
    set_policy(table, "Tasse, bleue", StockPolicy(channel="FBA"))

    result = oms("export", "out.csv")

    assert result.exit_code == 0, result.output
    assert "exported 3 stock row(s)" in result.stderr
    text = (tmp_path / "out.csv").read_text()
    header, *rows = text.splitlines()
    assert header.startswith("sku,location,onHand,channel,reorderPoint,")
    assert header.endswith(",unitCost,unitCostCurrency")
    assert rows[0].startswith("MUG,default,12,,5,,7,") and rows[0].endswith(",4.50,USD")
    assert rows[1].startswith("MUG,shelf-2,0,")
    assert rows[2].startswith('"Tasse, bleue",default,0,FBA,')

    again = oms("import", "out.csv")
    assert again.exit_code == 0, again.output
    assert "0 row(s) changed, 3 unchanged" in again.stdout
