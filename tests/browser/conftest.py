"""Browser fixtures: one headless Chromium for the package, a fresh `gapo serve` per test.

Playwright drives Debian's Chromium (`apt-get install chromium`), never a downloaded build.
The sync API is used from plain `def` tests so it never meets pytest-asyncio's loops. A
missing Chromium is a failure, not a skip: these tests are part of `make test`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.helpers.browser import Tabs
from tests.helpers.processes import Server, running_server

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
