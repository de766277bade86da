"""Who may see what: every viewer × visibility × surface is one test id.

One instance is set up once per module (sign-ups cost a key pair each): alice, whose
account is locked, writes one post of each visibility and one reply of each visibility
under a public parent, each mentioning @mia; the top posts and the parent carry
#matrixtag. The viewers are anonymous, alice herself, a stranger, a pending follower,
an accepted follower, mia (mentioned) and bob (blocked by alice). Every signed-in viewer
but alice also writes a public post, which alice answers once in each visibility (bob's
before she blocks him; only the answers to mia mention her), and mia likes alice's four
top posts, so that every viewer has a notification in waiting about a post of each
visibility. Every surface is read once for every viewer, and each parametrized test
checks one cell against the rule of issue 4:

- public and unlisted: everyone except across a block;
- followers-only: the author, accepted followers and the mentioned;
- direct: the author and the mentioned;
- a reply is also addressed to the author of the post it answers;
- a forbidden post answers exactly like a missing one (404, same body);
- unlisted (and anything but public) never appears on the public timelines or on a
  hashtag page;
- the home feed holds own posts and those of accepted follows only;
- a notification never shows a post its recipient may not see, and the unread count in
  the navigation counts only what the notifications page shows;
- a post's reply count counts only the replies the viewer may see.

The ActivityPub GET is made unsigned through the app for the anonymous row; for the
signed-in rows the same `Documents.note` that serves signed GETs is called with the
viewer's account (signing a GET as a remote actor would only add the signature check,
which tests/federation_servers covers).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.app import create_app
from instance.db import posts as posts_q
from instance.db.backend import sqlite_file
from instance.db.migrate import migrate
from instance.errors import NotFound
from instance.posts.visibility import can_see
from instance.web.feed_cards import card_cache
from instance.web.feed_page import page_cache
from tests.helpers.web import make_settings, post_form, signup

VIEWERS = ("anonymous", "author", "stranger", "pending", "follower", "mentioned", "blocked")
VISIBILITIES = ("public", "unlisted", "followers", "direct")
SURFACES = (
    "page",
    "ap",
    "home",
    "local_timeline",
    "federated_timeline",
    "profile",
    "replies",
    "tag",
    "notification",
)
# Where the public parent (and so its reply count) is listed.
COUNT_SURFACES = ("page", "home", "local_timeline", "federated_timeline", "profile", "tag")
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
TAG = "matrixtag"
# The viewers who write a post of their own for alice to answer.
ANSWERED = ("stranger", "pending", "follower", "mentioned", "blocked")
UNREAD_RE = re.compile(r'<span class="count" aria-hidden="true">\((\d+)\)</span>')
COUNT_RE = re.compile(r'<footer class="counts" data-status>\s*<a href="[^"]*">[^<]*: (\d+)</a>')

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
    if surface in ("local_timeline", "federated_timeline", "tag"):
        return visibility == "public" and viewer != "blocked"
    if surface == "notification":
        # Each signed-in viewer has one waiting about a post of each visibility; it shows
        # when the post may be seen. Nobody is signed in to read the anonymous row's.
        # Alice's answers to a viewer's own post address that viewer, whatever their
        # audience (a reply always reaches the person answered), except across the block.
        if viewer in ANSWERED and viewer != "blocked":
            return True
        return may_see(viewer, visibility) and viewer != "anonymous"
    if surface == "home":
        # Home is own posts and accepted follows; a mention alone does not put it there.
        return may_see(viewer, visibility) and viewer in ("author", "follower")
    return may_see(viewer, visibility)


def expected_reply_count(viewer: str, surface: str) -> int | None:
    """The parent's reply count as the viewer is shown it; None where the parent isn't listed."""
    if viewer == "blocked" or (surface == "home" and viewer not in ("author", "follower")):
        return None
    return sum(may_see(viewer, visibility) for visibility in VISIBILITIES)


def notified_markers(viewer: str, visibility: str) -> tuple[str, ...]:
    """What the viewer's notifications page shows when the post of `visibility` is shown."""
    if viewer == "author":
        return (f"mx-top-{visibility} ",)  # mia's like
    if viewer == "mentioned":
        # Mentioned in alice's top post and in her reply; her answer is a `reply`.
        return (
            f"mx-top-{visibility} ",
            f"mx-reply-{visibility} ",
            f"mx-note-{visibility}-mentioned",
        )
    return (f"mx-note-{visibility}-{viewer}",)


def _notification_outcome(viewer: str, visibility: str, status: int, body: str) -> str:
    """'visible' when every notification about the post shows, 'hidden' when none does."""
    wanted = notified_markers(viewer, visibility)
    # Anything about a post of this visibility, whoever it was meant for.
    anywhere = {f"mx-top-{visibility} ", f"mx-reply-{visibility} ", f"mx-note-{visibility}-"}
    present = {m for m in (*wanted, *anywhere) if m in body}
    if status != 200:
        return "hidden" if not present else f"status {status} with {sorted(present)}"
    if all(m in body for m in wanted):
        return "visible"
    return "hidden" if not present else f"only {sorted(present)}"


