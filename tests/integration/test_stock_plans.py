"""Stock plans from the orders kept here: orders in -> daily demand counters -> the nightly plan -> the routes.

The warehouse is the default US one (America/New_York); the clock is the suite's TEST_CLOCK (a Tuesday,
2026-11-24 10:00 there), so the nightly run plans the warehouse day 2026-11-24 from history up to the 23rd.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from itertools import cycle

import pytest

from oms.amazon.notifications import Notification
from oms.domain.orders import FulfillmentChannel, Order, OrderItem, OrderStatus
from oms.events import events_from_change
from oms.orders.intake import apply_change, change_from_notification
from oms.planning import nightly
from oms.planning.demand import read_demand
from oms.planning.methods import BASELINES, METHODS
from oms.store import keys
from oms.store.conditional import add_ordered
from oms.store.default import default_table
from oms.store.orders import OrderRepository
from tests.api_calls import call_api
from tests.builders import order_change
from tests.conftest import TEST_CLOCK, LambdaContext, load_event
from tests.throttled import throttled_table

TODAY = date(2026, 11, 24)  # the warehouse's day at TEST_CLOCK
US = "ATVPDKIKX0DER"
WEEK = [3, 4, 5, 6, 7, 9, 2]


def _order(
    order_id: str, sku: str, quantity: int, *, status: str = "Unshipped", channel: str = "MFN", shipped=0
):
    document = order_change(
        order_id,
        status,
        [(sku, quantity, shipped)],
        channel=channel,
        at=TEST_CLOCK - timedelta(minutes=30) + timedelta(seconds=shipped),
        purchased=TEST_CLOCK - timedelta(hours=1),
    )
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _seed_history(sku: str, days: int, *, out_days: tuple[int, ...] = ()) -> None:
    """`days` days of orders ending yesterday, a weekly pattern; `out_days` (days before today) ran out."""
    table = default_table()
    pattern = cycle(WEEK)
    for back in range(days, 0, -1):
        day = (TODAY - timedelta(days=back)).isoformat()
        units = next(pattern)
        out = back in out_days
        table.transact(
            [add_ordered(day, sku, units=0 if out else units, channel="MFN", marketplace=US, out=out)]
        )


def _setup(stack, context, sku: str, policy: dict, on_hand: int) -> None:
    status, _ = call_api(stack, context, "PUT", f"/inventory/{sku}", policy)
    assert status == 200
    if not on_hand:
        return
    status, _ = call_api(
        stack, context, "POST", f"/inventory/{sku}/adjustments", {"delta": on_hand, "reason": "receipt"}
    )
    assert status == 201


class FifteenMinutes(LambdaContext):
    """The function's timeout in template.yaml (900 s): the run stops a minute before its end."""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _run(stack) -> dict:
    handler = stack.handler("plan_stock")
    return handler.lambda_handler(load_event("plan_stock/schedule.json"), FifteenMinutes())


def test_orders_are_counted_per_day_channel_and_marketplace_once_and_a_short_day_is_marked(stack, context):
    _setup(stack, context, "SKU-P", {"channel": "BOTH"}, 5)

    _order("111-1", "SKU-P", 3)
    _order("111-1", "SKU-P", 3, status="Shipped", shipped=3)  # the same order again: not counted twice
    _order("111-2", "SKU-P", 4, channel="AFN")
    demand = read_demand(default_table(), "SKU-P", TODAY)
    assert demand is not None and (demand.start, demand.units, demand.out) == (TODAY, [7.0], [False])
    assert (demand.by_channel, demand.by_marketplace) == ({"MFN": 3, "AFN": 4}, {US: 7})

    _order("111-3", "SKU-P", 5)  # 2 on hand: the order is short, so the day's demand is unknown

    demand = read_demand(default_table(), "SKU-P", TODAY)
    assert demand is not None and (demand.units, demand.out) == ([12.0], [True])
    assert demand.cleaned().units == [None]


