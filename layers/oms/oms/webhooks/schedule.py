"""When a failed delivery is tried again: the Standard Webhooks schedule, with jitter."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# The first attempt goes at once; after attempt n fails, attempt n + 1 waits DELAYS[n] (plus jitter).
DELAYS: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=24),
)
ATTEMPTS = len(DELAYS)
JITTER = 0.1  # up to 10% later, so receivers coming back up are not hit by every retry at once
# Failing without a success for this long disables the subscription.
FAILING_FOR = timedelta(hours=24)


def next_attempt_at(
    attempts_made: int, failed_at: datetime, rng: random.Random | None = None
) -> datetime | None:
    """When to try again after `attempts_made` attempts, the last failing at `failed_at`; None: give up."""
    if attempts_made >= ATTEMPTS:
        return None
    delay = DELAYS[attempts_made]
    spread = (rng or random).uniform(0, JITTER)  # jitter, not crypto
    return failed_at + delay + delay * spread
