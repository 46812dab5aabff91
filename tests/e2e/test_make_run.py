"""`make run` as the README says: `oms local` with the simulator, on a fresh machine (no AWS settings in the
shell). The demo warehouse and its opening stock are there, and buyers' orders arrive."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from oms_local import harness
from tests.e2e.support import Api, wait_for

OMS = Path(sys.executable).parent / "oms"  # the console script `make install` puts in .venv/bin


def test_oms_local_starts_the_demo_with_its_warehouse_stock_and_buyers(tmp_path: Path) -> None:
    # a seller's shell: nothing of the functions' environment (TABLE_NAME, ...) is set there
    env = {
        k: v for k, v in os.environ.items() if k not in {"TABLE_NAME", "DOCUMENTS_BUCKET", "APP_SECRET_ARN"}
    }
    try:
        stack = harness.start_stack(
            tmp_path / "state",
            args=("--orders-per-minute", "30"),
            env=env,
            timeout=120,
            program=(str(OMS), "local"),
        )
    except harness.StackDidNotStart as failure:
        pytest.fail(str(failure))
    try:
        api = Api(stack.outputs)

        def ok(path: str, **params: object) -> Any:
            answer = api.get(path, params=params)
            assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
            return answer.json()

        setup = ok("/settings/shipping")
        assert setup["sellerName"] == "Demo Seller"
        assert setup["warehouse"]["timeZone"] == "America/Los_Angeles"
        stocked = ok("/inventory", limit=100)["items"]
        assert len(stocked) >= 20, "the demo's opening stock is missing"
        assert all(row["onHand"] >= 0 for row in stocked)

        orders = wait_for(lambda: ok("/orders", limit=5)["items"], timeout=90, interval=2)
        assert orders, f"no buyer's order arrived in 90 s:\n{harness.tail(stack.console_log)}"
        assert "Traceback" not in stack.console_log.read_text(errors="replace"), harness.tail(
            stack.console_log
        )
    finally:
        assert stack.stop(), "oms local did not stop on Ctrl-C"
