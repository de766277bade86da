"""The feed and the composer in Chromium, on a phone and a desktop, in English and
Vietnamese: avatars and relative times on cards (in the browser's time zone), the
composer's counter and content-warning toggle, and the delete confirmation, with and
without JavaScript."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from instance.web import times
from tests.helpers.browser import Tabs, sign_up
from tests.helpers.processes import Server

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# Not the instance default (Vietnam's): times must follow the browser.
ZONE = "America/New_York"
WORDS = {
    "en": {
        "text": "What's on your mind?",
        "cw": "Content warning",
        "cw_field": "Content warning (optional)",
        "left": "Characters left: {}",
        "over": "Characters over the limit: {}",
        "public_hint": "Anyone, here and on other servers; shown on timelines",
        "post": "Post",
        "just_now": "just now",
        "minutes": "5 minutes ago",
        "delete": "Delete",
        "cancel": "Cancel",
        "federates": "other servers that received it are asked to delete it too",
    },
    "vi": {
        "text": "Bạn đang nghĩ gì?",
        "cw": "Cảnh báo nội dung",
        "cw_field": "Cảnh báo nội dung (không bắt buộc)",
        "left": "Còn lại: {} ký tự",
        "over": "Vượt giới hạn: {} ký tự",
        "public_hint": "Mọi người, ở đây và trên máy chủ khác; hiện trên dòng thời gian",
        "post": "Đăng",
        "just_now": "vừa xong",
        "minutes": "5 phút trước",
        "delete": "Xóa",
        "cancel": "Hủy",
        "federates": "các máy chủ khác đã nhận nó cũng được yêu cầu xóa",
    },
}


def database(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(Path(server.data_dir) / "gapo.sqlite3", timeout=10)


def age_post(server: Server, post_id: int, seconds: int) -> int:
    """Moves a post's time back (as if written `seconds` ago); its new timestamp."""
    with database(server) as db:
        created = int(time.time()) - seconds
        db.execute("UPDATE posts SET created_at = ? WHERE id = ?", (created, post_id))
    return created


def switch_language(page: Page, lang: str) -> None:
    if lang == "en":
        return
    page.locator("#locale-select").select_option(lang)
    page.locator("footer.site").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


@pytest.mark.parametrize("lang", list(WORDS))
@pytest.mark.parametrize("size", list(SIZES))
def test_composer_card_times_and_delete(tabs: Tabs, server: Server, size: str, lang: str) -> None:
    words = WORDS[lang]
    page = tabs.open(server.base_url, timezone_id=ZONE)
    page.set_viewport_size(SIZES[size])
    sign_up(page, "lan")
    page.goto("/home")
    switch_language(page, lang)
    form = page.get_by_role("main").locator("form.compose")

    # The text field comes first, large, and counts down to the limit.
    text = form.get_by_label(words["text"])
    first = form.locator("textarea, input:not([type=hidden]), select").first
    expect(first).to_have_attribute("id", "compose-text")
    box = text.bounding_box()
    assert box and box["height"] >= 90, box
    assert box["width"] >= min(SIZES[size]["width"] - 60, 600), box
    counter = form.locator("[data-char-count]")
    expect(counter).to_have_text(words["left"].format(5000))
    text.fill("Chè ba màu")
    expect(counter).to_have_text(words["left"].format(4990))
    text.fill("x" * 5003)
    expect(counter).to_have_text(words["over"].format(3))
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    text.fill("Chè ba màu ngon tuyệt")

    # The warning waits behind its toggle.
    warning = form.get_by_label(words["cw_field"])
    expect(warning).to_be_hidden()
    form.get_by_text(words["cw"], exact=True).click()
    expect(warning).to_be_visible()
    warning.fill("ăn uống")
    # The chosen audience says in one line who will see the post.
    expect(form.get_by_text(words["public_hint"])).to_be_visible()

    form.get_by_role("button", name=words["post"], exact=True).click()
    page.wait_for_url(re.compile(r"/home#post-\d+-card$"))
    post_id = int(re.findall(r"\d+", page.url.rsplit("#", 1)[1])[0])

    # Back on the feed, the new post on top, with a picture, the names and a relative time.
    cards = page.get_by_role("region").locator("article")
    expect(cards.first).to_have_attribute("id", f"post-{post_id}-card")
    card = cards.first
    avatar = card.locator("header .avatar")
    expect(avatar).to_be_visible()
    expect(avatar).to_have_text("L")
    expect(card.locator("header")).to_contain_text("@lan@")
    stamp = card.locator("header time")
    expect(stamp).to_have_text(words["just_now"])
    with database(server) as db:
        created = int(
            db.execute("SELECT created_at FROM posts WHERE id = ?", (post_id,)).fetchone()[0]
        )
    zone = ZoneInfo(ZONE)
    expect(stamp).to_have_attribute("title", times.exact(created, lang, zone))

    # Minutes, then a date in the reader's zone and the language's order.
    age_post(server, post_id, 5 * 60 + 10)
    page.reload()
    expect(stamp).to_have_text(words["minutes"])
    created = age_post(server, post_id, 3 * 86400)
    page.reload()
    expect(stamp).to_have_text(times.relative(created, int(time.time()), lang, zone))

    # Deleting asks first, in a dialog, and says that other servers are asked too.
    stamp.click()
    page.wait_for_url(re.compile(rf"/p/{post_id}$"))
    page.get_by_role("main").get_by_role("link", name=words["delete"], exact=True).click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(words["federates"])
    dialog.get_by_role("button", name=words["cancel"]).click()
    expect(dialog).to_be_hidden()
    assert page.url.endswith(f"/p/{post_id}")
    page.get_by_role("main").get_by_role("link", name=words["delete"], exact=True).click()
    dialog.get_by_role("button", name=words["delete"], exact=True).click()
    page.wait_for_url(re.compile(r"/@lan$"))
    expect(page.get_by_role("main")).not_to_contain_text("Chè ba màu")


