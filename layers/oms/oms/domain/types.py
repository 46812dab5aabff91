"""Shared value types of the public contract: UTC instants ending in Z, camelCase JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time needs its zone, e.g. 2026-11-26T10:00:00Z")
    return value.astimezone(UTC)


def iso_z(value: datetime) -> str:
    """The contract's time format: UTC to the second, ending in Z (one width, so text sorts as time)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc), PlainSerializer(iso_z, return_type=str)]


class Money(BaseModel):
    """{"amount": "12.34", "currencyCode": "USD"}: the amount as a decimal string, never a float."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    amount: str
    currency_code: str


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown input fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
