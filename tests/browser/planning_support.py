"""What the planning browser tests share: a SKU's demand history written as intake writes it, and the
nightly plan run now through the CLI (`oms invoke plan_stock` with events/plan_stock/again.json)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from oms.store.conditional import add_ordered
from oms_local import harness
from tests.browser.conftest import ROOT
from tests.builders import WAREHOUSE_SETTINGS

WEEK = [3, 4, 5, 6, 7, 9, 2]  # units a day, Monday first: about 5 a day with a weekly shape


def seed_orders(outputs: dict[str, Any], sku: str, days: int, *, channel: str = "MFN") -> str:
    """`days` warehouse days of orders of `sku` ending yesterday (WEEK's pattern), written as the intake
    transaction writes them; returns yesterday (the day the plan reads up to)."""
    today = datetime.now(UTC).astimezone(ZoneInfo(WAREHOUSE_SETTINGS["warehouse"]["timeZone"])).date()
    dynamodb = harness.aws_client(outputs, "dynamodb")
    for back in range(days, 0, -1):
        day = (today - timedelta(days=back)).isoformat()
        write = add_ordered(
            day, sku, units=WEEK[back % 7], channel=channel, marketplace=outputs["MarketplaceId"]
        )
        dynamodb.transact_write_items(TransactItems=[write.request(outputs["TableName"])])
    return (today - timedelta(days=1)).isoformat()


def plan_now(stack: harness.StackProcess) -> None:
    """`oms invoke plan_stock` with {"again": true}: the day's plans made over, now."""
    where = ["--port", str(stack.port), "--state-dir", str(stack.state_dir)]
    event = ROOT / "events" / "plan_stock" / "again.json"
    ran = subprocess.run(
        [sys.executable, "-m", "oms_tools.cli", "invoke", "plan_stock", "--event", str(event), *where],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
