"""Delivers notifications the way Amazon does: at least once and not necessarily in order.

Each document is serialised once, so a duplicate is the very same text (same NotificationId, same
PublishTime). A delayed one keeps the times of its event and arrives a few seconds late, after
notifications of later changes. A delivery that fails (the queue is down) is retried with backoff.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oms_local.simulator.config import SimulatorConfig
from oms_local.simulator.scheduler import Scheduler

Notify = Callable[[str], None]
MAX_ATTEMPTS = 5


@dataclass
class DeliveryStats:
    published: int = 0  # distinct notifications
    delivered: int = 0  # messages handed to notify, duplicates included
    duplicated: int = 0
    delayed: int = 0
    failed: int = 0  # attempts that raised
    dropped: int = 0  # gave up, or nobody to deliver to

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class Courier:
    def __init__(
        self,
        notify: Notify | None,
        scheduler: Scheduler,
        config: SimulatorConfig,
        rng: random.Random,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.notify = notify
        self.scheduler = scheduler
        self.config = config
        self.rng = rng
        self.log = log
        self.stats = DeliveryStats()
        self._lock = threading.Lock()

    def publish(self, document: dict[str, Any]) -> None:
        """Send one notification (the caller must not hold the marketplace's lock)."""
        text = json.dumps(document)
        with self._lock:
            self.stats.published += 1
            late = self.rng.random() < self.config.delay_probability
            delay = self.rng.uniform(*self.config.delay_seconds) if late else 0.0
            twice = self.rng.random() < self.config.duplicate_probability
            echo = delay + self.rng.uniform(0.2, 3.0)
            self.stats.delayed += late
            self.stats.duplicated += twice
        self._send(text, delay)
        if twice:
            self._send(text, echo)

    def _send(self, text: str, delay: float, attempt: int = 1) -> None:
        if delay > 0:
            self.scheduler.after(delay, lambda: self._deliver(text, attempt))
        else:
            self._deliver(text, attempt)

    def _deliver(self, text: str, attempt: int) -> None:
        if self.notify is None:
            with self._lock:
                self.stats.dropped += 1
            return
        try:
            self.notify(text)
        except Exception as error:
            with self._lock:
                self.stats.failed += 1
                if attempt >= MAX_ATTEMPTS:
                    self.stats.dropped += 1
            if attempt >= MAX_ATTEMPTS:
                if self.log:
                    self.log(f"notification dropped after {attempt} attempts: {error!r}")
                return
            self._send(text, min(2.0**attempt, 30.0), attempt + 1)
            return
        with self._lock:
            self.stats.delivered += 1
