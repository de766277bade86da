"""Two people in two browsers: a post with a Vietnamese hashtag and a content warning, a
comment and a like from a second account, and the notifications that tell the author.

Everything goes through the forms of a real `gapo serve`; locators are accessible names,
so a missing label or button name fails here too.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.browser import Tabs, open_new_post, sign_up
from tests.helpers.processes import Server

CW = "Bóng đá, có thể tiết lộ kết quả"
TEXT = "Tối nay đi xem trận chung kết #ViệtNam"
REPLY = "Mình cũng đi, hẹn gặp ở sân nhé!"


@pytest.fixture
def second_page(tabs: Tabs, server: Server) -> Page:
    """Another browser context (its own cookies) on the same server: a second person."""
    return tabs.open(server.base_url)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def test_post_with_tag_and_cw_then_comment_like_and_notifications(
    page: Page, second_page: Page
) -> None:
    # A signs up and writes a post with a content warning and a Vietnamese hashtag.
    author = page
    sign_up(author, "lan")
    author.goto("/home")
    main = author.get_by_role("main")
    # The warning waits behind its toggle.
    main.get_by_text("Content warning", exact=True).click()
    main.get_by_label("Content warning (optional)").fill(CW)
    main.get_by_label("What's on your mind?").fill(TEXT)
    main.get_by_role("button", name="Post", exact=True).click()
    post_url = open_new_post(author)

    # The post shows the warning; the text and tag stay folded away until it is opened.
    post = author.locator(".focus").get_by_role("article")
    warning = post.locator("details.cw > summary")
    expect(warning).to_have_text(CW)
    tag_link = post.get_by_role("link", name="#ViệtNam")
    expect(tag_link).to_be_hidden()
    warning.click()
    expect(post.get_by_text("Tối nay đi xem trận chung kết")).to_be_visible()
    expect(tag_link).to_be_visible()
    href = tag_link.get_attribute("href") or ""
    assert nfc(unquote(urlsplit(href).path)).casefold() == nfc("/tags/việtnam"), href

    # The tag link leads to the tag page, which lists the post; any case reaches it.
    tag_link.click()
    author.wait_for_url(re.compile(r"/tags/"))
    expect(author.get_by_role("heading", level=1)).to_contain_text(
        re.compile("#việtnam", re.IGNORECASE)
    )
    expect(author.get_by_role("main").locator("details.cw > summary")).to_have_text(CW)
    for spelling in ("/tags/việtnam", "/tags/ViệtNam", "/tags/VIỆTNAM"):
        author.goto(spelling)
        feed = author.get_by_role("region", name="Posts")
        expect(feed.get_by_role("article")).to_have_count(1)
        expect(feed.locator("details.cw > summary")).to_have_text(CW)

    # Nothing has happened yet: the navigation shows no unread count.
    author.goto("/home")
    nav = author.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()

    # B signs up in another browser context, opens A's post, comments and likes.
    reader = second_page
    sign_up(reader, "binh")
    reader.goto(post_url)
    main = reader.get_by_role("main")
    expect(main.locator(".focus details.cw > summary")).to_have_text(CW)
    # The reply form names the author and carries the warning over, as Mastodon's does.
    expect(main.get_by_label("Your reply")).to_have_value("@lan ")
    expect(main.get_by_label("Content warning (optional)")).to_have_value(CW)
    main.get_by_label("Your reply").fill(REPLY)
    # The reply form sends B back to the post itself, so wait for that navigation.
    with reader.expect_navigation(url=post_url):
        main.get_by_role("button", name="Reply", exact=True).click()
    replies = reader.get_by_role("region", name="Replies")
    expect(replies.get_by_role("article")).to_have_count(1)
    expect(replies).to_contain_text(REPLY)
    expect(replies).to_contain_text("@binh")
    expect(reader.locator(".focus .counts")).to_contain_text("Replies: 1")

    main.get_by_role("button", name="Like", exact=True).click()
    expect(main.get_by_role("button", name="Undo like", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(reader.locator(".focus .like-count")).to_have_text("1")

    # A sees the unread count in the navigation, opens the notifications, sees both.
    author.reload()
    nav = author.get_by_role("navigation", name="Main")
    unread = nav.get_by_role("link", name="Notifications, 2 unread")
    expect(unread).to_be_visible()
    expect(unread).to_contain_text("(2)")
    unread.click()
    author.wait_for_url(re.compile(r"/notifications$"))
    items = author.get_by_role("main").get_by_role("listitem")
    expect(items).to_have_count(2)
    reply_item = items.filter(has_text="replied to your post")
    like_item = items.filter(has_text="liked your post")
    expect(reply_item).to_have_count(1)
    expect(like_item).to_have_count(1)
    for item in (reply_item, like_item):
        expect(item.get_by_role("link", name="binh", exact=True)).to_be_visible()
        expect(item).to_contain_text("New")
    # The reply kept the warning, so the notification shows the warning, and the text
    # only once the warning is opened.
    expect(reply_item.locator("summary")).to_have_text(CW)
    expect(reply_item.get_by_text(REPLY)).to_be_hidden()
    reply_item.locator("summary").click()
    expect(reply_item.get_by_text(REPLY)).to_be_visible()

    # Having seen them, the count is gone, here and on the next page.
    nav = author.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name=re.compile("unread"))).to_have_count(0)
    author.goto("/home")
    nav = author.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    author.goto("/notifications")
    expect(author.get_by_role("main").get_by_text("New", exact=True)).to_have_count(0)

    # The like's notification leads to the post, which now has B's reply and like.
    liked = author.get_by_role("main").get_by_role("listitem").filter(has_text="liked your post")
    liked.locator("summary").click()
    liked.get_by_role("link", name=re.compile("Tối nay đi xem")).click()
    author.wait_for_url(post_url)
    expect(author.locator(".focus .like-count")).to_have_text("1")
    expect(author.get_by_role("region", name="Replies")).to_contain_text(REPLY)
