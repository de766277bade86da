"""Who may see what: every viewer × visibility × surface is one test id.

One instance is set up once per module (sign-ups cost a key pair each): alice, whose
account is locked, writes one post of each visibility and one reply of each visibility
under a public parent, each mentioning @mia. The viewers are anonymous, alice herself,
a stranger, a pending follower, an accepted follower, mia (mentioned) and bob (blocked
by alice). Every surface is read once for every viewer, and each parametrized test
checks one cell against the rule of issue 4:

- public and unlisted: everyone except across a block;
- followers-only: the author, accepted followers and the mentioned;
- direct: the author and the mentioned;
- a forbidden post answers exactly like a missing one (404, same body);
- unlisted (and anything but public) never appears on the public timelines;
- the home feed holds own posts and those of accepted follows only.

The ActivityPub GET is made unsigned through the app for the anonymous row; for the
signed-in rows the same `Documents.note` that serves signed GETs is called with the
viewer's account (signing a GET as a remote actor would only add the signature check,
which tests/federation covers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.app import create_app
from instance.db import posts as posts_q
from instance.db.migrate import migrate
from instance.errors import NotFound
from instance.posts.visibility import can_see
from tests.conftest import make_settings, post_form, signup

VIEWERS = ("anonymous", "author", "stranger", "pending", "follower", "mentioned", "blocked")
VISIBILITIES = ("public", "unlisted", "followers", "direct")
SURFACES = ("page", "ap", "home", "local_timeline", "federated_timeline", "profile", "replies")
USERNAMES = {
    "author": "alice",
    "stranger": "sam",
    "pending": "pete",
    "follower": "fran",
    "mentioned": "mia",
    "blocked": "bob",
}
AP_ACCEPT = {"Accept": "application/activity+json"}
MISSING_ID = 999_999_999_999

Cell = tuple[str, str, str]


def may_see(viewer: str, visibility: str) -> bool:
    """The rule of issue 4, written out independently of `can_see`."""
    if viewer == "author":
        return True
    if viewer == "blocked":
        return False
    if visibility in ("public", "unlisted"):
        return True
    if visibility == "followers":
        return viewer in ("follower", "mentioned")
    return viewer == "mentioned"


def expected(viewer: str, visibility: str, surface: str) -> bool:
    if surface in ("local_timeline", "federated_timeline"):
        return visibility == "public" and viewer != "blocked"
    if surface == "home":
        # Home is own posts and accepted follows; a mention alone does not put it there.
        return may_see(viewer, visibility) and viewer in ("author", "follower")
    return may_see(viewer, visibility)


def _normalized(body: str, post_id: int) -> str:
    """A page's body with its own id taken out (it appears in the language form's `next`)."""
    return body.replace(str(post_id), "ID")


async def _page_outcome(client: Client, post_id: int) -> str:
    """The same outcome on both post routes, and a 404 exactly like a missing post's."""
    outcomes = set()
    for route in ("/p/{}", "/@alice/{}"):
        response = await client.get(route.format(post_id))
        if response.status_code == 200:
            outcomes.add("visible")
        elif response.status_code == 404:
            missing = await client.get(route.format(MISSING_ID))
            body = _normalized(await response.get_data(as_text=True), post_id)
            twin = _normalized(await missing.get_data(as_text=True), MISSING_ID)
            outcomes.add("hidden" if body == twin else "404 with a body unlike a missing post's")
        else:
            outcomes.add(f"status {response.status_code}")
    return outcomes.pop() if len(outcomes) == 1 else f"routes disagree: {sorted(outcomes)}"


async def _anonymous_ap_outcome(client: Client, post_id: int, missing: str) -> str:
    response = await client.get(f"/users/alice/statuses/{post_id}", headers=AP_ACCEPT)
    body = await response.get_data(as_text=True)
    if response.status_code == 200:
        return "visible"
    if response.status_code == 404:
        same = _normalized(body, post_id) == _normalized(missing, MISSING_ID)
        return "hidden" if same else "404 with a body unlike a missing note's"
    return f"status {response.status_code}"


async def _signed_in_ap_outcome(app: Quart, viewer_id: int, post_id: int) -> str:
    gapo = app.extensions["gapo"]
    viewer = await gapo.accounts.account(viewer_id)
    post = await posts_q.get(gapo.db, post_id)
    assert post is not None
    rule = await can_see(gapo.db, viewer_id, post)
    try:
        await gapo.documents.note(viewer, "alice", post_id)
        served = True
    except NotFound:
        served = False
    if rule != served:
        return f"can_see says {rule}, the AP document says {served}"
    return "visible" if served else "hidden"


async def _account_id(app: Quart, username: str) -> int:
    account = await app.extensions["gapo"].accounts.profile(username)
    return int(account["id"])


async def _write(app: Quart, client: Client, text: str, visibility: str, **extra: str) -> int:
    """Posts through the form; returns the new post's id (a reply redirects to its parent)."""
    response = await post_form(
        client, "/posts", {"text": text, "visibility": visibility, **extra}, csrf_from="/home"
    )
    assert response.status_code == 302, await response.get_data(as_text=True)
    db = app.extensions["gapo"].db
    # Ids sort by time: the newest row is the one just written.
    return int(await db.fetch_value("SELECT MAX(id) AS n FROM posts"))


