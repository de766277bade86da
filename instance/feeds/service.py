"""The home feed and the public timelines; reply counts as the viewer may see them."""

from __future__ import annotations

from instance.db import Database
from instance.db import feeds as feeds_q
from instance.db.connection import Row
from instance.posts.reply_counts import with_visible_reply_counts
from instance.posts.visibility import can_see

PAGE = 20


class FeedService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def home(self, account_id: int, *, max_id: int | None = None) -> list[Row]:
        """Own and followed posts merged with shares by the same accounts, newest first.

        Every row has `feed_id` (the post's id, or the share's for a share) to page by;
        both come from one time-sorted id generator, so one `max_id` pages both lists.
        A post already on the page (as itself or shared earlier) is not repeated.
        """
        # A little slack so that skipped repeats rarely leave a page short.
        fetch = PAGE + PAGE // 2
        posts = await feeds_q.home(self.db, account_id, limit=fetch, max_id=max_id)
        shares = await feeds_q.home_shares(self.db, account_id, limit=fetch, max_id=max_id)
        merged = sorted(
            [{**row, "feed_id": row["id"]} for row in posts] + shares,
            key=lambda row: int(row["feed_id"]),
            reverse=True,
        )
        page: list[Row] = []
        seen: set[int] = set()
        for row in merged:
            if row["id"] in seen:
                continue
            # The query mirrors can_see for shares; this keeps the one rule authoritative.
            if row.get("shared_by_id") is not None and not await can_see(self.db, account_id, row):
                continue
            seen.add(row["id"])
            page.append(row)
            if len(page) == PAGE:
                break
        return await with_visible_reply_counts(self.db, account_id, page)

    async def local(self, *, max_id: int | None = None, viewer_id: int | None = None) -> list[Row]:
        rows = await feeds_q.public(
            self.db, local_only=True, limit=PAGE, max_id=max_id, viewer_id=viewer_id
        )
        return await with_visible_reply_counts(self.db, viewer_id, rows)

    async def federated(
        self, *, max_id: int | None = None, viewer_id: int | None = None
    ) -> list[Row]:
        rows = await feeds_q.public(
            self.db, local_only=False, limit=PAGE, max_id=max_id, viewer_id=viewer_id
        )
        return await with_visible_reply_counts(self.db, viewer_id, rows)
