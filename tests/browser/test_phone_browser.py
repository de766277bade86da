"""On a phone and a desktop, in English and Vietnamese: the header is one row (a bottom tab
bar and a <details> menu on a phone), nothing scrolls sideways, the composer and the first
post are on the first phone screen; dark mode follows the system; the 404 and 405 pages are
translated and styled with a link home; the web app manifest and its icons load."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.helpers.processes import Server

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
LOCALES = {"en": "en-US", "vi": "vi-VN"}
WORDS = {
    "en": {
        "signup": "Sign up",
        "post": "Post",
        "menu": "Menu",
        "logout": "Log out",
        "follow_requests": "Follow requests",
        "notifications": "Notifications",
        "not_found": "Page not found",
        "not_allowed": "This page cannot be opened like that",
        "home": "Back to the home page",
    },
    "vi": {
        "signup": "Đăng ký",
        "post": "Đăng",
        "menu": "Menu",
        "logout": "Đăng xuất",
        "follow_requests": "Yêu cầu theo dõi",
        "notifications": "Thông báo",
        "not_found": "Không tìm thấy trang",
        "not_allowed": "Không thể mở trang này theo cách đó",
        "home": "Quay lại trang chủ",
    },
}
PASSWORD = "a good long passphrase"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_page(
    browser: Browser,
    contexts: list[BrowserContext],
    server: Server,
    *,
    size: str = "phone",
    lang: str = "en",
    scheme: str = "light",
) -> Page:
    context = browser.new_context(
        base_url=server.base_url,
        locale=LOCALES[lang],
        viewport=SIZES[size],  # type: ignore[arg-type]
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    context.set_default_timeout(10_000)
    contexts.append(context)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.problems = problems  # type: ignore[attr-defined]
    return page


def sign_up(page: Page, username: str, lang: str) -> None:
    """Through the form in the page's language; then the home feed."""
    page.goto("/signup")
    page.locator("#username").fill(username)
    page.locator("#email").fill(f"{username}@example.org")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=WORDS[lang]["signup"]).click()
    page.wait_for_load_state()
    page.goto("/home")


def write_post(page: Page, text: str, lang: str) -> None:
    page.get_by_role("main").locator("#compose-text").fill(text)
    page.get_by_role("main").get_by_role("button", name=WORDS[lang]["post"], exact=True).click()
    page.wait_for_load_state()
    page.goto("/home")


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow}px of horizontal scrolling on {page.url}"


# The header's visible items that are laid out in it (the fixed tab bar is not).
HEADER_ROW = """() => {
  const header = document.querySelector("header.site");
  const items = [...header.querySelectorAll("nav > *, nav > .nav-tabs .tab")]
    .filter((el) => el.getClientRects().length && getComputedStyle(el).position !== "fixed"
      && !el.closest(".nav-tabs") === true || (el.closest(".nav-tabs")
      && getComputedStyle(el.closest(".nav-tabs")).position !== "fixed" && el.matches(".tab")))
    .filter((el) => !el.matches(".nav-tabs"))
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0);
  const box = header.getBoundingClientRect();
  return {header: box.height, items: items.map((r) => ({top: r.top, bottom: r.bottom, height: r.height}))};
}"""


def assert_one_row(page: Page) -> None:
    measured = page.evaluate(HEADER_ROW)
    items = measured["items"]
    assert items, measured
    tallest = max(item["height"] for item in items)
    # One row: every item shares a line (their vertical spans overlap), and the header is
    # not taller than one item plus its padding — a second row would double it.
    top = max(item["top"] for item in items)
    bottom = min(item["bottom"] for item in items)
    assert top < bottom, f"items on more than one row: {items}"
    assert measured["header"] < tallest + 32, measured


def luminance(colour: str) -> float:
    """Relative luminance (WCAG) of a CSS rgb()/rgba() string."""
    parts = colour[colour.index("(") + 1 : colour.index(")")].split(",")
    values = []
    for raw in parts[:3]:
        c = float(raw) / 255
        values.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = values
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def style(page: Page, selector: str, prop: str) -> str:
    return str(page.locator(selector).first.evaluate(f"(el) => getComputedStyle(el).{prop}"))


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_header_is_one_row_and_the_first_screen_has_the_composer_and_a_post(
    browser: Browser, contexts: list[BrowserContext], server: Server, size: str, lang: str
) -> None:
    page = open_page(browser, contexts, server, size=size, lang=lang)
    # Signed out: one row too, no sideways scrolling.
    page.goto("/public/local")
    assert_one_row(page)
    no_sideways_scroll(page)

    sign_up(page, "nguyenvanminh_dai_ten", lang)
    write_post(
        page, "Chào buổi sáng Sài Gòn! Hôm nay trời đẹp quá, đi cà phê không mọi người?", lang
    )
    assert_one_row(page)
    no_sideways_scroll(page)
    words = WORDS[lang]
    nav = page.get_by_role("navigation", name="Main" if lang == "en" else "Điều hướng chính")
    notifications = nav.get_by_role("link", name=words["notifications"], exact=True)
    expect(notifications).to_be_visible()

    if size == "phone":
        viewport = SIZES["phone"]["height"]
        tab_bar = page.locator(".nav-tabs").bounding_box()
        assert tab_bar and tab_bar["y"] + tab_bar["height"] >= viewport - 1  # at the bottom
        assert tab_bar["height"] < 80
        visible_bottom = tab_bar["y"]
        # The composer (its text and its button) and the first post's start, unscrolled.
        main = page.get_by_role("main")
        for target in (
            main.locator("#compose-text"),
            main.locator("form.compose button[type=submit]"),
        ):
            box = target.bounding_box()
            assert box and box["y"] + box["height"] <= visible_bottom, (target, box)
        first_post = main.locator("article.post").first
        expect(first_post).to_contain_text("Chào buổi sáng")
        post_box = first_post.bounding_box()
        assert post_box and post_box["y"] + 40 <= visible_bottom, post_box
        # The menu opens without a script, by keyboard, and holds the rest.
        expect(page.get_by_role("button", name=words["logout"])).to_be_hidden()
        page.locator(".nav-menu > summary").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name=words["logout"])).to_be_visible()
        no_sideways_scroll(page)
    else:
        expect(page.get_by_role("button", name=words["logout"])).to_be_visible()
        page.locator(".nav-menu > summary").click()
        expect(nav.get_by_role("link", name=words["follow_requests"])).to_be_visible()
        expect(nav.get_by_role("search")).to_be_visible()
    assert not page.problems  # type: ignore[attr-defined]