def test_the_nightly_plan_forecasts_sets_the_reorder_point_and_suggests_an_order(stack, context):
    _setup(stack, context, "MUG-RED", {"leadTimeDays": 10, "casePack": 12, "minimumOrderQuantity": 24}, 40)
    _seed_history("MUG-RED", 84, out_days=(30, 31, 32))

    assert _run(stack) == {"day": "2026-11-24", "planned": 1, "due": 1, "done": True}

    status, plan = call_api(stack, context, "GET", "/planning/skus/MUG-RED")
    assert status == 200
    assert plan["method"] in METHODS and plan["asOf"] == "2026-11-23"
    raw, cleaned = plan["history"]["raw"], plan["history"]["cleaned"]
    assert len(raw) == len(cleaned) == 84 and raw[-1]["date"] == "2026-11-23"
    assert [d["date"] for d in cleaned if d["units"] is None] == [
        (TODAY - timedelta(days=back)).isoformat() for back in (32, 31, 30)
    ]
    assert raw[0]["byChannel"] == {"MFN": WEEK[0]} and raw[0]["byMarketplace"] == {US: WEEK[0]}
    assert len(plan["forecast"]) == 28 and plan["forecast"][0]["date"] == "2026-11-24"
    assert all(f["low"] <= f["units"] <= f["high"] for f in plan["forecast"])
    chosen = [a for a in plan["accuracy"] if a["chosen"]]
    assert [a["method"] for a in chosen] == [plan["method"]]
    assert {a["method"] for a in plan["accuracy"] if a["baseline"]} == set(BASELINES)

    point, safety, quantity = plan["reorderPoint"], plan["safetyStock"], plan["orderQuantity"]
    assert plan["abcClass"] == "C" and plan["serviceLevel"] == 0.9  # no shipments in 90 days: class C
    assert safety["inputs"]["leadTimeDays"] == 10 and safety["inputs"]["leadTimeSource"] == "typed on the SKU"
    cover = point["inputs"]["demandOverLeadTime"] + point["inputs"]["demandOverReview"]  # over 10 + 7 days
    assert point["value"] == math.ceil(cover + safety["value"] - 0.02)
    assert 4 < point["inputs"]["dailyDemand"] < 7  # the weekly pattern sells 36 a week
    assert point["value"] > 40  # 40 available no longer covers the lead time: due
    assert quantity["value"] % 12 == 0 and quantity["value"] >= 24
    assert quantity["inputs"]["onHand"] == 40 and quantity["inputs"]["coverDays"] == 17
    assert plan["reorderDue"] is True

    status, stock = call_api(stack, context, "GET", "/inventory/MUG-RED")
    assert (stock["reorderPoint"], stock["safetyStock"]) == (point["value"], safety["value"])

    status, suggestions = call_api(stack, context, "GET", "/planning/reorder")
    assert status == 200
    [group] = suggestions["groups"]
    assert group["supplierId"] is None
    assert [(s["sku"], s["orderQuantity"], s["reorderPoint"]) for s in group["items"]] == [
        ("MUG-RED", quantity["value"], point["value"])
    ]

    item = default_table().get(keys.plan_key("MUG-RED"))
    [event] = events_from_change(None, item, event_id="e", occurred_at=TEST_CLOCK)
    assert event.detail_type == "ReorderDue" and event.data["orderQuantity"] == quantity["value"]
    assert events_from_change(item, item, event_id="e", occurred_at=TEST_CLOCK) == []  # still due: no news


def test_a_reorder_point_the_seller_fixed_is_never_overwritten(stack, context, time_machine):
    _setup(stack, context, "MUG-BLUE", {"leadTimeDays": 5, "reorderPoint": 7}, 500)
    _seed_history("MUG-BLUE", 60)

    _run(stack)

    _, stock = call_api(stack, context, "GET", "/inventory/MUG-BLUE")
    _, plan = call_api(stack, context, "GET", "/planning/skus/MUG-BLUE")
    assert stock["reorderPoint"] == 7 and stock["safetyStock"] == plan["safetyStock"]["value"] > 0
    assert plan["reorderPoint"]["value"] > 7 and plan["reorderDue"] is False  # 500 on hand: not due
    _, suggestions = call_api(stack, context, "GET", "/planning/reorder")
    assert suggestions["groups"] == []

    call_api(stack, context, "PUT", "/inventory/MUG-BLUE", {"safetyStock": 3})  # now the seller's
    time_machine.move_to(TEST_CLOCK + timedelta(days=1))
    _run(stack)
    _, stock = call_api(stack, context, "GET", "/inventory/MUG-BLUE")
    assert (stock["reorderPoint"], stock["safetyStock"]) == (7, 3)


def test_a_run_out_of_time_goes_on_next_time_and_a_done_day_returns_at_once(stack, context, monkeypatch):
    for sku in ("A-1", "B-1", "C-1"):
        _setup(stack, context, sku, {"leadTimeDays": 3}, 0)  # nothing available: each day ends out
    _seed_history("A-1", 40)
    monkeypatch.setattr(nightly, "PAGE", 1)
    clock = iter([1000.0, 0.0])

    first = nightly.run_nightly(default_table(), TEST_CLOCK, lambda: next(clock))
    assert (first.planned, first.done) == (1, False)
    assert default_table().get(keys.plan_key("B-1")) is None

    second = nightly.run_nightly(default_table(), TEST_CLOCK, lambda: 1000.0)
    assert (second.planned, second.done) == (3, True)
    assert all(default_table().get(keys.plan_key(sku)) for sku in ("A-1", "B-1", "C-1"))
    assert nightly.run_nightly(default_table(), TEST_CLOCK, lambda: 1000.0).already_done
    over = nightly.run_nightly(default_table(), TEST_CLOCK, lambda: 1000.0, again=True)  # an operator's rerun
    assert (over.planned, over.done, over.already_done) == (3, True, False)
    # A-1 ended yesterday with nothing available: its last day's demand is unknown, not 5
    demand = read_demand(default_table(), "A-1", TODAY - timedelta(days=1))
    assert demand is not None and demand.out[-1] is True


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [("/planning/skus/NEVER-PLANNED", None, 404), ("/planning/skus/X", {"historyDays": "0"}, 400)],
)
def test_bad_planning_requests_answer_4xx(stack, context, path, query, status):
    answer_status, answer = call_api(stack, context, "GET", path, query=query)
    assert answer_status == status and answer["error"]["code"]


