"""`can_see(viewer, post)`: the one rule for who may see a post, used on every surface.

Public and unlisted posts: everyone, except across a block. Followers-only: the
author and *accepted* followers (a pending request is not enough) plus those
mentioned. Direct: the author and those mentioned. A deleted post: nobody; that it *was*
deleted (410 rather than 404) is told only to those who could have seen it
(`could_have_seen`), so a deleted private post is no proof that it existed. A post of a
suspended account (local, or remote and suspended here): nobody, not even its author, as
if it were deleted, until the suspension is lifted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.executor import Executor

OPEN_VISIBILITIES = ("public", "unlisted")
RowT = TypeVar("RowT", bound=Row)  # a post row of any shape that carries the post's columns


async def _author_suspended(ex: Executor, post: Row) -> bool:
    # Rows read with their author (db.posts.WITH_AUTHOR) carry the flag; others ask.
    if "author_suspended_at" in post:
        return post["author_suspended_at"] is not None
    return bool(await accounts_q.suspended_among(ex, [post["account_id"]]))


async def can_see(ex: Executor, viewer_account_id: int | None, post: Row) -> bool:
    if post["deleted_at"] is not None or await _author_suspended(ex, post):
        return False
    author = post["account_id"]
    if viewer_account_id is not None and viewer_account_id == author:
        return True
    if viewer_account_id is not None and await blocks_q.either_blocks(
        ex, viewer_account_id, author
    ):
        return False
    visibility = post["visibility"]
    if visibility in OPEN_VISIBILITIES:
        return True
    if viewer_account_id is None:
        return False
    if viewer_account_id in await posts_q.recipients(ex, post["id"]):
        return True
    if visibility == "followers":
        follow = await follows_q.get_follow(ex, viewer_account_id, author)
        return follow is not None and follow["state"] == "accepted"
    return False


async def could_have_seen(ex: Executor, viewer_account_id: int | None, post: Row) -> bool:
    """`can_see` as it stood before the post was deleted (its recipients are kept)."""
    return await can_see(ex, viewer_account_id, {**post, "deleted_at": None})


async def visible_posts(
    ex: Executor, viewer_account_id: int | None, posts: Sequence[RowT]
) -> list[RowT]:
    """The posts `can_see` allows, in order, in at most four queries for the whole list
    (three when the rows carry their author's suspension, as WITH_AUTHOR's do).

    The same rule as `can_see`, read in bulk: a page of twenty posts would otherwise cost
    a block look-up per post, plus a recipients and a follow look-up per private one.
    """
    unknown = {int(p["account_id"]) for p in posts if "author_suspended_at" not in p}
    suspended = await accounts_q.suspended_among(ex, unknown) if unknown else set()
    live = [
        p
        for p in posts
        if p["deleted_at"] is None
        and p.get("author_suspended_at") is None
        and p["account_id"] not in suspended
    ]
    if viewer_account_id is None:
        return [p for p in live if p["visibility"] in OPEN_VISIBILITIES]
    others = [p for p in live if p["account_id"] != viewer_account_id]
    blocked = await blocks_q.related_ids(ex, viewer_account_id) if others else set()
    closed = [
        p
        for p in others
        if p["account_id"] not in blocked and p["visibility"] not in OPEN_VISIBILITIES
    ]
    addressed = await posts_q.addressed_among(ex, viewer_account_id, [p["id"] for p in closed])
    followers_only = {
        int(p["account_id"])
        for p in closed
        if p["visibility"] == "followers" and p["id"] not in addressed
    }
    followed = await follows_q.accepted_among(ex, viewer_account_id, followers_only)

    def allowed(post: RowT) -> bool:
        author = post["account_id"]
        if author == viewer_account_id:
            return True
        if author in blocked:
            return False
        if post["visibility"] in OPEN_VISIBILITIES or post["id"] in addressed:
            return True
        return post["visibility"] == "followers" and author in followed

    return [p for p in live if allowed(p)]


def visibilities_for(*, is_self: bool, is_follower: bool) -> tuple[str, ...]:
    """Which visibilities of an author's posts a viewer may list (direct ones checked apart)."""
    if is_self:
        return ("public", "unlisted", "followers", "direct")
    if is_follower:
        return ("public", "unlisted", "followers")
    return OPEN_VISIBILITIES