def test_without_javascript_the_warning_toggles_and_delete_asks_on_a_page(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(
        base_url=server.base_url, locale="en-US", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_viewport_size(SIZES["phone"])
        sign_up(page, "minh")
        page.goto("/home")
        form = page.get_by_role("main").locator("form.compose")
        expect(form.locator("[data-char-count]")).to_have_text("Up to 5000 characters")
        form.get_by_text("Content warning", exact=True).click()
        form.get_by_label("Content warning (optional)").fill("trời mưa")
        form.get_by_label("What's on your mind?").fill("Hà Nội mưa cả ngày")
        form.get_by_role("button", name="Post", exact=True).click()
        page.wait_for_url(re.compile(r"/home#post-\d+-card$"))
        post_id = int(re.findall(r"\d+", page.url.rsplit("#", 1)[1])[0])
        page.goto(f"/p/{post_id}")
        page.get_by_role("main").get_by_role("link", name="Delete", exact=True).click()
        page.wait_for_url(re.compile(rf"/p/{post_id}/delete$"))
        main = page.get_by_role("main")
        expect(main.get_by_role("heading", name="Delete this post?")).to_be_visible()
        expect(main).to_contain_text("asked to delete it too")
        main.get_by_role("button", name="Delete", exact=True).click()
        page.wait_for_url(re.compile(r"/@minh$"))
        expect(page.get_by_role("main")).not_to_contain_text("Hà Nội mưa cả ngày")
    finally:
        context.close()


def test_new_posts_button_loads_the_top_of_the_feed_without_a_reload(
    tabs: Tabs, server: Server
) -> None:
    reader, writer = tabs.open(server.base_url), tabs.open(server.base_url)
    sign_up(writer, "hoa")
    sign_up(reader, "binh")
    reader.goto("/public/local")
    reader.evaluate("window.__stillHere = true")
    button = reader.locator("[data-newer-load]")
    expect(button).to_be_hidden()

    writer.goto("/home")
    writer.get_by_label("What's on your mind?").fill("Hoa sữa nở rồi")
    writer.get_by_role("main").get_by_role("button", name="Post", exact=True).click()
    writer.wait_for_url(re.compile(r"/home#post-\d+-card$"))

    # The page asks again when it becomes visible (and every 30 s while it is).
    reader.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(button).to_be_visible()
    expect(button).to_have_text("1 new post")
    button.click()
    feed = reader.get_by_role("region", name="Posts")
    expect(feed.locator("article").first).to_contain_text("Hoa sữa nở rồi")
    expect(button).to_be_hidden()
    assert reader.evaluate("window.__stillHere") is True
