"""A person in a real browser: sign up, see the profile, edit the bio, log out, log in."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.helpers.browser import log_in, log_out, sign_up


def test_signup_profile_edit_logout_login(page: Page) -> None:
    """The whole account loop works through the forms, with real cookies and CSRF tokens."""
    sign_up(page, "linh")
    page.goto("/@linh")
    expect(page.locator("h1")).to_have_text("linh")
    expect(page.locator(".handle")).to_contain_text("@linh@127.0.0.1")

    page.get_by_role("main").get_by_role("link", name="Edit profile").click()
    page.get_by_label("Display name").fill("Linh Nguyễn")
    page.get_by_label("Bio").fill("Thích đọc sách. https://example.org/linh")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/@linh$"))
    expect(page.locator("h1")).to_have_text("Linh Nguyễn")
    expect(page.locator(".bio")).to_contain_text("Thích đọc sách.")
    expect(page.locator(".bio a")).to_have_attribute("href", "https://example.org/linh")

    log_out(page)
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)

    log_in(page, "linh", "wrong password!!")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    log_in(page, "linh")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("link", name="@linh")).to_be_visible()


def test_language_switch_in_the_browser(page: Page) -> None:
    """The footer's language form switches the page to Vietnamese and it stays so."""
    page.goto("/login")
    page.get_by_label("Language").select_option("vi")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    page.goto("/")
    expect(page.get_by_role("link", name="Đăng ký")).to_be_visible()
