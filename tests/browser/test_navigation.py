"""The main navigation in Chromium: seven entries on one line of a laptop, grouped the way a seller looks for
things (orders, stock, planning, returns, messages, reports, settings), usable by keyboard, the page shown
marked, and behind one "Menu" button on a phone. Screenshots in test-artifacts/screenshots/nav-*.png."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import wait_until_loaded

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TOP = ["Orders", "Stock", "Planning", "Returns", "Messages", "Reports", "Settings"]
PAGES = [  # (group, link, href, data-nav)
    ("Orders", "Ship today", "#/queue", "queue"),
    ("Orders", "All orders", "#/orders", "orders"),
    ("Orders", "Pick batches", "#/batches", "batches"),
    ("Stock", "Stock levels", "#/inventory", "inventory"),
    ("Stock", "Purchase orders", "#/purchase-orders", "purchase-orders"),
    ("Stock", "Suppliers", "#/suppliers", "suppliers"),
    (None, "Planning", "#/planning", "planning"),
    (None, "Returns", "#/returns", "returns"),
    (None, "Messages", "#/messages", "messages"),
    ("Reports", "Order reports", "#/reports", "reports"),
    ("Reports", "Account health", "#/health", "health"),
    ("Settings", "Shipping setup", "#/settings", "settings"),
    ("Settings", "Order rules", "#/rules", "rules"),
    ("Settings", "Reply templates", "#/messages/templates", "templates"),
    ("Settings", "Webhooks", "#/webhooks", "webhooks"),
    ("Settings", "API keys", "#/settings/keys", "keys"),
]


def _top_entries(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        "#main-nav .nav-top > li > :is(a, button)",
        "els => els.map(e => ({text: e.textContent.trim(), top: e.getBoundingClientRect().top,"
        " right: e.getBoundingClientRect().right}))",
    )


def test_on_a_laptop_the_navigation_is_one_line_and_works_by_keyboard(
    signed_in: Callable[..., Any], screenshots: Path
) -> None:
    page = signed_in("#/inventory", viewport=LAPTOP)
    entries = _top_entries(page)
    assert [e["text"] for e in entries] == TOP
    assert len({round(e["top"]) for e in entries}) == 1, entries  # one line
    session = page.eval_on_selector("#sign-out", "e => e.getBoundingClientRect().top")
    assert abs(session - entries[0]["top"]) < 8, (session, entries)  # the session beside it, not under it
    assert page.is_hidden(".nav-toggle")
    stock = page.locator("#main-nav button[aria-controls=nav-stock]")
    assert stock.get_attribute("data-current") == "true"  # the page shown is in this group
    assert page.get_attribute('nav a[data-nav="inventory"]', "aria-current") == "page"
    assert page.is_hidden("#nav-stock")

    # keyboard: open Settings with Enter, Tab into its list, Escape closes it and gives focus back
    page.focus("#main-nav button[aria-controls=nav-settings]")
    page.keyboard.press("Enter")
    settings = page.locator("#main-nav button[aria-controls=nav-settings]")
    assert settings.get_attribute("aria-expanded") == "true" and page.is_visible("#nav-settings")
    page.screenshot(path=str(screenshots / "nav-laptop-settings-open.png"))
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.nav") == "settings"
    page.keyboard.press("Escape")
    assert settings.get_attribute("aria-expanded") == "false" and page.is_hidden("#nav-settings")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-controls')") == "nav-settings"

    # one group open at a time; choosing a page closes it and marks the new place
    settings.click()
    page.click("#main-nav button[aria-controls=nav-reports]")
    assert page.is_hidden("#nav-settings") and page.is_visible("#nav-reports")
    page.click('#nav-reports a[data-nav="health"]')
    wait_until_loaded(page)
    assert page.is_hidden("#nav-reports")
    assert page.locator("#main-nav button[aria-controls=nav-reports]").get_attribute("data-current") == "true"
    assert stock.get_attribute("data-current") is None
    page.click("#main-nav button[aria-controls=nav-orders]")
    page.click("main")  # a click elsewhere closes it
    assert page.is_hidden("#nav-orders")
    page.screenshot(path=str(screenshots / "nav-laptop.png"))
    assert page.script_errors == []


def test_on_a_phone_the_navigation_sits_behind_one_menu_button(
    signed_in: Callable[..., Any], screenshots: Path
) -> None:
    page = signed_in("#/messages", viewport=PHONE)
    toggle = page.locator(".nav-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert toggle.inner_text() == "Menu · Messages"
    assert page.is_hidden("#main-nav")
    page.screenshot(path=str(screenshots / "nav-phone-closed.png"))

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and page.is_visible("#main-nav")
    page.click("#main-nav button[aria-controls=nav-settings]")
    assert page.is_visible('#nav-settings a[data-nav="keys"]')
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots / "nav-phone-open.png"), full_page=True)
    page.click('#nav-settings a[data-nav="keys"]')
    wait_until_loaded(page)
    assert page.is_hidden("#main-nav")  # the menu closes on the new page
    assert toggle.inner_text() == "Menu · API keys"
    toggle.click()
    page.focus('#main-nav a[data-nav="planning"]')
    page.keyboard.press("Escape")  # closes the menu, focus back on its button
    assert page.is_hidden("#main-nav")
    assert page.evaluate("() => document.activeElement.classList.contains('nav-toggle')")
    assert page.script_errors == []


def test_at_800_px_every_entry_shows_without_scrolling_sideways(
    signed_in: Callable[..., Any], screenshots: Path
) -> None:
    page = signed_in("#/returns", viewport={"width": 800, "height": 900})
    assert [e["text"] for e in _top_entries(page)] == TOP
    # every page is there, in its group, as web/js/nav.js's NAV list draws it (the README names them all)
    links = page.eval_on_selector_all(
        "#main-nav a[data-nav]",
        "els => els.map(e => [e.closest('.nav-group')?.querySelector(':scope > button').textContent ?? null,"
        " e.textContent, e.getAttribute('href'), e.dataset.nav])",
    )
    assert [tuple(link) for link in links] == PAGES
    assert all(e["right"] <= 800 for e in _top_entries(page))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 800
    page.screenshot(path=str(screenshots / "nav-800.png"))
