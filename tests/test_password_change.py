"""A password change ends the account's other sessions: on the web (this one stays), in the CLI."""

from __future__ import annotations

from pathlib import Path

from quart import Quart

from tests.helpers.processes import gapo
from tests.helpers.web import AppFactory, count_rows, post_form, signup

PASSWORD = "a good long passphrase"
NEW = "another fine passphrase"


async def logged_in(client) -> bool:
    return "Log out" in await (await client.get("/")).get_data(as_text=True)


async def log_in(app: Quart, name: str, password: str = PASSWORD):
    client = app.test_client()
    response = await post_form(client, "/login", {"login": name, "password": password})
    assert response.status_code == 302
    return client


async def change(client, current: str, new: str, again: str | None = None):
    form = {"current": current, "password": new, "password_again": new if again is None else again}
    return await post_form(client, "/settings/password", form, csrf_from="/settings/password")


async def test_web_change_ends_other_sessions_and_keeps_this_one(client, app: Quart) -> None:
    """Changing the password in settings logs out every other browser, not this one; the old
    password stops working and the new one works."""
    await signup(client, "dao")
    phone = await log_in(app, "dao")
    laptop = await log_in(app, "dao")
    page = await (await client.get("/settings/password")).get_data(as_text=True)
    assert page.count("A browser on an unknown system") == 2  # the two other sessions

    response = await change(client, PASSWORD, NEW)

    assert response.status_code == 302
    assert "changed=1" in response.headers["Location"]
    assert await logged_in(client)
    assert not await logged_in(phone) and not await logged_in(laptop)
    assert await count_rows(app, "sessions") == 1
    old = await post_form(app.test_client(), "/login", {"login": "dao", "password": PASSWORD})
    assert old.status_code == 401
    await log_in(app, "dao", NEW)


async def test_web_change_needs_the_current_password(client, app: Quart) -> None:
    """A wrong current password or two different new ones change nothing and end nothing."""
    await signup(client, "binh")
    other = await log_in(app, "binh")
    wrong = await change(client, "not my password", NEW)
    assert wrong.status_code == 401
    assert "The current password is not right." in await wrong.get_data(as_text=True)
    differ = await change(client, PASSWORD, NEW, again=NEW + "!")
    assert differ.status_code == 422
    assert "The two new passwords differ." in await differ.get_data(as_text=True)
    weak = await change(client, PASSWORD, "short")
    assert weak.status_code == 422
    assert await logged_in(other) and await logged_in(client)
    await log_in(app, "binh", PASSWORD)


async def test_password_page_needs_a_login(client) -> None:
    response = await client.get("/settings/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


async def test_cli_set_password_ends_every_session(tmp_path: Path, make_app: AppFactory) -> None:
    """`gapo user set-password` (an admin's reset) logs the user out everywhere."""
    data_dir = tmp_path / "data"
    app = await make_app(data_dir=data_dir)
    browser = app.test_client()
    await signup(browser, "chau")
    assert await logged_in(browser)
    result = gapo(data_dir, "user", "set-password", "chau", "--password-stdin", stdin=NEW + "\n")
    assert result.returncode == 0, result.stderr
    assert not await logged_in(browser)
    assert await count_rows(app, "sessions") == 0
    await log_in(app, "chau", NEW)
