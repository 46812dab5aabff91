"""Deferred work on the marketplace's clock: late notifications, payment authorisations, FBA shipping.

Tasks are kept in a heap by due time on the marketplace's clock (injectable, so tests move time by
hand and call run_due); the background thread only calls run_due a few times a second.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
Task = Callable[[], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    def __init__(self, clock: Clock = utc_now, on_error: Callable[[str], None] | None = None) -> None:
        self.clock = clock
        self.on_error = on_error
        self._heap: list[tuple[datetime, int, Task]] = []
        self._sequence = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def at(self, when: datetime, task: Task) -> None:
        with self._lock:
            heapq.heappush(self._heap, (when, next(self._sequence), task))

    def after(self, seconds: float, task: Task) -> None:
        self.at(self.clock() + timedelta(seconds=seconds), task)

    def pending(self) -> int:
        with self._lock:
            return len(self._heap)

    def run_due(self) -> int:
        """Run every task that is due now (tasks added while running wait for the next call)."""
        now = self.clock()
        due: list[Task] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap)[2])
        for task in due:
            try:
                task()
            except Exception as error:  # one broken task must not stop the marketplace's clock
                if self.on_error:
                    self.on_error(f"scheduled task failed: {error!r}")
        return len(due)

    def start(self, interval: float = 0.05) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            # time.sleep, not Event.wait(timeout): under libfaketime (make test-timeshift runs the tests in
            # it) a timed wait sleeps the whole offset, and the marketplace's clock would stand still.
            while not self._stop.is_set():
                time.sleep(interval)
                if not self._stop.is_set():
                    self.run_due()

        self._thread = threading.Thread(target=loop, name="sim-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
