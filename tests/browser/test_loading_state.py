"""A page that has drawn its heading and still waits for its rows says "Loading…" (a slow API is not an
empty page), and says nothing of the kind once the rows are there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import wait_until_loaded

AFTER = "() => getComputedStyle(document.getElementById('view'), '::after').content"


def test_a_page_waiting_for_its_rows_says_loading_until_they_arrive(
    new_page: Callable[..., Any], outputs: dict[str, Any]
) -> None:
    page = new_page()
    page.goto(outputs["DashboardUrl"])
    page.wait_for_selector("#sign-out:not([hidden])")
    wait_until_loaded(page)

    def slow(route: Any) -> None:
        time.sleep(2)  # the stock rows take their time
        route.continue_()

    page.route(f"{outputs['ApiUrl']}/inventory?**", slow)
    page.evaluate("() => { location.hash = '#/inventory'; }")
    page.wait_for_selector("#view h1")  # the heading is drawn, the rows are not
    assert page.get_attribute("#view", "aria-busy") == "true"
    assert page.evaluate(AFTER) == '"Loading…"'
    wait_until_loaded(page)
    assert page.evaluate(AFTER) == "none"
    assert page.locator("#stock-table").inner_text()  # rows, or the empty state in words
    assert not page.script_errors
