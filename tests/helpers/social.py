"""Shared helpers for tests that drive the social features through the app.

People sign up and act through the web forms, as a browser would; the services behind
the app (`gapo(app)`) are used to look things up and to set up what a form cannot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_actor
from tests.helpers.fanout import expand_fanouts
from tests.helpers.web import post_form, signup

MASTODON_FIXTURES = Path(__file__).parents[1] / "fixtures" / "mastodon"


def gapo(app: Quart) -> Any:
    """The app's services."""
    return app.extensions["gapo"]


async def user(app: Quart, name: str) -> Client:
    """A test client signed up, and so signed in, as `name`."""
    client = app.test_client()
    response = await signup(client, name)
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    return client


async def account_id(app: Quart, name: str) -> int:
    """The id of the local account `name`."""
    return int((await gapo(app).accounts.profile(name))["id"])


def at(app: Quart, name: str) -> str:
    """The full handle of the local account `name`, as pages show it."""
    return f"@{name}@{gapo(app).settings.host}"


async def write(client: Client, text: str, visibility: str = "public", **fields: str) -> int:
    """Post through the compose form; the new post's id, read from the redirect."""
    response = await post_form(
        client, "/posts", {"text": text, "visibility": visibility, **fields}, csrf_from="/home"
    )
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def create_post(
    app: Quart, name: str, text: str, *, reply_to: int | None = None, visibility: str = "public"
) -> int:
    """Post as `name` through the posts service, not the web form; the new post's id."""
    author = await gapo(app).accounts.profile(name)
    post = await gapo(app).posts.create(
        author, text, visibility=visibility, in_reply_to_id=reply_to
    )
    return int(post["id"])


async def act(client: Client, path: str, **form: str) -> Any:
    """Submit a form (follow, like, share, block, …) to `path`; the response, unchecked."""
    return await post_form(client, path, form, csrf_from="/home")


async def act_ok(client: Client, path: str, **form: str) -> Any:
    """Like `act`, and the form must have been accepted: a redirect."""
    response = await act(client, path, **form)
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    return response


async def act_on(client: Client, action: str, target_id: int) -> Any:
    """Submit `/{action}` (follow, block, mute, …) about one account; the response, unchecked."""
    return await act(client, f"/{action}", account_id=str(target_id))


async def page(client: Client, path: str, status: int = 200) -> str:
    """The HTML at `path`, which must answer with `status`."""
    response = await client.get(path)
    assert response.status_code == status, path
    return str(await response.get_data(as_text=True))


async def home(client: Client, query: str = "") -> str:
    """The signed-in reader's home feed page."""
    return await page(client, f"/home{query}")


async def deliveries(app: Quart, activity_type: str | None = None) -> list[dict[str, Any]]:
    """The queued delivery jobs' payloads, only those of `activity_type` if it is given
    (pending fan-out jobs are expanded first)."""
    await expand_fanouts(gapo(app))
    rows = await gapo(app).db.fetch_all("SELECT payload FROM jobs WHERE kind = 'deliver'")
    payloads = [json.loads(r["payload"]) for r in rows]
    if activity_type is None:
        return payloads
    return [p for p in payloads if p["activity"]["type"] == activity_type]


def mastodon_fixture(name: str) -> dict[str, Any]:
    """A document from `tests/fixtures/mastodon`."""
    return dict(json.loads((MASTODON_FIXTURES / name).read_text(encoding="utf-8")))


async def remote_account(app: Quart, fixture: str = "actor-person-gargron.json") -> Any:
    """The remote actor of a Mastodon fixture, stored as an account; its row."""
    return await gapo(app).actors.store(parse_actor(mastodon_fixture(fixture)))