def _reply_count(body: str, post_id: int) -> int | None:
    """The reply count in the post's own card on a page, None when the post isn't there."""
    start = body.find(f'aria-labelledby="post-{post_id}-author"')
    if start < 0:
        return None
    match = COUNT_RE.search(body, start)
    assert match is not None, f"no counts after post {post_id}"
    return int(match.group(1))


def _unread_in_navigation(body: str) -> int:
    match = UNREAD_RE.search(body)
    return int(match.group(1)) if match else 0


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


@dataclass
class Observed:
    cells: dict[Cell, str] = field(default_factory=dict)
    # (viewer, surface) -> the public parent's reply count there, None when not listed.
    reply_counts: dict[tuple[str, str], int | None] = field(default_factory=dict)
    # viewer -> (unread count in the navigation, notifications listed on the page)
    unread: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (viewer, feed surface) -> "same" when the cached page shows what a fresh one does
    cache_agrees: dict[tuple[str, str], str] = field(default_factory=dict)


# The feed pages, whose cards and surroundings come from caches (web/feed_cards.py,
# web/feed_page.py): every cell of theirs is read from a cached render, which must show
# exactly what a render without the caches shows.
FEED_SURFACES = {
    "home": "/home",
    "local_timeline": "/public/local",
    "federated_timeline": "/public",
}


async def _fresh_and_cached(app: Quart, client: Client, path: str) -> tuple[tuple[int, str], ...]:
    """The page rendered with the caches off, then (after a read that fills them, with
    cards other viewers' pages left there) from the caches alone."""
    services = app.extensions["gapo"]
    # The web fragment caches, and the reads kept while the database is unchanged (the home
    # page's views, the session's user, the unread count: db/read_cache.py).
    caches = (
        card_cache(app),
        page_cache(app),
        services.feeds.home_pages,
        services.sessions.kept,
        services.notifications.unread_counts,
    )
    sizes = [c.max_entries for c in caches]
    for cache in caches:
        cache.max_entries = 0
    reads = []
    try:
        response = await client.get(path)
        reads.append((response.status_code, await response.get_data(as_text=True)))
    finally:
        for cache, size in zip(caches, sizes, strict=True):
            cache.max_entries = size
    await client.get(path)
    hits = caches[0].hits
    home_hits = caches[2].hits
    response = await client.get(path)
    reads.append((response.status_code, await response.get_data(as_text=True)))
    if response.status_code == 200 and 'class="post"' in reads[-1][1]:
        assert caches[0].hits > hits, f"{path} was not read from the card cache"
    if path == "/home" and response.status_code == 200:
        assert caches[2].hits > home_hits, "/home was not read from the kept home pages"
    return tuple(reads)


def _same_page(fresh: tuple[int, str], cached: tuple[int, str]) -> str:
    """'same' when both reads show the same thing (the relative times may have moved on)."""

    def shown(body: str) -> str:
        return re.sub(r"(<time [^>]*>)[^<]*", r"\1", body)

    if fresh[0] != cached[0]:
        return f"status {fresh[0]} fresh, {cached[0]} cached"
    return "same" if shown(fresh[1]) == shown(cached[1]) else "different"


