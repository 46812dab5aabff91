"""Order reports, measured: `.venv/bin/python bench/reports.py [--orders 100000] [--small 60]`.

A/B. A --orders-order CSV report (one to three items an order, every catalogue column) written to S3 (moto in
     process), in a child process each: (a) streamed (oms.reports: Query pages -> rows -> CSV chunks ->
     S3 multipart, what build_report runs) and (b) every order loaded into memory first, then written. Peak
     RSS (getrusage) over the child's baseline, and seconds. moto cannot hold 100,000 orders with their GSIs
     at speed, so the table is a stand-in that serves Query pages as DynamoDB would (Limit, LastEvaluatedKey,
     DynamoDB JSON, orders generated on demand): the code above the boto3 client is the product's own.
     Run at two sizes (a tenth and the whole) to show whether memory grows with the report.
C.   Items read from the table per item returned for the dashboard's queries and each report view, against a
     small moto table (--small orders): ScannedCount and Count from the real Query answers, BatchGetItem items,
     and a check that nothing called Scan.

Figures go to bench/results/reports.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench_env import ROOT

RESULTS = ROOT / "bench" / "results" / "reports.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
BUCKET = "bench-documents"


# ------------------------------------------------------------------------------ the table stand-in


class GeneratedOrdersClient:
    """A DynamoDB client whose gsi1 `ORDERS` partition holds `count` orders, made when a page asks for them.

    Answers `query` as DynamoDB does for that partition: newest first or not, Limit, ExclusiveStartKey,
    LastEvaluatedKey (table and index keys), items in DynamoDB JSON. Order n is purchased at T0 + n minutes.
    """

    def __init__(self, count: int) -> None:
        from oms.store.table import to_dynamo

        self.count = count
        self._to_dynamo = to_dynamo
        self.items_served = 0

    def order(self, n: int) -> dict[str, Any]:
        from oms.store import keys

        order_id = f"{100 + n % 900:03d}-{n:07d}-{(n * 7919) % 10**7:07d}"
        purchased = (T0 + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ship_by = (T0 + timedelta(minutes=n, days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = ("Unshipped", "Shipped", "Shipped", "PartiallyShipped", "Canceled")[n % 5]
        channel = "AFN" if n % 4 == 0 else "MFN"
        items = [
            {
                "orderItemId": f"{n:08d}{line}",
                "sku": f"SKU-{(n * 31 + line) % 5000:05d}",
                "asin": f"B0{(n + line) % 10**8:08d}",
                "title": f"Product {(n + line) % 5000}, colour {line}",
                "quantity": 1 + (n + line) % 3,
                "quantityShipped": 0,
                "unitPrice": {"amount": f"{5 + (n % 40)}.99", "currencyCode": "USD"},
            }
            for line in range(1 + n % 3)
        ]
        return {
            **keys.order_key(order_id),
            **keys.order_index_keys(
                order_id=order_id,
                status=status,
                fulfillment_channel=channel,
                purchase_date=purchased,
                latest_ship_date=ship_by,
            ),
            "entity": "Order",
            "version": 3,
            "orderId": order_id,
            "marketplaceId": "ATVPDKIKX0DER",
            "status": status,
            "fulfillmentChannel": channel,
            "purchaseDate": purchased,
            "lastUpdateDate": purchased,
            "earliestShipDate": purchased,
            "latestShipDate": ship_by,
            "latestDeliveryDate": ship_by,
            "isPrime": n % 3 == 0,
            "isBusinessOrder": False,
            "orderType": "StandardOrder",
            "shipServiceLevel": "Std US D2D Dom",
            "orderTotal": {"amount": "42.00", "currencyCode": "USD"},
            "enriched": True,
            "items": items,
            "shipments": [],
            "flags": ["late"] if n % 50 == 0 else [],
            "stockHeld": {i["sku"]: {"needed": 0, "shipped": 0} for i in items},
        }

    def query(self, **request: Any) -> dict[str, Any]:
        assert request.get("IndexName") == "gsi1" and request["ExpressionAttributeValues"][":pk"] == {
            "S": "ORDERS"
        }
        assert request["KeyConditionExpression"] == "#pk = :pk", "the bench serves whole-partition reports"
        newest_first = not request.get("ScanIndexForward", True)
        limit = int(request.get("Limit", 1000))
        start = request.get("ExclusiveStartKey")
        if start is None:
            n = self.count - 1 if newest_first else 0
        else:
            n = int(start["pk"]["S"].split("-")[1]) + (-1 if newest_first else 1)
        step = -1 if newest_first else 1
        numbers = [m for m in range(n, n + step * limit, step) if 0 <= m < self.count]
        items = [self._to_dynamo(self.order(m)) for m in numbers]
        self.items_served += len(items)
        answer: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
        more = numbers and 0 <= numbers[-1] + step < self.count
        if more:
            last = items[-1]
            answer["LastEvaluatedKey"] = {k: last[k] for k in ("pk", "sk", "gsi1pk", "gsi1sk")}
        return answer


# ------------------------------------------------------------------------------ A/B: one child each


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def child(approach: str, orders: int, s3_url: str) -> dict[str, Any]:
    """Runs in its own process: one report, one way; returns seconds, peak RSS and what was written."""
    import boto3

    from oms.reports.columns import CATALOGUE
    from oms.reports.export import csv_chunks, csv_text, upload_stream
    from oms.reports.query import ReportRequest, View
    from oms.reports.reader import OrderReports
    from oms.store.documents import DocumentStore
    from oms.store.pagination import PageTokens
    from oms.store.table import Table

    if s3_url:  # the parent's moto server: its copy of the report is not in this process
        s3 = boto3.client("s3", endpoint_url=s3_url)
        if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=BUCKET)
        documents = DocumentStore(BUCKET, s3)
        source = GeneratedOrdersClient(orders)
        table = Table("bench", lambda: PageTokens(b"bench-secret-0123456789"), client=source)
        reports = OrderReports(table)
        request = ReportRequest(View.ALL, tuple(CATALOGUE))
        state = reports.start(request)
        key = f"docs/reports/jobs/bench-{approach}.csv"
        baseline = _rss_mb()
        started = time.perf_counter()
        if approach == "streaming":
            written = upload_stream(
                documents, key, csv_chunks(reports.rows(request, state), request.columns), "text/csv"
            )
        else:
            every_order = list(reports.orders(request, state))
            rows = [row for order in every_order for row in reports_rows(order, request.columns)]
            body = csv_text(rows, request.columns).encode()
            written = len(body)
            documents.put(key, body, "text/csv")
        seconds = time.perf_counter() - started
        peak = _rss_mb()
        size = s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"]
        lines = sum(
            chunk.count(b"\n") for chunk in s3.get_object(Bucket=BUCKET, Key=key)["Body"].iter_chunks()
        )
    return {
        "approach": approach,
        "orders": orders,
        "ordersRead": source.items_served,
        "rows": lines - 1,
        "bytes": written,
        "storedBytes": size,
        "seconds": seconds,
        "baselineMb": baseline,
        "peakMb": peak,
        "growthMb": peak - baseline,
    }


def reports_rows(order: dict[str, Any], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    from oms.reports.columns import rows_of

    return rows_of(order, columns)


def run_child(approach: str, orders: int, s3_url: str) -> dict[str, Any]:
    answer = subprocess.run(  # this script, in a fresh interpreter
        [sys.executable, __file__, "--child", approach, "--orders", str(orders), "--s3-url", s3_url],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if answer.returncode != 0:
        raise RuntimeError(f"{approach} child failed:\n{answer.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------ C: reads per item returned


class CountingClient:
    """The real boto3 DynamoDB client, counting what each call read from the table."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []
        self.read = 0  # items DynamoDB evaluated (Query ScannedCount, BatchGetItem and GetItem items)

    def reset(self) -> None:
        self.calls, self.read = [], 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            answer = method(**kwargs)
            if name == "query":
                self.read += int(answer["ScannedCount"])
            elif name == "batch_get_item":
                self.read += sum(len(v) for v in answer.get("Responses", {}).values())
            elif name == "get_item":
                self.read += 1 if "Item" in answer else 0
            return answer

        return call


