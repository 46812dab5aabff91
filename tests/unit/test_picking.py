"""Pick lines: units to pick per SKU, taken from bins in walking order, shortages last."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oms.domain.orders import Order
from oms.domain.picking import PickLine, pick_lines, walking_key


def order(order_id: str, *items: tuple[str, int] | tuple[str, int, int], title: str | None = None) -> Order:
    """An unshipped MFN order; each item is (sku, quantity) or (sku, quantity, quantity_shipped)."""
    rows: list[dict[str, Any]] = [
        {
            "order_item_id": f"{order_id}-{n}",
            "sku": item[0],
            "quantity": item[1],
            "quantity_shipped": item[2] if len(item) > 2 else 0,
            "title": title,
        }
        for n, item in enumerate(items)
    ]
    moment = datetime(2026, 11, 25, 10, tzinfo=UTC)
    return Order(
        order_id=order_id,
        marketplace_id="ATVPDKIKX0DER",
        status="Unshipped",
        fulfillment_channel="MFN",
        purchase_date=moment,
        last_update_date=moment,
        items=rows,
    )


def test_locations_sort_naturally_digits_as_numbers_letters_without_case():
    codes = ["A-10-1", "default", "b-1-1", "A-2-10", "A-2-9", "a-2-2", "B-01-01", "AA-1"]
    assert sorted(codes, key=walking_key) == [
        "a-2-2",
        "A-2-9",
        "A-2-10",
        "A-10-1",
        "AA-1",
        "B-01-01",
        "b-1-1",
        "default",
    ]


def test_default_comes_after_real_bins_and_none_after_everything():
    assert walking_key("Z-99-99") < walking_key("default") < walking_key(None)
    assert walking_key("DEFAULT") > walking_key("Z-1")


def test_walking_key_is_a_total_order_for_mixed_codes():
    codes = ["1A", "A1", "a1", "A01", "A-1", "10", "9", "x", ""]
    once = sorted(codes, key=walking_key)
    assert len({walking_key(code) for code in codes}) == len(codes)  # no ties: any input order sorts alike
    assert once.index("9") < once.index("10")


def test_one_order_from_one_bin():
    lines = pick_lines([order("o1", ("MUG", 2), title="Mug")], {"MUG": {"A-1-1": 5}})
    assert lines == [PickLine("A-1-1", "MUG", "Mug", 2, ("o1",))]


def test_units_to_pick_are_those_not_shipped_yet():
    lines = pick_lines([order("o1", ("MUG", 5, 3), ("TEE", 2, 2))], {"MUG": {"A-1": 9}, "TEE": {"A-2": 9}})
    assert [(line.sku, line.units) for line in lines] == [("MUG", 2)]


def test_orders_are_aggregated_per_sku():
    orders = [
        order("o1", ("MUG", 1), ("TEE", 1)),
        order("o2", ("MUG", 2)),
        order("o3", ("MUG", 1), ("MUG", 1)),
    ]
    lines = pick_lines(orders, {"MUG": {"B-1": 10}, "TEE": {"A-1": 10}})
    assert lines == [
        PickLine("A-1", "TEE", None, 1, ("o1",)),
        PickLine("B-1", "MUG", None, 5, ("o1", "o2", "o3")),
    ]


def test_allocation_is_greedy_across_bins_in_walking_order():
    stock = {"MUG": {"A-10-1": 10, "A-2-1": 3, "default": 50, "A-9-1": 0}}
    lines = pick_lines([order("o1", ("MUG", 2)), order("o2", ("MUG", 4)), order("o3", ("MUG", 9))], stock)
    assert lines == [
        PickLine("A-2-1", "MUG", None, 3, ("o1", "o2")),
        PickLine("A-10-1", "MUG", None, 10, ("o2", "o3")),
        PickLine("default", "MUG", None, 2, ("o3",)),
    ]


def test_bins_holding_nothing_or_less_are_passed_by():
    lines = pick_lines([order("o1", ("MUG", 2))], {"MUG": {"A-1": -3, "A-2": 0, "A-3": 2}})
    assert [line.location for line in lines] == ["A-3"]


def test_units_no_location_holds_come_last_as_not_on_hand():
    orders = [order("o1", ("MUG", 4)), order("o2", ("TEE", 1)), order("o3", ("CAP", 2))]
    lines = pick_lines(orders, {"MUG": {"A-1": 3}, "CAP": {}})
    assert lines == [
        PickLine("A-1", "MUG", None, 3, ("o1",)),
        PickLine(None, "CAP", None, 2, ("o3",)),
        PickLine(None, "MUG", None, 1, ("o1",)),
        PickLine(None, "TEE", None, 1, ("o2",)),
    ]


def test_lines_in_one_bin_are_sorted_by_sku_and_totals_are_kept():
    orders = [order(f"o{n}", ("ZED", n), ("ALPHA", 1)) for n in range(1, 5)]
    lines = pick_lines(orders, {"ZED": {"A-1": 4, "A-2": 100}, "ALPHA": {"A-1": 100}})
    assert [(line.location, line.sku, line.units) for line in lines] == [
        ("A-1", "ALPHA", 4),
        ("A-1", "ZED", 4),
        ("A-2", "ZED", 6),
    ]
    assert sum(line.units for line in lines) == 4 + sum(range(1, 5))


def test_title_is_the_first_known_one():
    orders = [order("o1", ("MUG", 1)), order("o2", ("MUG", 1), title="Mug, blue")]
    assert pick_lines(orders, {"MUG": {"A-1": 5}})[0].title == "Mug, blue"


def test_nothing_to_pick_gives_no_lines():
    assert pick_lines([], {"MUG": {"A-1": 5}}) == []
    assert pick_lines([order("o1", ("MUG", 1, 1))], {}) == []


def test_an_order_a_rule_assigned_to_a_location_takes_its_units_from_there_first():
    from oms.domain.orders import OrderHandling

    first = order("111-A", ("MUG", 2))
    assigned = order("111-B", ("MUG", 3)).model_copy(update={"handling": OrderHandling(location="B-9")})
    stock = {"MUG": {"A-1": 4, "B-9": 2}}

    lines = pick_lines([first, assigned], stock)

    # B's first 2 units come from its bin; its third, and all of A's, from the walk (A-1 first)
    assert lines == [
        PickLine("A-1", "MUG", None, 3, ("111-A", "111-B")),
        PickLine("B-9", "MUG", None, 2, ("111-B",)),
    ]
