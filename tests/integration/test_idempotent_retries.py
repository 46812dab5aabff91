"""A write that applied but whose answer was lost, then the client's retry with the same Idempotency-Key
(issue 15's fault drill once ended with a ledger entry written twice): the retry gets the first answer and
nothing moves twice. The loss is played as local/oms_local/faults.py plays it: DynamoDB applies the
transaction, then the call raises InternalServerError (boto3 against moto in process)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from oms.errors import Conflict
from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.store import keys
from oms.store.default import default_table
from oms.store.once import KeyUsed, Once
from tests.conftest import load_event

ADJUST = "/inventory/MUG-RED/adjustments"


def _call(
    stack, context, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, dict]:
    event = load_event("api/get_order.json")
    event.update(httpMethod=method, path=path, body=None if body is None else json.dumps(body))
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    event["headers"] = {**event["headers"], **headers}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    answer = stack.handler("api").lambda_handler(event, context)
    return answer["statusCode"], json.loads(answer["body"]) if answer.get("body") else {}


def _transaction(operation: str, params: Any) -> bool:
    return operation == "TransactWriteItems"


class LostAnswers:
    """The next `count` TransactWriteItems calls (or writes `matching` picks) apply in DynamoDB, then raise as
    if their answer was lost."""

    def __init__(self) -> None:
        self.count = 0
        self.lost = 0
        self.matching: Callable[[str, Any], bool] = _transaction

    def __call__(self, count: int = 1, matching: Callable[[str, Any], bool] = _transaction) -> None:
        self.count = count
        self.matching = matching


@pytest.fixture
def lose_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[LostAnswers]:
    lost = LostAnswers()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def applied_then_lost(self: Any, operation: str, params: Any) -> Any:
        answer = original(self, operation, params)
        if lost.count > 0 and lost.matching(operation, params):
            lost.count -= 1
            lost.lost += 1
            raise ClientError(
                {
                    "Error": {"Code": "InternalServerError", "Message": "Internal server error"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},  # type: ignore[typeddict-item]
                },
                operation,
            )
        return answer

    monkeypatch.setattr(BaseClient, "_make_api_call", applied_then_lost)
    yield lost


def _ledger(sku: str = "MUG-RED") -> list[dict[str, Any]]:
    return StockRepository(default_table()).ledger(sku, limit=50, next_token=None).items


def test_a_receipt_whose_answer_was_lost_is_applied_once_when_retried(stack, context, lose_answers):
    _call(stack, context, "PUT", "/inventory/MUG-RED", {"reorderPoint": 2})
    body = {"delta": 12, "reason": "receipt", "reference": "PO-7"}

    lose_answers()
    status, _ = _call(stack, context, "POST", ADJUST, body, key="dock-1")
    assert status == 500 and lose_answers.lost == 1  # the client saw a failure...
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 12  # ...of a change that applied

    status, answer = _call(stack, context, "POST", ADJUST, body, key="dock-1")
    assert status == 201
    assert answer["stock"]["onHand"] == 12
    assert [(e["delta"], e["reference"]) for e in _ledger()] == [(12, "PO-7")]
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 12
    again = _call(stack, context, "POST", ADJUST, body, key="dock-1")
    assert again == (201, answer)  # every later retry: the same first answer

    status, refused = _call(stack, context, "POST", ADJUST, {**body, "delta": 13}, key="dock-1")
    assert status == 409 and "different request" in refused["error"]["message"]
    assert len(_ledger()) == 1


def test_a_withdrawal_whose_answer_was_lost_is_applied_once_when_retried(stack, context, lose_answers):
    """The contended path (one conditional update, oms.inventory.stock._withdraw_at_once) too."""
    _call(stack, context, "PUT", "/inventory/MUG-RED", {"reorderPoint": 2})
    _call(stack, context, "POST", ADJUST, {"delta": 20, "reason": "receipt"})
    body = {"delta": -3, "reason": "damaged", "note": "dropped by the forklift"}

    lose_answers()
    assert _call(stack, context, "POST", ADJUST, body, key="drop-1")[0] == 500
    status, answer = _call(stack, context, "POST", ADJUST, body, key="drop-1")
    assert status == 201
    assert (answer["stock"]["onHand"], answer["stock"]["available"]) == (17, 17)
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 17
    assert [e["delta"] for e in _ledger()] == [-3, 20]
    assert answer["entryId"] in {str(e["id"]) for e in default_table().query_all(keys.ledger_of("MUG-RED"))}


def test_a_write_that_did_not_apply_leaves_the_key_free_for_the_retry(stack, context):
    _call(stack, context, "PUT", "/inventory/MUG-RED", {})
    status, _ = _call(stack, context, "POST", ADJUST, {"delta": -1, "reason": "lost"}, key="k-1")
    assert status == 409  # nothing on hand: nothing written, the key not used up
    _call(stack, context, "POST", ADJUST, {"delta": 5, "reason": "receipt"})
    status, answer = _call(stack, context, "POST", ADJUST, {"delta": -1, "reason": "lost"}, key="k-1")
    assert status == 201 and answer["stock"]["onHand"] == 4


def test_the_same_key_on_another_sku_is_another_request(stack, context):
    for sku in ("MUG-RED", "MUG-BLUE"):
        _call(stack, context, "PUT", f"/inventory/{sku}", {})
        status, answer = _call(
            stack,
            context,
            "POST",
            f"/inventory/{sku}/adjustments",
            {"delta": 2, "reason": "receipt"},
            key="k",
        )
        assert status == 201 and answer["stock"]["sku"] == sku


def test_two_changes_with_one_key_record_one_the_other_writes_nothing(stack):
    """Two requests with the same key at once: the second's transaction is refused on the key's record."""
    table = default_table()
    set_policy(table, "MUG-RED", StockPolicy())
    once = Once("scoped-key", "hash-of-the-request")
    adjust_stock(
        table, "MUG-RED", 4, reason="receipt", reference=None, actor="t", record=lambda r, e: once.record(e)
    )
    for delta in (4, -1):  # the versioned path and the conditional withdrawal
        with pytest.raises(KeyUsed):
            adjust_stock(
                table,
                "MUG-RED",
                delta,
                reason="receipt",
                reference=None,
                actor="t",
                record=lambda r, e: once.record(e),
            )
    assert StockRepository(table).get("MUG-RED").on_hand == 4
    assert len(_ledger()) == 1
    assert once.first_answer(table) == next(iter(e["id"] for e in table.query_all(keys.ledger_of("MUG-RED"))))
    with pytest.raises(Conflict, match="different request"):
        Once("scoped-key", "another request").first_answer(table)


@pytest.fixture
def racing_copy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A copy of the request (a client's retry racing its first try) applies in the window between this
    request's look at its key's record and its own write: right after that look returns nothing."""
    from oms.api.inventory import AdjustmentRequest, _answer
    from oms.store.once import request_hash

    armed = [1]
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def after_the_look(self: Any, operation: str, params: Any) -> Any:
        answer = original(self, operation, params)
        pk = params.get("Key", {}).get(keys.PK, {}).get("S", "")
        if operation == "GetItem" and pk.startswith("IDEMPOTENCY#") and "Item" not in answer and armed[0]:
            armed[0] = 0
            body = AdjustmentRequest.model_validate({"delta": -3, "reason": "damaged"})
            once = Once(
                pk.removeprefix("IDEMPOTENCY#"), request_hash(body.model_dump(mode="json", by_alias=True))
            )
            adjust_stock(
                default_table(),
                "MUG-RED",
                -3,
                reason="damaged",
                reference=None,
                actor="user:seller@example.com",
                record=lambda row, entry_id: once.record(_answer(row, entry_id)),
            )
        return answer

    monkeypatch.setattr(BaseClient, "_make_api_call", after_the_look)
    yield armed


