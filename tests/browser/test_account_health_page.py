"""The Account health page shows every figure Amazon judges the seller by, in words: shipping, buyer
messages and returns, each window as "Last N days", each count in what it counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def test_account_health_shows_the_message_and_return_figures_with_windows_in_words(
    signed_in: Callable[..., Any], api: Any
) -> None:
    health = api.ok("GET", "/metrics/account-health")
    page = signed_in("#/health")
    shown = page.eval_on_selector_all("[data-metric]", "cards => cards.map(c => c.dataset.metric)")
    figures = [key for key, value in health.items() if isinstance(value, dict) and "target" in value]
    assert set(figures) <= set(shown), (
        f"figures the API gives that the page leaves out: {set(figures) - set(shown)}"
    )
    messages = page.locator('[data-metric="lateResponseRate7d"]')
    assert "Late response rate" in messages.inner_text()
    assert messages.locator("dt:text-is('Window') + dd").inner_text() == "Last 7 days"
    assert messages.locator("dt:text-is('Messages')").count() == 1
    assert "No messages in the window" in messages.inner_text()  # a fresh stack: nobody wrote yet
    refunds = page.locator('[data-metric="refundOnTimeRate"]')
    assert refunds.locator("dt:text-is('Window') + dd").inner_text() == "Last 30 days"
    assert "30d" not in page.inner_text("#view")
    assert not page.script_errors
