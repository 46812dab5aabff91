"""A busy table (DynamoDB throttling, or a transaction that lost to another) once the SDK's own retries are
spent: the API says "busy, come back in a few seconds" (503 with Retry-After, in the error format), never a
500, and nothing is half-applied."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oms.inventory.stock import StockPolicy, StockRepository, adjust_stock, set_policy
from oms.store.default import default_table
from tests.conftest import load_event


class _Answer:
    """What botocore's parser hands back for an HTTP error answer (status and headers)."""

    status_code = 400
    headers: dict[str, str] = {}


def _refuse(operation: str, error: dict[str, Any]) -> None:
    """Every call of `operation` answers DynamoDB's error, as it would after the SDK's retries."""

    def answer(**_: Any) -> tuple[_Answer, dict[str, Any]]:
        return _Answer(), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    default_table().client.meta.events.register(f"before-call.dynamodb.{operation}", answer)


def _api(stack, context, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    event = load_event("api/get_order.json")
    event.update(httpMethod=method, path=path, body=json.dumps(body) if body is not None else None)
    event.update(queryStringParameters=None, multiValueQueryStringParameters=None)
    event["headers"] = {**event["headers"], "Content-Type": "application/json"}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    answer = stack.handler("api").lambda_handler(event, context)
    headers = dict(answer.get("headers") or {})
    headers |= {k: ",".join(v) for k, v in (answer.get("multiValueHeaders") or {}).items()}
    return answer["statusCode"], headers, json.loads(answer["body"])


def _is_busy(status: int, headers: dict[str, str], body: Any) -> None:
    assert status == 503, body
    assert int(headers["Retry-After"]) > 0
    assert body["error"]["code"] == "Busy"
    assert "try again" in body["error"]["message"]
    assert body["error"]["details"] == []


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_a_throttled_read_answers_503_with_retry_after(stack, context, code):
    set_policy(default_table(), "MUG", StockPolicy())
    _refuse("Query", {"Error": {"Code": code, "Message": "Throughput exceeds the current capacity"}})

    _is_busy(*_api(stack, context, "GET", "/inventory"))


def test_a_transaction_cancelled_by_another_answers_503_and_changes_nothing(stack, context):
    table = default_table()
    set_policy(table, "MUG", StockPolicy())
    adjust_stock(table, "MUG", 5, reason="receipt", reference="PO-1", actor="test")
    cancelled = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
    }
    _refuse("TransactWriteItems", cancelled)
    _refuse("UpdateItem", {"Error": {"Code": "TransactionConflictException", "Message": "in a transaction"}})
    _refuse("PutItem", {"Error": {"Code": "TransactionConflictException", "Message": "in a transaction"}})

    status, headers, body = _api(
        stack, context, "POST", "/inventory/MUG/adjustments", {"delta": -2, "reason": "damaged"}
    )

    _is_busy(status, headers, body)
    assert StockRepository(table).get("MUG").on_hand == 5


def test_a_failed_condition_is_still_a_conflict_not_busy(stack, context):
    from oms.errors import Busy, Conflict
    from oms.store.table import Write

    table = default_table()
    set_policy(table, "MUG", StockPolicy())
    cancelled = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": [{"Code": "None"}, {"Code": "ValidationError"}],
    }
    _refuse("TransactWriteItems", cancelled)

    with pytest.raises(Conflict) as raised:
        table.transact([Write.put_new({"pk": "A", "sk": "A"}), Write.put_new({"pk": "B", "sk": "B"})])
    assert not isinstance(raised.value, Busy)
