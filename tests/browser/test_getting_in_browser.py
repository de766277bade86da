"""Getting in, in Chromium on a phone (390x844) and a desktop (1280x800), in English and
Vietnamese: log-in lands on the home feed with the composer on the first screen; the
username rule is in words; the first-admin command is not cut off on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import choose_language

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "Chuoi-xanh-Ban-Me-2026"  # contains the username `an`: accepted
COMPOSER_LABEL = {"en": "What's on your mind?", "vi": "Bạn đang nghĩ gì?"}


def _submit(page: Page) -> None:
    page.locator("main form.stack button[type=submit]").click()


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_login_lands_on_the_home_feed_with_the_composer(page: Page, size: str, lang: str) -> None:
    page.set_viewport_size(SIZES[size])
    page.goto("/signup")
    choose_language(page, lang)
    page.locator("#username").fill("an")
    page.locator("#email").fill("an@example.org")
    page.locator("#password").fill(PASSWORD)
    _submit(page)
    page.wait_for_url(re.compile(r"/home$"))
    # A fresh browser for the log-in (log-out itself, and its place in the phone menu, is
    # covered by the navigation tests).
    page.context.clear_cookies()

    page.goto("/login")
    expect(page.locator("main a[href='/signup']")).to_be_visible()
    page.locator("#login").fill("an")
    page.locator("#password").fill(PASSWORD)
    _submit(page)
    page.wait_for_url(re.compile(r"/home$"))
    composer = page.get_by_label(COMPOSER_LABEL[lang])
    expect(composer).to_be_visible()
    box = composer.bounding_box()
    assert box is not None and box["y"] < SIZES[size]["height"], box  # on the first screen
    expect(page.locator("a.brand")).to_have_attribute("href", "/home")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_username_rule_in_words_and_admin_command_fits(page: Page, size: str) -> None:
    """The rule is visible next to the field (and in its title), and the command of the
    welcome page stays inside the screen, wrapped."""
    page.set_viewport_size(SIZES[size])
    page.goto("/signup")
    username = page.locator("#username")
    expect(username).to_have_attribute("aria-describedby", "username-help")
    expect(page.locator("#username-help")).to_be_visible()
    expect(page.locator("#username-help")).to_contain_text("lowercase letters a–z")
    expect(username).to_have_attribute("title", re.compile("lowercase letters a–z"))
    expect(page.locator("#password-help")).to_contain_text("16 characters")

    page.goto("/")
    command = page.locator("pre.command")
    expect(command).to_be_visible()
    fits = command.evaluate(
        "el => el.scrollWidth <= el.clientWidth"
        " && el.getBoundingClientRect().right <= document.documentElement.clientWidth"
    )
    assert fits
