"""Browser fixtures: one headless Chromium for the package, a fresh `gapo serve` per test.

Playwright drives Debian's Chromium (`apt-get install chromium`), never a downloaded build.
The sync API is used from plain `def` tests so it never meets pytest-asyncio's loops. A
missing Chromium is a failure, not a skip: these tests are part of `make test`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.processes import Server, running_server

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """GAPO_TEST_CHROMIUM, else Debian's /usr/bin/chromium; fails loudly when neither exists."""
    candidates = [os.environ.get("GAPO_TEST_CHROMIUM", ""), "/usr/bin/chromium"]
    candidates.append(shutil.which("chromium") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail(
        "Chromium is missing: `make test` installs it (scripts/system-packages.sh), or run "
        "`sudo apt-get install -y chromium` (or set GAPO_TEST_CHROMIUM). Browser tests do not skip.",
        pytrace=False,
    )


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )
    yield instance
    instance.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real `gapo serve` on a free loopback port with its own data dir."""
    with running_server(tmp_path / "data") as running:
        yield running
    assert "Traceback" not in running.output, running.output


class Tabs:
    """Browser contexts opened by one test, each checked for script errors and 5xx answers."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def open(self, base_url: str) -> Page:
        """A fresh context (no cookies) whose relative URLs go to `base_url`."""
        context = self.browser.new_context(base_url=base_url, locale="en-US")
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        tab = context.new_page()
        # 4xx answers are part of what the tests check; script errors and 5xx never are.
        tab.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        tab.on(
            "response",
            lambda r: self.problems.append(f"{r.status} on {r.url}") if r.status >= 500 else None,
        )
        return tab

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def tabs(browser: Browser) -> Iterator[Tabs]:
    opened = Tabs(browser)
    yield opened
    opened.close()
    assert not opened.problems, opened.problems


@pytest.fixture
def page(tabs: Tabs, server: Server) -> Page:
    """A fresh browser context (no cookies) whose relative URLs go to `server`."""
    return tabs.open(server.base_url)


def sign_up(page: Page, username: str, password: str = "a good long passphrase") -> None:
    """Fills and sends the sign-up form; waits for the profile page."""
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(rf"/@{username}$"))


def log_in(page: Page, login: str, password: str = "a good long passphrase") -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
