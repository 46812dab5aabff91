"""API keys through the local stack: the ApiToken (an admin key) makes a warehouse key, which goes through the
same authorizer function as deployed: it reads orders and is refused the shipping setup and the keys, 403
naming the scope; the key list shows when it was last used and never its secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from oms.api.permissions import ROLES
from tests.e2e.support import Api, RunningStack


@pytest.fixture(scope="module")
def api(stack: RunningStack) -> Iterator[Api]:
    client = Api(stack.outputs)
    yield client
    client.session.close()


def _forbidden(response: Any, scope: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "Forbidden" and scope in error["message"], error


def test_a_warehouse_key_made_with_the_api_token_reads_and_ships_but_changes_no_settings(api: Api) -> None:
    made = api.request(
        "POST", "/api-keys", json={"name": "Packing bench", "scopes": sorted(ROLES["warehouse"])}
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("oms_live_")

    assert api.get("/orders", token=key).status_code == 200
    assert api.get("/settings/shipping", token=key).status_code == 200
    _forbidden(
        api.request("PATCH", "/settings/shipping", token=key, json={"sellerName": "x"}), "settings:write"
    )
    _forbidden(api.get("/api-keys", token=key), "keys:admin")
    assert api.get("/orders", token=key[:-1] + ("A" if key[-1] != "A" else "B")).status_code == 401

    listed = api.get("/api-keys").json()["items"]
    mine = next(k for k in listed if k["keyId"] == made.json()["keyId"])
    assert mine["lastUsedAt"] and key not in str(listed)
    assert any(k["name"].startswith("local ApiToken") for k in listed)  # the stack's own token, as a key
