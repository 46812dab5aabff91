"""Order rules a seller writes: when an order matches the conditions, the actions set how it is handled.

A rule is checked when it is saved, so one that cannot be evaluated (an unknown field, an operator the
field does not have, a value of the wrong type) is refused naming the field, never found out later on an
order. Evaluation is pure: the facts of one order in (`OrderFacts`), the rules that matched and what
their actions change out (`Outcome`), so the dry run and the live run share every line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, computed_field, field_validator, model_validator

from oms.domain.orders import OrderHandling
from oms.domain.types import ApiModel, UtcDateTime, iso_z

Text = Annotated[str, Field(min_length=1, max_length=100)]


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    YES_NO = "yes/no"
    LIST = "list"
    TIME = "time"


# Every field a condition may name: its kind and what it means (shown in the API document and the page).
FIELDS: dict[str, tuple[Kind, str]] = {
    "channel": (Kind.TEXT, "MFN (you ship) or AFN (Amazon ships)"),
    "marketplace": (Kind.TEXT, "the marketplace id, e.g. ATVPDKIKX0DER (amazon.com)"),
    "status": (Kind.TEXT, "the order's status, e.g. Unshipped"),
    "sku": (Kind.LIST, "the SKUs of the order's lines"),
    "quantity": (Kind.NUMBER, "units ordered, all lines together"),
    "orderValue": (Kind.NUMBER, "the order total, in the order's currency"),
    "country": (Kind.TEXT, "the destination country (ISO code, e.g. US)"),
    "state": (Kind.TEXT, "the destination state or region (e.g. CA)"),
    "prime": (Kind.YES_NO, "a Prime order"),
    "shipServiceLevel": (Kind.TEXT, "the shipping the buyer chose (e.g. Standard, Expedited, NextDay)"),
    "weightKg": (Kind.NUMBER, "the order's weight in kilograms, from the catalogue's product weights"),
    "weightLb": (Kind.NUMBER, "the order's weight in pounds, from the catalogue's product weights"),
    "tags": (Kind.LIST, "tags earlier rules gave the order"),
    "shipBy": (Kind.TIME, "the latest ship date"),
}

# Operators per kind: the value each one takes.
OPERATORS: dict[Kind, dict[str, str]] = {
    Kind.TEXT: {
        "eq": "text",
        "ne": "text",
        "in": "list of text",
        "notIn": "list of text",
        "startsWith": "text",
        "contains": "text",
    },
    Kind.NUMBER: {
        "eq": "number",
        "ne": "number",
        "lt": "number",
        "lte": "number",
        "gt": "number",
        "gte": "number",
    },
    Kind.YES_NO: {"eq": "true or false"},
    Kind.LIST: {
        "anyOf": "list of text",
        "allOf": "list of text",
        "noneOf": "list of text",
        "startsWith": "text",
    },
    Kind.TIME: {"withinHours": "number of hours from now", "before": "a time", "after": "a time"},
}

# How a condition names its field in words (the rule's summary, the dry run).
_FIELD_WORDS = {
    "orderValue": "order value",
    "shipServiceLevel": "shipping chosen",
    "weightKg": "weight (kg)",
    "weightLb": "weight (lb)",
    "shipBy": "latest ship date",
    "sku": "SKUs",
}

_OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "notIn": "is none of",
    "startsWith": "starts with",
    "contains": "contains",
    "lt": "is below",
    "lte": "is at most",
    "gt": "is above",
    "gte": "is at least",
    "anyOf": "include any of",
    "allOf": "include all of",
    "noneOf": "include none of",
    "withinHours": "is within hours",
    "before": "is before",
    "after": "is after",
}


class Condition(ApiModel):
    """One test on the order: `{"field": "weightLb", "op": "gte", "value": 5}`."""

    field: str = Field(description="one of: " + ", ".join(FIELDS))
    op: str = Field(description="an operator the field's kind has (see the rules page or docs)")
    value: Any = Field(
        description="text, a number, true/false, a list of text or a time, as the operator takes"
    )

    @model_validator(mode="after")
    def _evaluable(self) -> Condition:
        if self.field not in FIELDS:
            raise ValueError(f"unknown field '{self.field}': use one of {', '.join(FIELDS)}")
        kind = FIELDS[self.field][0]
        takes = OPERATORS[kind].get(self.op)
        if takes is None:
            raise ValueError(
                f"field '{self.field}' ({kind.value}) has no operator '{self.op}': use one of "
                + ", ".join(OPERATORS[kind])
            )
        self.value = _checked_value(self.field, takes, self.value)
        return self

    def describe(self) -> str:
        value = self.value
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, datetime):
            value = iso_z(value)
        return f"{_FIELD_WORDS.get(self.field, self.field)} {_OP_WORDS[self.op]} {value}"


def _checked_value(name: str, takes: str, value: Any) -> Any:
    wrong = ValueError(f"field '{name}': the value must be {takes}")
    if takes == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise wrong
        return value.strip()
    if takes == "list of text":
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= 100
            or not all(isinstance(v, str) and v.strip() and len(v) <= 200 for v in value)
        ):
            raise wrong
        return [v.strip() for v in value]
    if takes.startswith("number"):
        if isinstance(value, Decimal):  # as DynamoDB gives a stored rule's numbers back
            value = int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise wrong
        if abs(value) > 1e12:
            raise wrong
        return value
    if takes == "true or false":
        if not isinstance(value, bool):
            raise wrong
        return value
    if takes == "a time":
        try:
            instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise wrong from None
        if instant.tzinfo is None:
            raise ValueError(f"field '{name}': a time needs its zone, e.g. 2026-11-26T10:00:00Z")
        return iso_z(instant)
    raise wrong  # pragma: no cover - every operator's value kind is listed above


class AddTag(ApiModel):
    type: Literal["addTag"]
    tag: Text

    def describe(self) -> str:
        return f"tagged the order '{self.tag}'"


class HoldUntil(ApiModel):
    type: Literal["holdUntil"]
    hours: float | None = Field(default=None, gt=0, le=24 * 30, description="hold this long from the change")
    until: UtcDateTime | None = Field(default=None, description="or until this time")

    @model_validator(mode="after")
    def _one(self) -> HoldUntil:
        if (self.hours is None) == (self.until is None):
            raise ValueError("holdUntil takes either 'hours' or 'until'")
        return self

    def release(self, now: datetime) -> datetime:
        return self.until if self.until is not None else now + timedelta(hours=self.hours or 0)

    def describe(self) -> str:
        if self.until is not None:
            return f"held the order until {self.until:%Y-%m-%d %H:%M} UTC"
        return f"held the order for {self.hours:g} hours"


class ChooseShipping(ApiModel):
    type: Literal["chooseShipping"]
    carrier: Text | None = Field(default=None, description="e.g. UPS (as Buy Shipping names it)")
    service: Text | None = Field(default=None, description="e.g. UPS Ground")
    package_preset: Text | None = Field(
        default=None, description="a package preset's name (PATCH /settings/shipping packagePresets)"
    )

    @model_validator(mode="after")
    def _something(self) -> ChooseShipping:
        if not self.carrier and not self.service and not self.package_preset:
            raise ValueError("chooseShipping needs a 'carrier', a 'service', a 'packagePreset' or several")
        return self

    def describe(self) -> str:
        if self.carrier and self.service and not self.service.startswith(self.carrier):
            shipping = f"{self.carrier} {self.service}"
        else:
            shipping = self.service or self.carrier or ""
        box = f"the '{self.package_preset}' box" if self.package_preset else ""
        return "chose " + " in ".join(part for part in (shipping, box) if part)


class AssignLocation(ApiModel):
    type: Literal["assignLocation"]
    location: Text

    def describe(self) -> str:
        return f"assigned it to ship from {self.location}"


class AddToPickGroup(ApiModel):
    type: Literal["addToPickGroup"]
    pick_group: Text

    def describe(self) -> str:
        return f"added it to pick group '{self.pick_group}'"


class SendWebhook(ApiModel):
    type: Literal["sendWebhook"]

    def describe(self) -> str:
        return "sent a RuleMatched webhook"


class Notify(ApiModel):
    type: Literal["notify"]
    message: Annotated[str, Field(min_length=1, max_length=500)]

    def describe(self) -> str:
        return f"notified you: {self.message}"


Action = Annotated[
    AddTag | HoldUntil | ChooseShipping | AssignLocation | AddToPickGroup | SendWebhook | Notify,
    Field(discriminator="type"),
]


class RuleTrigger(StrEnum):
    ARRIVAL = "arrival"  # the order is stored for the first time
    STATUS_CHANGE = (
        "statusChange"  # its status changed (e.g. Pending -> Unshipped, when Amazon adds its details)
    )


class RuleDraft(ApiModel):
    """What a seller writes (POST /rules, PUT /rules/{ruleId})."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    enabled: bool = True
    position: int | None = Field(
        default=None, ge=0, le=10_000, description="rules run lowest first; default last"
    )
    match: Literal["all", "any"] = Field(default="all", description="every condition, or any one of them")
    conditions: list[Condition] = Field(
        default_factory=list, max_length=20, description="none: every order matches"
    )
    actions: list[Action] = Field(min_length=1, max_length=10)
    run_on: list[RuleTrigger] = Field(
        default_factory=lambda: [RuleTrigger.ARRIVAL, RuleTrigger.STATUS_CHANGE], min_length=1
    )
    stop_processing: bool = Field(default=False, description="when it matches, later rules are not checked")

    @field_validator("run_on")
    @classmethod
    def _once_each(cls, triggers: list[RuleTrigger]) -> list[RuleTrigger]:
        return [t for t in RuleTrigger if t in set(triggers)]


