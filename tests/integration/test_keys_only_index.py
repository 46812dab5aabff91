"""gsi1 is served by gsi1keys, which holds the keys only (decision 81): a query reads the entries, then the
items by key, and answers exactly what the ALL-projected index answered, in its order, page by page."""

from __future__ import annotations

import time
from typing import Any

from oms.store import keys
from oms.store.pagination import PageTokens
from oms.store.table import Table, from_dynamo

SECRET = b"keys-only-index-test-secret-0123"


def _table(stack: Any) -> Table:
    return Table(stack.table_name, lambda: PageTokens(SECRET), client=stack.client("dynamodb"))


def _row(number: int, **extra: Any) -> dict[str, Any]:
    sku = f"SKU-{number:03d}"
    return {
        **keys.stock_key(sku),
        "gsi1pk": keys.ALL_STOCK,
        "gsi1sk": f"{sku}#main",
        "sku": sku,
        "onHand": number,
        "note": "x" * 300,  # an attribute no key holds: it comes from the item, not the index
        **extra,
    }


def _ask(stack: Any, query: keys.KeyQuery, limit: int) -> dict[str, Any]:
    """The raw index page, as DynamoDB answers it."""
    request = _table(stack)._query_request(query)
    return stack.client("dynamodb").query(**request, Limit=limit)


def test_the_index_the_code_asks_holds_keys_only(stack):
    described = stack.client("dynamodb").describe_table(TableName=stack.table_name)["Table"]
    projections = {
        i["IndexName"]: i["Projection"]["ProjectionType"] for i in described["GlobalSecondaryIndexes"]
    }
    assert projections["gsi1keys"] == "KEYS_ONLY"
    assert projections["gsi2"] == projections["gsi3"] == "ALL"
    query = keys.KeyQuery(keys.ALL_STOCK, "gsi1")
    assert query.index_name == "gsi1keys" and query.keys_only
    assert keys.KeyQuery(keys.ALL_STOCK, "gsi2").index_name == "gsi2"
    assert not keys.KeyQuery(keys.ALL_STOCK, "gsi2").keys_only
    # the buyer-data table keeps its own gsi1 (orderId projected)
    assert keys.buyer_data_due_before("2026-01-01T00:00:00Z").index_name == "gsi1"

    table = _table(stack)
    table.put(_row(1))
    (entry,) = _ask(stack, query, 10)["Items"]
    assert "note" not in entry and "onHand" not in entry  # DynamoDB's entry: the keys only
    (item,) = table.query_all(query)
    assert item == _row(1)


def test_every_item_whole_in_the_index_order_across_batches_and_pages(stack):
    table = _table(stack)
    for number in range(130, 0, -1):  # written out of order; more than one BatchGetItem's 100 keys
        table.put(_row(number))
    query = keys.KeyQuery(keys.ALL_STOCK, "gsi1")

    every = list(table.query_all(query, page_size=120))
    assert [i["sku"] for i in every] == [f"SKU-{n:03d}" for n in range(1, 131)]
    assert every[0] == _row(1)

    newest_first = keys.KeyQuery(keys.ALL_STOCK, "gsi1", newest_first=True)
    seen: list[str] = []
    token = None
    while True:
        page = table.query_page(newest_first, limit=50, next_token=token, scope="test")
        seen += [i["sku"] for i in page.items]
        assert all(i["note"] == "x" * 300 for i in page.items)
        token = page.next_token
        if token is None:
            break
    assert seen == [f"SKU-{n:03d}" for n in range(130, 0, -1)]


def test_an_item_gone_or_moved_since_the_entry_was_read_is_left_out(stack):
    table = _table(stack)
    for number in (1, 2, 3):
        table.put(_row(number))
    query = keys.KeyQuery(keys.ALL_STOCK, "gsi1")
    # the index as a lagging reader saw it
    entries = [from_dynamo(i) for i in _ask(stack, query, 10)["Items"]]
    table.delete(keys.stock_key("SKU-001"))
    moved = {**_row(2), "gsi1sk": "SKU-002#elsewhere"}
    table.put(moved)

    assert [i["sku"] for i in table._items_of(query, entries)] == ["SKU-003"]


def test_expired_items_are_left_out_unless_asked_for(stack):
    table = _table(stack)
    table.put(_row(1))
    table.put(_row(2, **{keys.TTL_ATTRIBUTE: int(time.time()) - 60}))  # past its time, not yet deleted
    query = keys.KeyQuery(keys.ALL_STOCK, "gsi1")

    assert [i["sku"] for i in table.query_all(query)] == ["SKU-001"]
    assert [i["sku"] for i in table.query_all(query, include_expired=True)] == ["SKU-001", "SKU-002"]
    assert [i["sku"] for i in table.query_page(query, limit=10).items] == ["SKU-001"]
