"""Order rules through the API and the bus on moto: refused when they cannot be evaluated, run once per order
change from the events the stream publishes, told on the order's timeline, kept across later changes,
announced when they say so, and tried on past orders by the dry run."""

from __future__ import annotations

import json
from datetime import timedelta

from oms.amazon.notifications import Notification
from oms.orders.intake import apply_change, change_from_notification
from oms.store.default import default_table
from tests.api_calls import call_api
from tests.builders import T0, order_change, sqs_event
from tests.integration.test_returns import _published

HEAVY_TO_UPS = {
    "name": "Heavy to UPS",
    "conditions": [{"field": "weightLb", "op": "gte", "value": 5}],
    "actions": [
        {"type": "addTag", "tag": "heavy"},
        {"type": "chooseShipping", "carrier": "UPS", "service": "UPS Ground"},
        {"type": "sendWebhook"},
    ],
}


def _order(order_id: str, status: str, sku: str, quantity: int, at=T0) -> None:
    document = order_change(order_id, status, [(sku, quantity, 0)], at=at)
    apply_change(default_table(), change_from_notification(Notification.model_validate(document)))


def _run_rules(stack, context) -> list[dict]:
    """Publish what the stream holds (events land on the rules' queue through the bus rule), then run
    apply_rules on what its queue received; returns the SQS messages it ran on."""
    heard = _published(stack, context)
    sqs = stack.client("sqs")
    url = stack.resources.refs["RuleEventsQueue"]
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [json.loads(m["Body"]) for m in messages]
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    if bodies:
        answer = stack.handler("apply_rules").lambda_handler(sqs_event(*bodies), context)
        assert answer == {"batchItemFailures": []}
    stack.rules_heard = heard  # type: ignore[attr-defined]
    return bodies


def _products(stack, context) -> None:
    for sku, pounds in (("ANVIL", 4), ("FEATHER", 0.1)):
        body = {"weight": {"value": pounds, "unit": "lb"}}
        assert call_api(stack, context, "PUT", f"/products/{sku}", body)[0] == 200


def test_a_rule_that_cannot_be_evaluated_is_refused_with_the_field_named(stack, context):
    bad = {**HEAVY_TO_UPS, "conditions": [{"field": "weightLb", "op": "gte", "value": "heavy"}]}
    status, answer = call_api(stack, context, "POST", "/rules", bad)
    assert status == 400, answer
    assert "field 'weightLb': the value must be number" in json.dumps(answer)
    status, answer = call_api(
        stack,
        context,
        "POST",
        "/rules",
        {**HEAVY_TO_UPS, "conditions": [{"field": "colour", "op": "eq", "value": "red"}]},
    )
    assert status == 400 and "unknown field 'colour'" in json.dumps(answer)
    assert call_api(stack, context, "GET", "/rules")[1] == {"items": []}


def test_rules_are_kept_in_the_order_they_run_changed_and_deleted(stack, context):
    first = call_api(stack, context, "POST", "/rules", HEAVY_TO_UPS)
    assert first[0] == 201, first
    second = call_api(
        stack,
        context,
        "POST",
        "/rules",
        {"name": "Tag all", "actions": [{"type": "addTag", "tag": "all"}], "position": 5},
    )[1]
    listed = call_api(stack, context, "GET", "/rules")[1]["items"]
    assert [r["name"] for r in listed] == ["Tag all", "Heavy to UPS"]
    assert first[1]["position"] == 10 and first[1]["runOn"] == ["arrival", "statusChange"]
    rule_id = first[1]["ruleId"]
    status, changed = call_api(
        stack, context, "PUT", f"/rules/{rule_id}", {**HEAVY_TO_UPS, "enabled": False, "position": 1}
    )
    assert status == 200 and (changed["enabled"], changed["position"], changed["createdAt"]) == (
        False,
        1,
        first[1]["createdAt"],
    )
    assert [r["name"] for r in call_api(stack, context, "GET", "/rules")[1]["items"]] == [
        "Heavy to UPS",
        "Tag all",
    ]
    assert call_api(stack, context, "DELETE", f"/rules/{second['ruleId']}")[0] == 200
    assert call_api(stack, context, "GET", f"/rules/{second['ruleId']}")[0] == 404
    fields = call_api(stack, context, "GET", "/rules/fields")[1]
    assert {"name": "weightLb", "kind": "number"}.items() <= next(
        f for f in fields["fields"] if f["name"] == "weightLb"
    ).items()


