"""Order reports (GET /reports/orders and friends) against the API and build_report functions, moto in process.

Orders are stored the way the product stores them (oms.store.orders.order_to_item), a few tens at most.
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from oms.domain.orders import Order
from oms.store import keys
from oms.store.default import default_table
from oms.store.orders import order_to_item
from tests.conftest import TEST_CLOCK, LambdaContext, Stack, load_event

NOW = TEST_CLOCK  # each test starts there (tests/conftest.py)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def put_order(
    order_id: str,
    status: str = "Unshipped",
    *,
    purchased: datetime,
    channel: str = "MFN",
    items: list[tuple[str, int, int]] | None = None,  # (sku, quantity, shipped)
    title: str | None = None,
    ship_by: datetime | None = None,
) -> Order:
    order = Order.model_validate(
        {
            "orderId": order_id,
            "marketplaceId": "ATVPDKIKX0DER",
            "status": status,
            "fulfillmentChannel": channel,
            "purchaseDate": _z(purchased),
            "lastUpdateDate": _z(purchased),
            "latestShipDate": _z(ship_by or purchased + timedelta(days=2)),
            "isPrime": True,
            "items": [
                {
                    "orderItemId": f"{order_id}-{n}",
                    "sku": sku,
                    "quantity": quantity,
                    "quantityShipped": shipped,
                    "title": title,
                    "unitPrice": {"amount": "12.50", "currencyCode": "USD"},
                }
                for n, (sku, quantity, shipped) in enumerate(items or [("MUG", 1, 0)])
            ],
        }
    )
    default_table().put({**order_to_item(order), "version": 1})
    return order


def _headers(answer: dict[str, Any]) -> dict[str, str]:
    return answer.get("headers") or {k: v[0] for k, v in answer.get("multiValueHeaders", {}).items()}


class Api:
    def __init__(self, stack: Stack, context: LambdaContext) -> None:
        self.context = context
        self.handler = stack.handler("api")

    def raw(self, method: str, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        event = load_event("api/get_order.json")
        event.update(
            httpMethod=method,
            path=path,
            body=None,
            queryStringParameters=query or None,
            multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()} or None,
        )
        answer: dict[str, Any] = self.handler.lambda_handler(event, self.context)
        return answer

    def __call__(self, method: str, path: str, **query: str) -> tuple[int, Any]:
        answer = self.raw(method, path, query)
        return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else {}

    def csv(self, **query: str) -> list[list[str]]:
        answer = self.raw("GET", "/reports/orders", {**query, "format": "csv"})
        assert answer["statusCode"] == 200, answer["body"]
        assert _headers(answer)["Content-Type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(answer["body"])))


@pytest.fixture
def api(stack: Stack, context: LambdaContext, monkeypatch: pytest.MonkeyPatch) -> Api:
    from oms.settings import forget_settings

    queue_url = stack.resources.resolver.resolve({"Ref": "ReportJobsQueue"})
    monkeypatch.setenv("REPORT_JOBS_QUEUE_URL", str(queue_url))  # the API function's own variable
    forget_settings()
    return Api(stack, context)


def _download(url: str) -> str:
    """A presigned link, fetched as a browser would (moto in process answers requests' calls)."""
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


def _ids(page: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(str(row["amazon-order-id"]) for row in page["items"]))


def _all_rows(api: Api, **query: str) -> list[dict[str, Any]]:
    rows, token = [], None
    while True:
        status, page = api("GET", "/reports/orders", **query, **({"nextToken": token} if token else {}))
        assert status == 200, page
        rows += page["items"]
        token = page["nextToken"]
        if not token:
            return rows


# ------------------------------------------------------------------------------ views


def test_all_orders_newest_first_one_row_per_item_with_the_chosen_columns(api: Api) -> None:
    put_order("111-0000001-0000001", purchased=NOW - timedelta(hours=3), items=[("MUG", 2, 0), ("CUP", 1, 0)])
    put_order("111-0000001-0000002", "Shipped", purchased=NOW - timedelta(hours=1), channel="AFN")

    status, page = api(
        "GET", "/reports/orders", columns="amazon-order-id,sku,quantity,fulfillment-channel,item-price"
    )

    assert status == 200, page
    assert page["columns"] == ["amazon-order-id", "sku", "quantity", "fulfillment-channel", "item-price"]
    assert page["items"] == [
        {
            "amazon-order-id": "111-0000001-0000002",
            "sku": "MUG",
            "quantity": "1",
            "fulfillment-channel": "Amazon",
            "item-price": "12.50",
        },
        {
            "amazon-order-id": "111-0000001-0000001",
            "sku": "MUG",
            "quantity": "2",
            "fulfillment-channel": "Merchant",
            "item-price": "25.00",
        },
        {
            "amazon-order-id": "111-0000001-0000001",
            "sku": "CUP",
            "quantity": "1",
            "fulfillment-channel": "Merchant",
            "item-price": "12.50",
        },
    ]
    assert page["nextToken"] is None


def test_pages_follow_each_other_and_a_date_range_narrows_the_report(api: Api) -> None:
    for n in range(5):
        put_order(f"111-0000002-000000{n}", purchased=NOW - timedelta(hours=n + 1))

    rows = _all_rows(api, columns="amazon-order-id", limit="2")
    window = _all_rows(
        api,
        columns="amazon-order-id",
        **{"from": _z(NOW - timedelta(hours=3)), "to": _z(NOW - timedelta(hours=2))},
    )

    assert [r["amazon-order-id"] for r in rows] == [f"111-0000002-000000{n}" for n in range(5)]
    assert [r["amazon-order-id"] for r in window] == ["111-0000002-0000001", "111-0000002-0000002"]


def test_unshipped_holds_unshipped_and_partially_shipped_orders_soonest_ship_by_first(api: Api) -> None:
    put_order("U-1", "Unshipped", purchased=NOW - timedelta(hours=5), ship_by=NOW + timedelta(days=2))
    put_order("U-2", "Unshipped", purchased=NOW - timedelta(hours=4), ship_by=NOW + timedelta(days=1))
    put_order("P-1", "PartiallyShipped", purchased=NOW - timedelta(hours=3), items=[("MUG", 3, 1)])
    put_order("S-1", "Shipped", purchased=NOW - timedelta(hours=2))
    put_order("W-1", "Pending", purchased=NOW - timedelta(hours=2))
    put_order("C-1", "Canceled", purchased=NOW - timedelta(hours=2))

    rows = _all_rows(
        api, view="unshipped", columns="amazon-order-id,order-status,quantity-to-ship", limit="1"
    )

    assert [(r["amazon-order-id"], r["order-status"], r["quantity-to-ship"]) for r in rows] == [
        ("U-2", "Unshipped", "1"),
        ("U-1", "Unshipped", "1"),
        ("P-1", "PartiallyShipped", "2"),
    ]


def test_new_orders_since_a_time_or_since_the_seller_last_looked(api: Api) -> None:
    put_order("OLD-1", purchased=NOW - timedelta(hours=30))
    put_order("NEW-1", purchased=NOW - timedelta(minutes=30))

    since = _all_rows(api, view="new", since=_z(NOW - timedelta(days=2)), columns="amazon-order-id")
    first_look = _all_rows(api, view="new", columns="amazon-order-id", markSeen="true")
    after_mark = _all_rows(api, view="new", columns="amazon-order-id")
    put_order("NEW-2", purchased=NOW - timedelta(minutes=1))  # placed before the mark, arrived after it
    time.sleep(1.1)  # times are kept to the second
    put_order("NEW-3", purchased=datetime.now(UTC))

    late = _all_rows(api, view="new", columns="amazon-order-id")

    assert [r["amazon-order-id"] for r in since] == ["NEW-1", "OLD-1"]
    assert [r["amazon-order-id"] for r in first_look] == ["NEW-1"], "a first look shows the last day"
    assert after_mark == []
    assert [r["amazon-order-id"] for r in late] == ["NEW-3", "NEW-2"], "a late arrival is still new"
    mark = default_table().get(keys.orders_seen_mark_key())
    assert mark is not None and mark["seenIds"] == ["NEW-1"]


def test_archived_holds_orders_the_seller_archived_and_old_orders(api: Api) -> None:
    put_order("RECENT-1", purchased=NOW - timedelta(days=1))
    put_order("RECENT-2", purchased=NOW - timedelta(days=2))
    put_order("OLD-1", purchased=NOW - timedelta(days=120))

    status, archived = api("POST", "/orders/RECENT-2/archive")
    again, same = api("POST", "/orders/RECENT-2/archive")
    rows = _all_rows(api, view="archived", columns="amazon-order-id")
    gone, _ = api("DELETE", "/orders/RECENT-2/archive")
    after = _all_rows(api, view="archived", columns="amazon-order-id")
    unknown, error = api("POST", "/orders/NOPE/archive")

    assert (status, archived["archived"], again, same["archivedAt"]) == (
        200,
        True,
        200,
        archived["archivedAt"],
    )
    assert [r["amazon-order-id"] for r in rows] == ["RECENT-2", "OLD-1"]
    assert gone == 200 and [r["amazon-order-id"] for r in after] == ["OLD-1"]
    assert unknown == 404 and error["error"]["code"] == "NotFound"
    status, page = api("GET", "/reports/orders", view="all", columns="amazon-order-id")
    assert _ids(page) == ["RECENT-1", "RECENT-2", "OLD-1"], "archiving leaves the order itself alone"


# ------------------------------------------------------------------------------ CSV


def test_csv_has_exactly_the_chosen_columns_and_quotes_what_needs_quoting(api: Api) -> None:
    put_order("111-0000003-0000001", purchased=NOW - timedelta(hours=1), title='Mug, "blue", 350 ml')
    put_order("111-0000003-0000002", purchased=NOW - timedelta(hours=2), title='=HYPERLINK("http://x")')

    rows = api.csv(columns="amazon-order-id,product-name,quantity,is-prime")

    assert rows == [
        ["amazon-order-id", "product-name", "quantity", "is-prime"],
        ["111-0000003-0000001", 'Mug, "blue", 350 ml', "1", "true"],
        ["111-0000003-0000002", '\'=HYPERLINK("http://x")', "1", "true"],
    ]


def test_the_catalogue_lists_every_column_with_amazons_names(api: Api) -> None:
    status, answer = api("GET", "/reports/orders/columns")

    assert status == 200
    names = [c["name"] for c in answer["items"]]
    assert {
        "amazon-order-id",
        "purchase-date",
        "last-updated-date",
        "order-status",
        "fulfillment-channel",
        "sku",
        "quantity",
        "item-price",
        "ship-service-level",
        "latest-ship-date",
        "is-prime",
        "quantity-shipped",
        "tracking-numbers",
        "flags",
    } <= set(names)
    assert answer["views"] == ["all", "new", "unshipped", "archived"]


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("query", "field", "listed"),
    [
        ({"view": "late"}, "view", "all, new, unshipped, archived"),
        ({"columns": "amazon-order-id,colour"}, "columns", "amazon-order-id, order-item-id, purchase-date"),
        ({"from": "2026-11-27T00:00:00Z", "to": "2026-11-26T00:00:00Z"}, "from", ""),
        ({"view": "all", "markSeen": "true"}, "markSeen", ""),
        ({"nextToken": "0|2026-11-26T00:00:00Z||forged.token"}, "nextToken", ""),
    ],
)
def test_bad_input_is_400_naming_the_field_and_the_valid_values(
    api: Api, query: dict[str, str], field: str, listed: str
) -> None:
    status, answer = api("GET", "/reports/orders", **query)

    assert status == 400, answer
    details = answer["error"]["details"]
    assert details[0]["field"] == field
    assert listed in details[0]["message"]


