"""Sign-up, login, logout and profile editing through the real app and a real SQLite file."""

from __future__ import annotations

from quart import Quart

from tests.helpers.web import post_form, signup


async def test_signup_logs_in_and_shows_profile(client, app: Quart) -> None:
    """A visitor signs up, lands logged in on their home feed; the profile is at /@username."""
    response = await signup(client, "linh")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    cookie = response.headers.get_all("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("gapo_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    page = await client.get("/@linh")
    assert page.status_code == 200
    text = await page.get_data(as_text=True)
    assert "@linh@localhost:8000" in text
    assert "Log out" in text


async def test_login_logout_and_edit_profile(client) -> None:
    """A user logs out, logs back in, and edits display name and bio."""
    await signup(client, "minh")
    await post_form(client, "/logout", {})
    assert "Log in" in await (await client.get("/")).get_data(as_text=True)
    bad = await post_form(client, "/login", {"login": "minh", "password": "wrong password!!"})
    assert bad.status_code == 401
    assert "Wrong username or password" in await bad.get_data(as_text=True)
    ok = await post_form(client, "/login", {"login": "minh", "password": "a good long passphrase"})
    assert ok.status_code == 302
    edit = await post_form(
        client,
        "/settings/profile",
        {"display_name": "Minh Trần", "bio": "Hà Nội <b>x</b> https://example.org/a"},
        csrf_from="/settings/profile",
    )
    assert edit.status_code == 302
    text = await (await client.get("/@minh")).get_data(as_text=True)
    assert "Minh Trần" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert '<a href="https://example.org/a"' in text


async def test_form_without_csrf_is_refused(client, app: Quart) -> None:
    """A POST without the CSRF token gets 403 and creates nothing."""
    response = await client.post(
        "/signup", form={"username": "evil", "email": "e@example.org", "password": "xyzzy plugh 42"}
    )
    assert response.status_code == 403
    assert "form expired" in await response.get_data(as_text=True)
    users = await app.extensions["gapo"].accounts.list_users()
    assert users == []