def test_a_retry_racing_its_first_try_gets_its_answer_not_a_refusal(stack, context, racing_copy):
    """The copy took the last 3 units: this one, finding none left, answers what the copy did."""
    _call(stack, context, "PUT", "/inventory/MUG-RED", {})
    _call(stack, context, "POST", ADJUST, {"delta": 3, "reason": "receipt"})
    status, answer = _call(stack, context, "POST", ADJUST, {"delta": -3, "reason": "damaged"}, key="race-1")
    assert racing_copy == [0]  # the copy ran in the window
    assert status == 201, answer
    assert answer["stock"]["onHand"] == 0
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 0
    assert [e["delta"] for e in _ledger()] == [-3, 3]


def _approving(operation: str, params: Any) -> bool:
    """The write that marks an audit approved (a put alone or in a transaction)."""
    puts = [params] if operation == "PutItem" else [w.get("Put", {}) for w in params.get("TransactItems", [])]
    return any(
        put.get("Item", {}).get("entity", {}).get("S") == "Audit"
        and put["Item"].get("status", {}).get("S") == "approved"
        for put in puts
    )


def test_an_approval_whose_answer_was_lost_answers_its_report_when_retried(stack, context, lose_answers):
    """The seller approves a cycle count; the approval applies but its answer is lost; the dashboard sends it
    again with the same key and gets the report, not "already approved"; nothing is corrected twice."""
    table = default_table()
    for sku, on_hand in (("MUG-RED", 10), ("MUG-BLUE", 5), ("MUG-GREEN", 2)):  # green: not counted
        set_policy(table, sku, StockPolicy(unit_cost={"amount": "4.50", "currencyCode": "USD"}))
        adjust_stock(table, sku, on_hand, reason="receipt", reference="PO-1", actor="test")
    audit_id = _call(stack, context, "POST", "/audits", {"skus": ["MUG-RED", "MUG-BLUE", "MUG-GREEN"]})[1][
        "auditId"
    ]
    counts = {"counts": [{"sku": "MUG-RED", "counted": 7}, {"sku": "MUG-BLUE", "counted": 6}]}
    assert _call(stack, context, "PUT", f"/audits/{audit_id}/counts", counts)[0] == 200
    approve = f"/audits/{audit_id}/approve"

    lose_answers(matching=_approving)
    assert _call(stack, context, "POST", approve, key="approve-1")[0] == 500
    assert lose_answers.lost == 1
    assert StockRepository(table).get("MUG-RED").on_hand == 7  # it applied

    status, report = _call(stack, context, "POST", approve, key="approve-1")
    assert status == 200, report
    assert (report["status"], report["final"]) == ("approved", True)
    assert [(line["sku"], line["correctionUnits"]) for line in report["lines"]] == [
        ("MUG-RED", -3),
        ("MUG-BLUE", 1),
        ("MUG-GREEN", 0),
    ]
    assert report["lines"][2]["unitValue"] == {"amount": "4.50", "currencyCode": "USD"}  # as the first answer
    assert report == _call(stack, context, "GET", f"/audits/{audit_id}")[1]["report"]
    assert _call(stack, context, "POST", approve, key="approve-1") == (200, report)
    corrections = [
        e["delta"]
        for sku in ("MUG-RED", "MUG-BLUE")
        for e in _ledger(sku)
        if e["reason"] == "audit-correction"
    ]
    assert corrections == [-3, 1]
    assert (
        StockRepository(table).get("MUG-RED").on_hand,
        StockRepository(table).get("MUG-BLUE").on_hand,
    ) == (7, 6)

    status, again = _call(stack, context, "POST", approve, key="approve-2")  # another approval: refused
    assert status == 409 and "already approved" in again["error"]["message"]