def test_the_menu_works_without_javascript(
    browser: Browser, contexts: list[BrowserContext], server: Server
) -> None:
    context = browser.new_context(
        base_url=server.base_url,
        viewport=SIZES["phone"],
        java_script_enabled=False,  # type: ignore[arg-type]
    )
    contexts.append(context)
    page = context.new_page()
    sign_up(page, "lan", "en")
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_skip_link_and_focus_are_visible_by_keyboard(
    browser: Browser, contexts: list[BrowserContext], server: Server
) -> None:
    page = open_page(browser, contexts, server)
    page.goto("/public/local")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0  # on the screen once focused
    assert style(page, "a.skip", "outlineStyle") != "none"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_dark_mode_follows_the_system(
    browser: Browser, contexts: list[BrowserContext], server: Server, size: str
) -> None:
    light = open_page(browser, contexts, server, size=size)
    light.goto("/public/local")
    assert luminance(style(light, "body", "backgroundColor")) > 0.8

    page = open_page(browser, contexts, server, size=size, scheme="dark")
    sign_up(page, "hoa", "en")
    write_post(page, "Đêm nay trăng sáng", "en")
    background = style(page, "body", "backgroundColor")
    assert luminance(background) < 0.05, background
    surface = style(page, "article.post", "backgroundColor")
    assert luminance(surface) < 0.05, surface
    # Text, links, buttons and inputs stay readable (WCAG AA, 4.5:1).
    assert contrast(style(page, "body", "color"), background) >= 4.5
    assert contrast(style(page, "article.post a", "color"), surface) >= 4.5
    button = "form.compose button[type=submit]"
    assert contrast(style(page, button, "color"), style(page, button, "backgroundColor")) >= 4.5
    textarea = "#compose-text"
    assert contrast(style(page, textarea, "color"), style(page, textarea, "backgroundColor")) >= 4.5
    assert luminance(style(page, textarea, "backgroundColor")) < 0.1
    header = style(page, "header.site", "backgroundColor")
    assert luminance(header) < 0.05, header
    assert contrast(style(page, "header.site a.brand", "color"), header) >= 4.5


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_404_and_405_pages_are_translated_styled_and_lead_home(
    browser: Browser, contexts: list[BrowserContext], server: Server, size: str, lang: str
) -> None:
    page = open_page(browser, contexts, server, size=size, lang=lang)
    words = WORDS[lang]
    for path, status, heading in [
        ("/no/such/page", 404, words["not_found"]),
        ("/logout", 405, words["not_allowed"]),  # a form-only URL opened as a page
    ]:
        response = page.goto(path)
        assert response and response.status == status
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert heading in page.title()
        home = page.get_by_role("main").get_by_role("link", name=words["home"])
        expect(home).to_be_visible()
        # Styled: the page's own card, with the stylesheet's border radius.
        assert style(page, ".error-page", "borderTopLeftRadius") == "8px"
        no_sideways_scroll(page)
        assert_one_row(page)
    with page.expect_navigation(url=f"{server.base_url.rstrip('/')}/"):
        home.click()


def test_manifest_and_icons_load(
    browser: Browser, contexts: list[BrowserContext], server: Server
) -> None:
    page = open_page(browser, contexts, server)
    page.goto("/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/manifest.webmanifest"
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text())
    assert manifest["name"] == "Gapo" and manifest["start_url"] == "/home"
    assert manifest["display"] == "standalone" and manifest["theme_color"]
    purposes = set()
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/")  # our origin
        loaded = page.request.get(icon["src"])
        assert loaded.status == 200 and loaded.headers["content-type"] == "image/png"
        with Image.open(io.BytesIO(loaded.body())) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
        purposes.add(icon["purpose"])
    assert {"any", "maskable"} <= purposes
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    favicon = page.request.get("/favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"] == "image/x-icon"
    svg = page.locator("link[rel=icon][type='image/svg+xml']").get_attribute("href")
    assert svg and page.request.get(svg).status == 200
    assert page.locator("meta[name=theme-color]").count() == 1
