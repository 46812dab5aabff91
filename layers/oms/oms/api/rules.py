"""Order rules: list, write, change, delete, and try one on the last 30 days of orders."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from oms.domain.rules import FIELDS, OPERATORS, Rule, RuleDraft
from oms.domain.types import ApiModel
from oms.rules.dry_run import DryRun, dry_run
from oms.rules.store import RuleStore
from oms.store.default import default_buyer_table, default_table

router = APIGatewayRouter()
RuleId = Annotated[str, Path(min_length=1, max_length=64, description="the ruleId POST /rules gave")]


class RuleList(ApiModel):
    items: list[Rule] = Field(description="in the order they run")


class RuleField(ApiModel):
    name: str
    kind: str
    meaning: str
    operators: dict[str, str] = Field(description="operator -> the value it takes")


class RuleVocabulary(ApiModel):
    fields: list[RuleField]
    actions: list[str]


def _store() -> RuleStore:
    return RuleStore(default_table())


@router.get("/rules", summary="Order rules, in the order they run", tags=["rules"])
def list_rules() -> RuleList:
    return RuleList(items=_store().all())


@router.get(
    "/rules/fields", summary="What a rule's conditions may test, and the actions it may take", tags=["rules"]
)
def rule_fields() -> RuleVocabulary:
    return RuleVocabulary(
        fields=[
            RuleField(name=name, kind=kind.value, meaning=meaning, operators=OPERATORS[kind])
            for name, (kind, meaning) in FIELDS.items()
        ],
        actions=[
            "addTag",
            "holdUntil",
            "chooseShipping",
            "assignLocation",
            "addToPickGroup",
            "sendWebhook",
            "notify",
        ],
    )


@router.post(
    "/rules",
    summary="Write an order rule (checked now: an unknown field or a wrong value is refused, named)",
    tags=["rules"],
    responses={201: {"description": "saved"}},
)
def post_rule(draft: Annotated[RuleDraft, Body()]) -> tuple[Rule, int]:
    return _store().create(draft), 201


@router.get(
    "/rules/<ruleId>",
    summary="One order rule",
    tags=["rules"],
    responses={404: {"description": "unknown rule"}},
)
def get_rule(ruleId: RuleId) -> Rule:
    return _store().get(ruleId)


@router.put(
    "/rules/<ruleId>",
    summary="Replace an order rule",
    tags=["rules"],
    responses={404: {"description": "unknown rule"}},
)
def put_rule(ruleId: RuleId, draft: Annotated[RuleDraft, Body()]) -> Rule:
    return _store().replace(ruleId, draft)


@router.delete(
    "/rules/<ruleId>",
    summary="Delete an order rule",
    tags=["rules"],
    responses={404: {"description": "unknown rule"}},
)
def delete_rule(ruleId: RuleId) -> dict[str, Any]:
    _store().delete(ruleId)
    return {"deleted": ruleId}


def _kept_address(order_id: str) -> dict[str, str] | None:
    from oms.store import keys

    item = default_buyer_table().get(keys.buyer_key(order_id))
    return (item or {}).get("address")


@router.post(
    "/rules/<ruleId>/test",
    summary="What the rule would have done to the last days' orders (changes nothing)",
    tags=["rules"],
    responses={404: {"description": "unknown rule"}},
)
def test_rule(
    ruleId: RuleId,
    days: Annotated[int, Query(ge=1, le=90, description="look back this many days")] = 30,
) -> DryRun:
    return dry_run(default_table(), _store().get(ruleId), addresses=_kept_address, days=days)


@router.post(
    "/rules/test",
    summary="Try a rule before saving it: what it would have done to the last days' orders",
    tags=["rules"],
)
def test_draft(
    draft: Annotated[RuleDraft, Body()],
    days: Annotated[int, Query(ge=1, le=90, description="look back this many days")] = 30,
) -> DryRun:
    return dry_run(default_table(), draft, addresses=_kept_address, days=days)
