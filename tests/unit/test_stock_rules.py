"""The stock rules, for any sequence of order states (property tests)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from oms.domain.stock import Holding, StockLevel, balanced, settle


def test_given_2_on_hand_when_an_order_wants_3_then_2_are_reserved_and_1_backordered():
    holding, movement = settle(StockLevel(on_hand=2), Holding(), shipped_total=0, still_needed=3)
    assert holding == Holding(needed=3)
    assert movement.applied_to(StockLevel(on_hand=2)) == StockLevel(on_hand=2, reserved=2, backordered=1)


def test_shipping_takes_units_out_once_however_often_it_is_reported():
    level = StockLevel(on_hand=5, reserved=3)
    holding = Holding(needed=3)
    holding, movement = settle(level, holding, shipped_total=3, still_needed=0)
    level = movement.applied_to(level)
    assert level == StockLevel(on_hand=2, reserved=0)
    holding, movement = settle(level, holding, shipped_total=3, still_needed=0)
    assert not movement


def test_cancelling_releases_backorders_first():
    level = StockLevel(on_hand=2, reserved=2, backordered=1)
    holding, movement = settle(level, Holding(needed=3), shipped_total=0, still_needed=1)
    assert holding == Holding(needed=1)
    assert movement.applied_to(level) == StockLevel(on_hand=2, reserved=1, backordered=0)


states = st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=8)


@given(on_hand=st.integers(0, 10), other_demand=st.integers(0, 10), steps=states)
def test_any_sequence_of_order_states_keeps_the_books_straight(on_hand, other_demand, steps):
    level = balanced(on_hand, other_demand)
    holding = Holding()
    shipped_so_far = 0
    for shipped, needed in steps:
        holding, movement = settle(level, holding, shipped_total=shipped, still_needed=needed)
        level = movement.applied_to(level)
        shipped_so_far = max(shipped_so_far, shipped)
        # the order holds exactly what it still needs, and shipped units left the shelf once
        assert holding == Holding(needed=needed, shipped=shipped_so_far)
        assert level.on_hand == on_hand - shipped_so_far
        # reserved and backordered are the open demand, reserved as far as units are on hand
        assert level.reserved + level.backordered == other_demand + needed
        assert level == balanced(level.on_hand, other_demand + needed)
        assert level.available >= 0
        assert level.reserved <= max(level.on_hand, 0)


@given(on_hand=st.integers(0, 10), needs=st.lists(st.integers(0, 6), min_size=1, max_size=5), data=st.data())
def test_the_stock_row_does_not_depend_on_the_order_in_which_orders_arrive(on_hand, needs, data):
    def run(order_of_arrival):
        level, holdings = StockLevel(on_hand=on_hand), {}
        for index in order_of_arrival:
            holdings[index], movement = settle(level, Holding(), shipped_total=0, still_needed=needs[index])
            level = movement.applied_to(level)
        return level

    shuffled = data.draw(st.permutations(range(len(needs))))
    assert run(range(len(needs))) == run(shuffled)
