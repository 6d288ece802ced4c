"""Headless Chromium for UI tests (Playwright driving Debian's chromium; no browser download)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))
# For steps whose request renders a PDF on the server: the first WeasyPrint render of a process loads its fonts,
# which takes seconds more than a page on a busy 2-core machine.
PDF_STEP_TIMEOUT_MS = 45000
# Each step's ceiling (a passing step takes well under a second). Under xdist, two workers, their Chromiums and live
# servers share two cores, and a loaded machine stretched single navigations past 15 s.
STEP_TIMEOUT_MS = 30000

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _require_chromium() -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must install it (make browser)")
        pytest.skip(f"Chromium not found at {CHROMIUM} (make browser installs it)")


class _Browser:
    """One Playwright driver and one Chromium per test process (xdist worker), shared by its browser tests.

    Launching Chromium costs a second or more; each test still gets a fresh context (its own cookies, storage and
    viewport), so tests stay independent. Playwright's sync API parks its asyncio loop in this thread as the
    *running* loop between calls, which makes Django refuse ORM calls (SynchronousOnlyOperation) and asgiref refuse
    async_to_sync in every later test of the process; so the loop is marked running only while a browser test runs.
    """

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._loop = asyncio.events._get_running_loop()
        try:
            self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        finally:
            self.park()

    def unpark(self) -> None:
        asyncio.events._set_running_loop(self._loop)

    def park(self) -> None:
        asyncio.events._set_running_loop(None)

    def close(self) -> None:
        self.unpark()
        try:
            self.browser.close()
        finally:
            self._pw.stop()
            self.park()


@pytest.fixture(scope="session")
def _browser() -> Iterator[_Browser]:
    _require_chromium()
    browser = _Browser()
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(live_server, _browser: _Browser) -> Iterator[object]:
    """A fresh page in a fresh browser context; tests save screenshots with ``screenshot(page, name)``."""
    # While Playwright's loop is marked running in this thread, Django must allow ORM calls here (the test's own).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _browser.unpark()
    try:
        context = _browser.browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(REPORT_CSP_SOURCE)
        violations: list[str] = []
        try:
            pg = context.new_page()
            pg.set_default_timeout(STEP_TIMEOUT_MS)
            watch_csp(pg, violations)
            yield pg
        finally:
            context.close()
        if violations:
            pytest.fail("Content Security Policy violations:\n" + "\n".join(violations), pytrace=False)
    finally:
        _browser.park()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Chromium's own console message says what was blocked but not where; the page's securitypolicyviolation event
# names the element and the script line that did it, which is what a failing test should print.
REPORT_CSP_SOURCE = """
document.addEventListener("securitypolicyviolation", function (e) {
  var el = e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 200) : "";
  console.error("Content Security Policy blocked " + e.effectiveDirective + " at " + (e.sourceFile || "the page") +
    ":" + e.lineNumber + ":" + e.columnNumber + (e.sample ? " sample " + e.sample : "") + (el ? " on " + el : ""));
}, true);
"""


def is_csp_violation(text: str) -> bool:
    """Chromium reports each thing the policy blocked as a console error naming the Content Security Policy."""
    return "Content Security Policy" in text


def watch_csp(page: Any, violations: list[str]) -> None:
    """Collect what the content security policy blocks on this page (and in its popups), so every browser test also
    checks the policy on each screen it visits: a blocked style or script is a failure, not a silent glitch."""

    def on_console(message: Any) -> None:
        if is_csp_violation(message.text):
            violations.append(f"{page.url}: {message.text}")

    def on_error(error: Any) -> None:
        if is_csp_violation(str(error)):
            violations.append(f"{page.url}: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("popup", lambda popup: watch_csp(popup, violations))


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def sign_in(
    page: Any,
    live_server: Any,
    username: str,
    *,
    viewport: dict[str, int] | None = None,
    start: str = "/accounts/login/",
) -> None:
    """Sign a staff user in through the login form (the password is the test factories' PASSWORD).

    ``viewport`` sizes the page first (a tablet or a phone); ``start`` is the page opened first, which shows the form
    or redirects to it.
    """
    from openiop.testing.fixtures import PASSWORD

    if viewport is not None:
        page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}{start}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def sign_in_with_session(page: Any, live_server: Any, user: Any) -> None:
    """Hand the browser a session made by Django's test client, for logins whose own sign-in page is not under test
    (a family login: the portal's login page belongs to, and is tested by, the portal)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
