"""The product catalogue: a SKU read from Amazon the first time an order or stock row names it (the table
stream, before any backstop run), the seller's own values winning, and rates compared before buying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from oms.amazon.notifications import Notification
from oms.amazon.orders_api import ApiOrder
from oms.inventory.stock import StockPolicy, adjust_stock, set_policy
from oms.orders.intake import apply_change, change_from_api, change_from_notification
from oms.store import keys
from oms.store.default import default_table
from oms_local.simulator import contract
from oms_local.simulator.shipping import SERVICES
from tests.api_calls import call_api
from tests.builders import WAREHOUSE_SETTINGS, order_change
from tests.conftest import load_event
from tests.integration.amazon_side import (  # noqa: F401 - fixtures
    TableStream,
    amazon_fixture,
    calls,
    inject_fault,
    simulator_fixture,
)

pytestmark = pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")

MUG, CAKESTAND = "85123A", "22423"  # the built-in catalogue's heart T-light holder and cake stand
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def stream(stack):
    return TableStream(stack, "read_catalogue", stack.handler("read_catalogue").lambda_handler)


def _notified(amazon, sku: str, quantity: int = 1) -> str:
    """An order placed on Amazon and its ORDER_CHANGE applied as intake does: no title, no price yet."""
    status, answer = amazon.server.control("POST", "/_simulator/orders", {"sku": sku, "quantity": quantity})
    assert status == 201, answer
    order_id = answer["orderId"]
    document = order_change(order_id, "Unshipped", [(sku, quantity, 0)], at=datetime.now(UTC))
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))
    return order_id


def test_an_order_shows_its_title_and_image_from_the_first_notification(
    stack, amazon, stream, context, clock
):
    # given an order for a heart T-light holder, known only from Amazon's notification (no title in it)
    order_id = _notified(amazon, MUG)
    status, before = call_api(stack, context, "GET", f"/orders/{order_id}")
    assert status == 200 and before["items"][0].get("title") is None

    # when the table stream delivers the new order to read_catalogue
    stream.deliver()

    # then the order page shows Amazon's title and image, and the product has its ASIN, weight and size
    status, order = call_api(stack, context, "GET", f"/orders/{order_id}")
    item = order["items"][0]
    product = amazon.marketplace.catalogue.product(MUG)
    assert (item["title"], item["asin"]) == ("White Hanging Heart T-Light Holder", product.asin)
    assert item["imageUrl"].endswith(f"/_simulator/images/{product.asin}.svg")
    status, shown = call_api(stack, context, "GET", f"/products/{MUG}")
    assert status == 200, shown
    assert shown["weight"] == {"value": float(product.package_weight_pounds), "unit": "lb"}
    length, width, height = product.package_size_inches
    assert shown["dimensions"] == {
        "length": float(length),
        "width": float(width),
        "height": float(height),
        "unit": "in",
    }
    assert shown["listedOnAmazon"] is True and shown["sellerSet"] == []
    status, listed = call_api(stack, context, "GET", "/orders", query={"status": "Unshipped"})
    assert listed["items"][0]["items"][0]["title"] == "White Hanging Heart T-Light Holder"

    # and the pick list names the product by its title, before any backstop run
    set_policy(default_table(), MUG, StockPolicy())
    adjust_stock(default_table(), MUG, 5, reason="receipt", reference="po-1", actor="test")
    status, batch = call_api(stack, context, "POST", "/batches", {"orderIds": [order_id]})
    assert status == 201, batch
    assert [line["title"] for line in batch["lines"]] == ["White Hanging Heart T-Light Holder"]

    # and the order report names it too (view=unshipped reads a status index; all reads by purchase date)
    for view in ("all", "unshipped"):
        query = {"view": view, "columns": "amazon-order-id,sku,product-name,asin"}
        status, report = call_api(stack, context, "GET", "/reports/orders", query=query)
        assert status == 200, report
        assert report["items"] == [
            {
                "amazon-order-id": order_id,
                "sku": MUG,
                "product-name": "White Hanging Heart T-Light Holder",
                "asin": product.asin,
            }
        ]

    # and a second order of the same SKU reads nothing more from Amazon
    _notified(amazon, MUG, 2)
    stream.deliver()
    assert calls(amazon, "getCatalogItem") == 1 and calls(amazon, "getListingsItem") == 1


def test_a_new_stock_row_is_read_too_and_a_sku_amazon_does_not_list_is_marked(
    stack, amazon, stream, context, clock
):
    # given the cake stand listed on Amazon (a buyer once ordered it) and a SKU only the seller knows
    status, answer = amazon.server.control("POST", "/_simulator/orders", {"sku": CAKESTAND, "quantity": 1})
    assert status == 201, answer
    # when the seller creates their stock rows
    set_policy(default_table(), "NOT-ON-AMAZON", StockPolicy())
    set_policy(default_table(), CAKESTAND, StockPolicy())
    stream.deliver()

    # then both are in the catalogue, the one Amazon does not list marked so
    status, missing = call_api(stack, context, "GET", "/products/NOT-ON-AMAZON")
    assert status == 200 and missing["listedOnAmazon"] is False and missing["title"] is None
    status, page = call_api(stack, context, "GET", "/products")
    assert [p["sku"] for p in page["items"]] == [CAKESTAND, "NOT-ON-AMAZON"]
    assert page["items"][0]["title"] == "Regency Cakestand 3 Tier"
    status, some = call_api(stack, context, "GET", "/products", query={"skus": f"{CAKESTAND},NEVER-SEEN"})
    assert status == 200 and [p["sku"] for p in some["items"]] == [CAKESTAND]
    too_many = ",".join(f"SKU-{n}" for n in range(101))
    status, refused = call_api(stack, context, "GET", "/products", query={"skus": too_many})
    assert status == 400 and refused["error"]["details"][0]["field"] == "skus", refused


def test_a_sku_stocked_before_amazon_listed_it_is_read_again_when_a_buyer_orders_it(
    stack, amazon, stream, context, clock
):
    # given a stock row made before the listing existed: Amazon did not know the SKU then
    set_policy(default_table(), "LISTED-LATER", StockPolicy())
    stream.deliver()
    assert call_api(stack, context, "GET", "/products/LISTED-LATER")[1]["listedOnAmazon"] is False
    set_policy(default_table(), "LISTED-LATER", StockPolicy(reorder_point=3))
    stream.deliver()
    assert calls(amazon, "getListingsItem") == 1, "a stock change alone does not ask Amazon again"

    # when the seller lists it and a buyer orders it
    _notified(amazon, "LISTED-LATER")
    stream.deliver()

    # then the catalogue asks Amazon again and the product has its title and picture
    status, product = call_api(stack, context, "GET", "/products/LISTED-LATER")
    assert status == 200 and product["listedOnAmazon"] is True, product
    assert product["title"] == "Product LISTED-LATER" and product["imageUrl"]
    assert calls(amazon, "getListingsItem") == 2


def test_the_sample_event_reads_its_sku_and_the_sample_schedule_finds_nothing_stale(
    stack, amazon, context, clock
):
    amazon.server.control("POST", "/_simulator/orders", {"sku": MUG, "quantity": 1})  # listed on Amazon
    handler = stack.handler("read_catalogue")

    assert handler.lambda_handler(load_event("read_catalogue/new_order.json"), context) == {
        "batchItemFailures": []
    }
    assert (
        call_api(stack, context, "GET", f"/products/{MUG}")[1]["title"]
        == "White Hanging Heart T-Light Holder"
    )
    refreshed = handler.lambda_handler(load_event("read_catalogue/schedule.json"), context)
    assert refreshed["result"]["read"] == 0, "read a moment ago: not due for a month"


def test_a_throttled_read_is_retried_from_its_record_and_read_once(stack, amazon, stream, context, clock):
    order_id = _notified(amazon, MUG)
    inject_fault(amazon, "getCatalogItem", 429, 5)  # the client's five attempts all throttled

    stream.deliver()

    failed, retried = stream.answers[0], stream.answers[-1]
    assert len(failed["batchItemFailures"]) == 1, "the record is reported for a retry, not dropped"
    assert retried == {"batchItemFailures": []}
    status, order = call_api(stack, context, "GET", f"/orders/{order_id}")
    assert status == 200, order
    assert order["items"][0]["title"] == "White Hanging Heart T-Light Holder"
    assert calls(amazon, "getCatalogItem", "ok") == 1


def test_a_read_amazon_refuses_holds_up_no_other_sku_and_is_tried_again_when_next_seen(
    stack, amazon, stream, context, clock
):
    # given two new SKUs in one batch, and Amazon refusing the first read (400)
    _notified(amazon, MUG)
    _notified(amazon, CAKESTAND)
    inject_fault(amazon, "getListingsItem", 400, 1)

    stream.deliver()

    # then the batch succeeds: the other SKU is read, the refused one is not recorded
    assert stream.answers == [{"batchItemFailures": []}]
    read = {sku for sku in (MUG, CAKESTAND) if call_api(stack, context, "GET", f"/products/{sku}")[0] == 200}
    assert len(read) == 1
    (refused,) = {MUG, CAKESTAND} - read

    # and the refused SKU is read when it is seen again
    _notified(amazon, refused)
    stream.deliver()
    assert call_api(stack, context, "GET", f"/products/{refused}")[1]["listedOnAmazon"] is True


def test_the_sellers_values_win_and_survive_amazons_refresh(stack, amazon, stream, context, clock):
    _notified(amazon, MUG)
    stream.deliver()

    body = {"title": "Heart tea-light holder, white", "weight": {"value": 12.5, "unit": "oz"}}
    status, mine = call_api(stack, context, "PUT", f"/products/{MUG}", body)

    assert status == 200, mine
    assert mine["title"] == "Heart tea-light holder, white" and mine["weight"] == {
        "value": 12.5,
        "unit": "oz",
    }
    assert mine["sellerSet"] == ["title", "weight"]
    assert mine["amazon"]["title"] == "White Hanging Heart T-Light Holder"
    assert mine["dimensions"]["unit"] == "in", "what the seller left out follows Amazon"

    # a month later the daily refresh reads Amazon again; the seller's values still win
    clock.shift(timedelta(days=31))
    stack.handler("read_catalogue").lambda_handler({"scheduledTime": "x"}, context)
    assert calls(amazon, "getCatalogItem") == 2
    status, after = call_api(stack, context, "GET", f"/products/{MUG}")
    assert after["title"] == "Heart tea-light holder, white" and after["readAt"] > mine["readAt"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weight": {"value": 3, "unit": "stone"}}, "weight.unit"),
        ({"weight": {"value": -1, "unit": "oz"}}, "weight.value"),
        ({"dimensions": {"length": 5, "width": 4, "unit": "in"}}, "dimensions.height"),
        ({"title": ""}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_product_values_are_refused_naming_the_field_and_nothing_is_written(stack, context, body, field):
    status, answer = call_api(stack, context, "PUT", f"/products/{MUG}", body)

    assert status in (400, 422), answer
    assert field in str(answer["error"]), answer
    assert default_table().get(keys.product_key(MUG)) is None
    assert call_api(stack, context, "GET", f"/products/{MUG}")[0] == 404


# --- rate shopping ---------------------------------------------------------------------------------


@pytest.fixture
def shop(stack, amazon, context):
    status, answer = call_api(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)
    assert status == 200, answer
    set_policy(default_table(), MUG, StockPolicy())
    adjust_stock(default_table(), MUG, 10, reason="receipt", reference="po-1", actor="test")
    return amazon


def _placed(amazon, quantity: int) -> str:
    status, answer = amazon.server.control("POST", "/_simulator/orders", {"sku": MUG, "quantity": quantity})
    assert status == 201, answer
    api = ApiOrder.model_validate(amazon.marketplace.get_order(answer["orderId"])["order"])
    apply_change(default_table(), change_from_api(api, "ATVPDKIKX0DER"))
    return answer["orderId"]


def test_rates_are_compared_from_the_catalogues_package_and_the_chosen_one_is_bought_at_its_price(
    stack, shop, stream, context, clock
):
    # given an order for 3 heart holders whose weight and size Amazon's catalogue gave
    order_id = _placed(shop, 3)
    stream.deliver()

    # when the seller compares rates
    status, rates = call_api(stack, context, "GET", f"/orders/{order_id}/rates")

    # then every service is listed cheapest first, the package weighs 3 units, and one is the cheapest on time
    assert status == 200, rates
    items = rates["items"]
    prices = [Decimal(i["price"]["amount"]) for i in items]
    assert prices == sorted(prices) and len(items) == len(
        SERVICES
    )  # every service the local Buy Shipping sells
    pounds = shop.marketplace.catalogue.product(MUG).package_weight_pounds * 3
    assert rates["package"]["source"] == "catalogue"
    assert abs(Decimal(str(rates["package"]["weight"])) - pounds * Decimal("453.59237")) < 1
    on_time = [i for i in items if i["meetsPromise"]]
    assert [i for i in items if i["cheapestOnTime"]] == [
        min(on_time, key=lambda i: Decimal(i["price"]["amount"]))
    ]
    for item in items:
        assert item["meetsPromise"] == (item["deliveryWindow"]["latest"] <= rates["latestDeliveryDate"])

    # and buying the dearest one records its price on the shipment and the order
    chosen = items[-1]
    status, answer = call_api(
        stack,
        context,
        "POST",
        f"/orders/{order_id}/shipments",
        {"buyLabel": True, "shippingServiceId": chosen["shippingServiceId"]},
    )
    assert status == 201, answer
    assert answer["shipment"]["rate"] == chosen["price"]
    assert answer["order"]["shipments"][0]["rate"] == chosen["price"]
    assert answer["shipment"]["weightGrams"] == round(pounds * Decimal("453.59237"))

    # and the end-of-day form and the shipping-spend report count what the label cost
    carrier = answer["shipment"]["carrier"]
    status, form = call_api(stack, context, "GET", "/reports/end-of-day", query={"carrier": carrier})
    assert status == 200, form
    assert [p["labelCost"] for p in form["packages"]] == [chosen["price"]]
    assert form["totalLabelCost"] == [chosen["price"]]
    day = form["date"]
    status, spend = call_api(stack, context, "GET", "/reports/shipping-spend", query={"from": day, "to": day})
    assert status == 200, spend
    assert spend["total"] == [chosen["price"]] and spend["packages"] == 1
    assert spend["byCarrier"] == [{"carrier": carrier, "packages": 1, "total": [chosen["price"]]}]
    before = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    status, empty = call_api(
        stack, context, "GET", "/reports/shipping-spend", query={"from": before, "to": before}
    )
    assert empty["total"] == [] and empty["packages"] == 0
    status, refused = call_api(
        stack, context, "GET", "/reports/shipping-spend", query={"from": day, "to": before}
    )
    assert status == 400 and "to" in refused["error"]["message"], refused


def test_a_given_package_overrides_the_catalogue_and_a_half_given_one_is_refused(stack, shop, context, clock):
    order_id = _placed(shop, 1)

    status, heavy = call_api(
        stack,
        context,
        "GET",
        f"/orders/{order_id}/rates",
        query={"weight": "160", "weightUnit": "oz", "length": "20", "width": "12", "height": "10"},
    )
    assert status == 200, heavy
    assert heavy["package"]["source"] == "given"
    status, light = call_api(stack, context, "GET", f"/orders/{order_id}/rates")
    assert light["package"]["source"] == "default", "nothing in the catalogue yet: the shipping setup's box"
    assert Decimal(heavy["items"][0]["price"]["amount"]) > Decimal(light["items"][0]["price"]["amount"])

    status, answer = call_api(
        stack, context, "GET", f"/orders/{order_id}/rates", query={"weight": "16", "length": "10"}
    )
    assert status == 400 and "width" in answer["error"]["message"], answer

    # a default box with more decimals than the catalogue keeps still prices
    odd_box = {
        "length": 10.123456,
        "width": 8,
        "height": 4,
        "dimensionUnit": "inches",
        "weight": 15.987654,
        "weightUnit": "oz",
    }
    assert (
        call_api(stack, context, "PUT", "/settings/shipping", {**WAREHOUSE_SETTINGS, "package": odd_box})[0]
        == 200
    )
    status, odd = call_api(stack, context, "GET", f"/orders/{order_id}/rates")
    assert status == 200 and odd["package"]["weight"] == 15.987654, odd

    status, answer = call_api(stack, context, "GET", "/orders/NO-SUCH-ORDER/rates")
    assert status == 404, answer

    status, afn = shop.server.control("POST", "/_simulator/orders", {"sku": MUG, "quantity": 1, "afn": True})
    api = ApiOrder.model_validate(shop.marketplace.get_order(afn["orderId"])["order"])
    apply_change(default_table(), change_from_api(api, "ATVPDKIKX0DER"))
    status, answer = call_api(stack, context, "GET", f"/orders/{afn['orderId']}/rates")
    assert status == 409 and afn["orderId"] in answer["error"]["message"], answer


def test_a_rules_chosen_service_is_marked_among_the_rates_and_bought_unless_the_seller_names_another(
    stack, shop, stream, context, clock
):
    from oms.domain.rules import RuleTrigger
    from oms.rules.run import run_on_change
    from oms.rules.store import RuleStore

    # given an order, and the rates Amazon offers for it
    order_id = _placed(shop, 1)
    stream.deliver()
    items = call_api(stack, context, "GET", f"/orders/{order_id}/rates")[1]["items"]
    on_time = [i for i in items if i["meetsPromise"] and not i["cheapestOnTime"]]
    assert on_time, items  # a dearer service that also keeps the promise
    wanted = on_time[-1]

    # when a rule chooses that (dearer) service for every order, and runs on the order's arrival
    rule = {
        "name": "Our carrier",
        "actions": [{"type": "chooseShipping", "carrier": wanted["carrier"], "service": wanted["service"]}],
    }
    assert call_api(stack, context, "POST", "/rules", rule)[0] == 201
    result = run_on_change(
        default_table(),
        RuleStore(default_table()).all(),
        order_id=order_id,
        change_id="e1",
        trigger=RuleTrigger.ARRIVAL,
    )
    assert result.outcome is not None

    # then the rates mark it, and a label bought without naming a service is that one
    rates = call_api(stack, context, "GET", f"/orders/{order_id}/rates")[1]["items"]
    assert [i["shippingServiceId"] for i in rates if i["chosenByRule"]] == [wanted["shippingServiceId"]]
    status, answer = call_api(stack, context, "POST", f"/orders/{order_id}/shipments", {"buyLabel": True})
    assert status == 201, answer
    assert answer["shipment"]["rate"] == wanted["price"]


def test_a_rule_chooses_a_package_preset_by_name_and_the_rates_price_that_box(
    stack, shop, stream, context, clock
):
    from oms.domain.rules import RuleTrigger
    from oms.rules.run import run_on_change
    from oms.rules.store import RuleStore

    order_id = _placed(shop, 2)
    stream.deliver()
    rule = {"name": "Tall box", "actions": [{"type": "chooseShipping", "packagePreset": "Tall"}]}
    refused = call_api(stack, context, "POST", "/rules", rule)
    assert refused[0] == 400 and "actions[0].packagePreset" in str(refused[1]), refused
    tall = {
        "name": "Tall",
        "length": 6,
        "width": 6,
        "height": 20,
        "dimensionUnit": "inches",
        "weight": 40,
        "weightUnit": "oz",
    }
    status, setup = call_api(stack, context, "PATCH", "/settings/shipping", {"packagePresets": [tall]})
    assert status == 200, setup
    assert call_api(stack, context, "POST", "/rules", rule)[0] == 201
    run_on_change(
        default_table(),
        RuleStore(default_table()).all(),
        order_id=order_id,
        change_id="e1",
        trigger=RuleTrigger.ARRIVAL,
    )

    package = call_api(stack, context, "GET", f"/orders/{order_id}/rates")[1]["package"]
    # the preset's size, the catalogue's weight for the two units (it knows them)
    assert (package["source"], package["height"], package["length"]) == ("preset", 20, 6)
    pounds = shop.marketplace.catalogue.product(MUG).package_weight_pounds * 2
    assert abs(Decimal(str(package["weight"])) - pounds * Decimal("453.59237")) < 1


# --- updates to the buyer before they ask ------------------------------------------------------------


def test_an_update_goes_to_the_buyer_once_only_where_amazon_offers_it_and_shows_on_the_timeline(
    stack, shop, context, clock
):
    order_id = _placed(shop, 1)
    path = f"/orders/{order_id}/buyer-updates"
    status, options = call_api(stack, context, "GET", path)
    assert status == 200, options
    assert options == {
        "allowed": ["unexpectedProblem", "confirmDeliveryDetails", "confirmOrderDetails"],
        "sent": [],
    }

    # a text breaking Amazon's content rules: 422 naming the rule, nothing sent (and nothing claimed)
    bad = {"kind": "confirmDeliveryDetails", "text": "Write to us at help@mugs.example"}
    refused = call_api(stack, context, "POST", path, bad)
    assert refused[0] == 422 and "no-email-addresses" in str(refused[1])
    text = "Your parcel arrives Thursday; is someone at home to sign for it?"
    status, sent = call_api(stack, context, "POST", path, {"kind": "confirmDeliveryDetails", "text": text})
    assert status == 201, sent
    assert (sent["kind"], sent["text"]) == ("confirmDeliveryDetails", text)
    again = call_api(stack, context, "POST", path, {"kind": "confirmDeliveryDetails", "text": text})
    assert again[0] == 409 and "already sent" in again[1]["error"]["message"]
    (message,) = shop.marketplace.seller_activity(order_id)["messages"]
    assert (message["type"], message["text"]) == ("confirmDeliveryDetails", text)
    timeline = call_api(stack, context, "GET", f"/orders/{order_id}/timeline")[1]["items"]
    assert "asked the buyer to confirm delivery details through Amazon" in [e["text"] for e in timeline]
    assert [u["kind"] for u in call_api(stack, context, "GET", path)[1]["sent"]] == ["confirmDeliveryDetails"]

    # an order Amazon ships (FBA) offers no message to the seller: refused, nothing claimed
    from oms_local.simulator import Wanted

    afn = shop.marketplace.place_order([Wanted(MUG, 1)], afn=True)
    api = ApiOrder.model_validate(shop.marketplace.get_order(afn)["order"])
    apply_change(default_table(), change_from_api(api, "ATVPDKIKX0DER"))
    question = {"kind": "confirmOrderDetails", "text": "Which colour would you like?"}
    late = call_api(stack, context, "POST", f"/orders/{afn}/buyer-updates", question)
    assert late[0] == 409 and "does not offer 'confirm order details'" in late[1]["error"]["message"]
    assert call_api(stack, context, "GET", f"/orders/{afn}/buyer-updates")[1] == {"allowed": [], "sent": []}
    assert call_api(stack, context, "POST", "/orders/unknown-1/buyer-updates", question)[0] == 404
