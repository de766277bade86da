"""The interface language: Accept-Language, the language form's cookie, a user's stored choice."""

from __future__ import annotations

from quart import Quart

from instance.i18n import best_match
from tests.helpers.web import cookie_value, drop_cookie, post_form, signup

VI_LOGIN = "Đăng nhập"
EN_LOGIN = "Log in"


async def page(client, path: str = "/", **headers: str) -> str:
    return await (await client.get(path, headers=headers)).get_data(as_text=True)


async def test_accept_language_vietnamese(client) -> None:
    """A browser asking for Vietnamese gets the page in Vietnamese, marked lang="vi"."""
    text = await page(client, "/login", **{"Accept-Language": "vi-VN,vi;q=0.9"})
    assert VI_LOGIN in text and '<html lang="vi">' in text


async def test_accept_language_prefers_higher_quality(client) -> None:
    """`en-US,vi;q=0.5` means English first."""
    text = await page(client, "/login", **{"Accept-Language": "en-US,vi;q=0.5"})
    assert '<html lang="en">' in text and VI_LOGIN not in text and EN_LOGIN in text


def test_best_match_rules() -> None:
    """q values order the choice; unknown or zero-quality languages fall back to English."""
    assert best_match("fr, vi;q=0.4, en;q=0.3") == "vi"
    assert best_match("vi;q=0, en;q=0.1") == "en"
    assert best_match("de, fr") == "en"
    assert best_match("vi;q=abc, en") == "en"
    assert best_match(None) == "en"
    assert best_match("*") == "en"


async def test_language_form_sets_a_remembered_cookie(client) -> None:
    """Choosing Vietnamese in the footer form sets a cookie that wins over Accept-Language."""
    response = await post_form(client, "/settings/locale", {"locale": "vi", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    cookie = next(c for c in response.headers.get_all("Set-Cookie") if c.startswith("gapo_locale"))
    assert "gapo_locale=vi" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    text = await page(client, "/login", **{"Accept-Language": "en"})
    assert VI_LOGIN in text and '<html lang="vi">' in text


async def test_language_form_ignores_unknown_locale_and_foreign_next(client) -> None:
    """An unsupported locale falls back to English and an off-site `next` goes home."""
    response = await post_form(
        client, "/settings/locale", {"locale": "xx", "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"
    assert "gapo_locale=en" in " ".join(response.headers.get_all("Set-Cookie"))


async def test_logged_in_choice_is_stored_and_wins(client, app: Quart) -> None:
    """A logged-in user's choice is saved on the account and beats Accept-Language and cookies."""
    await signup(client, "quang")
    await post_form(client, "/settings/locale", {"locale": "vi", "next": "/"})
    [user] = await app.extensions["gapo"].accounts.list_users()
    assert user["locale"] == "vi"
    # Drop the locale cookie: the stored choice alone decides.
    drop_cookie(client, "gapo_locale")
    assert cookie_value(client, "gapo_locale") is None
    text = await page(client, "/", **{"Accept-Language": "en-US,en"})
    assert '<html lang="vi">' in text
    client.set_cookie("localhost", "gapo_locale", "en")
    assert '<html lang="vi">' in await page(client, "/")
    drop_cookie(client, "gapo_locale")
    await post_form(client, "/logout", {}, csrf_from="/")
    text = await page(client, "/login", **{"Accept-Language": "en-US,en"})
    assert EN_LOGIN in text  # logged out, with no cookie: the browser's language again


async def test_error_pages_are_translated(client) -> None:
    """Error messages are shown in the visitor's language too."""
    text = await page(client, "/nowhere", **{"Accept-Language": "vi"})
    assert "Not found." not in text and '<html lang="vi">' in text
