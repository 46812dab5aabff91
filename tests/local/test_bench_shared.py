"""The benches' shared shipping steps (bench/bench_shared.py) on the simulator's own orders: a pending order
is looked at again later (20 looks at the most), a canceled one is left, and a two-package order ships one
unit less of its first line (or its first line only) first, the rest scheduled."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oms_local.simulator import Marketplace, SimulatorConfig, Wanted
from oms_local.simulator.catalogue import builtin_catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench_shared import PENDING_LOOKS, order_to_ship, package_to_ship, write_units

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def market() -> Marketplace:
    config = SimulatorConfig(seed=7, duplicate_probability=0.0, delay_probability=0.0)
    return Marketplace(config, catalogue=builtin_catalogue(), notify=lambda _: None, clock=lambda: START)


def test_a_pending_order_is_looked_at_again_until_the_last_look(market: Marketplace) -> None:
    pending = market.place_order([Wanted("20725", 1)], status="Pending")
    looks: list[int] = []
    assert order_to_ship(market, pending, 1, lambda: looks.append(1)) is None
    assert looks == [1]
    last = order_to_ship(market, pending, PENDING_LOOKS, lambda: looks.append(PENDING_LOOKS))
    assert last is None and looks == [1]  # still pending at the last look: not shippable, no more looks


def test_an_unshipped_order_ships_and_a_canceled_one_is_left(market: Marketplace) -> None:
    kept = market.place_order([Wanted("85123A", 2)])
    gone = market.place_order([Wanted("85123A", 1)])
    market.cancel_order(gone, buyer_requested=False)  # canceled outright, not just asked for
    never: list[str] = []
    order = order_to_ship(market, kept, 1, lambda: never.append(kept))
    assert order is not None and order.order_id == kept
    assert order_to_ship(market, gone, 1, lambda: never.append(gone)) is None
    assert never == []


def test_one_package_ships_every_unit_left(market: Marketplace) -> None:
    order = market.snapshot(market.place_order([Wanted("85123A", 2), Wanted("22423", 1)]))
    rest: list[bool] = []
    lines, first_only = package_to_ship(order, 1, lambda: rest.append(True))
    assert lines == [(order.lines[0].order_item_id, 2), (order.lines[1].order_item_id, 1)]
    assert not first_only and rest == []


def test_two_packages_ship_part_first_and_schedule_the_rest(market: Marketplace) -> None:
    one_line = market.snapshot(market.place_order([Wanted("85123A", 3)]))
    rest: list[str] = []
    assert package_to_ship(one_line, 2, lambda: rest.append("one line")) == (
        [(one_line.lines[0].order_item_id, 2)],
        True,
    )
    two_lines = market.snapshot(market.place_order([Wanted("85123A", 1), Wanted("22423", 1)]))
    assert package_to_ship(two_lines, 2, lambda: rest.append("two lines")) == (
        [(two_lines.lines[0].order_item_id, 1)],
        True,
    )
    single = market.snapshot(market.place_order([Wanted("22423", 1)]))
    assert package_to_ship(single, 2, lambda: rest.append("one unit")) == (
        [(single.lines[0].order_item_id, 1)],
        False,
    )
    assert rest == ["one line", "two lines"]  # one unit cannot make two packages


def test_write_units_are_whole_kilobytes_and_at_least_one() -> None:
    assert [write_units(n) for n in (0, 1, 1024, 1025, 4096)] == [1, 1, 1, 2, 4]
