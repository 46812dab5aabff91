"""Refunds in batches (decision 107), modelled: `.venv/bin/python bench/refund_batches.py`.

How long refunds wait for Amazon's createFeed (0.0083 calls/s after a burst of 15, `DEFAULT_LIMITS` in
oms.amazon.rate_budget) and its processing report reads (getFeedDocument, 0.0222/s after 10), one feed per
refund (before) against one feed per BATCH_CAP refunds ready (oms.returns.refunds). A model, not a run: time
is counted, not spent. Sends happen when something triggers one (a refund's stream record as it is asked
for, the refund check every 15 minutes) and createFeed has a token; each send carries what is ready, up to
the cap. Arrivals: the fault bench's burst (1,000 orders, every third returned, asked within minutes), and a
day's refunds spread evenly. The tokens spent by listings feeds (same createFeed budget) are not counted: they
only make the "before" column worse.

What it shows (cap 40): with one feed per trigger, once the burst of 15 is spent (on the first refunds, one
each, as they come) a backlog goes at 40 per check run (every 15 minutes), not at createFeed's pace; with the
check sending full feed after full feed while createFeed has tokens (CHECK_FEEDS at most), it goes at
createFeed's pace: 40 refunds a token.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401 - the import path and a harmless AWS environment, before anything else

from oms.amazon.rate_budget import DEFAULT_LIMITS, Limit
from oms.returns.refunds import BATCH_CAP, CHECK_FEEDS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "refund_batches.json"
CHECK_EVERY = 15 * 60.0


class Bucket:
    def __init__(self, limit: Limit) -> None:
        self.limit, self.tokens, self.at = limit, float(limit.burst), 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.limit.burst), self.tokens + (now - self.at) * self.limit.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def next_token(self, now: float) -> float:
        """The instant the bucket holds a whole token again (from `now`)."""
        tokens = min(float(self.limit.burst), self.tokens + (now - self.at) * self.limit.rate)
        return now + max(0.0, (1 - tokens) / self.limit.rate) + 0.001  # past rounding


def simulate(arrivals: list[float], cap: int, check_feeds: int = 1) -> dict[str, Any]:
    """Feeds sent, when the last refund was sent, the longest any refund waited, report reads' backlog.
    cap 1 is the code before batches: a trigger sends one refund per feed while tokens last (the check sent
    every unsent refund); else a refund's arrival sends one feed of up to `cap` and a check run up to
    `check_feeds` feeds, the next only after a full one."""
    feeds = Bucket(DEFAULT_LIMITS["createFeed"])
    reports = Bucket(DEFAULT_LIMITS["getFeedDocument"])
    end = max(arrivals) if arrivals else 0.0
    checks = {n * CHECK_EVERY for n in range(int(end // CHECK_EVERY) + 2)}
    triggers = sorted(set(arrivals) | checks)
    ready: list[float] = []
    pending = sorted(arrivals)
    sent_feeds, longest, last, report_done = 0, 0.0, 0.0, 0.0
    i = 0
    t_index = 0
    while pending or ready:
        if t_index >= len(triggers):  # nothing arrives any more: the check runs on every 15 minutes
            triggers.append(triggers[-1] + CHECK_EVERY)
            checks.add(triggers[-1])
        now = triggers[t_index]
        t_index += 1
        while i < len(pending) and pending[i] <= now:
            ready.append(pending[i])
            i += 1
        if i == len(pending):
            pending, i = [], 0
        sends = 0
        while ready and feeds.take(now):
            sends += 1
            batch, ready = ready[:cap], ready[cap:]
            sent_feeds += 1
            longest = max(longest, now - batch[0])  # oldest first
            last = now
            # its report read when getFeedDocument has a token (the notification comes minutes later at most)
            at = max(now, report_done)
            while not reports.take(at):
                at = reports.next_token(at)
            report_done = at
            if cap > 1 and (now not in checks or sends >= check_feeds or len(batch) < cap):
                break  # a refund's stream record sends one feed; a check run goes on after a full one
    return {
        "refunds": len(arrivals),
        "feeds": sent_feeds,
        "last sent (h)": round(last / 3600, 2),
        "longest wait (h)": round(longest / 3600, 2),
        "last report read (h)": round(report_done / 3600, 2),
    }


def scenarios() -> dict[str, list[float]]:
    burst = [i * 0.5 for i in range(333)]  # the fault bench: 333 refunds asked within three minutes
    spread = {n: [i * 86_400 / n for i in range(n)] for n in (700, 2_000, 5_000)}
    return {"333 at once (fault bench)": burst, **{f"{n} over a day": a for n, a in spread.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    results: dict[str, Any] = {"cap": BATCH_CAP, "scenarios": {}}
    columns = {
        "one feed per refund": (1, 1),
        f"batches of {BATCH_CAP}, one feed a check run": (BATCH_CAP, 1),
        f"batches of {BATCH_CAP}, the check sending while tokens last": (BATCH_CAP, CHECK_FEEDS),
    }
    print("| arrivals | " + " | ".join(f"{c}: feeds, last sent, longest wait" for c in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, arrivals in scenarios().items():
        runs = {column: simulate(arrivals, cap, check) for column, (cap, check) in columns.items()}
        results["scenarios"][name] = runs
        cells = [f"{r['feeds']}, {r['last sent (h)']} h, {r['longest wait (h)']} h" for r in runs.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    assert all(math.isfinite(r["last sent (h)"]) for v in results["scenarios"].values() for r in v.values())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
