"""Settings: change the email (with the password), list the signed-in sessions, end them."""

from __future__ import annotations

import re

from quart import Quart

from tests.helpers.web import count_rows, post_form, signup, user_rows

PASSWORD = "a good long passphrase"
PHONE_UA = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


async def logged_in(client) -> bool:
    return "Log out" in await (await client.get("/")).get_data(as_text=True)


async def log_in(app: Quart, name: str, user_agent: str | None = None):
    client = app.test_client()
    headers = {"User-Agent": user_agent} if user_agent else {}
    response = await post_form(
        client, "/login", {"login": name, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 302
    return client


async def change_email(client, email: str, current: str = PASSWORD):
    form = {"email": email, "current": current}
    return await post_form(client, "/settings/email", form, csrf_from="/settings/email")


async def test_email_change_needs_the_password(client, app: Quart) -> None:
    """The new address is taken with the right password, refused with a wrong one."""
    await signup(client, "an")
    wrong = await change_email(client, "an.new@example.org", current="not my password")
    assert wrong.status_code == 401
    assert "The current password is not right." in await wrong.get_data(as_text=True)
    assert (await user_rows(app))[0]["email"] == "an@example.org"

    done = await change_email(client, "An.New@Example.ORG")
    assert done.status_code == 302 and "changed=1" in done.headers["Location"]
    page = await (await client.get(done.headers["Location"])).get_data(as_text=True)
    assert "Your email address is changed." in page and "an.new@example.org" in page
    assert (await user_rows(app))[0]["email"] == "an.new@example.org"


async def test_email_change_refuses_a_taken_or_invalid_address(client, app: Quart) -> None:
    """Someone else's address, or something that is not one, changes nothing."""
    await signup(app.test_client(), "hoa")
    await signup(client, "lan")
    taken = await change_email(client, "hoa@example.org")
    assert taken.status_code == 409
    invalid = await change_email(client, "not an address")
    assert invalid.status_code == 422
    emails = {u["username"]: u["email"] for u in await user_rows(app)}
    assert emails["lan"] == "lan@example.org"


async def test_sessions_list_shows_devices_and_ends_one(client, app: Quart) -> None:
    """Each session shows its device label and when it signed in, never an address; ending
    one logs that browser out and leaves the others."""
    await signup(client, "minh")
    phone = await log_in(app, "minh", PHONE_UA)
    laptop = await log_in(app, "minh")
    page = await (await client.get("/settings/sessions")).get_data(as_text=True)
    assert "Chromium on Android" in page
    assert page.count("signed in today") == 3
    assert page.count("This browser") == 1
    assert "127.0.0.1" not in page and "Mozilla" not in page

    # The phone's session is the one labelled Chromium on Android: end it by its own button.
    forms = re.findall(r'action="(/settings/sessions/\d+/end)"', page)
    assert len(forms) == 2
    phone_form = next(
        f for f in forms if "Chromium on Android" in page.split(f'action="{f}"')[0][-600:]
    )
    ended = await post_form(client, phone_form, {}, csrf_from="/settings/sessions")
    assert ended.status_code == 302
    assert not await logged_in(phone)
    assert await logged_in(laptop) and await logged_in(client)


async def test_end_all_other_sessions(client, app: Quart) -> None:
    """ "End all other sessions" logs out every browser but this one."""
    await signup(client, "tuan")
    others = [await log_in(app, "tuan") for _ in range(3)]
    response = await post_form(client, "/settings/sessions/end-others", {}, "/settings/sessions")
    assert response.status_code == 302
    assert await logged_in(client)
    assert not any([await logged_in(other) for other in others])
    assert await count_rows(app, "sessions") == 1
    page = await (await client.get(response.headers["Location"])).get_data(as_text=True)
    assert "Every other session is ended." in page
    assert "End all other sessions" not in page


async def test_a_session_of_someone_else_cannot_be_ended(client, app: Quart) -> None:
    """The session id comes from a form: one that is not the person's own ends nothing."""
    await signup(client, "vy")
    other = app.test_client()
    await signup(other, "khoa")
    db = app.extensions["gapo"].db
    theirs = await db.fetch_value(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'khoa@example.org'"
    )
    response = await post_form(
        client, f"/settings/sessions/{theirs}/end", {}, csrf_from="/settings/sessions"
    )
    assert response.status_code == 302
    assert await logged_in(other)


async def test_settings_pages_need_a_session(client) -> None:
    """Logged out, the email and sessions pages send the browser to log in."""
    for path in ("/settings/email", "/settings/sessions"):
        assert (await client.get(path)).status_code == 302
