"""`oms planning import`'s writing half on moto in process: a history CSV becomes the daily counters the
nightly plan reads; run again it writes nothing; a day the intake counted here is kept."""

from __future__ import annotations

from datetime import date

from oms.planning.demand import read_demand
from oms.planning.history import read_history_csv
from oms.planning.history_import import import_history
from oms.store.conditional import add_ordered
from oms.store.default import default_table

CSV = "sku,date,units,available\nMUG-OLD,2026-11-20,4,\nMUG-OLD,2026-11-21,0,0\nMUG-OLD,2026-11-23,6,\n"


def test_imported_days_are_the_plans_history_once_and_counted_days_win(stack):
    table = default_table()
    table.transact(
        [add_ordered("2026-11-23", "MUG-OLD", units=2, channel="MFN", marketplace="ATVPDKIKX0DER")]
    )
    read = read_history_csv(CSV)
    assert read.problems == []

    first = import_history(table, read.histories)
    again = import_history(table, read.histories)

    assert (first.written, first.kept, first.skus) == (3, 1, ["MUG-OLD"])  # the 23rd was counted here
    assert (again.written, again.kept) == (0, 4)
    demand = read_demand(table, "MUG-OLD", date(2026, 11, 23))
    assert demand is not None and demand.start == date(2026, 11, 20)
    assert demand.units == [4.0, 0.0, 0.0, 2.0]  # the 22nd (no row) sold nothing; the 23rd as counted here
    assert demand.out == [False, True, False, False]  # available 0 on the 21st: a stockout day
    assert demand.cleaned().units == [4.0, None, 0.0, 2.0]