class Rule(RuleDraft):
    rule_id: str
    position: int = 0
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @computed_field(description="the rule in words")  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        return self.describe()

    def describe(self) -> str:
        joiner = " and " if self.match == "all" else " or "
        when = (
            f"when {joiner.join(c.describe() for c in self.conditions)}"
            if self.conditions
            else "for every order"
        )
        return f"{when}: " + "; ".join(a.describe() for a in self.actions)


@dataclass(frozen=True)
class OrderFacts:
    """What rules may test on one order; None where it is not known (then a test on it does not match)."""

    channel: str
    marketplace: str
    status: str
    sku: tuple[str, ...]
    quantity: int
    order_value: Decimal | None
    country: str | None
    state: str | None
    prime: bool
    ship_service_level: str | None
    weight_kg: Decimal | None
    tags: tuple[str, ...]
    ship_by: datetime | None

    def value_of(self, name: str) -> Any:
        if name == "weightLb":
            return None if self.weight_kg is None else self.weight_kg / Decimal("0.45359237")
        attribute = {
            "orderValue": "order_value",
            "shipServiceLevel": "ship_service_level",
            "weightKg": "weight_kg",
            "shipBy": "ship_by",
        }.get(name, name)
        return getattr(self, attribute)


def holds(condition: Condition, facts: OrderFacts, now: datetime) -> bool:
    """Whether one condition holds for the order (an unknown fact never matches)."""
    actual = facts.value_of(condition.field)
    if actual is None:
        return False
    op, value = condition.op, condition.value
    kind = FIELDS[condition.field][0]
    if kind == Kind.TEXT:
        a = str(actual).casefold()
        if op in ("in", "notIn"):
            inside = a in {v.casefold() for v in value}
            return inside if op == "in" else not inside
        v = str(value).casefold()
        return {"eq": a == v, "ne": a != v, "startsWith": a.startswith(v), "contains": v in a}[op]
    if kind == Kind.NUMBER:
        a_num, v_num = Decimal(str(actual)), Decimal(str(value))
        return {
            "eq": a_num == v_num,
            "ne": a_num != v_num,
            "lt": a_num < v_num,
            "lte": a_num <= v_num,
            "gt": a_num > v_num,
            "gte": a_num >= v_num,
        }[op]
    if kind == Kind.YES_NO:
        return bool(actual) is value
    if kind == Kind.LIST:
        have = {str(x).casefold() for x in actual}
        if op == "startsWith":
            return any(x.startswith(str(value).casefold()) for x in have)
        wanted = {v.casefold() for v in value}
        return {"anyOf": bool(have & wanted), "allOf": wanted <= have, "noneOf": not have & wanted}[op]
    # TIME
    if op == "withinHours":
        return actual <= now + timedelta(hours=float(value))
    instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return actual < instant if op == "before" else actual > instant


