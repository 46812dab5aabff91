"""Days of cover: available units at the window's daily demand."""

from __future__ import annotations

from oms.domain.cover import days_of_cover


def test_cover_is_available_over_the_daily_demand_and_none_without_orders():
    assert days_of_cover(6, 6, 30) == 30.0
    assert days_of_cover(7, 6, 30) == 35.0
    assert days_of_cover(0, 6, 30) == 0.0
    assert days_of_cover(-2, 6, 30) == 0.0  # never negative
    assert days_of_cover(6, 0, 30) is None
