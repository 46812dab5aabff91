"""Subscriptions: a URL and the event types it wants, a signing secret shown once (and kept, since every
delivery is signed with it), enabled until the seller or a run of failures disables it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from oms.domain.types import ApiModel, iso_z
from oms.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from oms.events import EVENT_TYPES, when_published
from oms.store import keys
from oms.store.table import Item, Table, Write
from oms.webhooks.signing import new_secret
from oms.webhooks.targets import RefusedTarget, check_url

EVENT_NAMES: tuple[str, ...] = tuple(t.__name__ for t in EVENT_TYPES)
# After a rotation the previous secret signs too, for this long, so receivers can switch without a gap.
PREVIOUS_SECRET_KEPT = timedelta(hours=24)
MAX_SUBSCRIPTIONS = 50


class EventType(ApiModel):
    """One event a subscription may name, with when it is sent (docs/events.md)."""

    type: str = Field(description="the event's name, as a subscription's `events` list gives it")
    description: str = Field(description="when it is sent, in one line")


class EventTypes(ApiModel):
    """GET /webhooks/event-types."""

    items: list[EventType]


def event_types() -> EventTypes:
    """Every event a subscription may name, in the order docs/events.md lists them."""
    return EventTypes(items=[EventType(type=t.__name__, description=when_published(t)) for t in EVENT_TYPES])


def _event_names(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in EVENT_NAMES]
    if unknown:
        raise ValueError(f"unknown event types {', '.join(unknown)}: use names from docs/events.md")
    return list(dict.fromkeys(names))


class SubscriptionRequest(ApiModel):
    """POST /webhooks/subscriptions."""

    url: str = Field(min_length=1, max_length=2048, description="where deliveries are POSTed (https)")
    events: list[str] = Field(
        min_length=1, max_length=len(EVENT_NAMES), description="event types from docs/events.md"
    )
    description: str = Field(default="", max_length=500)

    _events = field_validator("events")(_event_names)


class SubscriptionChange(ApiModel):
    """PATCH /webhooks/subscriptions/{subscriptionId}: what it names changes; enabling clears a disable."""

    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_NAMES))
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    @field_validator("events")
    @classmethod
    def _known(cls, names: list[str] | None) -> list[str] | None:
        return None if names is None else _event_names(names)


def _checked_url(url: str, allow_loopback: bool) -> str:
    try:
        return check_url(url, allow_loopback=allow_loopback)
    except RefusedTarget as refused:
        raise InvalidInput.for_field("url", str(refused)) from None


def view(item: Item, secret: str | None = None) -> dict[str, Any]:
    """A subscription as the API shows it; the secret only when just made (creation, rotation)."""
    shown = {
        "subscriptionId": item["subscriptionId"],
        "url": item["url"],
        "events": item["events"],
        "description": item.get("description", ""),
        "enabled": item["enabled"],
        "disabled": item.get("disabled"),
        "failingSince": item.get("failingSince"),
        "createdAt": item["createdAt"],
        "updatedAt": item["updatedAt"],
    }
    if secret is not None:
        shown["secret"] = secret
    return shown


def signing_secrets(item: Item, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous for a day after a rotation."""
    found = [item["secret"]]
    if item.get("previousSecret") and item.get("previousSecretUntil", "") > iso_z(now):
        found.append(item["previousSecret"])
    return found


class SubscriptionStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def all(self) -> list[Item]:
        return list(self.table.query_all(keys.webhook_subscriptions(), consistent=True))

    def get(self, subscription_id: str) -> Item | None:
        return self.table.get(keys.webhook_subscription_key(subscription_id), consistent=True)

    def existing(self, subscription_id: str) -> Item:
        item = self.get(subscription_id)
        if item is None:
            raise NotFound(f"no webhook subscription {subscription_id}")
        return item

    def create(
        self, request: SubscriptionRequest, *, allow_loopback: bool, now: datetime, key: str | None = None
    ) -> tuple[Item, str, bool]:
        """(the subscription, its secret, whether it is new). With an Idempotency-Key (`key`, already scoped
        to the caller) a retried request answers the subscription it made, secret included; the same key
        for a different subscription is a 409."""
        url = _checked_url(request.url, allow_loopback)
        subscription_id = "sub_" + (key or secrets.token_hex(8))
        if key is not None:
            made = self.get(subscription_id)
            if made is not None:
                return self._replayed(made, request, url)
        if len(self.all()) >= MAX_SUBSCRIPTIONS:
            raise InvalidInput(f"at most {MAX_SUBSCRIPTIONS} subscriptions: delete one first")
        secret = new_secret()
        at = iso_z(now)
        item: Item = {
            **keys.webhook_subscription_key(subscription_id),
            "entity": "WebhookSubscription",
            "subscriptionId": subscription_id,
            "url": url,
            "events": request.events,
            "description": request.description,
            "enabled": True,
            "secret": secret,
            "createdAt": at,
            "updatedAt": at,
        }
        try:
            self.table.transact([Write.put_versioned(item, None)])
        except AlreadyExists:  # the same key's first request won a race with this one
            made = self.get(subscription_id)
            if made is None:
                raise
            return self._replayed(made, request, url)
        return {**item, "version": 1}, secret, True

    @staticmethod
    def _replayed(made: Item, request: SubscriptionRequest, url: str) -> tuple[Item, str, bool]:
        if (made["url"], made["events"], made.get("description", "")) != (
            url,
            request.events,
            request.description,
        ):
            raise Conflict("this Idempotency-Key already made a different subscription: use a new key")
        return made, made["secret"], False

    def change(
        self, subscription_id: str, change: SubscriptionChange, *, allow_loopback: bool, now: datetime
    ) -> Item:
        item = self.existing(subscription_id)
        updated = dict(item)
        if change.url is not None:
            updated["url"] = _checked_url(change.url, allow_loopback)
        if change.events is not None:
            updated["events"] = change.events
        if change.description is not None:
            updated["description"] = change.description
        if change.enabled is not None:
            updated["enabled"] = change.enabled
            if change.enabled:  # the seller says the receiver is back: a fresh start
                updated.pop("disabled", None)
                updated.pop("failingSince", None)
        updated["updatedAt"] = iso_z(now)
        version = int(item.get("version", 0))
        self.table.transact([Write.put_versioned(updated, version)])
        return {**updated, "version": version + 1}

    def rotate_secret(self, subscription_id: str, *, now: datetime) -> tuple[Item, str]:
        item = self.existing(subscription_id)
        secret = new_secret()
        updated = {
            **item,
            "secret": secret,
            "previousSecret": item["secret"],
            "previousSecretUntil": iso_z(now + PREVIOUS_SECRET_KEPT),
            "updatedAt": iso_z(now),
        }
        version = int(item.get("version", 0))
        self.table.transact([Write.put_versioned(updated, version)])
        return {**updated, "version": version + 1}, secret

    def delete(self, subscription_id: str) -> None:
        """Gone at once; its delivery log expires with its TTL, and retries still due find it gone."""
        self.existing(subscription_id)
        self.table.transact([Write.delete(keys.webhook_subscription_key(subscription_id))])
