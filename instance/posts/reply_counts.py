"""Reply counts as a viewer may see them.

`posts.replies_count` counts every reply, followers-only and direct ones too: shown as
stored, "Replies: 4" above two visible replies tells a stranger that two more exist.
Listings therefore show the number of direct replies the viewer may see, read in one
grouped query per page (on the `posts_reply` index) that mirrors `can_see` in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, cast

from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.executor import Executor

RowT = TypeVar("RowT", bound=Row)


async def with_visible_reply_counts(
    ex: Executor, viewer_account_id: int | None, posts: Sequence[RowT]
) -> list[RowT]:
    """The rows with `replies_count` replaced by the count the viewer may see."""
    # A post nobody has answered needs no look-up: zero hides nothing.
    asked = [int(p["id"]) for p in posts if p["replies_count"]]
    counts = await posts_q.visible_reply_counts(ex, viewer_account_id, asked)
    return [
        cast(RowT, {**p, "replies_count": counts.get(int(p["id"]), 0)}) if p["replies_count"] else p
        for p in posts
    ]