# ------------------------------------------------------------------------------ large reports: jobs


def test_a_large_csv_becomes_a_job_built_to_s3_with_a_link_that_reads_back(
    api: Api, stack: Stack, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oms.reports import export

    for n in range(12):
        put_order(
            f"111-0000004-{n:07d}",
            purchased=NOW - timedelta(hours=n + 1),
            items=[("MUG", 1, 0), ("CUP", 2, 0)],
        )
    monkeypatch.setattr(export, "INLINE_CSV_MAX_BYTES", 200)  # "large" at this table's size
    monkeypatch.setattr(export, "PART_BYTES", 5 * 1024 * 1024)

    answer = api.raw("GET", "/reports/orders", {"format": "csv", "columns": "amazon-order-id,sku,quantity"})

    assert answer["statusCode"] == 202, answer["body"]
    job = json.loads(answer["body"])
    assert _headers(answer)["Location"] == f"/reports/jobs/{job['jobId']}" == job["statusUrl"]
    sqs = stack.client("sqs")
    queue_url = str(stack.resources.resolver.resolve({"Ref": "ReportJobsQueue"}))
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"jobId": job["jobId"]}]
    status, queued = api("GET", f"/reports/jobs/{job['jobId']}")
    assert (status, queued["status"], "url" in queued) == (200, "queued", False)

    event = load_event("build_report/report_job.json")
    event["Records"][0]["body"] = messages[0]["Body"]
    result = stack.handler("build_report").lambda_handler(event, context)

    assert result == {"batchItemFailures": []}
    status, done = api("GET", f"/reports/jobs/{job['jobId']}")
    assert (status, done["status"], done["rows"]) == (200, "done", 24), done
    rows = list(csv.reader(io.StringIO(_download(done["url"]))))
    assert rows[0] == ["amazon-order-id", "sku", "quantity"] and len(rows) == 25
    assert rows[1:3] == [["111-0000004-0000000", "MUG", "1"], ["111-0000004-0000000", "CUP", "2"]]