def test_a_rule_sends_heavy_orders_to_ups_once_per_change_and_says_so_on_the_timeline(stack, context):
    _products(stack, context)
    rule = call_api(stack, context, "POST", "/rules", HEAVY_TO_UPS)[1]
    _order("111-HEAVY", "Unshipped", "ANVIL", 2)  # 8 lb
    _order("111-LIGHT", "Unshipped", "FEATHER", 3)
    _run_rules(stack, context)

    heavy = call_api(stack, context, "GET", "/orders/111-HEAVY")[1]
    assert heavy["handling"] == {
        "tags": ["heavy"],
        "holdUntil": None,
        "carrier": "UPS",
        "service": "UPS Ground",
        "packagePreset": None,
        "location": None,
        "pickGroup": None,
    }
    assert call_api(stack, context, "GET", "/orders/111-LIGHT")[1]["handling"] is None
    said = [
        e["text"]
        for e in call_api(stack, context, "GET", "/orders/111-HEAVY/timeline")[1]["items"]
        if e["kind"] == "rule"
    ]
    assert said == [
        "rule 'Heavy to UPS' tagged the order 'heavy'",
        "rule 'Heavy to UPS' chose UPS Ground",
        "rule 'Heavy to UPS' sent a RuleMatched webhook",
    ]
    announced = [e for e in _published(stack, context) if e["detail-type"] == "RuleMatched"]
    assert [(e["detail"]["data"]["orderId"], e["detail"]["data"]["ruleId"]) for e in announced] == [
        ("111-HEAVY", rule["ruleId"])
    ]

    # the same events delivered again (SQS, EventBridge and streams deliver at least once): nothing new
    _run_rules(stack, context)
    again = [
        e
        for e in call_api(stack, context, "GET", "/orders/111-HEAVY/timeline")[1]["items"]
        if e["kind"] == "rule"
    ]
    assert len(again) == 3

    # Amazon changes the order later: what the rules set stays, and a status change runs them again
    _order("111-HEAVY", "Shipped", "ANVIL", 2, at=T0 + timedelta(hours=3))
    assert call_api(stack, context, "GET", "/orders/111-HEAVY")[1]["handling"]["service"] == "UPS Ground"
    _run_rules(stack, context)
    after = call_api(stack, context, "GET", "/orders/111-HEAVY")[1]
    assert after["status"] == "Shipped" and after["handling"]["tags"] == ["heavy"]
    rule_entries = [
        e
        for e in call_api(stack, context, "GET", "/orders/111-HEAVY/timeline")[1]["items"]
        if e["kind"] == "rule"
    ]
    assert len(rule_entries) == 6 and {e["details"]["trigger"] for e in rule_entries} == {
        "arrival",
        "statusChange",
    }


def test_a_notify_action_is_an_alert_and_a_dry_run_shows_what_a_rule_would_have_done(stack, context):
    _products(stack, context)
    _order("111-A", "Unshipped", "ANVIL", 1, at=T0 - timedelta(days=2))  # 4 lb
    _order("111-B", "Unshipped", "ANVIL", 3, at=T0 - timedelta(days=1))  # 12 lb
    _order("111-C", "Unshipped", "FEATHER", 1)
    draft = {**HEAVY_TO_UPS, "conditions": [{"field": "weightLb", "op": "gt", "value": 3}]}
    status, tried = call_api(stack, context, "POST", "/rules/test", draft)
    assert status == 200, tried
    assert (tried["ordersChecked"], tried["ordersMatched"]) == (3, 2)
    assert [o["orderId"] for o in tried["matched"]] == ["111-C", "111-B", "111-A"][1:]
    assert tried["matched"][0]["actions"][1] == "rule 'Heavy to UPS' chose UPS Ground"
    assert (
        call_api(stack, context, "GET", "/orders/111-B")[1]["handling"] is None
    )  # a dry run changes nothing

    notify = {
        "name": "Big order",
        "conditions": [{"field": "quantity", "op": "gte", "value": 3}],
        "actions": [{"type": "notify", "message": "check stock for a big order"}],
    }
    rule = call_api(stack, context, "POST", "/rules", notify)[1]
    assert call_api(stack, context, "POST", f"/rules/{rule['ruleId']}/test")[1]["ordersMatched"] == 1
    _run_rules(stack, context)
    alerts = [e for e in _published(stack, context) if e["detail-type"] == "RuleNotification"]
    assert [(a["detail"]["data"]["orderId"], a["detail"]["data"]["message"]) for a in alerts] == [
        ("111-B", "check stock for a big order")
    ]


def test_a_dry_run_reads_the_products_of_its_orders_in_batches_not_one_read_per_order(stack, context):
    from oms.domain.rules import RuleDraft
    from oms.rules.dry_run import dry_run

    for n in range(120):  # 120 orders, each of its own SKU
        _order(f"111-{n:07d}", "Unshipped", f"SKU-{n:03d}", 1 + n % 4, at=T0 - timedelta(minutes=n))
    table = default_table()
    batch_reads: list[str] = []

    def count(**kwargs):  # the products' batches, not a page of orders read by key after its index page
        wanted = [key for request in kwargs["params"]["RequestItems"].values() for key in request["Keys"]]
        if any(key["sk"]["S"] == "PRODUCT" for key in wanted):
            batch_reads.append(kwargs["event_name"])

    table.client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", count)
    rule = HEAVY_TO_UPS | {"conditions": [{"field": "quantity", "op": "gte", "value": 4}]}
    try:
        tried = dry_run(table, RuleDraft.model_validate(rule), now=T0 + timedelta(minutes=1))
    finally:
        table.client.meta.events.unregister("before-parameter-build.dynamodb.BatchGetItem", count)
    assert (tried.orders_checked, tried.orders_matched) == (120, 30)
    assert len(batch_reads) == 2  # 100 SKUs, then 20: not 120 reads


def test_a_table_that_refuses_a_moment_fails_neither_the_batch_nor_the_record(stack, context, monkeypatch):
    """Reading the rules once per batch, and running them on a change, are tried again within the receive
    after a throttle or a server error past the SDK's retries (a batch failed whole on the first, and five
    failed receives put good events in the DLQ)."""
    from botocore.exceptions import ClientError

    from oms.rules.store import RuleStore

    _products(stack, context)
    call_api(stack, context, "POST", "/rules", HEAVY_TO_UPS)
    _order("111-HEAVY", "Unshipped", "ANVIL", 2)
    real = RuleStore.all
    refusals = ["ProvisionedThroughputExceededException", "InternalServerError"]

    def refused(self):
        if refusals:
            raise ClientError({"Error": {"Code": refusals.pop(0), "Message": "a moment"}}, "Query")
        return real(self)

    monkeypatch.setattr(RuleStore, "all", refused)
    _run_rules(stack, context)  # asserts no record failed

    assert refusals == []
    assert call_api(stack, context, "GET", "/orders/111-HEAVY")[1]["handling"]["carrier"] == "UPS"
