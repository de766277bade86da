"""Login sessions: cookie flags, server-side logout, suspension ends every session."""

from __future__ import annotations

from quart import Quart

from tests.helpers.web import AppFactory, cookie_value, count_rows, drop_cookie, post_form, signup


def set_cookie_header(response, name: str) -> str:
    return next(c for c in response.headers.get_all("Set-Cookie") if c.startswith(f"{name}="))


async def test_cookie_flags_on_http(client) -> None:
    """On an http base URL the session cookie is HttpOnly, SameSite=Lax, path /, not Secure."""
    response = await signup(client, "khanh")
    cookie = set_cookie_header(response, "gapo_session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


async def test_cookie_flags_on_https(make_app: AppFactory) -> None:
    """On an https base URL every cookie Gapo sets is also Secure."""
    app = await make_app(base_url="https://social.example")
    client = app.test_client()
    form_page = await client.get("/signup")
    response = await signup(client, "lan")
    assert response.status_code == 302
    for cookie in (
        set_cookie_header(form_page, "gapo_state"),
        set_cookie_header(response, "gapo_session"),
    ):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    locale = await post_form(client, "/settings/locale", {"locale": "vi"}, csrf_from="/")
    assert "Secure" in set_cookie_header(locale, "gapo_locale")


async def test_logout_invalidates_the_server_side_session(client, app: Quart) -> None:
    """After logout, replaying the old session cookie shows a logged-out page."""
    await signup(client, "vinh")
    token = cookie_value(client, "gapo_session")
    assert token and await count_rows(app, "sessions") == 1
    response = await post_form(client, "/logout", {}, csrf_from="/")
    assert response.status_code == 302
    assert await count_rows(app, "sessions") == 0
    replay = app.test_client()
    replay.set_cookie("localhost", "gapo_session", token)
    text = await (await replay.get("/")).get_data(as_text=True)
    assert "Log in" in text and "Log out" not in text
    assert (await replay.get("/settings/profile")).status_code == 302  # to the login page


async def test_session_token_is_stored_hashed(client, app: Quart) -> None:
    """The database keeps only a hash of the cookie's token, never the token itself."""
    await signup(client, "nam")
    token = cookie_value(client, "gapo_session")
    db = app.extensions["gapo"].db
    stored = await db.fetch_value("SELECT token_hash FROM sessions")
    assert token and stored and token not in stored and len(stored) == 64


async def test_suspended_user_is_logged_out(client, app: Quart) -> None:
    """Suspending a user ends their sessions, refuses new logins and hides the profile."""
    await signup(client, "oanh")
    assert "Log out" in await (await client.get("/")).get_data(as_text=True)
    await app.extensions["gapo"].accounts.suspend("oanh")
    text = await (await client.get("/")).get_data(as_text=True)
    assert "Log out" not in text and "Log in" in text
    assert await count_rows(app, "sessions") == 0
    drop_cookie(client, "gapo_session")
    again = await post_form(
        client, "/login", {"login": "oanh", "password": "a good long passphrase"}
    )
    assert again.status_code == 403
    assert "suspended" in await again.get_data(as_text=True)
    assert (await client.get("/@oanh")).status_code == 404


async def test_garbage_session_cookie_is_ignored(client) -> None:
    """A forged or oversized session cookie is treated as logged out, not an error."""
    for value in ("forged", "x" * 3000, "%00%ff"):
        client.set_cookie("localhost", "gapo_session", value)
        response = await client.get("/")
        assert response.status_code == 200
        assert "Log in" in await response.get_data(as_text=True)


async def test_login_by_username_any_case_not_by_email(client) -> None:
    """A user logs in with their username in any letter case; their email is no login
    (emails are not unique: docs/privacy.md, "Email")."""
    await signup(client, "phuong", email="Phuong@Example.ORG")
    await post_form(client, "/logout", {}, csrf_from="/")
    by_email = await post_form(
        client, "/login", {"login": "Phuong@Example.ORG", "password": "a good long passphrase"}
    )
    assert by_email.status_code == 401
    response = await post_form(
        client, "/login", {"login": "PHUONG", "password": "a good long passphrase"}
    )
    assert response.status_code == 302


async def test_login_next_is_same_site_only(client) -> None:
    """After login `next` may send a user to a local path, never to another site."""
    await signup(client, "quynh")
    await post_form(client, "/logout", {}, csrf_from="/")
    good = {"login": "quynh", "password": "a good long passphrase"}
    local = await post_form(client, "/login", {**good, "next": "/settings/profile"})
    assert local.headers["Location"] == "/settings/profile"
    await post_form(client, "/logout", {}, csrf_from="/")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        away = await post_form(client, "/login", {**good, "next": target})
        assert away.headers["Location"] == "/home"
        await post_form(client, "/logout", {}, csrf_from="/")


async def test_session_keeps_only_a_coarse_browser_label(client, app: Quart) -> None:
    """A session row holds a label such as "Firefox on Android", never the user agent."""
    agent = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
    await signup(client, "sen", request_kwargs={"headers": {"User-Agent": agent}})
    db = app.extensions["gapo"].db
    columns = {
        r["name"] for r in await db.fetch_all("SELECT name FROM pragma_table_info('sessions')")
    }
    assert "ip" not in columns and "user_agent" not in columns
    assert await db.fetch_value("SELECT device FROM sessions") == "Firefox on Android"


def test_device_labels_come_from_a_fixed_list() -> None:
    """Common browsers get their family and system; anything else a generic label, and no
    byte of an unusual user agent comes through."""
    from instance.accounts.devices import device_label

    chrome_linux = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36"
    )
    iphone_safari = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    edge_windows = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
    )
    assert device_label(chrome_linux) == "Chromium on Linux"
    assert device_label(iphone_safari) == "Safari on iOS"
    assert device_label(edge_windows) == "Edge on Windows"
    assert device_label(None) == "A browser on an unknown system"
    assert device_label("QzxTool/1.0 host-4412") == "A browser on an unknown system"


async def test_expired_sessions_are_purged_at_login(client, app: Quart) -> None:
    """A log-in deletes every expired session row, whoever it belonged to."""
    await signup(client, "tam")
    db = app.extensions["gapo"].db
    await db.execute("UPDATE sessions SET expires_at = 1")  # tam's browser was left alone
    other = app.test_client()
    # A log-in, not a sign-up: a sign-up writes its session in its own transaction, which
    # under a surge holds the write lock for as few round trips as it can.
    login = await post_form(other, "/login", {"login": "tam", "password": "a good long passphrase"})
    assert login.status_code == 302
    assert await db.fetch_value("SELECT COUNT(*) FROM sessions WHERE expires_at <= 1") == 0
    assert await count_rows(app, "sessions") == 1
