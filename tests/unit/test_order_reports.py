"""Order reports without I/O: the catalogue, the rows of an order, CSV quoting, the Queries each view makes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from oms.errors import InvalidInput
from oms.reports.columns import CATALOGUE, DEFAULT_COLUMNS, rows_of
from oms.reports.export import csv_chunks, csv_text
from oms.reports.query import ReportRequest, SeenMark, View, plan
from oms.reports.reader import ReadState
from oms.store.keys import KeyQuery

AT = "2026-11-26T12:00:00Z"
ORDER = {
    "orderId": "111-2223334-5556667",
    "status": "PartiallyShipped",
    "fulfillmentChannel": "MFN",
    "purchaseDate": "2026-11-25T09:00:00Z",
    "isPrime": True,
    "flags": ["atRisk", "late"],
    "items": [
        {
            "orderItemId": "A",
            "sku": "MUG",
            "quantity": 3,
            "quantityShipped": 1,
            "unitPrice": {"amount": "4.99", "currencyCode": "EUR"},
        },
        {"orderItemId": "B", "sku": "CUP", "quantity": 1, "quantityShipped": 0, "title": "@SUM(1)"},
    ],
    "shipments": [
        {
            "trackingNumber": "1Z999",
            "carrier": "UPS",
            "carrierName": "UPS",
            "shipDate": "2026-11-25T15:00:00Z",
            "items": [{"orderItemId": "A", "quantity": 1}],
        },
    ],
}


def test_the_catalogue_uses_amazons_names_and_describes_every_column() -> None:
    assert set(DEFAULT_COLUMNS) <= set(CATALOGUE)
    for name in (
        "amazon-order-id",
        "purchase-date",
        "last-updated-date",
        "order-status",
        "fulfillment-channel",
        "sku",
        "quantity",
        "item-price",
        "ship-service-level",
    ):
        assert CATALOGUE[name].amazon, name
    assert all(c.description for c in CATALOGUE.values())
    assert all(name == name.lower() and " " not in name for name in CATALOGUE)


def test_an_order_gives_one_row_per_item_read_from_the_stored_order() -> None:
    columns = (
        "sku",
        "quantity-to-ship",
        "item-price",
        "currency",
        "tracking-numbers",
        "item-status",
        "flags",
        "is-prime",
        "fulfillment-channel",
        "product-name",
    )

    rows = rows_of(ORDER, columns)

    assert rows == [
        {
            "sku": "MUG",
            "quantity-to-ship": "2",
            "item-price": "14.97",
            "currency": "EUR",
            "tracking-numbers": "1Z999",
            "item-status": "Unshipped",
            "flags": "atRisk late",
            "is-prime": "true",
            "fulfillment-channel": "Merchant",
            "product-name": None,
        },
        {
            "sku": "CUP",
            "quantity-to-ship": "1",
            "item-price": None,
            "currency": None,
            "tracking-numbers": None,
            "item-status": "Unshipped",
            "flags": "atRisk late",
            "is-prime": "true",
            "fulfillment-channel": "Merchant",
            "product-name": "'@SUM(1)",
        },
    ]
    assert rows_of({**ORDER, "items": []}, ("amazon-order-id", "sku")) == [
        {"amazon-order-id": "111-2223334-5556667", "sku": None}
    ]


def test_csv_quotes_separators_quotes_and_line_breaks_and_streams_in_chunks() -> None:
    rows = [{"a": 'x, "y"', "b": "line\nbreak"}, {"a": None, "b": "plain"}] * 200
    text = csv_text(rows, ["a", "b"])

    assert text.startswith('a,b\n"x, ""y""","line\nbreak"\n,plain\n')
    assert b"".join(csv_chunks(rows, ["a", "b"], chunk_bytes=100)).decode() == text
    assert len(list(csv_chunks(rows, ["a", "b"], chunk_bytes=100))) > 10
    assert list(csv.reader(io.StringIO(text)))[1] == ['x, "y"', "line\nbreak"]


