"""Email at sign-up: optional by default, never unique, and no answer that tells a stranger
whether an address has an account here; log-in is by username (docs/privacy.md, "Email")."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from quart import Quart

from instance.db.migrate import migrate
from tests.helpers.migrations import apply_up_to
from tests.helpers.web import AppFactory, count_rows, post_form, user_rows

PASSWORD = "a good long passphrase"
TOKEN_RE = re.compile(r'value="[A-Za-z0-9_\-.]{20,}"')


async def sign_up(client: Any, username: str, email: str) -> Any:
    form = {"username": username, "email": email, "password": PASSWORD}
    return await post_form(client, "/signup", form, csrf_from="/signup")


async def shape(client: Any, response: Any, username: str) -> tuple[Any, ...]:
    """What a stranger can compare: status, header names, where it leads, and the page it
    leads to, with the chosen username and the per-session tokens taken out."""
    location = response.headers.get("Location", "")
    page = await client.get(location) if location else response
    body = TOKEN_RE.sub('value="…"', (await page.get_data(as_text=True)).replace(username, "NAME"))
    body = re.sub(r"\d+", "0", body)  # ids and times differ between any two sign-ups
    return (
        response.status_code,
        sorted(response.headers.keys()),
        location.replace(username, "NAME"),
        page.status_code,
        body,
    )


async def test_a_taken_email_gets_the_answer_a_fresh_one_gets(make_app: AppFactory) -> None:
    """On two instances alike (one person signed up with shared@), signing up with that
    address (in another case) answers exactly as signing up with a new one does: same
    status, headers, redirect and page."""
    shapes = []
    for email in ("nobody.else@example.org", "Shared@Example.ORG"):
        app = await make_app()
        assert (await sign_up(app.test_client(), "first", "shared@example.org")).status_code == 302
        client = app.test_client()
        shapes.append(await shape(client, await sign_up(client, "newcomer", email), "newcomer"))
    fresh, taken = shapes
    assert fresh[0] == 302 and fresh[2] == "/home"
    assert taken == fresh
    emails = sorted(row["email"] for row in await user_rows(app))
    assert emails == ["shared@example.org", "shared@example.org"]


async def test_the_email_is_optional_by_default(app: Quart) -> None:
    """No address: the account is made with none; the form says the field is optional."""
    page = await (await app.test_client().get("/signup")).get_data(as_text=True)
    assert "Email (optional)" in page
    assert re.search(r'<input id="email"[^>]*\brequired\b', page) is None
    assert (await sign_up(app.test_client(), "noaddress", "  ")).status_code == 302
    assert [row["email"] for row in await user_rows(app)] == [""]


async def test_require_email_refuses_a_sign_up_without_one(make_app: AppFactory) -> None:
    """With GAPO_REQUIRE_EMAIL a sign-up without an address is a 422 that writes nothing,
    and the field is marked required; a taken address is still accepted."""
    app = await make_app(require_email=True)
    page = await (await app.test_client().get("/signup")).get_data(as_text=True)
    assert re.search(r'<input id="email"[^>]*\brequired\b', page)
    refused = await sign_up(app.test_client(), "noaddress", "")
    assert refused.status_code == 422
    assert "valid email" in await refused.get_data(as_text=True)
    assert await count_rows(app, "users") == 0
    assert (await sign_up(app.test_client(), "one", "same@example.org")).status_code == 302
    assert (await sign_up(app.test_client(), "two", "same@example.org")).status_code == 302


async def test_log_in_is_by_username_only(app: Quart) -> None:
    """The username logs in (also as @name and @name@host); the email, even one nobody
    else gave, is refused with the same answer as a wrong password."""
    assert (await sign_up(app.test_client(), "lan", "lan@example.org")).status_code == 302
    host = app.extensions["gapo"].settings.host
    for login in ("lan", "LAN", "@lan", f"@lan@{host}"):
        response = await post_form(
            app.test_client(), "/login", {"login": login, "password": PASSWORD}
        )
        assert response.status_code == 302, login
    by_email = await post_form(
        app.test_client(), "/login", {"login": "lan@example.org", "password": PASSWORD}
    )
    wrong = await post_form(
        app.test_client(), "/login", {"login": "lan", "password": "not it at all"}
    )
    assert by_email.status_code == wrong.status_code == 401


async def test_migration_0014_keeps_users_and_sessions(tmp_path: Path) -> None:
    """An instance from 0012 keeps its users, sessions and invites through the rebuild of
    `users`, and two users may then give one address."""
    path = tmp_path / "gapo.sqlite3"
    url = f"sqlite:///{path}"
    apply_up_to(url, "0012_account_deletion")
    conn = sqlite3.connect(path)
    conn.executescript(
        "INSERT INTO accounts (id, local, username, username_key, created_at, updated_at)"
        " VALUES (1, 1, 'a', 'a', 0, 0), (2, 1, 'b', 'b', 0, 0);"
        "INSERT INTO users (id, account_id, email, password_hash, created_at)"
        " VALUES (11, 1, 'a@example.org', 'h', 0);"
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at)"
        " VALUES (21, 't', 11, 0, 0, 9);"
        "INSERT INTO invites (id, code, created_by, created_at) VALUES (31, 'c', 11, 0);"
    )
    conn.commit()
    conn.close()

    assert "0014_email_not_unique" in await migrate(url, path)

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        assert conn.execute("SELECT user_id FROM sessions").fetchall() == [(11,)]
        assert conn.execute("SELECT created_by FROM invites").fetchall() == [(11,)]
        conn.execute(
            "INSERT INTO users (id, account_id, email, password_hash, created_at)"
            " VALUES (12, 2, 'a@example.org', 'h', 0)"
        )
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("DELETE FROM users WHERE id = 11")  # the cascade still holds
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone() == (0,)
    finally:
        conn.close()
