"""Reading notifications: a page, the unread count, marking read.

Reading drops what the recipient may no longer see (`can_see`), so a deleted or
restricted post never shows up here. Writing lives in `instance/notifications/writer.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from instance.db import Database
from instance.db import notifications as notifications_q
from instance.db.connection import Row
from instance.ids import now
from instance.posts.visibility import visible_posts

PAGE = 30
# The navigation shows "99+" beyond this; counting further would only cost time.
UNREAD_CAP = 100


@dataclass(frozen=True)
class NotificationPage:
    items: list[Row]
    # Where the next page starts; None on the last one. Taken before filtering, so a page
    # whose rows were all hidden still leads on.
    next_max_id: int | None


class NotificationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(self, account_id: int, max_id: int | None = None) -> list[Row]:
        """One page, newest first, without notifications about posts the recipient can't see."""
        return (await self.page(account_id, max_id)).items

    async def page(self, account_id: int, max_id: int | None = None) -> NotificationPage:
        rows = await notifications_q.page(self.db, account_id, limit=PAGE, max_id=max_id)
        # A notification about a post shows only while the recipient may see that post.
        posts = [
            {
                "id": row["post_id"],
                "account_id": row["post_account_id"],
                "visibility": row["post_visibility"],
                "deleted_at": row["post_deleted_at"],
            }
            for row in rows
            if row["post_id"] is not None and row["post_account_id"] is not None
        ]
        seen = {int(p["id"]) for p in await visible_posts(self.db, account_id, posts)}
        visible = [row for row in rows if row["post_id"] is None or row["post_id"] in seen]
        return NotificationPage(visible, rows[-1]["id"] if len(rows) == PAGE else None)

    async def unread_count(self, account_id: int) -> int:
        """One indexed COUNT, capped at UNREAD_CAP."""
        return await notifications_q.count_unread(self.db, account_id, cap=UNREAD_CAP)

    async def mark_all_read(self, account_id: int, up_to_id: int | None = None) -> int:
        """Mark read, up to the newest one shown when given (later arrivals stay unread)."""
        return await notifications_q.mark_read(self.db, account_id, up_to_id=up_to_id, now=now())
