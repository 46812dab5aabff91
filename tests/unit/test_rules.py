"""Order rules as a seller writes them: refused when saved if they cannot be evaluated (the field named),
evaluated per kind of field, run in order with later choices winning, and told in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from oms.domain.orders import OrderHandling
from oms.domain.rules import Condition, OrderFacts, Rule, RuleDraft, RuleTrigger, holds, run_rules

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def _facts(**changes) -> OrderFacts:
    base = {
        "channel": "MFN",
        "marketplace": "ATVPDKIKX0DER",
        "status": "Unshipped",
        "sku": ("MUG-RED", "CUP-BLUE"),
        "quantity": 3,
        "order_value": Decimal("54.90"),
        "country": "US",
        "state": "CA",
        "prime": True,
        "ship_service_level": "Standard",
        "weight_kg": Decimal("2.5"),
        "tags": (),
        "ship_by": NOW + timedelta(hours=20),
    }
    return OrderFacts(**{**base, **changes})


def _rule(name: str, conditions: list[dict], actions: list[dict], position: int = 0, **more) -> Rule:
    draft = RuleDraft.model_validate({"name": name, "conditions": conditions, "actions": actions, **more})
    return Rule(
        **draft.model_dump(exclude={"position"}),
        rule_id=name.lower().replace(" ", "-"),
        position=position,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ({"field": "colour", "op": "eq", "value": "red"}, "unknown field 'colour'"),
        (
            {"field": "weightLb", "op": "startsWith", "value": "5"},
            "field 'weightLb' (number) has no operator 'startsWith'",
        ),
        ({"field": "weightLb", "op": "gte", "value": "five"}, "field 'weightLb': the value must be number"),
        ({"field": "weightLb", "op": "gte", "value": True}, "field 'weightLb': the value must be number"),
        ({"field": "prime", "op": "eq", "value": "yes"}, "field 'prime': the value must be true or false"),
        ({"field": "country", "op": "in", "value": "US"}, "field 'country': the value must be list of text"),
        (
            {"field": "shipBy", "op": "before", "value": "tomorrow"},
            "field 'shipBy': the value must be a time",
        ),
        ({"field": "shipBy", "op": "before", "value": "2026-11-27T10:00:00"}, "a time needs its zone"),
    ],
)
def test_a_rule_that_cannot_be_evaluated_is_refused_naming_the_field(condition, named):
    with pytest.raises(ValidationError) as refused:
        RuleDraft.model_validate(
            {"name": "x", "conditions": [condition], "actions": [{"type": "addTag", "tag": "t"}]}
        )
    assert named in str(refused.value)


def test_an_action_must_be_one_the_rules_know_and_complete():
    for actions in (
        [{"type": "paintItRed"}],
        [{"type": "holdUntil"}],
        [{"type": "holdUntil", "hours": 2, "until": "2026-11-27T10:00:00Z"}],
        [{"type": "chooseShipping"}],
        [],
    ):
        with pytest.raises(ValidationError):
            RuleDraft.model_validate({"name": "x", "actions": actions})


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("channel", "eq", "mfn", True),  # text compares without case
        ("channel", "ne", "MFN", False),
        ("country", "in", ["CA", "US"], True),
        ("state", "notIn", ["CA"], False),
        ("shipServiceLevel", "startsWith", "Stand", True),
        ("marketplace", "contains", "PDK", True),
        ("quantity", "gte", 3, True),
        ("quantity", "gt", 3, False),
        ("orderValue", "lt", 54.9, False),
        ("orderValue", "lte", 54.9, True),
        ("weightKg", "gt", 2, True),
        ("weightLb", "gte", 5.5, True),  # 2.5 kg = 5.51 lb
        ("weightLb", "gte", 5.52, False),
        ("prime", "eq", True, True),
        ("sku", "anyOf", ["MUG-RED", "TEA"], True),
        ("sku", "allOf", ["MUG-RED", "TEA"], False),
        ("sku", "noneOf", ["TEA"], True),
        ("sku", "startsWith", "CUP-", True),
        ("shipBy", "withinHours", 24, True),
        ("shipBy", "withinHours", 12, False),
        ("shipBy", "before", "2026-11-27T12:00:00Z", True),
        ("shipBy", "after", "2026-11-27T12:00:00Z", False),
    ],
)
def test_each_kind_of_field_is_tested_as_a_seller_reads_it(field, op, value, expected):
    condition = Condition(field=field, op=op, value=value)
    assert holds(condition, _facts(), NOW) is expected


def test_a_fact_not_known_never_matches_whatever_the_operator():
    unknown = _facts(weight_kg=None, country=None, order_value=None)
    for condition in (
        Condition(field="weightLb", op="lt", value=100),
        Condition(field="country", op="ne", value="CA"),
        Condition(field="orderValue", op="gte", value=0),
    ):
        assert holds(condition, unknown, NOW) is False


def test_rules_run_lowest_position_first_later_choices_win_and_tags_are_seen_by_later_rules():
    heavy = _rule(
        "Heavy to UPS",
        [{"field": "weightLb", "op": "gte", "value": 5}],
        [
            {"type": "addTag", "tag": "heavy"},
            {"type": "chooseShipping", "carrier": "UPS", "service": "UPS Ground"},
        ],
        position=10,
    )
    prime_heavy = _rule(
        "Prime heavy goes fast",
        [{"field": "tags", "op": "anyOf", "value": ["heavy"]}, {"field": "prime", "op": "eq", "value": True}],
        [
            {"type": "chooseShipping", "carrier": "UPS", "service": "UPS 2nd Day Air"},
            {"type": "holdUntil", "hours": 2},
        ],
        position=20,
    )
    never = _rule(
        "AFN only", [{"field": "channel", "op": "eq", "value": "AFN"}], [{"type": "addTag", "tag": "fba"}], 5
    )
    outcome = run_rules(
        [prime_heavy, never, heavy], _facts(), OrderHandling(), trigger=RuleTrigger.ARRIVAL, now=NOW
    )
    assert outcome.handling == OrderHandling(
        tags=["heavy"], carrier="UPS", service="UPS 2nd Day Air", hold_until=NOW + timedelta(hours=2)
    )
    assert [a.text for a in outcome.applied] == [
        "rule 'Heavy to UPS' tagged the order 'heavy'",
        "rule 'Heavy to UPS' chose UPS Ground",
        "rule 'Prime heavy goes fast' chose UPS 2nd Day Air",
        "rule 'Prime heavy goes fast' held the order for 2 hours",
    ]
    assert outcome.matched == ["heavy-to-ups", "prime-heavy-goes-fast"]


def test_stop_processing_disabled_rules_and_triggers():
    first = _rule("First", [], [{"type": "addTag", "tag": "a"}], 1, stopProcessing=True)
    second = _rule("Second", [], [{"type": "addTag", "tag": "b"}], 2)
    off = _rule("Off", [], [{"type": "addTag", "tag": "c"}], 0, enabled=False)
    arrival_only = _rule("Arrival", [], [{"type": "addTag", "tag": "d"}], 0, runOn=["arrival"])
    on_change = run_rules(
        [first, second, off, arrival_only],
        _facts(),
        OrderHandling(),
        trigger=RuleTrigger.STATUS_CHANGE,
        now=NOW,
    )
    assert on_change.handling.tags == ["a"]
    on_arrival = run_rules(
        [first, second, off, arrival_only], _facts(), OrderHandling(), trigger=RuleTrigger.ARRIVAL, now=NOW
    )
    assert on_arrival.handling.tags == ["d", "a"]


def test_any_of_the_conditions_and_a_rule_without_conditions():
    either = _rule(
        "Either",
        [{"field": "country", "op": "eq", "value": "CA"}, {"field": "quantity", "op": "gte", "value": 3}],
        [{"type": "addToPickGroup", "pickGroup": "bulk"}],
        match="any",
    )
    assert (
        run_rules(
            [either], _facts(), OrderHandling(), trigger=RuleTrigger.ARRIVAL, now=NOW
        ).handling.pick_group
        == "bulk"
    )
    assert either.describe() == "when country is CA or quantity is at least 3: added it to pick group 'bulk'"
    everything = _rule("All", [], [{"type": "notify", "message": "new order"}])
    outcome = run_rules([everything], _facts(), OrderHandling(), trigger=RuleTrigger.ARRIVAL, now=NOW)
    assert (
        outcome.handling == OrderHandling()
        and outcome.applied[0].text == "rule 'All' notified you: new order"
    )
