"""Every SQL copy of the visibility rule agrees with `can_see`, for every viewer.

`can_see` (instance/posts/visibility.py) is the rule; some queries repeat it in SQL so that
a page is one indexed read: the reply counts (`posts.visible_reply_counts`), the home feed
and its shares, the local and federated timelines, hashtag pages, post search, profile
listings and the unread notification count. Each is read here for a matrix of viewers
(anonymous, the author, an accepted follower, a pending follower, a stranger, one the
author blocked, one who blocked the author, one mentioned, one who muted a followed
account) over posts of every visibility (also by a suspended author, whose posts, shares
and notifications nobody sees), mentioning or not, replies of every visibility,
a deleted post, and replies to posts the viewer may not see; each answer must be exactly
what `can_see` allows, or the documented subset a surface lists:

- home: own posts and those of accepted follows, without muted authors;
- home shares: shares by the viewer and accepted follows, without a muted or hidden sharer;
- timelines: public top-level posts (local ones for the local timeline), without muted
  authors;
- a hashtag page: public posts with the tag, without muted authors;
- search: local public posts holding the word, without muted authors;
- a profile: the visibilities `visibilities_for` lists for the viewer (direct posts are
  checked apart), read before `visible_posts` filters them;
- notifications: those whose post the recipient may see, not from a blocked or muted
  account; the unread count counts exactly those.

One instance is built once per module (on a plain loop: no test loop is running).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from instance.app import create_app
from instance.db import blocks as blocks_q
from instance.db import feeds as feeds_q
from instance.db import follows as follows_q
from instance.db import hashtags as hashtags_q
from instance.db import mutes as mutes_q
from instance.db import notifications as notifications_q
from instance.db import posts as posts_q
from instance.db import search as search_q
from instance.db.backend import sqlite_file
from instance.db.migrate import migrate
from instance.posts.visibility import can_see, visibilities_for
from tests.helpers.web import make_settings, signup

VIEWERS = (
    "anonymous",
    "author",
    "follower",
    "pending",
    "stranger",
    "blocked",
    "blocker",
    "mentioned",
    "muter",
)
NAMES = {
    "author": "alice",
    "follower": "fran",
    "pending": "pete",
    "stranger": "sam",
    "blocked": "bob",
    "blocker": "bea",
    "mentioned": "mia",
    "muter": "mo",
    "other": "dan",  # a second author, followed by some viewers, who answers alice
    "suspended": "sue",  # a third author, followed and mentioning, suspended at the end
}
VISIBILITIES = ("public", "unlisted", "followers", "direct")
TAG = "sqlrule"
LIMIT = 500
SURFACES = (
    "reply_counts",
    "home",
    "home_shares",
    "local_timeline",
    "federated_timeline",
    "tag",
    "search",
    "profile",
    "notifications",
    "unread_count",
)


@dataclass
class Observed:
    # (surface, viewer) -> (what the SQL path returned, what can_see allows there)
    cells: dict[tuple[str, str], tuple[Any, Any]] = field(default_factory=dict)
    # How many posts each viewer may see: proof that the matrix hides something from each.
    visible: dict[str, int] = field(default_factory=dict)
    total: int = 0


def _ids(rows: list[Any], key: str = "id") -> list[int]:
    return [int(r[key]) for r in rows]


async def _build(app: Quart) -> tuple[dict[str, Any], list[int]]:
    """The people, their follows, blocks and mutes, and the posts; returns accounts, post ids."""
    services = app.extensions["gapo"]
    for name in NAMES.values():
        response = await signup(app.test_client(), name)
        assert response.status_code in (302, 303), await response.get_data(as_text=True)
    acc = {role: await services.accounts.profile(name) for role, name in NAMES.items()}
    await services.accounts.update_profile(
        acc["author"]["id"], display_name="Alice", bio="", locked=True
    )
    acc["author"] = await services.accounts.profile("alice")
    rel, posts = services.relationship_writer, services.posts
    author, other = acc["author"], acc["other"]
    for role in ("follower", "muter", "other"):
        await rel.follow(acc[role], author)
        await rel.approve(author, acc[role])
    await rel.follow(acc["pending"], author)  # never approved
    for role in ("follower", "author", "blocker", "mentioned", "muter"):
        await rel.follow(acc[role], other)
        await rel.follow(acc[role], acc["suspended"])

    ids: list[int] = []

    async def write(who: Any, text: str, visibility: str, reply_to: int | None = None) -> int:
        post = await posts.create(who, text, visibility=visibility, in_reply_to_id=reply_to)
        ids.append(int(post["id"]))
        return int(post["id"])

    # Before the blocks: notifications that a block made later must silence.
    await write(author, f"early word for @bea #{TAG}", "public")
    await write(other, f"early word for @mo #{TAG}", "public")
    await rel.block(author, acc["blocked"])
    await rel.block(acc["blocker"], author)
    await services.mutes.mute(acc["muter"], other)

    top: dict[tuple[str, str, bool], int] = {}
    for role, who in (("author", author), ("other", other), ("suspended", acc["suspended"])):
        for visibility in VISIBILITIES:
            for mention in (False, True):
                text = f"{'hello @mia' if mention else 'plain'} #{TAG}"
                top[(role, visibility, mention)] = await write(who, text, visibility)
    parent = top[("author", "public", False)]
    for who in (author, other, acc["suspended"]):
        for visibility in VISIBILITIES:
            for mention in (False, True):
                await write(who, "re @mia" if mention else "re", visibility, parent)
    # Public replies to posts most viewers may not see.
    await write(other, f"answer #{TAG}", "public", top[("author", "followers", False)])
    await write(acc["mentioned"], "answer", "public", top[("author", "direct", True)])
    await write(author, "to myself", "unlisted", top[("author", "direct", False)])
    # A deleted post, and a deleted reply under the parent.
    gone = await write(author, f"soon gone @mia #{TAG}", "public")
    await posts.delete(author, gone)
    gone_reply = await write(other, "gone reply", "public", parent)
    await posts.delete(other, gone_reply)
    # Shares (only public and unlisted posts can be shared) and likes that notify.
    for who, post_id in (
        (other, top[("author", "public", False)]),
        (other, top[("author", "unlisted", True)]),
        (acc["follower"], top[("other", "public", False)]),
        (author, top[("other", "unlisted", False)]),
        (acc["muter"], top[("author", "public", True)]),
        (acc["follower"], top[("suspended", "public", False)]),
        (acc["suspended"], top[("author", "public", False)]),
    ):
        await posts.react(who, post_id, "shares")
    for role in ("follower", "mentioned", "other"):
        await posts.react(acc[role], top[("author", "followers", True)], "likes")
    await posts.react(acc["suspended"], top[("author", "public", True)], "likes")
    # Suspended last: everything above was written while the account could still act.
    await services.accounts.suspend("sue")
    return acc, ids


async def _hidden_by_block_or_mute(db: Any, viewer: int | None, other: int) -> bool:
    if viewer is None:
        return False
    return bool(
        await blocks_q.either_blocks(db, viewer, other) or await mutes_q.exists(db, viewer, other)
    )


async def _observe(data_dir: Path) -> Observed:
    settings = make_settings(data_dir)
    await migrate(settings.database_url, sqlite_file(settings.database_url))
    observed = Observed()
    async with create_app(settings).test_app() as test_app:
        app: Quart = test_app.app  # type: ignore[attr-defined]
        acc, ids = await _build(app)
        db = app.extensions["gapo"].db
        rows = [await posts_q.get(db, post_id) for post_id in ids]
        newest_first = sorted(rows, key=lambda r: -int(r["id"]))
        observed.total = len(rows)
        tag = await hashtags_q.get_by_key(db, TAG)
        assert tag is not None

        for viewer in VIEWERS:
            me = None if viewer == "anonymous" else int(acc[viewer]["id"])
            seen = {int(r["id"]) for r in rows if await can_see(db, me, r)}
            observed.visible[viewer] = len(seen)
            muted = {
                int(r["account_id"])
                for r in rows
                if me is not None and await mutes_q.exists(db, me, r["account_id"])
            }

            def cell(surface: str, got: Any, want: Any, viewer: str = viewer) -> None:
                observed.cells[(surface, viewer)] = (got, want)

            # Reply counts: every post, counted over its direct replies the viewer may see.
            counts = await posts_q.visible_reply_counts(db, me, ids)
            want_counts: dict[int, int] = {}
            for r in rows:
                parent_id = r["in_reply_to_id"]
                if parent_id is not None and int(r["id"]) in seen:
                    want_counts[int(parent_id)] = want_counts.get(int(parent_id), 0) + 1
            cell("reply_counts", counts, want_counts)

            # Timelines: public top-level posts.
            for surface, local_only in (("local_timeline", True), ("federated_timeline", False)):
                got = await feeds_q.public(
                    db, local_only=local_only, limit=LIMIT, max_id=None, viewer_id=me
                )
                want = [
                    int(r["id"])
                    for r in newest_first
                    if int(r["id"]) in seen
                    and r["visibility"] == "public"
                    and r["in_reply_to_id"] is None
                    and (r["local"] or not local_only)
                    and int(r["account_id"]) not in muted
                ]
                cell(surface, _ids(got), want)

            # Hashtag page.
            got = await hashtags_q.public_posts(db, tag["id"], limit=LIMIT, viewer_id=me)
            tagged = {int(r["post_id"]) for r in await _tagged(db, tag["id"])}
            want = [
                int(r["id"])
                for r in newest_first
                if int(r["id"]) in seen
                and int(r["id"]) in tagged
                and r["visibility"] == "public"
                and int(r["account_id"]) not in muted
            ]
            cell("tag", _ids(got), want)

            # Post search, for the tag's word (every tagged post holds it in its text).
            got = await search_q.posts(db, TAG, viewer_id=me, limit=LIMIT)
            want = [
                int(r["id"])
                for r in newest_first
                if int(r["id"]) in seen
                and int(r["id"]) in tagged
                and r["visibility"] == "public"
                and r["local"]
                and int(r["account_id"]) not in muted
            ]
            cell("search", _ids(got), want)

            # Profiles: alice's and dan's posts in the visibilities listed for this viewer.
            got_profile: dict[str, list[int]] = {}
            want_profile: dict[str, list[int]] = {}
            for role in ("author", "other"):
                owner = int(acc[role]["id"])
                follow = await follows_q.get_follow(db, me, owner) if me is not None else None
                listed = visibilities_for(
                    is_self=me == owner,
                    is_follower=follow is not None and follow["state"] == "accepted",
                )
                got = await posts_q.by_account(db, owner, visibilities=listed, limit=LIMIT)
                # What the SQL lets through and can_see then keeps: all the viewer may see.
                got_profile[role] = [i for i in _ids(got) if i in seen]
                want_profile[role] = [
                    int(r["id"])
                    for r in newest_first
                    if int(r["account_id"]) == owner
                    and int(r["id"]) in seen
                    and r["visibility"] in listed
                ]
                # And it never lets through a visibility it was not asked for.
                assert {r["visibility"] for r in got} <= set(listed)
            cell("profile", got_profile, want_profile)

            if me is None:
                continue
            followed = {
                int(r["id"])
                for r in rows
                if int(r["account_id"]) == me
                or (
                    (f := await follows_q.get_follow(db, me, r["account_id"])) is not None
                    and f["state"] == "accepted"
                )
            }

            # Home: own posts and those of accepted follows.
            got = await feeds_q.home(db, me, limit=LIMIT, max_id=None)
            want = [
                int(r["id"])
                for r in newest_first
                if int(r["id"]) in seen
                and int(r["id"]) in followed
                and int(r["account_id"]) not in muted
            ]
            cell("home", _ids(got), want)

            # Home shares: by the viewer and accepted follows.
            got = await feeds_q.home_shares(db, me, limit=LIMIT, max_id=None)
            shares = await db.fetch_all(
                "SELECT id, account_id, post_id FROM shares ORDER BY id DESC", {}
            )
            want_shares = []
            for share in shares:
                sharer = int(share["account_id"])
                post = await posts_q.get(db, share["post_id"])
                follows_sharer = sharer == me or (
                    (f := await follows_q.get_follow(db, me, sharer)) is not None
                    and f["state"] == "accepted"
                )
                if (
                    follows_sharer
                    and sharer != int(acc["suspended"]["id"])
                    and post is not None
                    and await can_see(db, me, post)
                    and not await _hidden_by_block_or_mute(db, me, sharer)
                    and int(post["account_id"]) not in muted
                ):
                    want_shares.append(int(share["id"]))
            cell("home_shares", _ids(got, "feed_id"), want_shares)

            # Notifications: the page read in SQL, then filtered by the one rule; the count.
            page = await app.extensions["gapo"].notifications.page(me)
            every = await db.fetch_all(
                "SELECT id, from_account_id, post_id FROM notifications"
                " WHERE account_id = :a ORDER BY id DESC",
                {"a": me},
            )
            want_notes = []
            for note in every:
                if await _hidden_by_block_or_mute(db, me, note["from_account_id"]):
                    continue
                if note["from_account_id"] == acc["suspended"]["id"]:
                    continue  # nothing from a suspended account
                post = await posts_q.get(db, note["post_id"]) if note["post_id"] else None
                if note["post_id"] is None or (post is not None and await can_see(db, me, post)):
                    want_notes.append(int(note["id"]))
            cell("notifications", [n.id for n in page.items], want_notes)
            unread = await notifications_q.count_unread(db, me, cap=LIMIT)
            cell("unread_count", unread, len(want_notes))
    return observed


async def _tagged(db: Any, hashtag_id: int) -> list[Any]:
    rows: list[Any] = await db.fetch_all(
        "SELECT post_id FROM post_hashtags WHERE hashtag_id = :h", {"h": hashtag_id}
    )
    return rows


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    yield asyncio.run(_observe(tmp_path_factory.mktemp("sqlrule") / "data"))


CASES = [
    pytest.param(surface, viewer, id=f"{surface}-{viewer}")
    for surface in SURFACES
    for viewer in VIEWERS
    if viewer != "anonymous"
    or surface
    in ("reply_counts", "local_timeline", "federated_timeline", "tag", "search", "profile")
]


@pytest.mark.parametrize(("surface", "viewer"), CASES)
def test_sql_path_matches_can_see(observed: Observed, surface: str, viewer: str) -> None:
    got, want = observed.cells[(surface, viewer)]
    assert got == want


def test_the_matrix_hides_something_from_everyone_but_the_author(observed: Observed) -> None:
    # Without this, every SQL path could return everything and still "agree".
    for viewer in VIEWERS:
        if viewer != "author":
            assert observed.visible[viewer] < observed.total - 1, viewer
    assert observed.visible["author"] < observed.total  # her deleted post