def matches(rule: RuleDraft, facts: OrderFacts, now: datetime) -> bool:
    if not rule.conditions:
        return True
    results = (holds(c, facts, now) for c in rule.conditions)
    return all(results) if rule.match == "all" else any(results)


@dataclass(frozen=True)
class Applied:
    """One action of one matching rule, as the order's timeline tells it."""

    rule_id: str
    rule_name: str
    action: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Outcome:
    handling: OrderHandling
    applied: list[Applied] = field(default_factory=list)

    @property
    def matched(self) -> list[str]:
        return list(dict.fromkeys(a.rule_id for a in self.applied))


def run_rules(
    rules: Sequence[Rule],
    facts: OrderFacts,
    handling: OrderHandling,
    *,
    trigger: RuleTrigger,
    now: datetime,
) -> Outcome:
    """Every enabled rule for this trigger, lowest position first, applied to the handling in turn (a later
    rule's choice wins over an earlier one's); a tag a rule adds is seen by the rules after it."""
    applied: list[Applied] = []
    for rule in sorted(rules, key=lambda r: (r.position, r.created_at)):
        if not rule.enabled or trigger not in rule.run_on:
            continue
        if not matches(rule, facts, now):
            continue
        for action in rule.actions:
            handling = _apply(action, handling, now)
            if isinstance(action, AddTag):
                facts = _with_tag(facts, action.tag)
            applied.append(
                Applied(
                    rule.rule_id,
                    rule.name,
                    action.model_dump(mode="json", by_alias=True),
                    f"rule '{rule.name}' {action.describe()}",
                )
            )
        if rule.stop_processing:
            break
    return Outcome(handling, applied)


def _with_tag(facts: OrderFacts, tag: str) -> OrderFacts:
    from dataclasses import replace

    return facts if tag in facts.tags else replace(facts, tags=(*facts.tags, tag))


def _apply(action: Any, handling: OrderHandling, now: datetime) -> OrderHandling:
    if isinstance(action, AddTag):
        tags = handling.tags if action.tag in handling.tags else [*handling.tags, action.tag]
        return handling.model_copy(update={"tags": tags})
    if isinstance(action, HoldUntil):
        return handling.model_copy(update={"hold_until": action.release(now)})
    if isinstance(action, ChooseShipping):
        chosen = (
            {"carrier": action.carrier, "service": action.service} if action.carrier or action.service else {}
        )
        if action.package_preset:
            chosen["package_preset"] = action.package_preset
        return handling.model_copy(update=chosen)
    if isinstance(action, AssignLocation):
        return handling.model_copy(update={"location": action.location})
    if isinstance(action, AddToPickGroup):
        return handling.model_copy(update={"pick_group": action.pick_group})
    return handling  # sendWebhook and notify change nothing on the order: they are announced
