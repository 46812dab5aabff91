"""Catalogue benchmark: how soon a new SKU's title and picture show on its order, end to end.

    .venv/bin/python bench/catalogue.py [--orders 30]

Starts the local stack (`oms local --no-simulator`, like the e2e tests), places N orders at once, each
for a SKU the stack has never seen, and polls GET /orders/{orderId} until each order is there (intake,
from the notification) and until it shows a title and an image (read_catalogue, from the table stream).
Prints the latencies and the SP-API reads made, and writes them to bench/results/catalogue.json.
Amazon's getCatalogItem allows 2 reads a second (burst 2), so a burst of N new SKUs needs about N/2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import bench_env  # noqa: F401 - sets the import path and harmless AWS settings first
import requests

from oms_local import harness

RESULTS = Path(__file__).resolve().parent / "results" / "catalogue.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=30)
    count = parser.parse_args().orders
    with tempfile.TemporaryDirectory() as state:
        stack = harness.start_stack(Path(state) / "state", timeout=120)
        try:
            figures = run(stack.outputs, count)
        finally:
            stack.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    for name, value in figures.items():
        print(f"{name:40} {value}")


def run(outputs: dict, count: int) -> dict:
    api = requests.Session()
    api.trust_env = False
    api.headers["Authorization"] = f"Bearer {outputs['ApiToken']}"
    run_id = uuid.uuid4().hex[:6].upper()
    placed: dict[str, float] = {}
    for n in range(count):
        answer = api.post(
            f"{outputs['SpApiEndpoint']}/_simulator/orders",
            json={"sku": f"BENCH-{run_id}-{n:03d}", "quantity": 1},
            timeout=30,
        )
        answer.raise_for_status()
        placed[answer.json()["orderId"]] = time.monotonic()
    arrived: dict[str, float] = {}
    titled: dict[str, float] = {}
    deadline = time.monotonic() + 300
    while len(titled) < count and time.monotonic() < deadline:
        for order_id in placed:
            if order_id in titled:
                continue
            answer = api.get(f"{outputs['ApiUrl']}/orders/{order_id}", timeout=30)
            if answer.status_code != 200:
                continue
            arrived.setdefault(order_id, time.monotonic())
            item = answer.json()["items"][0]
            if item.get("title") and item.get("imageUrl") and not answer.json().get("enriched"):
                titled[order_id] = time.monotonic()
        time.sleep(0.5)
    stats = api.get(f"{outputs['SpApiEndpoint']}/_simulator/stats", timeout=30).json()["operations"]
    to_order = [arrived[o] - placed[o] for o in arrived]
    to_title = [titled[o] - placed[o] for o in titled]
    after_order = [titled[o] - arrived[o] for o in titled]

    def summary(values: list[float]) -> dict:
        if not values:
            return {}
        ordered = sorted(values)
        return {
            "p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "max": round(ordered[-1], 1),
        }

    return {
        "new SKUs ordered at once": count,
        "orders titled before any backstop run": len(titled),
        "seconds placed -> order shown": summary(to_order),
        "seconds placed -> title and image shown": summary(to_title),
        "seconds order shown -> title and image": summary(after_order),
        "getListingsItem reads": stats.get("getListingsItem", {}).get("ok"),
        "getCatalogItem reads": stats.get("getCatalogItem", {}).get("ok"),
        "getCatalogItem throttled (429)": stats.get("getCatalogItem", {}).get("throttled"),
    }


if __name__ == "__main__":
    sys.exit(main())
