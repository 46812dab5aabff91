"""The benches' shared shipping steps (bench/bench_shared.py) on the simulator's own orders: a pending order
is looked at again 15 minutes later (PENDING_LOOKS times at the most), a canceled one is left, and a
two-package order ships one unit less of its first line (or its first line only) first, the rest scheduled."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oms_local.simulator import Marketplace, SimulatorConfig, Wanted
from oms_local.simulator.catalogue import builtin_catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench_shared import PENDING_LOOKS, order_to_ship, package_to_ship, write_units

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday


class Day:
    """What the shipping steps need of a bench's simulation: the marketplace, its random stream, a task
    list (run here by hand) and the seller's ship step (recorded)."""

    def __init__(self) -> None:
        config = SimulatorConfig(seed=7, duplicate_probability=0.0, delay_probability=0.0)
        self.marketplace = Marketplace(
            config, catalogue=builtin_catalogue(), notify=lambda _: None, clock=lambda: START
        )
        self.rng = random.Random(3)
        self.tasks: list[tuple[float, Callable[[], None]]] = []
        self.shipped: list[tuple[str, int, int]] = []

    def later(self, seconds: float, task: Callable[[], None]) -> None:
        self.tasks.append((seconds, task))

    def ship(self, order_id: str, packages: int, attempt: int = 1) -> None:
        self.shipped.append((order_id, packages, attempt))

    def run_tasks(self) -> list[float]:
        tasks, self.tasks = self.tasks, []
        for _, task in tasks:
            task()
        return [seconds for seconds, _ in tasks]


@pytest.fixture
def day() -> Day:
    return Day()


def test_a_pending_order_is_looked_at_again_in_15_minutes_until_the_last_look(day: Day) -> None:
    pending = day.marketplace.place_order([Wanted("20725", 1)], status="Pending")
    assert order_to_ship(day, pending, 2, 1) is None
    assert day.run_tasks() == [900]
    assert day.shipped == [(pending, 2, 2)]  # the same packages, the next look
    assert order_to_ship(day, pending, 2, PENDING_LOOKS) is None
    assert day.tasks == []  # still pending at the last look: not shippable, no more looks


def test_an_unshipped_order_ships_and_a_canceled_one_is_left(day: Day) -> None:
    kept = day.marketplace.place_order([Wanted("85123A", 2)])
    gone = day.marketplace.place_order([Wanted("85123A", 1)])
    day.marketplace.cancel_order(gone, buyer_requested=False)  # canceled outright, not just asked for
    order = order_to_ship(day, kept, 1, 1)
    assert order is not None and order.order_id == kept
    assert order_to_ship(day, gone, 1, 1) is None
    assert day.tasks == []


def test_one_package_ships_every_unit_left(day: Day) -> None:
    order = day.marketplace.snapshot(day.marketplace.place_order([Wanted("85123A", 2), Wanted("22423", 1)]))
    lines, first_only = package_to_ship(day, order, 1)
    assert lines == [(order.lines[0].order_item_id, 2), (order.lines[1].order_item_id, 1)]
    assert not first_only and day.tasks == []


def test_two_packages_ship_part_first_and_the_rest_10_to_60_minutes_later(day: Day) -> None:
    one_line = day.marketplace.snapshot(day.marketplace.place_order([Wanted("85123A", 3)]))
    assert package_to_ship(day, one_line, 2) == ([(one_line.lines[0].order_item_id, 2)], True)
    two_lines = day.marketplace.snapshot(
        day.marketplace.place_order([Wanted("85123A", 1), Wanted("22423", 1)])
    )
    assert package_to_ship(day, two_lines, 2) == ([(two_lines.lines[0].order_item_id, 1)], True)
    single = day.marketplace.snapshot(day.marketplace.place_order([Wanted("22423", 1)]))
    assert package_to_ship(day, single, 2) == ([(single.lines[0].order_item_id, 1)], False)
    waits = day.run_tasks()
    assert len(waits) == 2 and all(600 <= w <= 3600 for w in waits)  # one unit cannot make two packages
    assert day.shipped == [(one_line.order_id, 1, 1), (two_lines.order_id, 1, 1)]  # the rest: one package


def test_write_units_are_whole_kilobytes_and_at_least_one() -> None:
    assert [write_units(n) for n in (0, 1, 1024, 1025, 4096)] == [1, 1, 1, 2, 4]