@pytest.mark.parametrize(
    ("arguments", "field", "listed"),
    [
        (("late", None), "view", "all, new, unshipped, archived"),
        (("all", "sku,colour"), "columns", "valid columns: amazon-order-id, order-item-id"),
        (("all", "sku,sku"), "columns", "twice"),
    ],
)
def test_bad_requests_name_the_field_and_the_valid_values(arguments: tuple, field: str, listed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ReportRequest.parse(*arguments)
    assert refused.value.details[0].field == field and listed in refused.value.details[0].message


def test_from_after_to_and_since_outside_new_are_refused() -> None:
    day = datetime(2026, 11, 26, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="from"):
        ReportRequest.parse("all", None, day, day - timedelta(seconds=1))
    with pytest.raises(InvalidInput, match="since"):
        ReportRequest.parse("all", None, since=day)


def _plan(request: ReportRequest, mark: SeenMark | None = None, since: str | None = None) -> list[KeyQuery]:
    return [s.query for s in plan(request, at=AT, since=since, mark=mark, archive_after=timedelta(days=90))]


def test_all_is_one_query_of_every_order_by_purchase_date() -> None:
    request = ReportRequest(
        View.ALL, purchased_from="2026-11-01T00:00:00Z", purchased_to="2026-11-02T00:00:00Z"
    )
    assert _plan(request) == [
        KeyQuery(
            "ORDERS", "gsi1", sk_from="2026-11-01T00:00:00Z", sk_to="2026-11-02T00:00:00Z~", newest_first=True
        )
    ]


def test_unshipped_reads_two_status_partitions_of_gsi2() -> None:
    assert _plan(ReportRequest(View.UNSHIPPED)) == [
        KeyQuery("ORDERS#STATUS#Unshipped", "gsi2"),
        KeyQuery("ORDERS#STATUS#PartiallyShipped", "gsi2"),
    ]


def test_new_reads_from_the_mark_less_an_hour_and_skips_what_was_seen() -> None:
    mark = SeenMark("2026-11-26T10:00:00Z", frozenset({"SEEN"}))
    sources = plan(
        ReportRequest(View.NEW), at=AT, since=mark.seen_until, mark=mark, archive_after=timedelta(days=90)
    )

    assert [s.query for s in sources] == [
        KeyQuery("ORDERS", "gsi1", sk_from="2026-11-26T09:00:00Z", sk_to=AT + "~", newest_first=True)
    ]
    keep = sources[0].keep
    assert not keep({"orderId": "SEEN", "purchaseDate": "2026-11-26T09:30:00Z"})
    assert keep({"orderId": "LATE", "purchaseDate": "2026-11-26T09:30:00Z"})
    explicit = ReportRequest(View.NEW, since="2026-11-20T00:00:00Z")
    assert _plan(explicit, mark, since="2026-11-20T00:00:00Z")[0].sk_from == "2026-11-20T00:00:00Z"


def test_archived_reads_markers_newer_than_the_cutoff_then_orders_older_than_it() -> None:
    queries = _plan(ReportRequest(View.ARCHIVED))

    assert queries == [
        KeyQuery("ORDERS#ARCHIVED", "gsi1", sk_from="2026-08-28T12:00:00Z", newest_first=True),
        KeyQuery("ORDERS", "gsi1", sk_to="2026-08-28T11:59:59Z~", newest_first=True),
    ]
    recent_only = ReportRequest(View.ARCHIVED, purchased_from="2026-11-01T00:00:00Z")
    assert [q.partition for q in _plan(recent_only)] == ["ORDERS#ARCHIVED"]


def test_a_page_token_keeps_the_reports_instant_and_refuses_garbage() -> None:
    state = ReadState(1, AT, "2026-11-26T10:00:00Z", "abc.def")
    assert ReadState.decode(state.encode()) == state
    with pytest.raises(InvalidInput):
        ReadState.decode("garbage")
