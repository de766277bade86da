"""Like, share and follow without a reload when JavaScript runs, by plain forms when not.

A marker set on `window` survives only while the document does: if it is still there
after the click, the page was updated in place, not reloaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.helpers.browser import log_out, open_new_post, sign_up
from tests.helpers.processes import Server

MARKER = "window.__gapoMarker"


def write_post(page: Page, text: str) -> str:
    """Posts from the home page; returns the URL of the new post's page."""
    page.goto("/home")
    page.get_by_label("What's on your mind?").fill(text)
    page.get_by_role("main").get_by_role("button", name="Post", exact=True).click()
    return open_new_post(page)


def test_like_and_share_update_in_place_with_javascript(page: Page) -> None:
    sign_up(page, "linh")
    url = write_post(page, "Phở ngon quá")
    expect(page.locator(".focus .like-count")).to_have_text("0")
    page.evaluate(f"{MARKER} = 'still here'")

    like = page.get_by_role("main").get_by_role("button", name="Like", exact=True)
    like.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".focus .like-count")).to_have_text("1")
    undo = page.get_by_role("main").get_by_role("button", name="Undo like", exact=True)
    expect(undo).to_have_attribute("aria-pressed", "true")
    expect(undo).to_be_focused()
    expect(page.locator("#live")).to_contain_text("Undo like")
    expect(page.locator("#live")).to_contain_text("Likes: 1")
    assert page.evaluate(MARKER) == "still here"
    assert page.url == url

    undo.click()
    expect(page.locator(".focus .like-count")).to_have_text("0")
    again = page.get_by_role("main").get_by_role("button", name="Like", exact=True)
    expect(again).to_have_attribute("aria-pressed", "false")
    expect(again).to_be_focused()

    page.get_by_role("main").get_by_role("button", name="Share", exact=True).click()
    expect(page.locator(".focus .share-count")).to_have_text("1")
    expect(
        page.get_by_role("main").get_by_role("button", name="Undo share", exact=True)
    ).to_be_focused()
    assert page.evaluate(MARKER) == "still here"
    assert page.url == url

    # The state is real: a fresh load shows what the in-place update showed.
    page.reload()
    expect(page.locator(".focus .share-count")).to_have_text("1")
    expect(page.locator(".focus .like-count")).to_have_text("0")


def test_like_and_share_from_a_feed_card_update_in_place(page: Page) -> None:
    """The cards of the home feed have their own controls; a click changes only that card."""
    sign_up(page, "linh")
    post_url = write_post(page, "Một bài trong dòng thời gian")
    post_id = post_url.rsplit("/", 1)[1]
    page.goto("/home")
    page.evaluate(f"{MARKER} = 'still here'")
    card = page.locator(f"#post-{post_id}-card")
    card.get_by_role("button", name=re.compile(r"^Like post by @linh@")).click()
    expect(card.locator(".like-count")).to_have_text("1")
    undo = page.locator(f"#post-{post_id}-card").get_by_role(
        "button", name=re.compile(r"^Undo like of post by @linh@")
    )
    expect(undo).to_have_attribute("aria-pressed", "true")
    expect(undo).to_be_focused()
    expect(page.locator("#live")).to_contain_text("Likes: 1")
    page.locator(f"#post-{post_id}-card").get_by_role(
        "button", name=re.compile(r"^Share post by @linh@")
    ).click()
    expect(page.locator(f"#post-{post_id}-card .share-count")).to_have_text("1")
    assert page.evaluate(MARKER) == "still here"
    assert page.url.endswith("/home")


def test_follow_updates_in_place_with_javascript(page: Page) -> None:
    sign_up(page, "linh")
    log_out(page)
    sign_up(page, "minh")
    page.goto("/@linh")
    page.evaluate(f"{MARKER} = 'still here'")
    page.get_by_role("button", name="Follow", exact=True).click()
    unfollow = page.get_by_role("button", name="Unfollow", exact=True)
    expect(unfollow).to_be_focused()
    expect(page.locator(".profile .counts")).to_contain_text("Followers: 1")
    expect(page.locator("#live")).to_contain_text("Unfollow")
    assert page.evaluate(MARKER) == "still here"
    assert page.url.endswith("/@linh")
    unfollow.click()
    expect(page.get_by_role("button", name="Follow", exact=True)).to_be_focused()
    expect(page.locator(".profile .counts")).to_contain_text("Followers: 0")


@pytest.fixture
def no_js_page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server.base_url, locale="en-US", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def test_like_share_follow_work_without_javascript(no_js_page: Page) -> None:
    page = no_js_page
    sign_up(page, "linh")
    url = write_post(page, "Không cần JavaScript")
    page.get_by_role("main").get_by_role("button", name="Like", exact=True).click()
    page.wait_for_url(url)
    expect(page.locator(".focus .like-count")).to_have_text("1")
    expect(
        page.get_by_role("main").get_by_role("button", name="Undo like", exact=True)
    ).to_have_attribute("aria-pressed", "true")
    page.get_by_role("main").get_by_role("button", name="Share", exact=True).click()
    page.wait_for_url(url)
    expect(page.locator(".focus .share-count")).to_have_text("1")

    log_out(page)
    sign_up(page, "minh")
    page.goto("/@linh")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()
    expect(page.locator(".profile .counts")).to_contain_text("Followers: 1")
