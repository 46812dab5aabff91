"""Nightly stock plans: time per SKU and peak memory of the plan_stock run, moto in process.

    .venv/bin/python bench/plan_stock.py [--skus 40] [--days 730]

Creates the template's table in moto, gives each SKU a stock row (a lead time, a case pack) and `--days`
days of demand counters ending yesterday (a weekly pattern with noise, 2% of days out of stock, in the
items the intake transaction writes), then runs the nightly plan (oms.planning.nightly.run_nightly, what
the function runs) and prints the time per SKU, split into the forecast's share, and the process's peak
memory. Writes bench/results/plan_stock.json. moto answers slower than DynamoDB, so the I/O share is an
upper bound; the forecast's share is what a Lambda of one core pays.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import bench_env  # noqa: F401 - sets the import path and harmless AWS settings first
from moto import mock_aws

from oms_local import moto_fast_tx

moto_fast_tx.install()  # moto copies the whole table per transaction otherwise (as the tests and the stack do)

RESULTS = Path(__file__).resolve().parent / "results" / "plan_stock.json"
NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)  # 10:00 in the default warehouse (America/New_York)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=40)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    with mock_aws():
        figures = run(args.skus, args.days)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    for name, value in figures.items():
        print(f"{name:34} {value}")


def run(skus: int, days: int) -> dict:
    import os

    from oms_local.resources import create_resources
    from oms_local.template import Template

    template = Template()
    resources = create_resources(template, "bench", "us-east-1", None, parameters={"SellerId": "A1BENCH"})
    for key, value in resources.resolver.resolve(template.globals["Environment"]["Variables"]).items():
        os.environ[key] = str(value)

    from oms.domain.stock import Movement
    from oms.inventory.stock import StockPolicy, set_policy, stock_writes
    from oms.planning import nightly, stock_plan
    from oms.store import keys
    from oms.store.conditional import CHANNEL_ATTRIBUTE, ORDERED_ENTITY
    from oms.store.default import default_table
    from oms.store.table import to_dynamo

    table = default_table()
    rng = random.Random(13)
    yesterday = date(2026, 11, 23)  # the warehouse day before NOW's
    for n in range(skus):
        sku = f"BENCH-{n:05d}"
        set_policy(table, sku, StockPolicy(lead_time_days=rng.choice([7, 14, 30]), case_pack=12))
        current = table.get(keys.stock_key(sku), consistent=True)
        received = Movement(on_hand=rng.randint(0, 400))
        table.transact(stock_writes(current, sku, received, reason="receipt", reference=None, actor="bench"))
        base = rng.uniform(1, 20)
        items = []
        for back in range(days, 0, -1):
            day = yesterday - timedelta(days=back - 1)
            out = rng.random() < 0.02
            units = (
                0 if out else max(0, round(rng.gauss(base * (1.4 if day.weekday() >= 5 else 1), base / 3)))
            )
            item = {
                **keys.sku_ordered_key(sku, day.isoformat()),
                "entity": ORDERED_ENTITY,
                "sku": sku,
                "day": day.isoformat(),
                "units": units,
                CHANNEL_ATTRIBUTE + "MFN": units,
                "out": out,
            }
            items.append({"PutRequest": {"Item": to_dynamo(item)}})
        for start in range(0, len(items), 25):
            table.client.batch_write_item(RequestItems={table.name: items[start : start + 25]})

    forecasting = 0.0
    compute = stock_plan.compute_plan

    def timed(*a, **k):  # the forecast and the figures, without the reads and writes
        nonlocal forecasting
        started = time.perf_counter()
        try:
            return compute(*a, **k)
        finally:
            forecasting += time.perf_counter() - started

    nightly.compute_plan = timed  # type: ignore[attr-defined]
    started = time.perf_counter()
    result = nightly.run_nightly(table, NOW, lambda: 900.0)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "skus": skus,
        "days of history": days,
        "planned": result.planned,
        "due": result.due,
        "seconds per SKU (moto)": round(elapsed / max(result.planned, 1), 3),
        "forecast seconds per SKU": round(forecasting / max(result.planned, 1), 3),
        "peak memory MB (process)": round(peak_mb),
        "10,000 SKUs, forecast only, min": round(forecasting / max(result.planned, 1) * 10_000 / 60, 1),
    }


if __name__ == "__main__":
    main()