def _seed(table: Any, small: int, now: datetime) -> Any:
    """`small` orders over 200 days, 20 stock rows (some low), every 7th order archived."""
    from oms.domain.stock import StockLevel
    from oms.domain.types import iso_z
    from oms.inventory.stock import row_item
    from oms.reports.reader import OrderReports

    generator = GeneratedOrdersClient(small)
    for n in range(small):
        order = generator.order(n)
        order["purchaseDate"] = iso_z(now - timedelta(days=(small - n) * 200 / small, minutes=1))
        order["gsi1sk"] = f"{order['purchaseDate']}#{order['orderId']}"
        table.put(order)
    for n in range(20):
        level = StockLevel(n)
        table.put(
            row_item(
                None, f"SKU-{n:05d}", level, location="default", at=iso_z(now), changes={"reorderPoint": 5}
            )
        )
    reports = OrderReports(table, now=lambda: iso_z(now))
    for n in range(0, small, 7):
        reports.archive(generator.order(n)["orderId"])
    return reports


def reads_per_item(small: int) -> list[dict[str, Any]]:
    from moto import mock_aws

    with mock_aws():
        return _reads_per_item(small)


def _reads_per_item(small: int) -> list[dict[str, Any]]:
    from oms.domain.orders import FulfillmentChannel, OrderStatus
    from oms.domain.types import iso_z, utc_now
    from oms.inventory.stock import StockRepository
    from oms.reports.query import ReportRequest, View
    from oms.store.default import _page_tokens
    from oms.store.orders import OrderFilter, OrderRepository
    from oms.store.table import Table
    from oms_local.resources import create_resources
    from oms_local.template import Template

    template = Template()
    resources = create_resources(template, "bench", "us-east-1", None)
    for name, value in resources.resolver.resolve(template.globals["Environment"]["Variables"]).items():
        os.environ[name] = str(value)
    counting = CountingClient(resources.client("dynamodb"))
    table = Table(os.environ["TABLE_NAME"], _page_tokens, client=counting)
    now = utc_now().replace(microsecond=0)
    reports = _seed(table, small, now)

    def measure(name: str, run: Any) -> dict[str, Any]:
        counting.reset()
        returned = run()
        scans = [c for c in counting.calls if c in ("scan", "parallel_scan")]
        assert not scans, f"{name} called Scan"
        return {
            "query": name,
            "returned": returned,
            "read": counting.read,
            "perItem": counting.read / returned if returned else None,
            "calls": sorted(set(counting.calls)),
            "scans": len(scans),
        }

    def pages(read_page: Any) -> int:
        total, token = 0, None
        while True:
            page = read_page(token)
            total += len(page.items)
            token = page.next_token
            if not token:
                return total

    orders = OrderRepository(table)
    stock = StockRepository(table)

    def report(view: View, **fields: Any) -> Any:
        request = ReportRequest(view, ("amazon-order-id",), **fields)

        def run() -> int:
            total, token = 0, None
            while True:
                page, _ = reports.page(request, limit=25, next_token=token)
                total += page.orders
                token = page.next_token
                if not token:
                    return total

        return run

    where_mfn = OrderFilter(OrderStatus.UNSHIPPED, FulfillmentChannel.MFN)
    last_month = OrderFilter(purchased_from=now - timedelta(days=30), purchased_to=now)
    return [
        measure(
            "work queue: GET /orders?status=Unshipped&fulfillmentChannel=MFN",
            lambda: pages(lambda t: orders.list(where_mfn, limit=25, next_token=t)),
        ),
        measure(
            "orders by date: GET /orders?from=-30d&to=now",
            lambda: pages(lambda t: orders.list(last_month, limit=25, next_token=t)),
        ),
        measure(
            "low stock: GET /inventory?belowReorderPoint=true (+ days of cover)",
            lambda: pages(lambda t: stock.list(limit=25, next_token=t, below_reorder_point=True)),
        ),
        measure("report view=all", report(View.ALL)),
        measure(
            "report view=all, last 30 days", report(View.ALL, purchased_from=iso_z(now - timedelta(days=30)))
        ),
        measure("report view=new (since 7 days)", report(View.NEW, since=iso_z(now - timedelta(days=7)))),
        measure("report view=unshipped", report(View.UNSHIPPED)),
        measure("report view=archived", report(View.ARCHIVED)),
    ]


