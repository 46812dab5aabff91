"""API keys through the API: made with scopes (the secret shown once), listed without it, revoked; bad
requests refused naming the field, nothing written."""

from __future__ import annotations

import json

from oms.access.api_keys import ApiKeyStore
from oms.store.default import default_table
from tests.api_calls import call_api


def test_an_admin_makes_a_key_sees_it_listed_without_its_secret_and_revokes_it(stack, context):
    status, made = call_api(
        stack,
        context,
        "POST",
        "/api-keys",
        {"name": "ShipStation", "scopes": ["orders:read", "shipping:write"]},
    )
    assert status == 201, made
    assert made["key"].startswith("oms_live_") and made["keyId"].startswith("key_")
    assert made["prefix"] == made["key"][:13] and made["createdBy"] == "user:seller@example.com"
    status, listed = call_api(stack, context, "GET", "/api-keys")
    assert status == 200
    (row,) = listed["items"]
    assert row["name"] == "ShipStation" and row["scopes"] == ["orders:read", "shipping:write"]
    assert row["createdAt"].endswith("Z") and row["lastUsedAt"] is None and row["revokedAt"] is None
    assert made["key"] not in json.dumps(listed) and "secretHash" not in row and row["current"] is False
    as_the_key = {
        "principalId": f"key:{made['keyId']}",
        "kind": "key",
        "name": "ShipStation",
        "scopes": "keys:admin",
    }
    assert (
        call_api(stack, context, "GET", "/api-keys", authorizer=as_the_key)[1]["items"][0]["current"] is True
    )
    assert ApiKeyStore(default_table()).find(made["key"]) is not None

    status, revoked = call_api(stack, context, "DELETE", f"/api-keys/{made['keyId']}")
    assert status == 200 and revoked["revokedAt"]
    assert ApiKeyStore(default_table()).find(made["key"]) is None
    assert call_api(stack, context, "DELETE", f"/api-keys/{made['keyId']}") == (
        200,
        revoked,
    )  # again: the same
    assert call_api(stack, context, "DELETE", "/api-keys/key_nope")[0] == 404


def test_a_key_with_an_unknown_scope_or_no_name_is_refused_and_nothing_is_made(stack, context):
    status, answer = call_api(stack, context, "POST", "/api-keys", {"name": "x", "scopes": ["orders:delete"]})
    assert status == 400 and answer["error"]["details"][0]["field"] == "scopes"
    assert "orders:delete" in answer["error"]["message"]
    for body in (
        {"name": " ", "scopes": ["orders:read"]},
        {"name": "x", "scopes": []},
        {"scopes": ["orders:read"]},
    ):
        assert call_api(stack, context, "POST", "/api-keys", body)[0] == 400, body
    assert call_api(stack, context, "GET", "/api-keys")[1]["items"] == []


def test_only_an_admin_manages_keys(stack, context):
    warehouse = {"sub": "u-2", "email": "packer@example.com", "groups": "warehouse"}
    status, answer = call_api(stack, context, "GET", "/api-keys", claims=warehouse)
    assert status == 403 and "keys:admin" in answer["error"]["message"]


def test_the_scopes_a_key_may_have_are_listed_with_the_roles_that_hold_them(stack, context):
    status, answer = call_api(stack, context, "GET", "/api-keys/scopes")
    assert status == 200
    by_scope = {s["scope"]: s for s in answer["items"]}
    assert by_scope["shipping:write"]["roles"] == ["admin", "warehouse"]
    assert by_scope["settings:write"]["roles"] == ["admin"] and by_scope["orders:read"]["description"]


def test_a_retried_request_makes_no_second_key_and_says_the_secret_was_shown_once(stack, context):
    body = {"name": "3PL", "scopes": ["inventory:write"]}
    first = call_api(stack, context, "POST", "/api-keys", body, headers={"Idempotency-Key": "k-1"})
    again = call_api(stack, context, "POST", "/api-keys", body, headers={"Idempotency-Key": "k-1"})
    assert first[0] == 201 and again[0] == 409, again
    assert (
        first[1]["keyId"] in again[1]["error"]["message"]
        and "shown in that answer only" in again[1]["error"]["message"]
    )
    assert first[1]["key"] not in json.dumps(again[1])
    other_admin = {"sub": "u-9", "email": "partner@example.com"}
    assert (
        call_api(
            stack, context, "POST", "/api-keys", body, headers={"Idempotency-Key": "k-1"}, claims=other_admin
        )[0]
        == 201
    )
    assert len(call_api(stack, context, "GET", "/api-keys")[1]["items"]) == 2
