"""Where a person lands: after sign-up and log-in, the home feed with the composer."""

from __future__ import annotations

from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.helpers.web import post_form, signup

PASSWORD = "a good long passphrase"


async def _follow(client: Client, response: Any) -> str:
    """The page a redirect leads to, as the browser would show it."""
    assert response.status_code == 302
    page = await client.get(response.headers["Location"])
    assert page.status_code == 200
    return str(await page.get_data(as_text=True))


async def test_signup_lands_on_the_home_feed(client) -> None:
    """A new account starts on /home with the composer, not on the welcome page."""
    response = await signup(client, "an")
    assert response.headers["Location"] == "/home"
    text = await _follow(client, response)
    assert 'id="compose-text"' in text
    assert "Welcome to" not in text


async def test_login_lands_on_the_home_feed(client) -> None:
    """A log-in without `next` goes to /home with the composer; with `next`, there."""
    await signup(client, "hoa")
    await post_form(client, "/logout", {}, csrf_from="/")
    response = await post_form(client, "/login", {"login": "hoa", "password": PASSWORD})
    assert response.headers["Location"] == "/home"
    assert 'id="compose-text"' in await _follow(client, response)
    await post_form(client, "/logout", {}, csrf_from="/")
    away = await post_form(
        client, "/login", {"login": "hoa", "password": PASSWORD, "next": "/public/local"}
    )
    assert away.headers["Location"] == "/public/local"


async def test_logo_leads_home_when_logged_in(client, app: Quart) -> None:
    """The instance name in the header goes to the feed for a person, the welcome for a visitor."""
    visitor = await (await client.get("/public/local")).get_data(as_text=True)
    assert 'class="brand" href="/"' in visitor
    await signup(client, "lan")
    person = await (await client.get("/public/local")).get_data(as_text=True)
    assert 'class="brand" href="/home"' in person
