"""Settings: change the email (with the password), list and end sessions; log-in and
sign-up pages link to each other."""

from __future__ import annotations

import re

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.helpers.web import post_form, signup, user_rows

PASSWORD = "a good long passphrase"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"


async def _log_in(app: Quart, name: str, user_agent: str = "") -> Client:
    client = app.test_client()
    headers = {"User-Agent": user_agent} if user_agent else {}
    response = await post_form(
        client, "/login", {"login": name, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 302
    return client


async def _text(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, path
    return str(await response.get_data(as_text=True))


async def test_login_and_signup_link_to_each_other(client: Client) -> None:
    assert 'href="/signup"' in await _text(client, "/login")
    assert 'href="/login"' in await _text(client, "/signup")


async def test_change_email_needs_the_password(client: Client, app: Quart) -> None:
    """A wrong password changes nothing; with the right one the new address is stored,
    normalised; an address another user gave is accepted like any (no oracle), and log-in
    stays by username."""
    await signup(client, "thao")
    await signup(app.test_client(), "khanh")

    async def change(email: str, current: str) -> object:
        form = {"email": email, "current": current}
        return await post_form(client, "/settings/email", form, csrf_from="/settings/email")

    wrong = await change("thao.new@example.org", "not my password")
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    bad = await change("not-an-email", PASSWORD)
    assert bad.status_code == 422  # type: ignore[attr-defined]
    emails = {row["username"]: row["email"] for row in await user_rows(app)}
    assert emails["thao"] == "thao@example.org"

    done = await change("Thao.New@Example.ORG", PASSWORD)
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert "thao.new@example.org" in await _text(client, "/settings/email?changed=1")
    emails = {row["username"]: row["email"] for row in await user_rows(app)}
    assert emails["thao"] == "thao.new@example.org"
    taken = await change("khanh@example.org", PASSWORD)
    assert taken.status_code == 302  # type: ignore[attr-defined]
    emails = {row["username"]: row["email"] for row in await user_rows(app)}
    assert emails["thao"] == emails["khanh"] == "khanh@example.org"
    response = await post_form(app.test_client(), "/login", {"login": "thao", "password": PASSWORD})
    assert response.status_code == 302


async def test_sessions_list_shows_label_and_age_and_ends_one(client: Client, app: Quart) -> None:
    """The list shows each browser's coarse label and "signed in today", marks this one,
    and End logs that browser out while the others stay."""
    await signup(client, "binh")
    phone = await _log_in(app, "binh", FIREFOX_ANDROID)
    laptop = await _log_in(app, "binh")
    page = await _text(client, "/settings/sessions")
    assert page.count("signed in today") == 3
    assert "Firefox on Android" in page and "This browser" in page
    assert FIREFOX_ANDROID not in page
    ends = re.findall(r'action="(/settings/sessions/\d+/end)"', page)
    assert len(ends) == 2
    phone_end = re.search(
        r'Firefox on Android</span>.*?action="(/settings/sessions/\d+/end)"', page, re.S
    )
    assert phone_end is not None
    ended = await post_form(client, phone_end.group(1), {}, csrf_from="/settings/sessions")
    assert ended.status_code == 302
    assert "Log out" not in await _text(phone, "/")
    assert "Log out" in await _text(laptop, "/")
    assert "Log out" in await _text(client, "/")


async def test_session_of_someone_else_cannot_be_ended(client: Client, app: Quart) -> None:
    """An id from another account's list ends nothing."""
    await signup(client, "an")
    other = app.test_client()
    await signup(other, "hoa")
    theirs = re.findall(r"/settings/sessions/(\d+)/end", await _text(other, "/settings/sessions"))
    assert theirs == []  # their only session is the current one: no End button
    hoa = next(row["user_id"] for row in await user_rows(app) if row["username"] == "hoa")
    ids = [row["id"] for row in await _session_rows(app) if row["user_id"] == hoa]
    assert ids
    for session_id in ids:
        await post_form(
            client, f"/settings/sessions/{session_id}/end", {}, csrf_from="/settings/sessions"
        )
    assert "Log out" in await _text(other, "/")
    assert "Log out" in await _text(client, "/")


async def _session_rows(app: Quart) -> list[dict[str, object]]:
    db = app.extensions["gapo"].db
    return list(await db.fetch_all("SELECT id, user_id FROM sessions", {}))


async def test_end_all_other_sessions(client: Client, app: Quart) -> None:
    """ "End all other sessions" logs every other browser out and keeps this one."""
    await signup(client, "lan")
    others = [await _log_in(app, "lan") for _ in range(3)]
    ended = await post_form(
        client, "/settings/sessions/end-others", {}, csrf_from="/settings/sessions"
    )
    assert ended.status_code == 302
    for other in others:
        assert "Log out" not in await _text(other, "/")
    page = await _text(client, "/settings/sessions?ended=others")
    assert page.count("signed in today") == 1 and "Every other session is ended" in page


async def test_sessions_say_how_long_ago_they_signed_in(client: Client, app: Quart) -> None:
    """An older session reads "signed in 3 days ago" (and in Vietnamese "3 ngày trước")."""
    await signup(client, "tuan")
    older = await _log_in(app, "tuan")
    db = app.extensions["gapo"].db
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sessions SET created_at = created_at - 3 * 86400 - 60"
            " WHERE id = (SELECT MIN(id) FROM sessions)",
            {},
        )
    assert "signed in 3 days ago" in await _text(older, "/settings/sessions")
    await post_form(client, "/settings/locale", {"locale": "vi", "next": "/"})
    assert "đăng nhập 3 ngày trước" in await _text(client, "/settings/sessions")