def test_an_unknown_job_is_404(api: Api) -> None:
    status, answer = api("GET", "/reports/jobs/nope")
    assert status == 404 and answer["error"]["code"] == "NotFound"


def test_the_daily_report_holds_yesterdays_orders_and_is_listed_newest_first(
    api: Api, stack: Stack, context: LambdaContext
) -> None:
    put_order("D-1", purchased=datetime(2026, 11, 26, 10, tzinfo=UTC))
    put_order(
        "D-2", purchased=datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC), items=[("MUG", 1, 0), ("CUP", 1, 0)]
    )
    put_order("D-3", purchased=datetime(2026, 11, 27, 0, 0, 0, tzinfo=UTC))
    handler = stack.handler("build_report")

    built = handler.lambda_handler(load_event("build_report/schedule.json"), context)
    handler.lambda_handler({"day": "2026-11-25"}, context)

    assert built["day"] == "2026-11-26" and (built["orders"], built["rows"]) == (2, 3)
    status, listed = api("GET", "/reports/daily")
    assert status == 200 and [d["day"] for d in listed["items"]] == ["2026-11-26", "2026-11-25"]
    rows = list(csv.DictReader(io.StringIO(_download(listed["items"][0]["url"]))))
    assert [r["amazon-order-id"] for r in rows] == ["D-2", "D-2", "D-1"]


