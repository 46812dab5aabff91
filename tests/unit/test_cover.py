"""Days of cover's demand, entry by entry: what buyers ordered, each unit once."""

from __future__ import annotations

from oms.domain.cover import days_of_cover, units_ordered


def entry(reason: str, delta: int = 0, reserved: int = 0, backordered: int = 0) -> dict[str, object]:
    return {"reason": reason, "delta": delta, "reservedDelta": reserved, "backorderedDelta": backordered}


def test_an_order_of_3_with_2_on_hand_is_3_units_ordered():
    assert units_ordered(entry("reservation", reserved=2, backordered=1)) == 3


def test_shipping_reserved_units_adds_no_demand_but_shipping_unheld_units_does():
    assert units_ordered(entry("shipment", delta=-2, reserved=-2)) == 0
    assert units_ordered(entry("shipment", delta=-2)) == 2


def test_a_cancellation_does_not_take_demand_back_and_stock_changes_are_not_demand():
    for reason in ("release", "receipt", "damaged", "lost", "count-correction"):
        assert units_ordered(entry(reason, delta=-5, reserved=-3, backordered=3)) == 0


def test_cover_is_available_over_the_daily_demand_and_none_without_orders():
    orders = [entry("reservation", reserved=4), entry("reservation", backordered=2)]
    assert days_of_cover(6, orders, 30) == 30.0
    assert days_of_cover(7, orders, 30) == 35.0
    assert days_of_cover(0, orders, 30) == 0.0
    assert days_of_cover(6, [entry("receipt", delta=10)], 30) is None
