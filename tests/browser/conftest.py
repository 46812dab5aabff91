"""The dashboard in a real browser: Debian's chromium driven by Playwright against one local stack.

Playwright's own browser download is not used (`make system-deps` installs chromium). One stack
(`oms local --no-simulator`) serves the whole module; every test opens its own browser context.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from oms_local import harness
from oms_local.harness import wait_for  # noqa: F401 - the tests import it from here
from tests.stack_starts import one_start_at_a_time

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
HTTP_TIMEOUT = 30


class Api:
    """The seller's HTTP client, with the stack's token."""

    def __init__(self, outputs: dict[str, Any]) -> None:
        self.base_url = outputs["ApiUrl"]
        self.session = requests.Session()
        self.session.trust_env = False  # loopback calls must not go through a proxy
        self.session.headers["Authorization"] = f"Bearer {outputs['ApiToken']}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path, timeout=HTTP_TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium for these tests")
    return CHROMIUM


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.StackProcess]:
    try:
        with one_start_at_a_time(tmp_path_factory):
            running = harness.start_stack(tmp_path_factory.mktemp("dashboard") / "state", timeout=120)
    except harness.StackDidNotStart as failure:
        pytest.fail(str(failure))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def outputs(stack: harness.StackProcess) -> dict[str, Any]:
    return stack.outputs


@pytest.fixture(scope="module")
def api(outputs: dict[str, Any]) -> Api:
    return Api(outputs)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """new_page(viewport=PHONE, timezone_id="Asia/Tokyo") -> a page in a fresh context (its own
    sessionStorage, the browser's clock in that zone); errors collected."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, timezone_id: str | None = None) -> Any:
        options: dict[str, Any] = {"timezone_id": timezone_id} if timezone_id else {}
        context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, **options)
        context.set_default_timeout(30_000)  # a busy 2-core machine starts pages slowly
        if os.environ.get("FAKETIME"):  # make test-timeshift: libfaketime does not reach chromium's clock
            context.clock.set_system_time(datetime.now(UTC))
        contexts.append(context)
        page = context.new_page()
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        # The console serves CloudFront's Content-Security-Policy: anything it blocks is an error too.
        page.on(
            "console",
            lambda message: (
                page.script_errors.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in(new_page: Callable[..., Any], outputs: dict[str, Any]) -> Callable[..., Any]:
    """signed_in("#/inventory") -> a page opened from DashboardUrl, then at that route."""

    def open_at(
        route: str = "#/queue", viewport: dict[str, int] | None = None, timezone_id: str | None = None
    ) -> Any:
        page = new_page(viewport, timezone_id)
        page.goto(outputs["DashboardUrl"])
        page.wait_for_selector("#sign-out:not([hidden])")
        if route != "#/queue":
            page.evaluate("route => { location.hash = route; }", route)
        wait_until_loaded(page)
        return page

    return open_at


def wait_until_loaded(page: Any) -> None:
    """The route in the address bar has rendered (app.js marks #view when a view has finished)."""
    page.wait_for_function(
        "() => { const v = document.getElementById('view');"
        " return v.dataset.rendered === location.hash && !v.hasAttribute('aria-busy'); }"
    )


WEB = Path(__file__).resolve().parents[2] / "web"


def serve_web(page: Any, origin: str, html: str) -> None:
    """`page` opens `html` at `origin` with the dashboard's own files (web/) served beside it: a view tested
    without a stack (the test stubs what it fetches)."""

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(origin).split("?")[0]
        if path == "/":
            route.fulfill(body=html, content_type="text/html")
        elif (WEB / path.lstrip("/")).is_file():
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            route.fulfill(path=str(WEB / path.lstrip("/")), content_type=kind)
        else:
            route.fulfill(status=404)

    page.route(f"{origin}/**", serve)
    page.goto(f"{origin}/")


@pytest.fixture(scope="session")
def screenshots(testrun_uid: str) -> Path:
    """test-artifacts/screenshots/, emptied once per run: under pytest-xdist every worker has its own session,
    and a worker that came later must not delete what another has saved (the run's id marks who emptied it)."""
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    with (SCREENSHOTS.parent / ".screenshots.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = SCREENSHOTS / ".run"
        if not marker.exists() or marker.read_text() != testrun_uid:
            shutil.rmtree(SCREENSHOTS, ignore_errors=True)
            SCREENSHOTS.mkdir(parents=True)
            marker.write_text(testrun_uid)
    return SCREENSHOTS
