"""Finding people and posts in Chromium, on a phone (390x844) and a desktop (1280x800), in
Vietnamese and English: a new reader's empty home suggests the person who posts here, and
the search finds her by her name typed without diacritics, her post's tag with or without
the sign, and a word of her public post; following from the suggestion fills the home.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_media_browser import SIZES, no_sideways_scroll
from tests.helpers.browser import Tabs, choose_language, sign_up
from tests.helpers.processes import Server

NAME = "Nguyễn Thị Hương"
POST = "Phở bò Hà Nội sáng nay ngon tuyệt #việtnam"
TEXT = {
    "en": {
        "welcome": "Welcome! Here is how to get started",
        "suggested": "People to follow",
        "follow": f"Follow {NAME}",
        "profile": "Complete your profile",
        "local": "See what people here are posting on the local timeline",
        "people": "People",
        "tags": "Hashtags",
        "posts": "Posts",
        "search": "Search",
    },
    "vi": {
        "welcome": "Chào mừng bạn! Bắt đầu từ đây nhé",
        "suggested": "Gợi ý theo dõi",
        "follow": f"Theo dõi {NAME}",
        "profile": "Hoàn thiện hồ sơ",
        "local": "Xem mọi người ở đây đang đăng gì trên dòng thời gian máy chủ này",
        "people": "Mọi người",
        "tags": "Hashtag",
        "posts": "Bài viết",
        "search": "Tìm kiếm",
    },
}


def prepare_author(page: Page) -> None:
    """huong signs up, sets her display name and posts in public (in English)."""
    sign_up(page, "huong")
    page.goto("/settings/profile")
    page.locator("#display_name").fill(NAME)
    page.locator('form[action="/settings/profile"]').get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/@huong$"))
    page.goto("/home")
    composer = page.locator("form.compose")
    composer.locator('textarea[name="text"]').fill(POST)
    composer.get_by_role("button", name="Post", exact=True).click()
    page.wait_for_url(re.compile(r"/home#post-\d+-card$"))  # back on the feed


def search_for(page: Page, query: str, lang: str) -> None:
    """Types the query into the search page's own box and sends it with Enter."""
    page.goto("/search")
    box = page.get_by_role("main").get_by_role("searchbox")
    box.fill(query)
    with page.expect_navigation():
        box.press("Enter")
    expect(page).to_have_title(re.compile(re.escape(f"{TEXT[lang]['search']}: {query}")))


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_search_and_the_empty_home_suggestions(
    tabs: Tabs, server: Server, size: str, lang: str
) -> None:
    author = tabs.open(server.base_url)
    prepare_author(author)

    reader = tabs.open(server.base_url)
    reader.set_viewport_size(SIZES[size])
    sign_up(reader, "khach")
    choose_language(reader, lang)
    words = TEXT[lang]
    main = reader.get_by_role("main")

    # The empty home: what to do first, with huong suggested.
    reader.goto("/home")
    welcome = main.get_by_role("region", name=words["welcome"])
    expect(welcome).to_be_visible()
    expect(welcome.get_by_role("heading", name=words["suggested"])).to_be_visible()
    expect(welcome.get_by_role("link", name=NAME)).to_be_visible()
    expect(welcome.get_by_role("link", name=words["profile"])).to_be_visible()
    expect(welcome.get_by_role("link", name=words["local"])).to_have_attribute(
        "href", "/public/local"
    )
    no_sideways_scroll(reader)

    # Her name typed without diacritics finds her.
    search_for(reader, "nguyen thi huong", lang)
    people = main.get_by_role("region", name=words["people"])
    expect(people.get_by_role("link", name=NAME)).to_have_attribute("href", "/@huong")
    no_sideways_scroll(reader)

    # The tag, with its sign and diacritics, and without either.
    for query in ("#việtnam", "viet nam"):
        search_for(reader, query, lang)
        tags = main.get_by_role("region", name=words["tags"])
        expect(tags.get_by_role("link", name="#việtnam")).to_be_visible()

    # A word of her public post, without diacritics.
    search_for(reader, "pho bo", lang)
    posts = main.get_by_role("region", name=words["posts"])
    expect(posts.get_by_text("Phở bò Hà Nội sáng nay")).to_be_visible()
    no_sideways_scroll(reader)

    # Following her from the suggestion brings her post home.
    reader.goto("/home")
    with reader.expect_navigation():
        main.get_by_role("button", name=words["follow"]).click()
    expect(main.get_by_text("Phở bò Hà Nội sáng nay")).to_be_visible()
