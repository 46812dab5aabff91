"""The seller's rules, kept in one small partition and read whole (tens of rules, not thousands)."""

from __future__ import annotations

import uuid
from datetime import datetime

from oms.domain.rules import ChooseShipping, Rule, RuleDraft
from oms.domain.types import iso_z, utc_now
from oms.errors import InvalidInput, NotFound
from oms.store import keys
from oms.store.table import Table, Write
from oms.warehouse.settings import ShippingSettingsStore

ENTITY = "Rule"
MAX_RULES = 200
_STEP = 10  # a new rule goes this far after the last, so one can be slid in between without renumbering


class RuleStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def all(self) -> list[Rule]:
        """Every rule, in the order they run (lowest position first, then the oldest)."""
        rules = [_rule_of(item) for item in self._table.query_all(keys.rules(), consistent=True)]
        return sorted(rules, key=lambda r: (r.position, r.created_at))

    def get(self, rule_id: str) -> Rule:
        item = self._table.get(keys.rule_key(rule_id), consistent=True)
        if item is None:
            raise NotFound(f"rule {rule_id} is not known here")
        return _rule_of(item)

    def _check(self, draft: RuleDraft) -> None:
        """What only the stored setup can tell: a package preset the rule names must exist."""
        settings = ShippingSettingsStore(self._table).get()
        for index, action in enumerate(draft.actions):
            if (
                isinstance(action, ChooseShipping)
                and action.package_preset
                and not settings.preset(action.package_preset)
            ):
                known = ", ".join(p.name for p in settings.package_presets) or "none yet"
                raise InvalidInput.for_field(
                    f"actions[{index}].packagePreset",
                    f"no package preset '{action.package_preset}' in the shipping setup (presets: {known})",
                )

    def create(self, draft: RuleDraft, now: datetime | None = None) -> Rule:
        self._check(draft)
        now = now or utc_now()
        existing = self.all()
        if len(existing) >= MAX_RULES:
            raise InvalidInput.for_field("rules", f"at most {MAX_RULES} rules; delete or combine some")
        position = draft.position
        if position is None:
            position = (max((r.position for r in existing), default=0) // _STEP + 1) * _STEP
        rule = Rule(
            **draft.model_dump(exclude={"position"}),
            position=position,
            rule_id=uuid.uuid4().hex[:12],
            created_at=now,
            updated_at=now,
        )
        self._table.transact([Write.put_versioned(_item_of(rule), None)])
        return rule

    def replace(self, rule_id: str, draft: RuleDraft, now: datetime | None = None) -> Rule:
        self._check(draft)
        item = self._table.get(keys.rule_key(rule_id), consistent=True)
        if item is None:
            raise NotFound(f"rule {rule_id} is not known here")
        before = _rule_of(item)
        rule = Rule(
            **draft.model_dump(exclude={"position"}),
            position=before.position if draft.position is None else draft.position,
            rule_id=rule_id,
            created_at=before.created_at,
            updated_at=now or utc_now(),
        )
        self._table.transact([Write.put_versioned(_item_of(rule), int(item.get("version", 0)))])
        return rule

    def delete(self, rule_id: str) -> None:
        if self._table.get(keys.rule_key(rule_id), consistent=True) is None:
            raise NotFound(f"rule {rule_id} is not known here")
        self._table.delete(keys.rule_key(rule_id))


def _item_of(rule: Rule) -> dict:
    return {
        **keys.rule_key(rule.rule_id),
        "entity": ENTITY,
        **rule.model_dump(mode="json", by_alias=True, exclude={"summary"}),
        "updatedAt": iso_z(rule.updated_at),
    }


_FIELDS = {f.alias for f in Rule.model_fields.values()}


def _rule_of(item: dict) -> Rule:
    return Rule.model_validate({k: v for k, v in item.items() if k in _FIELDS})
