"""Whose notification is this: only the ones meant for this stack are applied.

The order-notifications queue lets Amazon's notification account send to it, and that account serves every
SP-API developer: anyone who learns the queue's ARN can point a subscription of their own application at it.
A notification is this stack's when it comes from the seller's application (and, when the stack names them,
one of its subscriptions), names the seller's merchant token wherever it names a seller, and names at least
one of the seller's marketplaces wherever it names marketplaces. Anything else is foreign: dropped, counted
and logged, never applied, and not poison either (the DLQ is for what we failed to apply).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from oms.amazon.notifications import Notification

_SELLER_KEYS = frozenset({"SellerId", "sellerId"})
_MARKETPLACE_KEYS = frozenset({"MarketplaceId", "marketplaceId"})
_MARKETPLACE_LIST_KEYS = frozenset({"MarketplaceIds", "marketplaceIds"})


@dataclass(frozen=True)
class Recipient:
    """What this stack accepts (its ingest function's settings)."""

    application_id: str
    seller_id: str
    marketplaces: frozenset[str]
    subscription_ids: frozenset[str] = field(default_factory=frozenset)  # empty: any of the application's

    @classmethod
    def of(
        cls, application_id: str, seller_id: str, marketplaces: Iterable[str], subscription_ids: Iterable[str]
    ) -> Recipient:
        return cls(
            application_id=application_id.strip(),
            seller_id=seller_id.strip(),
            marketplaces=frozenset(m.strip() for m in marketplaces if m.strip()),
            subscription_ids=frozenset(s.strip() for s in subscription_ids if s.strip()),
        )


def _values(node: Any, wanted: frozenset[str], lists: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every string under one of the `wanted` keys (or in a list under one of `lists`), at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in wanted and isinstance(value, str):
                yield value
            elif key in lists and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _values(value, wanted, lists)
    elif isinstance(node, list):
        for value in node:
            yield from _values(value, wanted, lists)


def foreign_because(notification: Notification, ours: Recipient) -> str | None:
    """Why the notification is not this stack's (a short reason, for logs and a metric), or None."""
    metadata = notification.notification_metadata
    if metadata.application_id != ours.application_id:
        return "another application"
    if ours.subscription_ids and metadata.subscription_id not in ours.subscription_ids:
        return "another subscription"
    sellers = set(_values(notification.payload, _SELLER_KEYS))
    if sellers and sellers != {ours.seller_id}:
        return "another seller"
    marketplaces = set(_values(notification.payload, _MARKETPLACE_KEYS, _MARKETPLACE_LIST_KEYS))
    if marketplaces and not marketplaces & ours.marketplaces:
        return "another marketplace"
    return None
