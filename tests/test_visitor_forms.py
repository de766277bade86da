"""The sign-up form a visitor gets is rendered once per language; only the CSRF token differs."""

from __future__ import annotations

from quart import Quart

from tests.helpers.web import CSRF_RE, signup


async def form_and_token(client: object, **headers: str) -> tuple[str, str]:
    page = await client.get("/signup", headers=headers)  # type: ignore[attr-defined]
    html = await page.get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match
    return html, match.group(1)


async def test_each_visitor_gets_their_own_token_in_the_same_page(app: Quart) -> None:
    first, second = app.test_client(), app.test_client()
    page_a, token_a = await form_and_token(first)
    page_b, token_b = await form_and_token(second)
    assert token_a != token_b
    assert page_a.replace(token_a, "T") == page_b.replace(token_b, "T")
    assert page_a.count(token_a) == 2  # the form and the language picker
    for client, token, name in ((first, token_a, "an"), (second, token_b, "binh")):
        form = {
            "username": name,
            "email": f"{name}@example.org",
            "password": "a good long passphrase",
            "csrf_token": token,
        }
        assert (await client.post("/signup", form=form)).status_code == 302


async def test_a_token_of_one_visitor_does_not_pass_for_another(app: Quart) -> None:
    _, token_a = await form_and_token(app.test_client())
    other = app.test_client()
    await form_and_token(other)
    form = {
        "username": "chi",
        "email": "chi@example.org",
        "password": "a good long passphrase",
        "csrf_token": token_a,
    }
    assert (await other.post("/signup", form=form)).status_code == 403


async def test_the_page_follows_the_visitors_language(app: Quart) -> None:
    english, _ = await form_and_token(app.test_client(), **{"Accept-Language": "en"})
    vietnamese, _ = await form_and_token(app.test_client(), **{"Accept-Language": "vi"})
    assert '<html lang="en">' in english and '<html lang="vi">' in vietnamese
    assert "Create an account" in english and "Create an account" not in vietnamese


async def test_a_signed_in_person_gets_a_page_of_their_own(app: Quart) -> None:
    client = app.test_client()
    assert (await signup(client, "dung")).status_code == 302
    page, _ = await form_and_token(client)
    assert "@dung" in page
    visitor, _ = await form_and_token(app.test_client())
    assert "@dung" not in visitor