def test_an_approval_whose_write_met_itself_is_its_own(stack, context, monkeypatch):
    """The SDK sent the final write again after its answer was lost (no key): the write that refuses it is the
    approval's own, so it answers its report, not "already approved"."""
    table = default_table()
    set_policy(table, "MUG-RED", StockPolicy())
    adjust_stock(table, "MUG-RED", 10, reason="receipt", reference="PO-1", actor="test")
    audit_id = _call(stack, context, "POST", "/audits", {"skus": ["MUG-RED"]})[1]["auditId"]
    _call(stack, context, "PUT", f"/audits/{audit_id}/counts", {"counts": [{"sku": "MUG-RED", "counted": 8}]})
    original = BaseClient._make_api_call  # type: ignore[attr-defined]
    sent_twice = []

    def twice(self: Any, operation: str, params: Any) -> Any:
        if _approving(operation, params) and not sent_twice:
            sent_twice.append(operation)
            original(self, operation, params)  # applied, its answer lost, sent again by the SDK
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", twice)
    status, report = _call(stack, context, "POST", f"/audits/{audit_id}/approve")
    assert sent_twice and status == 200, report
    assert report["lines"][0]["correctionUnits"] == -2
    assert StockRepository(table).get("MUG-RED").on_hand == 8


def test_a_purchase_order_receipt_whose_answer_was_lost_is_applied_once_when_retried(
    stack, context, lose_answers
):
    from tests.integration.test_purchasing import _receive, _sent, _supplier

    po = _sent(stack, context, _supplier(stack, context), quantity=48)
    line = {"sku": "MUG-RED", "quantity": 30}

    lose_answers()
    assert _receive(stack, context, po["poId"], line, key="dock-9")[0] == 500
    assert lose_answers.lost == 1

    status, answer = _receive(stack, context, po["poId"], line, key="dock-9")
    assert status == 200, answer  # applied once already: the PO with its receipt
    assert [[(r["sku"], r["quantity"]) for r in receipt["lines"]] for receipt in answer["receipts"]] == [
        [("MUG-RED", 30)]
    ]
    assert [e["delta"] for e in _ledger() if e["reason"] == "receipt"] == [30]
    assert StockRepository(default_table()).get("MUG-RED").on_hand == 30


def test_a_return_receipt_whose_answer_was_lost_is_applied_once_when_retried(stack, context, lose_answers):
    from tests.builders import WAREHOUSE_SETTINGS
    from tests.integration.test_returns import _order, _receive, _record

    table = default_table()
    assert _call(stack, context, "PUT", "/settings/shipping", WAREHOUSE_SETTINGS)[0] == 200
    set_policy(table, "MUG-RED", StockPolicy())
    adjust_stock(table, "MUG-RED", 10, reason="receipt", reference="PO-1", actor="test")
    _order("111-1", "Shipped", [("MUG-RED", 3, 3)])
    return_id = _record(stack, context, "111-1", quantity=2)[1]["returnId"]
    line = {"sku": "MUG-RED", "quantity": 1, "grade": "sellable"}

    lose_answers()
    assert _receive(stack, context, return_id, line, key="scan-1")[0] == 500
    assert lose_answers.lost == 1

    status, answer = _receive(stack, context, return_id, line, key="scan-1")
    assert status == 200, answer  # applied once already: the return with its receipt
    assert len(answer["receipts"]) == 1
    assert [e["delta"] for e in _ledger() if e["reason"] == "return"] == [1]
    assert StockRepository(table).get("MUG-RED").on_hand == 8
