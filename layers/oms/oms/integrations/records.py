"""The seller's integrations: created with a secret shown once, listed without it, rotated, deleted.

No secret is stored. Each integration keeps a random salt; its key is HMAC-SHA256(master key, id and salt)
with the master key in Secrets Manager (IntegrationsSecret), so a copy of the table (a backup, an export)
signs nothing, and only the functions allowed to read the master key can derive a key (docs/decisions.md).
Rotation keeps the previous salt valid for 24 hours, so a sender can switch over without a gap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities import parameters
from pydantic import Field

from oms.domain.types import ApiModel, UtcDateTime, iso_z, utc_now
from oms.errors import NotFound
from oms.integrations.signatures import Scheme, shown_secret
from oms.settings import get_settings
from oms.store import keys
from oms.store.table import Item, Table, Write

ENTITY = "Integration"
ROTATION_OVERLAP = timedelta(hours=24)


class Kind(StrEnum):
    TRACKING = "tracking"
    STOCK = "stock"
    GENERIC = "generic"


class Integration(ApiModel):
    integration_id: str
    name: str
    kind: Kind
    scheme: Scheme
    created_at: UtcDateTime
    rotated_at: UtcDateTime | None = None
    previous_secret_valid_until: UtcDateTime | None = Field(
        default=None, description="after a rotation, the previous secret is accepted until then"
    )
    webhook_path: str = Field(description="where the sender posts: POST /webhooks/{integrationId}")


class CreatedIntegration(Integration):
    secret: str = Field(description="shown once: configure the sender with it; it is not stored")


def master_key() -> bytes:
    """The integrations' master key (IntegrationsSecret), read once an hour per warm container."""
    secret = parameters.get_secret(get_settings().integrations_secret_arn, max_age=3600)
    return str(secret).encode()


def derive_key(master: bytes, integration_id: str, salt: str) -> bytes:
    return hmac.new(master, f"integration:{integration_id}:{salt}".encode(), hashlib.sha256).digest()


def valid_keys(master: bytes, item: Item, now: datetime) -> list[bytes]:
    """The keys a delivery may be signed with now: the current one, and the previous within its overlap."""
    found = [derive_key(master, item["integrationId"], item["salt"])]
    until = item.get("previousValidUntil")
    if item.get("previousSalt") and until and datetime.fromisoformat(until) > now:
        found.append(derive_key(master, item["integrationId"], item["previousSalt"]))
    return found


def _model(item: Item) -> Integration:
    return Integration(
        integration_id=item["integrationId"],
        name=item["name"],
        kind=item["kind"],
        scheme=item["scheme"],
        created_at=item["createdAt"],
        rotated_at=item.get("rotatedAt"),
        previous_secret_valid_until=item.get("previousValidUntil"),
        webhook_path=f"/webhooks/{item['integrationId']}",
    )


def create_integration(
    table: Table,
    master: bytes,
    *,
    name: str,
    kind: Kind,
    scheme: Scheme,
    actor: str,
    now: datetime | None = None,
) -> CreatedIntegration:
    now = now or utc_now()
    integration_id = "int_" + secrets.token_hex(8)
    salt = secrets.token_hex(16)
    at = iso_z(now)
    item = {
        **keys.integration_key(integration_id),
        **keys.integration_index_keys(integration_id, at),
        "entity": ENTITY,
        "integrationId": integration_id,
        "name": name,
        "kind": kind.value,
        "scheme": scheme.value,
        "salt": salt,
        "createdAt": at,
        "createdBy": actor,
    }
    table.transact([Write.put_versioned(item, None)])
    secret = shown_secret(scheme, derive_key(master, integration_id, salt))
    return CreatedIntegration(**_model(item).model_dump(), secret=secret)


def get_integration_item(table: Table, integration_id: str, *, consistent: bool = False) -> Item:
    item = table.get(keys.integration_key(integration_id), consistent=consistent)
    if item is None:
        raise NotFound(f"integration {integration_id} is not known here")
    return item


def get_integration(table: Table, integration_id: str) -> Integration:
    return _model(get_integration_item(table, integration_id))


def list_integrations(table: Table) -> list[Integration]:
    """Every integration, oldest first (a seller has a handful)."""
    return [_model(item) for item in table.query_all(keys.integrations_by_creation())]


def delete_integration(table: Table, integration_id: str) -> None:
    """From now on its webhooks are refused (401) like any unknown integration's."""
    get_integration_item(table, integration_id, consistent=True)
    table.delete(keys.integration_key(integration_id))


def rotate_secret(
    table: Table, master: bytes, integration_id: str, *, actor: str, now: datetime | None = None
) -> CreatedIntegration:
    """A new secret, shown once; the previous one stays valid for 24 hours (a rotation within them ends
    the older secret at once: only the last two are ever valid)."""
    now = now or utc_now()
    item = get_integration_item(table, integration_id, consistent=True)
    salt = secrets.token_hex(16)
    rotated: dict[str, Any] = {
        **item,
        "salt": salt,
        "previousSalt": item["salt"],
        "previousValidUntil": iso_z(now + ROTATION_OVERLAP),
        "rotatedAt": iso_z(now),
        "rotatedBy": actor,
    }
    table.transact([Write.put_versioned(rotated, int(item["version"]))])  # two rotations at once: one wins
    secret = shown_secret(Scheme(item["scheme"]), derive_key(master, integration_id, salt))
    return CreatedIntegration(**_model(rotated).model_dump(), secret=secret)


def list_problems(table: Table, integration_id: str, *, limit: int) -> list[dict[str, Any]]:
    """The deliveries that could not be applied, newest first, with the reason and the body as sent."""
    get_integration_item(table, integration_id)
    found: list[dict[str, Any]] = []
    for item in table.query_all(keys.integration_records(integration_id, "PROBLEM"), page_size=limit):
        found.append(
            {
                k: item.get(k)
                for k in ("deliveryId", "receivedAt", "refusedAt", "reason", "body", "bodyEncoding")
            }
        )
        if len(found) >= limit:
            break
    return found
