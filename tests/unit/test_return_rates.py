"""Return rates, pure: rate = units returned / units shipped in the window, per reason, and "well above the
seller's average" flagged only with the volume to mean it."""

from __future__ import annotations

from datetime import date

from oms.domain.return_rates import DayUnits, return_rates
from oms.store import keys

TODAY = date(2026, 12, 6)
FIRST = date(2026, 9, 8)


def _rates(*days: DayUnits, sku: str | None = None):
    return return_rates(days, window=90, first_day=FIRST, last_day=TODAY, sku=sku)


def test_rates_per_sku_and_for_the_seller_with_reasons_most_first():
    rates = _rates(
        DayUnits("MUG", shipped=60, returned=2, reasons={"DEFECTIVE": 2}),
        DayUnits("MUG", shipped=40, returned=2, reasons={"NOT_AS_DESCRIBED": 1, "DEFECTIVE": 1}),
        DayUnits("CUP", shipped=100),
        DayUnits("OLD", returned=1, reasons={"not given": 1}),  # shipped before the window
    )
    assert (rates.seller.units_shipped, rates.seller.units_returned, rates.seller.rate) == (200, 5, 0.025)
    mug = next(i for i in rates.items if i.sku == "MUG")
    assert (mug.units_shipped, mug.units_returned, mug.rate) == (100, 4, 0.04)
    assert [(r.reason, r.units) for r in mug.reasons] == [("DEFECTIVE", 3), ("NOT_AS_DESCRIBED", 1)]
    old = next(i for i in rates.items if i.sku == "OLD")
    assert (old.rate, old.flagged) == (None, False)
    dumped = rates.model_dump(mode="json", by_alias=True)
    assert (dumped["days"], dumped["from"], dumped["to"]) == (90, "2026-09-08", "2026-12-06")
    assert set(dumped["items"][0]) >= {"sku", "unitsShipped", "unitsReturned", "rate", "reasons", "flagged"}


def test_a_sku_is_flagged_at_twice_the_sellers_rate_with_volume_and_never_on_one_return_of_one_sale():
    base = [DayUnits("CUP", shipped=500, returned=10)]  # the seller: about 2-4 %
    rates = _rates(
        *base,
        DayUnits("MUG", shipped=40, returned=4),  # 10 %: well above, with volume
        DayUnits("BOWL", shipped=1, returned=1),  # 100 %, one sale: says nothing
        DayUnits("JUG", shipped=19, returned=10),  # too few shipped to judge
        DayUnits("PLATE", shipped=200, returned=2),  # 1 %: below average
    )
    assert rates.seller.rate == round(27 / 760, 4)
    assert [(i.sku, i.flagged) for i in rates.items][:2] == [("MUG", True), ("BOWL", False)]
    assert {i.sku for i in rates.items if i.flagged} == {"MUG"}
    borderline = _rates(*base, DayUnits("MUG", shipped=100, returned=3))  # 3 % vs 2.2 %: not twice
    assert not next(i for i in borderline.items if i.sku == "MUG").flagged
    only = _rates(*base, DayUnits("MUG", shipped=40, returned=4), sku="MUG")
    assert [i.sku for i in only.items] == ["MUG"] and only.seller.units_shipped == 540
    assert "2 times" in only.flag_rule


def test_a_window_reads_one_partition_per_month_it_touches():
    queries = keys.sku_units_between("2026-09-08", "2026-12-06")
    assert [q.partition for q in queries] == [
        "UNITS#2026-09",
        "UNITS#2026-10",
        "UNITS#2026-11",
        "UNITS#2026-12",
    ]
    assert (queries[0].sk_from, queries[0].sk_to) == ("2026-09-08", "2026-12-06~")
    across = keys.sku_units_between("2026-12-20", "2027-01-18")
    assert [q.partition for q in across] == ["UNITS#2026-12", "UNITS#2027-01"]
    assert keys.sku_units_key("2026-12-06", "MUG") == {"pk": "UNITS#2026-12", "sk": "2026-12-06#MUG"}
