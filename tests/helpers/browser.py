"""Helpers for browser tests: a set of checked browser contexts, and the sign-up and log-in steps."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect


class Tabs:
    """Browser contexts opened by one test, each checked for script errors and 5xx answers."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def open(self, base_url: str, **options: Any) -> Page:
        """A fresh context (no cookies) whose relative URLs go to `base_url`; `options` go
        to Playwright's new_context (a `timezone_id`, say)."""
        options.setdefault("locale", "en-US")
        context = self.browser.new_context(base_url=base_url, **options)
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


def sign_up(page: Page, username: str, password: str = "a good long passphrase") -> None:
    """Fills and sends the sign-up form; waits for the home feed, where a sign-up lands."""
    page.goto("/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/home$"))


def log_in(page: Page, login: str, password: str = "a good long passphrase") -> None:
    page.goto("/login")
    page.get_by_label("Username", exact=True).fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    """Waits until the session is gone: `wait_for_load_state` alone can return before the
    logout's navigation starts, and a `goto` then races it (still signed in, /signup sends
    the page to /home and its form is never found)."""
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.wait_for_load_state()


def open_new_post(page: Page) -> str:
    """After posting from a feed, which comes back to the feed at the new post's card:
    waits for that, then opens the post's own page and returns its URL."""
    page.wait_for_url(re.compile(r"#post-\d+-card$"))
    found = re.search(r"#post-(\d+)-card$", page.url)
    assert found, page.url
    page.goto(f"/p/{found.group(1)}")
    return page.url


def choose_language(page: Page, lang: str) -> None:
    """The footer's language form (a fresh context is en-US; "en" changes nothing)."""
    if lang == "en":
        return
    page.locator("#locale-select").select_option(lang)
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", lang)