def test_a_product_line_s_growth_and_promotion_shape_the_next_plan(stack, context):
    _setup(stack, context, "MUG-GREEN", {"leadTimeDays": 10}, 40)
    _seed_history("MUG-GREEN", 84)
    _run(stack)
    _, before = call_api(stack, context, "GET", "/planning/skus/MUG-GREEN")

    promotion = {"name": "Black Friday", "start": "2026-11-27", "end": "2026-11-30", "factor": 3}
    lines = {"lines": [{"name": "Mugs", "skuPrefix": "MUG-", "growthFactor": 1.5, "events": [promotion]}]}
    status, saved = call_api(stack, context, "PUT", "/planning/settings", lines)
    assert status == 200 and saved["lines"][0]["growthFactor"] == 1.5
    assert call_api(stack, context, "GET", "/planning/settings")[1] == saved
    bad = {"lines": [{"name": "Mugs", "events": [{**promotion, "end": "2026-11-26"}]}]}
    status, refused = call_api(stack, context, "PUT", "/planning/settings", bad)
    assert status == 400 and "ends before it starts" in str(refused)
    assert call_api(stack, context, "GET", "/planning/settings")[1] == saved  # nothing half-applied

    handler = stack.handler("plan_stock")
    handler.lambda_handler(load_event("plan_stock/again.json"), FifteenMinutes())  # the day planned over, now

    _, after = call_api(stack, context, "GET", "/planning/skus/MUG-GREEN")
    by_day = {f["date"]: f["units"] for f in before["forecast"]}
    for day in after["forecast"]:
        factor = 4.5 if "2026-11-27" <= day["date"] <= "2026-11-30" else 1.5
        assert day["units"] == pytest.approx(by_day[day["date"]] * factor, abs=0.02)
    assert after["productLine"] == "Mugs" and "Black Friday x3 on 4 day(s)" in after["note"]
    assert (
        after["orderQuantity"]["inputs"]["forecastDemand"]
        > before["orderQuantity"]["inputs"]["forecastDemand"]
    )


def _stored_before_counters(order_id: str, sku: str, quantity: int, purchased) -> None:
    """An order as stored before the demand counters existed: no unitsOrdered on it."""
    OrderRepository(default_table()).add(
        Order(
            order_id=order_id,
            marketplace_id=US,
            status=OrderStatus.SHIPPED,
            fulfillment_channel=FulfillmentChannel.MFN,
            purchase_date=purchased,
            last_update_date=purchased,
            is_prime=False,
            items=[OrderItem(order_item_id="1", sku=sku, quantity=quantity, quantity_shipped=quantity)],
        )
    )


def test_orders_stored_before_the_counters_are_counted_once_on_their_purchase_day(stack, context):
    _setup(stack, context, "MUG-OLD", {"leadTimeDays": 7}, 10)
    _stored_before_counters("111-0000001-0000001", "MUG-OLD", 2, TEST_CLOCK - timedelta(days=3))
    _stored_before_counters("111-0000001-0000002", "MUG-OLD", 5, TEST_CLOCK - timedelta(days=3, hours=1))
    _stored_before_counters("111-0000001-0000003", "MUG-OLD", 4, TEST_CLOCK - timedelta(days=800))  # too old
    _stored_before_counters("111-0000001-0000004", "MUG-OLD", 1, TEST_CLOCK - timedelta(days=2))

    _order("111-0000001-0000004", "MUG-OLD", 1, status="Shipped", shipped=1)  # written again: counted then
    _run(stack)
    _run(stack)  # the count is done once

    demand = read_demand(default_table(), "MUG-OLD", TODAY - timedelta(days=1))
    assert demand is not None
    assert demand.start == TODAY - timedelta(days=3) and demand.units == [7.0, 1.0, 0.0]
    assert read_demand(default_table(), "MUG-OLD", TODAY - timedelta(days=700), days=730) is None
    counted = default_table().get(keys.order_key("111-0000001-0000002"))
    assert counted is not None and counted["unitsOrdered"] == {"MUG-OLD": 5}


