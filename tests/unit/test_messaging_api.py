"""Telling a buyer about a problem with their order: which messages Amazon allows, and the delay notice."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from oms.amazon import messaging_api
from oms.errors import InvalidInput
from oms_local.simulator import contract

ORDER = "113-1234567-1234567"
US = "ATVPDKIKX0DER"


class RecordingClient:
    """Stands in for SpApiClient: records each call and answers with the given bodies."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[dict[str, Any]] = []

    def call(self, operation_name: str, model: type[BaseModel], **request: Any) -> BaseModel:
        self.calls.append({"operation": operation_name, **request})
        return model.model_validate(self.answers.get(operation_name, {}))


def _actions(*names: str) -> dict[str, Any]:
    base = f"/messaging/v1/orders/{ORDER}"
    return {
        "_links": {
            "actions": [{"href": f"{base}/messages/{n}?marketplaceIds={US}", "name": n} for n in names],
            "self": {"href": f"{base}?marketplaceIds={US}"},
        }
    }


def test_the_actions_amazon_allows_are_read_by_name():
    client = RecordingClient({"getMessagingActionsForOrder": _actions("unexpectedProblem", "warranty")})
    assert messaging_api.messaging_actions(client, ORDER, US) == {"unexpectedProblem", "warranty"}  # type: ignore[arg-type]
    assert client.calls == [
        {
            "operation": "getMessagingActionsForOrder",
            "region": "na",
            "path": {"amazonOrderId": ORDER},
            "query": {"marketplaceIds": [US]},
        }
    ]
    assert (
        messaging_api.messaging_actions(
            RecordingClient({"getMessagingActionsForOrder": _actions()}), ORDER, US
        )
        == set()
    )  # type: ignore[arg-type]


@pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")
def test_amazons_own_example_parses_and_offers_the_delay_notice():
    examples = list(
        contract.model_of("getMessagingActionsForOrder").sandbox_examples("getMessagingActionsForOrder")
    )
    (body,) = [b for status, _, b in examples if status == 200]
    client = RecordingClient({"getMessagingActionsForOrder": body})
    actions = messaging_api.messaging_actions(client, "123-1234567-1234567", US)  # type: ignore[arg-type]
    assert messaging_api.UNEXPECTED_PROBLEM in actions and "warranty" in actions


def test_a_delay_notice_is_sent_as_an_unexpected_problem():
    client = RecordingClient()
    messaging_api.send_unexpected_problem(client, ORDER, "A1F83G8C2ARO7P", "Your order ships a day late.")  # type: ignore[arg-type]
    (call,) = client.calls
    assert call["operation"] == "createUnexpectedProblem"
    assert call["region"] == "eu"  # the UK marketplace is answered by the EU endpoint
    assert call["body"] == {"text": "Your order ships a day late."}
    assert call["query"] == {"marketplaceIds": ["A1F83G8C2ARO7P"]}


@pytest.mark.skipif(not contract.MODELS_DIR.exists(), reason="sp-api-models not present")
def test_a_message_longer_than_amazon_takes_is_refused_before_calling():
    schema = contract.model_of("createUnexpectedProblem").document["definitions"][
        "CreateUnexpectedProblemRequest"
    ]
    assert schema["properties"]["text"]["maxLength"] == messaging_api.MAX_TEXT_LENGTH
    client = RecordingClient()
    messaging_api.send_unexpected_problem(client, ORDER, US, "x" * 2000)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as refused:
        messaging_api.send_unexpected_problem(client, ORDER, US, "x" * 2001)  # type: ignore[arg-type]
    assert refused.value.details[0].field == "text"
    assert "at most 2000 characters; this message has 2001" in refused.value.message
    with pytest.raises(InvalidInput):
        messaging_api.send_unexpected_problem(client, ORDER, US, "   ")  # type: ignore[arg-type]
    assert len(client.calls) == 1
