"""The returns sync, measured: `.venv/bin/python bench/returns_sync.py [--returns 500]`.

Against the local marketplace and moto in process: --returns buyers' returns (three in four seller-fulfilled,
one in four FBA, a fifth of those listed twice by Amazon) of shipped orders this stack knows. One sync cycle
asks for both returns reports and applies them when they finish (as the stream would hand them over); a
second cycle reads an overlapping window, so every row again. Printed: SP-API calls per cycle, DynamoDB
requests per return applied, and time; the second cycle must write nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import bench_env  # noqa: F401 - the import path and a harmless AWS environment, before anything else


def measure(returns: int) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        return _measure(returns)


def _measure(count: int) -> dict[str, Any]:
    from oms.store import keys
    from oms.store.default import default_table
    from oms_local.resources import create_resources
    from oms_local.simulator import Simulator, SimulatorConfig
    from oms_local.simulator.catalogue import builtin_catalogue
    from oms_local.template import Template

    template = Template()
    resources = create_resources(template, "bench", "us-east-1", None)
    for name, value in resources.resolver.resolve(template.globals["Environment"]["Variables"]).items():
        os.environ[name] = str(value)
    config = SimulatorConfig(duplicate_probability=0.0, delay_probability=0.0, seed=2)
    with Simulator(config, catalogue=builtin_catalogue()) as simulator:
        _seed(simulator, count)
        cycles = [_cycle(simulator, count) for _ in range(2)]
        stored = sum(1 for _ in default_table().query_all(keys.returns_by_time(None, None)))
    return {"returns": count, "stored": stored, "first": cycles[0], "again": cycles[1]}


def _seed(simulator: Any, count: int) -> None:
    """`count` shipped orders, each returned; the orders stored as intake stores them (written directly)."""
    import boto3

    from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
    from oms.domain.types import utc_now
    from oms.store.default import default_table
    from oms.store.orders import order_to_item
    from oms.store.table import to_dynamo
    from oms_local.simulator.entities import SHIPPED

    market = simulator.marketplace
    products = list(market.catalogue.products.values())
    mfn_sku = next(p.sku for p in products if not p.fba)
    fba_sku = next(p.sku for p in products if p.fba)
    orders = []
    now = utc_now()
    for n in range(count):
        afn = n % 4 == 3
        sku = fba_sku if afn else mfn_sku
        order_id = market.place_order([(sku, 1)], afn=afn)
        with market._lock:
            record = market.orders[order_id]
            record.lines[0].shipped = 1
            record.status = SHIPPED
        orders.append(
            Order(
                order_id=order_id,
                marketplace_id=simulator.marketplace_id,
                status=OrderStatus.SHIPPED,
                fulfillment_channel=FulfillmentChannel.AFN if afn else FulfillmentChannel.MFN,
                purchase_date=now - timedelta(days=10),
                last_update_date=now - timedelta(days=8),
                items=[OrderItem(order_item_id=f"{n}", sku=sku, quantity=1, quantity_shipped=1)],
            )
        )
        market.return_order(order_id)
    for ret in market.returns:  # made minutes ago; Amazon lists some FBA ones again within the window
        ret.requested -= timedelta(minutes=10)
        ret.listed_again = ret.requested + timedelta(minutes=5) if ret.listed_again else None
    table, dynamodb = default_table(), boto3.client("dynamodb")
    for start in range(0, len(orders), 25):
        dynamodb.batch_write_item(
            RequestItems={
                table.name: [
                    {"PutRequest": {"Item": to_dynamo(order_to_item(o, version=1))}}
                    for o in orders[start : start + 25]
                ]
            }
        )


def _cycle(simulator: Any, count: int) -> dict[str, Any]:
    """One sync cycle: both reports asked for, and applied when finished (as the stream would hand them)."""
    from oms.amazon.client import Credentials, SpApiClient
    from oms.amazon.rate_budget import RateBudget
    from oms.amazon.reports_api import FINISHED, ReportsApi
    from oms.returns.report_sync import ReturnsSync
    from oms.store.default import default_table
    from oms_local.simulator import LOCAL_CREDENTIALS

    table = default_table()

    def new_client() -> SpApiClient:
        return SpApiClient(
            credentials=lambda: Credentials(
                LOCAL_CREDENTIALS["clientId"],
                LOCAL_CREDENTIALS["clientSecret"],
                LOCAL_CREDENTIALS["refreshTokens"],
            ),
            budget=RateBudget(table),
            endpoint_override=simulator.url,
            lwa_url=simulator.lwa_token_url,
        )

    client, watcher = new_client(), ReportsApi(new_client())  # the watcher plays the notification
    requests: Counter[str] = Counter()

    def count_request(model: Any, **_: Any) -> None:
        requests.update([model.name])

    table.client.meta.events.register("before-call.dynamodb.*", count_request)
    sync = ReturnsSync(table, ReportsApi(client))
    started = time.monotonic()
    for report_id in sync.run([simulator.marketplace_id]).requested:
        while (report := watcher.get_report(report_id)).processing_status not in FINISHED:
            time.sleep(0.2)
        sync.apply_finished(
            report_id, report.report_type, report.processing_status, report.report_document_id
        )
    seconds = time.monotonic() - started
    table.client.meta.events.unregister("before-call.dynamodb.*", count_request)
    return {
        "seconds": round(seconds, 2),
        "spApiCalls": dict(client.calls),
        "dynamodbRequests": dict(requests),  # the rate budget's few included
        "transactionsPerReturn": round(requests["TransactWriteItems"] / count, 3),
        "readsPerReturn": round((requests["GetItem"] + requests["BatchGetItem"]) / count, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--returns", type=int, default=500)
    args = parser.parse_args()
    result = measure(args.returns)
    print(json.dumps(result, indent=2))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "returns_sync.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