# ------------------------------------------------------------------------------ the CLI


def _oms(stack: Stack, context: LambdaContext, *args: str) -> Any:
    from click.testing import CliRunner

    from oms_tools.api_client import Api as ApiClient
    from oms_tools.cli import main
    from tests.api_calls import HandlerTransport

    client = ApiClient("https://api.example.test", "token", HandlerTransport(stack, context))
    return CliRunner().invoke(main, ["report", "orders", *args], obj={"api": client})


def test_oms_report_orders_writes_the_same_csv_as_the_api(
    api: Api, stack: Stack, context: LambdaContext
) -> None:
    put_order(
        "U-1", purchased=NOW - timedelta(hours=2), items=[("MUG", 2, 0), ("CUP", 1, 0)], title="Mug, blue"
    )
    put_order("S-1", "Shipped", purchased=NOW - timedelta(hours=1))
    columns = "amazon-order-id,sku,quantity,product-name"

    result = _oms(stack, context, "--view", "unshipped", "--columns", columns)

    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == 'amazon-order-id,sku,quantity,product-name\nU-1,MUG,2,"Mug, blue"\nU-1,CUP,1,"Mug, blue"\n'
    )
    assert "2 row(s) of the unshipped orders report" in result.stderr
    served = api.raw("GET", "/reports/orders", {"view": "unshipped", "columns": columns, "format": "csv"})
    assert served["body"] == result.stdout


def test_oms_report_orders_shows_the_apis_refusal_and_fails(
    stack: Stack, context: LambdaContext, tmp_path
) -> None:
    out = tmp_path / "report.csv"

    result = _oms(stack, context, "--columns", "amazon-order-id,colour", "--output", str(out))

    assert result.exit_code == 1
    assert "unknown column(s) colour; valid columns: amazon-order-id" in result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_new_orders_page_on_even_when_the_mark_moves_between_pages(api: Api) -> None:
    put_order("SEEN-1", purchased=NOW - timedelta(hours=3))
    _all_rows(api, view="new", columns="amazon-order-id", markSeen="true")  # the seller has looked
    time.sleep(3.1)  # the new orders come well after the mark (times are kept to the second)
    for n in range(3):
        put_order(f"FRESH-{n}", purchased=datetime.now(UTC) - timedelta(seconds=n))

    status, first = api("GET", "/reports/orders", view="new", columns="amazon-order-id", limit="1")
    assert status == 200 and first["nextToken"], first
    _all_rows(api, view="new", columns="amazon-order-id", markSeen="true")  # another tab moves the mark
    status, second = api(
        "GET",
        "/reports/orders",
        view="new",
        columns="amazon-order-id",
        limit="1",
        nextToken=first["nextToken"],
    )

    assert status == 200, second
    assert _ids(first) + _ids(second) == ["FRESH-0", "FRESH-1"]
