"""The API keys page in Chromium against a local stack: a key made from the warehouse preset is shown once,
works within its scopes (403 naming settings:write outside them), is listed with its last use and never its
secret, and is revoked from its row."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.conftest import Api, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

NAME = f"Packing bench {uuid.uuid4().hex[:4]}"


def test_a_key_is_made_shown_once_used_within_its_scopes_and_revoked(
    signed_in: Callable[..., Any], api: Api, outputs: dict[str, Any], screenshots: Path
) -> None:
    page = signed_in("#/settings/keys")
    page.set_default_timeout(60_000)
    page.fill("#key-name", NAME)
    page.click("button.preset:has-text('Warehouse')")
    assert page.is_checked("input[value='shipping:write']") and not page.is_checked(
        "input[value='settings:write']"
    )
    page.click("#key-create")
    page.wait_for_selector("#new-key")
    key = page.inner_text("#new-key").strip()
    assert key.startswith("oms_live_")
    page.screenshot(path=str(screenshots / "api-keys-made.png"), full_page=True)

    def as_key(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, outputs["ApiUrl"] + path, headers={"Authorization": f"Bearer {key}"}, timeout=30, **kwargs
        )

    assert as_key("GET", "/orders").status_code == 200
    refused = as_key("PATCH", "/settings/shipping", json={"sellerName": "x"})
    assert refused.status_code == 403 and "settings:write" in refused.json()["error"]["message"]

    listed = api.ok("GET", "/api-keys")["items"]
    mine = next(k for k in listed if k["name"] == NAME)
    assert mine["lastUsedAt"] and key not in str(listed)

    page.reload()
    page.wait_for_selector(f"tr[data-key-id='{mine['keyId']}']")
    assert key not in page.content()  # shown once: not after a reload
    page.on("dialog", lambda dialog: dialog.accept())
    page.click(f"tr[data-key-id='{mine['keyId']}'] button.revoke")
    page.wait_for_selector(f"tr[data-key-id='{mine['keyId']}'] >> text=revoked")
    assert wait_for(
        lambda: next(k for k in api.ok("GET", "/api-keys")["items"] if k["name"] == NAME)["revokedAt"], 10
    )
    assert page.script_errors == []