def test_a_sku_with_spaces_and_signs_is_found_by_its_percent_encoded_path(stack, context):
    _setup(stack, context, "MUG%20RED%231", {"leadTimeDays": 5}, 3)  # the SKU "MUG RED#1"
    _seed_history("MUG RED#1", 30)
    _run(stack)

    status, plan = call_api(stack, context, "GET", "/planning/skus/MUG%20RED%231")
    assert status == 200 and plan["sku"] == "MUG RED#1" and len(plan["history"]["raw"]) == 30


def test_a_suggestion_grouped_by_supplier_becomes_a_po_whose_partial_receipt_shrinks_the_next_one(
    stack, context
):
    # a SKU reordered from a supplier: 12 days' lead time, cases of 12, at least 24
    _setup(stack, context, "MUG-BLUE", {}, 10)
    _seed_history("MUG-BLUE", 84)
    supplier = call_api(stack, context, "POST", "/suppliers", {"name": "Mug Works", "currencyCode": "USD"})[1]
    terms = {
        "leadTime": {"productionDays": 7, "transitDays": 4, "receivingDays": 1},
        "minimumOrderQuantity": 24,
        "casePack": 12,
        "unitCost": {"amount": "2.40", "currencyCode": "USD"},
    }
    status, answer = call_api(
        stack, context, "PUT", f"/suppliers/{supplier['supplierId']}/skus/MUG-BLUE", terms
    )
    assert status == 200, answer
    _run(stack)

    plan = call_api(stack, context, "GET", "/planning/skus/MUG-BLUE")[1]
    assert plan["safetyStock"]["inputs"]["leadTimeDays"] == 12
    assert (
        plan["safetyStock"]["inputs"]["leadTimeSource"]
        == f"supplier {supplier['supplierId']}: typed in its terms"
    )
    [group] = call_api(stack, context, "GET", "/planning/reorder")[1]["groups"]
    assert (group["supplierId"], group["supplierName"]) == (supplier["supplierId"], "Mug Works")
    [first] = group["items"]
    assert first["orderQuantity"] % 12 == 0 and first["orderQuantity"] >= 24

    # the suggestion becomes a draft PO for its supplier, sent, and received in part
    lines = [{"sku": s["sku"], "quantity": s["orderQuantity"]} for s in group["items"]]
    status, po = call_api(
        stack, context, "POST", "/purchase-orders", {"supplierId": group["supplierId"], "lines": lines}
    )
    assert status == 201, po
    assert call_api(stack, context, "POST", f"/purchase-orders/{po['poId']}/send")[0] == 200
    part = first["orderQuantity"] // 2
    status, received = call_api(
        stack,
        context,
        "POST",
        f"/purchase-orders/{po['poId']}/receipts",
        {"lines": [{"sku": "MUG-BLUE", "quantity": part}]},
    )
    assert status in (200, 201), received
    ledger = call_api(stack, context, "GET", "/inventory/MUG-BLUE/ledger")[1]["items"]
    assert (ledger[0]["delta"], ledger[0]["reason"], ledger[0]["reference"]) == (part, "receipt", po["poId"])
    stock = call_api(stack, context, "GET", "/inventory/MUG-BLUE")[1]
    assert (stock["onHand"], stock["onOrder"]) == (10 + part, first["orderQuantity"] - part)

    # the next plan counts what arrived and what is still on order: nothing more to order now
    assert _run_again(stack)["planned"] == 1
    plan = call_api(stack, context, "GET", "/planning/skus/MUG-BLUE")[1]
    assert plan["orderQuantity"]["inputs"]["onHand"] == 10 + part
    assert plan["orderQuantity"]["inputs"]["onOrder"] == first["orderQuantity"] - part
    assert plan["orderQuantity"]["value"] < first["orderQuantity"]


def _run_again(stack) -> dict:
    handler = stack.handler("plan_stock")
    return handler.lambda_handler(load_event("plan_stock/again.json"), FifteenMinutes())


def test_a_read_or_write_the_table_refuses_for_a_moment_is_tried_again_and_the_run_completes(stack, context):
    for sku in ("A-1", "B-1"):
        _setup(stack, context, sku, {"leadTimeDays": 3}, 5)
    _seed_history("A-1", 40)
    # the first call of each kind fails past the SDK's retries (at 15% faults one of a large catalogue's
    # thousands of reads always did: the day's plan never got made)
    table, failed = throttled_table(lambda operation, n: n == 0)

    run = nightly.run_nightly(table, TEST_CLOCK, lambda: 1000.0)

    assert {"GetItem", "Query", "PutItem", "BatchGetItem", "TransactWriteItems"} <= set(failed)
    assert run.done and run.planned >= 2
    assert all(default_table().get(keys.plan_key(sku)) for sku in ("A-1", "B-1"))
