"""`can_see(viewer, post)`: the one rule for who may see a post, used on every surface.

Public and unlisted posts: everyone, except across a block. Followers-only: the
author and *accepted* followers (a pending request is not enough) plus those
mentioned. Direct: the author and those mentioned. A deleted post: nobody.
"""

from __future__ import annotations

from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.executor import Executor

OPEN_VISIBILITIES = ("public", "unlisted")


async def can_see(ex: Executor, viewer_account_id: int | None, post: Row) -> bool:
    if post["deleted_at"] is not None:
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


def visibilities_for(*, is_self: bool, is_follower: bool) -> tuple[str, ...]:
    """Which visibilities of an author's posts a viewer may list (direct ones checked apart)."""
    if is_self:
        return ("public", "unlisted", "followers", "direct")
    if is_follower:
        return ("public", "unlisted", "followers")
    return OPEN_VISIBILITIES
