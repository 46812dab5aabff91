"""API keys for machines (a 3PL, an accounting tool, a script): a high-entropy secret shown once at creation
and stored only as its SHA-256, with the scopes it was given. A key is sent as `Authorization: Bearer <key>`.

Two items per key, written in one transaction: the listing (`APIKEYS` / `KEY#<keyId>`: name, scopes, when made
and last used, revoked) and the lookup by hash the authorizer reads (deleted on revocation)."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import suppress
from datetime import datetime, timedelta

from pydantic import Field

from oms.domain.types import ApiModel, iso_z, utc_now
from oms.errors import AlreadyExists, Conflict, FieldProblem, NotFound
from oms.store import conditional, keys
from oms.store.table import Table, Write

KEY_PREFIX = "oms_live_"  # recognisable in a config file or a leak scanner
SHOWN_PREFIX = 13  # characters of a key kept to tell keys apart (the prefix and 4 random ones)
USE_NOTED_EVERY = timedelta(minutes=1)
ENTITY = "ApiKey"
LOOKUP_ENTITY = "ApiKeyLookup"


def key_id_for(idempotency_key: str | None) -> str:
    """A new key's id; a retried request (same Idempotency-Key, already scoped to its caller) names the same."""
    if idempotency_key:
        return "key_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
    return "key_" + secrets.token_hex(8)


def secret_hash(secret: str) -> str:
    """A key's lookup hash: the secret is 256 random bits, so a fast unsalted hash cannot be reversed."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


class ApiKey(ApiModel):
    """A key as the seller sees it: never its secret."""

    key_id: str
    name: str
    scopes: list[str]
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: str
    created_by: str = ""
    last_used_at: str | None = None
    revoked_at: str | None = None


class NewApiKey(ApiKey):
    key: str = Field(description="the secret: shown this once, stored only as a hash")


class LiveKey(ApiModel):
    """What the authorizer learns from a secret: the key and its scopes."""

    key_id: str
    name: str
    scopes: list[str]


class ApiKeyStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(
        self,
        name: str,
        scopes: list[str],
        *,
        created_by: str = "",
        secret: str | None = None,
        idempotency_key: str | None = None,
    ) -> NewApiKey:
        """A new key with its secret (`secret` given: a key whose secret exists already, as the local
        stack's ApiToken). A retried request (the same `idempotency_key`) names the same key id, so it makes
        no second key; its secret was in the first answer only (never stored), so the retry is refused."""
        secret = secret or KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = key_id_for(idempotency_key)
        hashed = secret_hash(secret)
        made = NewApiKey(
            key_id=key_id,
            name=name,
            scopes=sorted(set(scopes)),
            prefix=secret[:SHOWN_PREFIX],
            created_at=iso_z(utc_now()),
            created_by=created_by,
            key=secret,
        )
        listing = made.model_dump(by_alias=True, exclude={"key"}, exclude_none=True)
        try:
            self._write_new(made, hashed, listing)
        except AlreadyExists:
            if idempotency_key is None:
                raise
            raise AlreadyExists(
                f"this Idempotency-Key already made API key {key_id}; its secret was shown in that answer only. "
                "If it was lost, revoke the key and make another.",
                [FieldProblem("Idempotency-Key", f"already made {key_id}")],
            ) from None
        return made

    def _write_new(self, made: NewApiKey, hashed: str, listing: dict) -> None:
        key_id, name = made.key_id, made.name
        self.table.transact(
            [
                Write.put_new(
                    {**keys.api_key_key(key_id), "entity": ENTITY, "secretHash": hashed, **listing}
                ),
                Write.put_new(
                    {
                        **keys.api_key_lookup_key(hashed),
                        "entity": LOOKUP_ENTITY,
                        "keyId": key_id,
                        "name": name,
                        "scopes": made.scopes,
                    }
                ),
            ]
        )

    def all(self) -> list[ApiKey]:
        """Every key, newest first (a seller has a handful: one small partition)."""
        found = [_listed(item) for item in self.table.query_all(keys.api_keys(), consistent=True)]
        return sorted(found, key=lambda k: k.created_at, reverse=True)

    def get(self, key_id: str) -> ApiKey:
        item = self.table.get(keys.api_key_key(key_id), consistent=True)
        if item is None:
            raise NotFound(f"no API key {key_id}")
        return _listed(item)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key: its lookup goes in the same transaction, so the next authorization refuses it. A
        key already revoked is answered as it is (a retried revocation changes nothing)."""
        item = self.table.get(keys.api_key_key(key_id), consistent=True)
        if item is None:
            raise NotFound(f"no API key {key_id}")
        if item.get("revokedAt"):
            return _listed(item)
        with suppress(Conflict):  # revoked meanwhile by another request: the same outcome
            self.table.transact(
                [
                    conditional.api_key_revocation(key_id, iso_z(utc_now())),
                    Write.delete(keys.api_key_lookup_key(item["secretHash"])),
                ]
            )
        return self.get(key_id)

    def find(self, secret: str) -> LiveKey | None:
        """The live key this secret is, or None (unknown or revoked)."""
        item = self.table.get(keys.api_key_lookup_key(secret_hash(secret)))
        if item is None:
            return None
        return LiveKey(key_id=item["keyId"], name=item.get("name", ""), scopes=list(item.get("scopes", [])))

    def note_use(self, key_id: str, at: datetime | None = None) -> bool:
        """Record that the key was used now, at most once a minute (a refused condition is the common case:
        used within the minute). True when written."""
        at = at or utc_now()
        try:
            self.table.transact([conditional.api_key_use(key_id, iso_z(at), iso_z(at - USE_NOTED_EVERY))])
        except Conflict:
            return False
        return True


def _listed(item: dict) -> ApiKey:
    return ApiKey.model_validate({k: v for k, v in item.items() if k in _LISTED_FIELDS})


_LISTED_FIELDS = {alias for alias in (f.alias for f in ApiKey.model_fields.values()) if alias}
