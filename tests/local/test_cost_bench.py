"""The cost bench (bench/cost.py) at a tiny size, so it does not rot: 3 orders through the whole seller's
day (every buyer writes, every shipped order comes back), and every capability it drives shows a cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
pytestmark = pytest.mark.timeout(900)  # 6.5 minutes here with the machine loaded 50 deep on 2 cores


def test_three_orders_go_through_the_whole_lifecycle_and_every_capability_is_billed(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import cost
    finally:
        sys.path.remove(str(BENCH))
    out = tmp_path / "cost.json"
    # in a process of its own, as the bench runs: in a test worker it would share the Lambda handlers' module
    # state and environment with the modules that ran before it (an SP-API client set up for another stack)
    command = [sys.executable, str(BENCH / "cost.py"), "--orders", "3", "--return-share", "1"]
    command += ["--message-share", "1", "--out", str(out)]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=840, check=False)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]

    results = json.loads(out.read_text())
    day = results["lifecycle"]
    assert day["orders"] == 3
    assert day["labels bought"] >= 1, results["apiRefusals"]
    assert day["returns recorded"] >= 1 and day["refunds asked"] >= 1, results["apiRefusals"]
    assert day["buyer messages"] >= 1 and day["replies sent"] >= 1, results["apiRefusals"]
    assert day["webhook deliveries received"] >= 1
    assert results["dashboardReads"]["order page"] >= 3
    rows = results["plans"][next(iter(cost.PLANS))]  # the template's projections
    billed = {cost.capability_of(name) for name, money in rows.items() if sum(money.values()) > 0}
    for capability in ("intake", "shipping", "returns", "care", "rules", "webhooks", "reports", "dashboard"):
        assert capability in billed, (capability, sorted(billed))
    assert results["sampleFlow"] > results["floor"] > 0