async def _collect(data_dir: Path) -> Observed:
    settings = make_settings(data_dir)
    await migrate(settings.database_url, sqlite_file(settings.database_url))
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
        # A post by each viewer, answered by alice in every visibility while she can see it.
        for role in ANSWERED:
            own = await _write(app, clients[role], f"mx-own-{role}", "public")
            for v in VISIBILITIES:
                mention = " @mia" if role == "mentioned" else ""
                text = f"mx-note-{v}-{role}{mention}"
                await _write(app, alice, text, v, in_reply_to=str(own))
        response = await post_form(
            alice, "/block", {"account_id": str(ids["blocked"])}, csrf_from="/home"
        )
        assert response.status_code == 302, await response.get_data(as_text=True)
        states = app.extensions["gapo"].relationships
        assert await states.state(ids["pending"], ids["author"]) == "pending"
        assert await states.state(ids["follower"], ids["author"]) == "accepted"

        top = {v: await _write(app, alice, f"mx-top-{v} @mia #{TAG}", v) for v in VISIBILITIES}
        parent = await _write(app, alice, f"mx-parent #{TAG}", "public")
        replies = {
            v: await _write(app, alice, f"mx-reply-{v} @mia", v, in_reply_to=str(parent))
            for v in VISIBILITIES
        }
        stored = await posts_q.get(app.extensions["gapo"].db, replies["direct"])
        assert stored is not None and stored["in_reply_to_id"] == parent
        for post_id in top.values():
            response = await post_form(
                clients["mentioned"], f"/p/{post_id}/like", {}, csrf_from=f"/p/{post_id}"
            )
            assert response.status_code == 302, await response.get_data(as_text=True)

        observed = Observed()
        cells = observed.cells
        for viewer in VIEWERS:
            client = clients[viewer]
            missing_note = await (
                await client.get(f"/users/alice/statuses/{MISSING_ID}", headers=AP_ACCEPT)
            ).get_data(as_text=True)
            listings: dict[str, tuple[int, str]] = {}
            for surface, path in FEED_SURFACES.items():
                fresh, cached = await _fresh_and_cached(app, client, path)
                listings[surface] = cached
                observed.cache_agrees[(viewer, surface)] = _same_page(fresh, cached)
            for surface, path in (
                ("profile", "/@alice"),
                ("replies", f"/p/{parent}"),
                ("tag", f"/tags/{TAG}"),
                # Last: reading the notifications marks them read.
                ("notification", "/notifications"),
            ):
                response = await client.get(path)
                listings[surface] = (response.status_code, await response.get_data(as_text=True))
            for surface in COUNT_SURFACES:
                status, body = listings["replies" if surface == "page" else surface]
                count = _reply_count(body, parent) if status == 200 else None
                observed.reply_counts[(viewer, surface)] = count
            if viewer != "anonymous":
                status, body = listings["notification"]
                assert status == 200
                observed.unread[viewer] = (
                    _unread_in_navigation(listings["home"][1]),
                    body.count('class="notification unread '),
                )
            for visibility in VISIBILITIES:
                post_id = top[visibility]
                cells[(viewer, visibility, "page")] = await _page_outcome(client, post_id)
                if viewer == "anonymous":
                    ap = await _anonymous_ap_outcome(client, post_id, missing_note)
                else:
                    ap = await _signed_in_ap_outcome(app, ids[viewer], post_id)
                cells[(viewer, visibility, "ap")] = ap
                for surface, (status, body) in listings.items():
                    if surface == "notification":
                        outcome = _notification_outcome(viewer, visibility, status, body)
                        cells[(viewer, visibility, surface)] = outcome
                        continue
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
        return observed


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    """Every cell, observed once on one instance (a plain loop: no test loop is running)."""
    yield asyncio.run(_collect(tmp_path_factory.mktemp("matrix") / "data"))


CASES = [
    pytest.param(viewer, visibility, surface, id=f"{viewer}-{visibility}-{surface}")
    for viewer in VIEWERS
    for visibility in VISIBILITIES
    for surface in SURFACES
]


@pytest.mark.parametrize(("viewer", "visibility", "surface"), CASES)
def test_cell(observed: Observed, viewer: str, visibility: str, surface: str) -> None:
    want = "visible" if expected(viewer, visibility, surface) else "hidden"
    assert observed.cells[(viewer, visibility, surface)] == want


COUNT_CASES = [
    pytest.param(viewer, surface, id=f"{viewer}-{surface}")
    for viewer in VIEWERS
    for surface in COUNT_SURFACES
]


@pytest.mark.parametrize(("viewer", "surface"), COUNT_CASES)
def test_reply_count(observed: Observed, viewer: str, surface: str) -> None:
    """The public parent's reply count never tells of a reply the viewer may not see."""
    assert observed.reply_counts[(viewer, surface)] == expected_reply_count(viewer, surface)


@pytest.mark.parametrize(
    ("viewer", "surface"),
    [pytest.param(v, s, id=f"{v}-{s}") for v in VIEWERS for s in FEED_SURFACES],
)
def test_cached_feed_page_shows_what_a_fresh_one_does(
    observed: Observed, viewer: str, surface: str
) -> None:
    """Every cell of a feed surface is read from the caches; this is what makes that the
    same as reading it without them."""
    assert observed.cache_agrees[(viewer, surface)] == "same"


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_unread_count_matches_notifications_page(observed: Observed, viewer: str) -> None:
    """The number in the navigation counts exactly the notifications the page then shows."""
    in_navigation, on_page = observed.unread[viewer]
    assert in_navigation == on_page


async def test_reply_count_leaves_out_replies_across_a_block(app: Quart) -> None:
    """A public reply by someone the viewer blocked is not counted for that viewer."""
    author, replier, viewer, anonymous = (app.test_client() for _ in range(4))
    for client, name in ((author, "alice"), (replier, "bob"), (viewer, "sam")):
        await signup(client, name)
    parent = await _write(app, author, "mx-block-parent", "public")
    await _write(app, replier, "mx-block-reply", "public", in_reply_to=str(parent))
    bob_id = await _account_id(app, "bob")
    response = await post_form(viewer, "/block", {"account_id": str(bob_id)}, csrf_from="/home")
    assert response.status_code == 302
    for client, count in ((viewer, 0), (anonymous, 1), (author, 1)):
        body = await (await client.get("/public")).get_data(as_text=True)
        assert _reply_count(body, parent) == count


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
