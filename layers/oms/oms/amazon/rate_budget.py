"""Amazon's rate limits, shared by every concurrent Lambda: token buckets kept in the table.

Amazon limits each operation per seller and application (rate per second, burst). Every caller
takes a token from the operation's bucket before calling, with a conditional write, so ten
concurrent consumers together never exceed the limit and never turn into a 429 storm. When
Amazon's x-amzn-RateLimit-Limit header says the live rate differs, the bucket follows it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from oms.errors import Conflict
from oms.store import keys
from oms.store.table import Item, Table, Write, again_if_transient


@dataclass(frozen=True)
class Limit:
    rate: float  # requests per second
    burst: int


# Amazon's defaults (contracts/sp-api-models/README.md); the live value comes in x-amzn-RateLimit-Limit.
DEFAULT_LIMITS: dict[str, Limit] = {
    "searchOrders": Limit(0.0056, 20),
    "getOrder": Limit(0.5, 30),
    "confirmShipment": Limit(2, 10),
    "getInventorySummaries": Limit(2, 2),
    "getListingsItem": Limit(5, 10),
    "patchListingsItem": Limit(5, 5),
    "searchListingsItems": Limit(5, 5),
    "getCatalogItem": Limit(2, 2),
    "getCompetitiveSummary": Limit(0.033, 1),
    "getEligibleShipmentServices": Limit(6, 12),
    "createShipment": Limit(2, 2),
    "createReport": Limit(0.0167, 15),
    "getReport": Limit(2, 15),
    "getReportDocument": Limit(0.0167, 15),
    "getMessagingActionsForOrder": Limit(1, 5),
    "createUnexpectedProblem": Limit(1, 5),
    "createConfirmDeliveryDetails": Limit(1, 5),
    "createConfirmOrderDetails": Limit(1, 5),
    "GetAttributes": Limit(1, 5),
    "createFeedDocument": Limit(0.5, 15),
    "createFeed": Limit(0.0083, 15),
    "getFeeds": Limit(0.0222, 10),
    "getFeed": Limit(2, 15),
    "getFeedDocument": Limit(0.0222, 10),
    "listFinancialEventsByOrderId": Limit(0.5, 30),
    # not an operation: Amazon's own limit on listings feeds (createFeed of JSON_LISTINGS_FEED), per region:
    # five feeds per five minutes since May 2025
    "JSON_LISTINGS_FEED": Limit(5 / 300, 5),
}


class _Level(NamedTuple):
    """A bucket as stored, its limit, its tokens at a moment, and the seconds until it has one."""

    item: Item | None
    limit: Limit
    tokens: float
    wait: float


class BudgetExhausted(Exception):
    """No token within the caller's patience: try again later (the message returns to its queue)."""

    def __init__(self, operation: str, wait: float) -> None:
        super().__init__(f"{operation}: the shared rate budget has no token for {wait:.0f}s")
        self.wait = wait


class BudgetUnavailable(BudgetExhausted):
    """The budget's own bookkeeping failed (its table throttled or erred): no token was taken and nothing
    was sent to Amazon, so the caller may try again at once. Not Amazon's refusal: never a reason to back off
    as after a 429 or a 5xx, nor to fear that Amazon acted."""

    def __init__(self, operation: str, cause: BaseException) -> None:
        Exception.__init__(
            self,
            f"{operation}: the shared rate budget could not be read or written "
            f"({type(cause).__name__}); nothing was sent to Amazon",
        )
        self.wait = 0.0


# a bucket's row is the hottest item of the table: its throttle (past the SDK's retries) is tried again here
# before the caller is told the budget is unavailable (decision 108). A take whose answer was lost and is tried
# again spends one token more: never one too few.
TAKE_TRIES = 3


class RateBudget:
    def __init__(
        self,
        table: Table,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = table
        self._clock = clock
        self._sleep = sleep

    def take(self, scope: str, operation: str, *, max_wait: float = 10.0) -> None:
        """Take one token of `operation` (per `scope`, e.g. the seller's region), waiting up to max_wait."""
        deadline = self._clock() + max_wait
        while True:
            wait = again_if_transient(
                partial(self._try_take, scope, operation), tries=TAKE_TRIES, what="taking a rate token"
            )
            if wait <= 0:
                return
            if self._clock() + wait > deadline:
                raise BudgetExhausted(operation, wait)
            self._sleep(wait)

    def wait(self, scope: str, operation: str) -> float:
        """Seconds until `operation` has a token (0: one is there now), taking none. A sender asks before work
        it would have to undo without a token (a feed document uploaded, refunds taken into a batch)."""
        return self._level(scope, operation, self._clock()).wait

    def _level(self, scope: str, operation: str, now: float) -> _Level:
        item = self._table.get(keys.rate_bucket_key(scope, operation), consistent=True)
        default = DEFAULT_LIMITS.get(operation, Limit(1, 1))
        if item is None:  # one token of slack: ours and Amazon's buckets start and refill at other moments
            limit = Limit(default.rate, max(default.burst - 1, 1))
            tokens = float(limit.burst)
        else:
            limit = Limit(float(item["rate"]), int(item["burst"]))
            tokens = min(
                float(limit.burst), float(item["tokens"]) + (now - float(item["refilledAt"])) * limit.rate
            )
        # 1 - 1e-6: the rounding of stored figures tolerated
        wait = 0.0 if tokens >= 1 - 1e-6 else (1 - tokens) / limit.rate
        return _Level(item, limit, tokens, wait)

    def _try_take(self, scope: str, operation: str) -> float:
        """0 when a token was taken, else the seconds until one will be there."""
        now = self._clock()
        item, limit, tokens, wait = self._level(scope, operation, now)
        if wait > 0:
            return wait
        bucket = {
            **keys.rate_bucket_key(scope, operation),
            "entity": "RateBucket",
            "operation": operation,
            "rate": limit.rate,
            "burst": limit.burst,
            "tokens": max(round(tokens - 1, 6), 0),
            "refilledAt": round(now, 6),
        }
        try:
            self._table.transact([Write.put_versioned(bucket, int(item["version"]) if item else None)])
        except Conflict:
            return 0.05  # another caller took one meanwhile: look again shortly
        return 0

    def observe(
        self, scope: str, operation: str, live_rate: float | None, *, throttled: bool = False
    ) -> None:
        """Follow Amazon's live rate (x-amzn-RateLimit-Limit); after a 429, empty the bucket for everyone."""
        key = keys.rate_bucket_key(scope, operation)
        item = self._table.get(key, consistent=True)
        if item is None:
            return
        changed = {}
        if live_rate and abs(float(item["rate"]) - live_rate) > 1e-9:
            changed["rate"] = live_rate
        if throttled:
            changed |= {"tokens": 0, "refilledAt": round(self._clock(), 6)}
        if changed:
            # someone else may have updated it meanwhile; the next observation tells again
            with contextlib.suppress(Conflict):
                self._table.transact([Write.put_versioned({**item, **changed}, int(item["version"]))])
