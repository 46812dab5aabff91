"""Per-SKU allocation benchmark: what one stock change costs in DynamoDB requests and items written.

    .venv/bin/python bench/allocation.py [--orders 40]

In process on moto (the request counts are what AWS would bill; moto's timings only show the trend).
For one SKU with N open orders (all short, 0 on hand), it counts the requests and the items written by:
  - one more order arriving (nobody else's shortness changes),
  - a receipt of 1 unit (one order's shortness changes),
  - a receipt of N units (every order clears: more than 100 writes once N > 49, so more transactions).
Prints one line per case.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

import bench_env  # noqa: F401  (sets the import path and harmless AWS settings first)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=40)
    n = parser.parse_args().orders

    from moto import mock_aws

    with mock_aws():
        table, calls = _table()
        from oms.amazon.notifications import Notification
        from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
        from oms.orders.intake import apply_change, change_from_notification
        from tests.builders import order_change

        def order(order_id: str) -> None:
            document = order_change(order_id, "Unshipped", [("MUG", 1, 0)])
            apply_change(table, change_from_notification(Notification.model_validate(document)))

        set_policy(table, "MUG", StockPolicy())
        for index in range(n):
            order(f"111-{index:04d}")
        for label, run in (
            (f"order N+1 arrives (N={n} open, all short)", lambda: order("111-9999")),
            (
                "receipt of 1 unit (1 order clears)",
                lambda: adjust_stock(table, "MUG", 1, reason="receipt", reference=None, actor="bench"),
            ),
            (
                f"receipt of {n} units (every order clears)",
                lambda: adjust_stock(table, "MUG", n, reason="receipt", reference=None, actor="bench"),
            ),
        ):
            calls.clear()
            started = time.perf_counter()
            run()
            took = time.perf_counter() - started
            written = calls["items_written"]
            print(
                f"{label:45} requests: {calls['requests']:3}  transactions: {calls['TransactWriteItems']:2}"
                f"  items written: {written:4}  reads: {calls['GetItem'] + calls['Query'] + calls['BatchGetItem']:3}"
                f"  moto time: {took * 1000:.0f} ms"
            )


def _table() -> tuple[Any, Counter[str]]:
    import boto3

    from oms.store.pagination import PageTokens
    from oms.store.table import Table
    from oms_local.resources import create_resources
    from oms_local.template import Template

    template = Template()
    resources = create_resources(template, "oms-bench", "us-east-1", None)
    env = resources.resolver.resolve(template.globals["Environment"]["Variables"])
    import os

    os.environ.update({k: str(v) for k, v in env.items()})
    client = boto3.client("dynamodb")
    calls: Counter[str] = Counter()

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls["requests"] += 1
        calls[model.name] += 1
        if model.name == "TransactWriteItems":
            calls["items_written"] += len(params["TransactItems"])
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            calls["items_written"] += 1

    client.meta.events.register("provide-client-params.dynamodb.*", count)
    return Table(str(env["TABLE_NAME"]), lambda: PageTokens(b"bench-page-token-secret"), client=client), calls


if __name__ == "__main__":
    main()