# ------------------------------------------------------------------------------ report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=60, help="orders in the moto table of part C")
    parser.add_argument("--child", choices=("streaming", "loaded"), help=argparse.SUPPRESS)
    parser.add_argument("--s3-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.child, options.orders, options.s3_url)))
        return

    from oms_local import moto_process

    sizes = sorted({max(options.orders // 10, 1), options.orders})
    with moto_process.running(
        cwd=ROOT, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    ) as s3_url:
        runs = [run_child(approach, size, s3_url) for size in sizes for approach in ("streaming", "loaded")]
    reads = reads_per_item(options.small)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"csv": runs, "readsPerItem": reads}, indent=2))

    print("A/B. CSV order report, every column, written to S3 (moto), one child process each")
    print("     S3: moto as a server process (moto in the child would hold the whole uploaded report in the")
    print("     child's memory: +2x the report, whatever the producer does)")
    print(
        "     table: a stand-in serving DynamoDB Query pages (orders generated per page; code above boto3 is the product's)"
    )
    print(
        f"     {'orders':>8} {'rows':>8} {'MB':>6}  {'approach':<22} {'seconds':>8} {'peak RSS MB':>12} {'growth MB':>10}"
    )
    for run in runs:
        print(
            f"     {run['orders']:>8,} {run['rows']:>8,} {run['bytes'] / 1e6:>6.1f}  {run['approach']:<22}"
            f" {run['seconds']:>8.1f} {run['peakMb']:>12.0f} {run['growthMb']:>10.0f}"
        )
    for size in sizes:
        streamed = next(r for r in runs if r["orders"] == size and r["approach"] == "streaming")
        loaded = next(r for r in runs if r["orders"] == size and r["approach"] == "loaded")
        print(
            f"     {size:,} orders: loading first takes {loaded['growthMb'] / max(streamed['growthMb'], 1):.1f}x the memory"
            f" growth and {loaded['seconds'] / streamed['seconds']:.2f}x the time of streaming"
        )
    big = [r for r in runs if r["approach"] == "streaming"]
    if len(big) == 2:
        print(
            f"     streaming at {big[1]['orders']:,} vs {big[0]['orders']:,} orders: growth {big[0]['growthMb']:.0f} MB ->"
            f" {big[1]['growthMb']:.0f} MB (goal: flat, peak under 150 MB: peak {big[1]['peakMb']:.0f} MB)"
        )
    print()
    print(
        f"C.  Items read from the table per item returned (moto table of {options.small} orders, 20 stock rows)"
    )
    print(f"     {'query':<66} {'returned':>8} {'read':>6} {'per item':>8}  calls")
    for row in reads:
        per = f"{row['perItem']:.2f}" if row["perItem"] is not None else "-"
        print(
            f"     {row['query']:<66} {row['returned']:>8} {row['read']:>6} {per:>8}  {', '.join(row['calls'])}"
        )
    print("     no Scan call in any of them (asserted)")
    print(f"\nfigures: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
