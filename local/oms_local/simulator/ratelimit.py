"""SP-API usage plans: a token bucket per operation, with Amazon's default rate and burst.

A bucket starts full (burst tokens) and refills at `rate` tokens a second; a request takes one
token or is throttled (429). Rates and bursts are read from the operations' descriptions in the
official models (the "Usage Plan" tables), which match the defaults the project lists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: int
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    def __init__(
        self, plans: dict[str, tuple[float, int]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        now = clock()
        self.buckets = {
            op: TokenBucket(rate, burst, float(burst), now) for op, (rate, burst) in plans.items()
        }

    def allow(self, operation: str) -> bool:
        with self._lock:
            return self.buckets[operation].take(self.clock())

    def rate(self, operation: str) -> float:
        return self.buckets[operation].rate

    def drain(self, operation: str) -> None:
        """Empty a bucket (tests: the next call is throttled until it refills)."""
        with self._lock:
            bucket = self.buckets[operation]
            bucket.tokens, bucket.stamp = 0.0, self.clock()

    def refill(self) -> None:
        """Fill every bucket (tests and benchmarks that start from a fresh budget)."""
        with self._lock:
            now = self.clock()
            for bucket in self.buckets.values():
                bucket.tokens, bucket.stamp = float(bucket.burst), now
