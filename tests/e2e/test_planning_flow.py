"""Planning through the local stack (issue 13's "done when"): a SKU's two years of seasonal sales imported
from a CSV (`oms planning import`), the nightly plan run (`oms invoke plan_stock`), the SKU gets the yearly
seasonal method, its reorder suggestion becomes a purchase order to its supplier, a partial receipt raises
on hand through the ledger and records the lead time, and the next plan's suggestion shrinks.

Dates come from the clock in the warehouse's zone: the history ends yesterday, whatever day the test runs."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.builders import WAREHOUSE_SETTINGS
from tests.e2e.support import Api, RunningStack, oms

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RUN = uuid.uuid4().hex[:6].upper()
SKU = f"SEASON-MUG-{RUN}"
WEEK = [3, 4, 5, 6, 7, 9, 2]  # Monday to Sunday


def _units(day: date) -> int:
    """A weekly pattern on a yearly season peaking in July."""
    season = 1 + 0.8 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 200) / 365.25)
    return round(WEEK[day.weekday()] * season * 2)


def _history_csv(path: Path) -> date:
    """730 warehouse days ending yesterday; returns yesterday."""
    today = datetime.now(UTC).astimezone(ZoneInfo(WAREHOUSE_SETTINGS["warehouse"]["timeZone"])).date()
    yesterday = today - timedelta(days=1)
    days = [yesterday - timedelta(days=back) for back in range(729, -1, -1)]
    path.write_text("sku,date,units\n" + "".join(f"{SKU},{d.isoformat()},{_units(d)}\n" for d in days))
    return yesterday


def _ok(api: Api, method: str, path: str, **kwargs: object) -> dict:
    answer = api.request(method, path, **kwargs)  # type: ignore[arg-type]
    assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def _plan_again(where: tuple[str, ...], tmp_path: Path) -> None:
    event = tmp_path / "again.json"
    event.write_text(json.dumps({"again": True}))
    ran = oms("invoke", "plan_stock", "--event", str(event), *where)
    assert ran.returncode == 0, ran.stderr


def test_imported_seasonal_history_becomes_a_plan_a_po_and_a_smaller_next_suggestion(
    stack: RunningStack, tmp_path: Path
) -> None:
    api = Api(stack.outputs)
    where = ("--port", str(stack.port), "--state-dir", str(stack.state_dir))
    _ok(api, "PUT", "/settings/shipping", json=WAREHOUSE_SETTINGS)
    supplier = _ok(api, "POST", "/suppliers", json={"name": f"Season Works {RUN}", "currencyCode": "USD"})
    terms = {
        "leadTime": {"productionDays": 10, "transitDays": 4},
        "casePack": 6,
        "unitCost": {"amount": "2.40", "currencyCode": "USD"},
    }
    _ok(api, "PUT", f"/suppliers/{supplier['supplierId']}/skus/{SKU}", json=terms)
    _ok(api, "PUT", f"/inventory/{SKU}", json={})
    _ok(
        api,
        "POST",
        f"/inventory/{SKU}/adjustments",
        json={"delta": 10, "reason": "receipt", "reference": "OPENING"},
    )

    # given two years of its sales imported from another tool's export
    history = tmp_path / "history.csv"
    yesterday = _history_csv(history)
    imported = oms("planning", "import", "--history", str(history), *where)
    assert imported.returncode == 0, imported.stderr
    assert "imported 730 day(s) of 1 SKU(s)" in imported.stdout
    again = oms("planning", "import", "--history", str(history), *where)  # run twice: nothing counted twice
    assert (
        again.returncode == 0
        and "imported 0 day(s)" in again.stdout
        and "730 already counted" in again.stdout
    )

    # when the nightly plan runs, the seasonal SKU gets the yearly seasonal method and is due
    _plan_again(where, tmp_path)
    plan = _ok(api, "GET", f"/planning/skus/{SKU}")
    assert plan["asOf"] == yesterday.isoformat()
    assert plan["method"] == "exponential smoothing, yearly", plan["note"]
    assert plan["reorderDue"] is True and plan["leadTime"]["days"] == 14
    first = plan["orderQuantity"]["value"]
    assert first > 0 and first % 6 == 0

    # then its suggestion, under its supplier, becomes a purchase order, sent and received in part
    groups = _ok(api, "GET", "/planning/reorder")["groups"]
    [group] = [g for g in groups if g["supplierId"] == supplier["supplierId"]]
    [suggestion] = group["items"]
    assert (suggestion["sku"], suggestion["orderQuantity"]) == (SKU, first)
    lines = [{"sku": s["sku"], "quantity": s["orderQuantity"]} for s in group["items"]]
    po = _ok(
        api,
        "POST",
        "/purchase-orders",
        json={"supplierId": group["supplierId"], "lines": lines},
        headers={"Idempotency-Key": f"plan-{RUN}"},
    )
    _ok(api, "POST", f"/purchase-orders/{po['poId']}/send")
    part = first // 2
    _ok(
        api,
        "POST",
        f"/purchase-orders/{po['poId']}/receipts",
        json={"lines": [{"sku": SKU, "quantity": part}]},
        headers={"Idempotency-Key": f"dock-{RUN}"},
    )
    stock = _ok(api, "GET", f"/inventory/{SKU}")
    assert (stock["onHand"], stock["onOrder"]) == (10 + part, first - part)
    ledger = _ok(api, "GET", f"/inventory/{SKU}/ledger")["items"]
    assert (ledger[0]["delta"], ledger[0]["reason"], ledger[0]["reference"]) == (part, "receipt", po["poId"])
    received = _ok(api, "GET", f"/purchase-orders/{po['poId']}")
    assert received["status"] == "partially-received" and received["lines"][0]["leadTimeDays"] is not None

    # and the next plan counts what arrived and what is still on order: its suggestion shrinks
    _plan_again(where, tmp_path)
    plan = _ok(api, "GET", f"/planning/skus/{SKU}")
    assert plan["orderQuantity"]["inputs"]["onHand"] == 10 + part
    assert plan["orderQuantity"]["inputs"]["onOrder"] == first - part
    assert plan["orderQuantity"]["value"] < first
