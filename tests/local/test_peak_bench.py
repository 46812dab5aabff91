"""The peak benchmark (bench/peak.py) at a tiny size, so it does not rot: a burst of notifications from the
simulator's marketplace drains through the real intake and stock-sync handlers on simulated time, nothing
is lost or doubled, Amazon never answers 429 and the figures the report prints are all there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import peak


def test_a_small_burst_drains_with_nothing_lost(tmp_path: Path) -> None:
    environment = dict(os.environ)
    results = peak.measure(60, seed=7, work=tmp_path)

    assert results["notifications"] >= 60
    assert results["handled"] == results["notifications"]  # each one applied (or known a duplicate) once
    assert (results["leftInQueue"], results["dlq"]) == (0, 0)
    assert results["ordersWrongCount"] == 0 and results["ordersRight"] == results["orders"]
    assert results["spApi"]["throttled"] == 0
    assert results["spApi"]["operations"]["patchListingsItem"]["requests"] > 0  # stock pushed to Amazon
    assert results["drainSeconds"] > 0 and results["notificationsPerSecond"] > 0
    assert results["dynamodb"]["partitions"]["all-orders index (gsi1 ORDERS)"]["wcu"] > 0
    assert results["dynamodb"]["partitions"]["rate buckets (RATE#...)"]["wcu"] > 0
    assert "drain time, simulated" in peak.report(results)
    assert dict(os.environ) == environment  # the run gives the process back as it found it