async def _collect(data_dir: Path) -> dict[Cell, str]:
    settings = make_settings(data_dir)
    await migrate(settings.database_url, settings.sqlite_path)
    async with create_app(settings).test_app() as test_app:
        app: Quart = test_app.app  # type: ignore[attr-defined]
        clients: dict[str, Client] = {"anonymous": app.test_client()}
        for role, username in USERNAMES.items():
            clients[role] = app.test_client()
            response = await signup(clients[role], username)
            assert response.status_code == 302, await response.get_data(as_text=True)
        ids = {role: await _account_id(app, name) for role, name in USERNAMES.items()}
        alice = clients["author"]

        await post_form(
            alice,
            "/settings/profile",
            {"display_name": "Alice", "bio": "", "locked": "on"},
            csrf_from="/settings/profile",
        )
        for role in ("pending", "follower"):
            response = await post_form(
                clients[role],
                "/follow",
                {"account_id": str(ids["author"])},
                csrf_from="/home",
            )
            assert response.status_code == 302
        await post_form(
            alice,
            "/follow_requests/approve",
            {"account_id": str(ids["follower"])},
            csrf_from="/home",
        )
        response = await post_form(
            alice, "/block", {"account_id": str(ids["blocked"])}, csrf_from="/home"
        )
        assert response.status_code == 302, await response.get_data(as_text=True)
        states = app.extensions["gapo"].relationships
        assert await states.state(ids["pending"], ids["author"]) == "pending"
        assert await states.state(ids["follower"], ids["author"]) == "accepted"

        top = {v: await _write(app, alice, f"mx-top-{v} @mia", v) for v in VISIBILITIES}
        parent = await _write(app, alice, "mx-parent", "public")
        replies = {
            v: await _write(app, alice, f"mx-reply-{v} @mia", v, in_reply_to=str(parent))
            for v in VISIBILITIES
        }
        stored = await posts_q.get(app.extensions["gapo"].db, replies["direct"])
        assert stored is not None and stored["in_reply_to_id"] == parent

        cells: dict[Cell, str] = {}
        for viewer in VIEWERS:
            client = clients[viewer]
            missing_note = await (
                await client.get(f"/users/alice/statuses/{MISSING_ID}", headers=AP_ACCEPT)
            ).get_data(as_text=True)
            listings: dict[str, tuple[int, str]] = {}
            for surface, path in (
                ("home", "/home"),
                ("local_timeline", "/public/local"),
                ("federated_timeline", "/public"),
                ("profile", "/@alice"),
                ("replies", f"/p/{parent}"),
            ):
                response = await client.get(path)
                listings[surface] = (response.status_code, await response.get_data(as_text=True))
            for visibility in VISIBILITIES:
                post_id = top[visibility]
                cells[(viewer, visibility, "page")] = await _page_outcome(client, post_id)
                if viewer == "anonymous":
                    ap = await _anonymous_ap_outcome(client, post_id, missing_note)
                else:
                    ap = await _signed_in_ap_outcome(app, ids[viewer], post_id)
                cells[(viewer, visibility, "ap")] = ap
                for surface, (status, body) in listings.items():
                    marker = (
                        f"mx-reply-{visibility} "
                        if surface == "replies"
                        else f"mx-top-{visibility} "
                    )
                    if status != 200:
                        outcome = "hidden" if marker not in body else f"status {status} with it"
                    else:
                        outcome = "visible" if marker in body else "hidden"
                    cells[(viewer, visibility, surface)] = outcome
        return cells


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Cell, str]]:
    """Every cell, observed once on one instance (a plain loop: no test loop is running)."""
    yield asyncio.run(_collect(tmp_path_factory.mktemp("matrix") / "data"))


CASES = [
    pytest.param(viewer, visibility, surface, id=f"{viewer}-{visibility}-{surface}")
    for viewer in VIEWERS
    for visibility in VISIBILITIES
    for surface in SURFACES
]


@pytest.mark.parametrize(("viewer", "visibility", "surface"), CASES)
def test_cell(observed: dict[Cell, str], viewer: str, visibility: str, surface: str) -> None:
    want = "visible" if expected(viewer, visibility, surface) else "hidden"
    assert observed[(viewer, visibility, surface)] == want


# --- a reply never widens its parent's audience ---


async def _stored_visibility(app: Quart, post_id: int) -> str:
    row = await posts_q.get(app.extensions["gapo"].db, post_id)
    assert row is not None
    return str(row["visibility"])


@pytest.mark.parametrize(
    ("parent_visibility", "asked", "stored"),
    [
        ("followers", "public", "followers"),
        ("followers", "unlisted", "followers"),
        ("direct", "public", "direct"),
        ("direct", "followers", "direct"),
        ("unlisted", "public", "unlisted"),
        ("public", "followers", "followers"),
    ],
)
async def test_reply_never_widens_parent_audience(
    app: Quart, client: Client, parent_visibility: str, asked: str, stored: str
) -> None:
    await signup(client, "alice")
    parent = await _write(app, client, f"parent @alice {parent_visibility}", parent_visibility)
    reply = await _write(app, client, "reply @alice", asked, in_reply_to=str(parent))
    assert await _stored_visibility(app, reply) == stored


async def test_reply_to_followers_only_post_is_hidden_from_strangers(app: Quart) -> None:
    """A follower's 'public' reply to a followers-only post is no public window onto it."""
    author, follower, stranger = app.test_client(), app.test_client(), app.test_client()
    await signup(author, "alice")
    await signup(follower, "fran")
    await signup(stranger, "sam")
    alice_id = await _account_id(app, "alice")
    await post_form(follower, "/follow", {"account_id": str(alice_id)}, csrf_from="/home")
    parent = await _write(app, author, "only for followers", "followers")
    reply = await _write(app, follower, "my public answer", "public", in_reply_to=str(parent))
    assert await _stored_visibility(app, reply) == "followers"
    assert (await stranger.get(f"/p/{reply}")).status_code == 404
    timeline = await (await stranger.get("/public")).get_data(as_text=True)
    assert "my public answer" not in timeline
    assert (await follower.get(f"/p/{reply}")).status_code == 200
