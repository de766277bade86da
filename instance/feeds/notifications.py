"""Reading notifications: a page, the unread count, marking read.

Reading drops what the recipient may no longer see (`can_see`), so a deleted or
restricted post never shows up here. Writing lives in `instance/notifications/writer.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from instance.accounts.views import AccountView
from instance.db import Database, request_version
from instance.db import notifications as notifications_q
from instance.db.connection import Row
from instance.db.read_cache import VersionedCache
from instance.feeds.notification_groups import NotificationGroup, group_notifications
from instance.ids import now
from instance.posts.visibility import visible_posts

PAGE = 30
# The filters of the notifications page; None is everything. Replies mention their
# addressee, so "mentions" holds both (as Mastodon's mentions tab does).
FILTERS: dict[str, tuple[str, ...] | None] = {"all": None, "mentions": ("mention", "reply")}
# The navigation shows "99+" beyond this; counting further would only cost time.
UNREAD_CAP = 100


@dataclass(frozen=True)
class NotifiedPost:
    """What a notification shows of its post: a link and an excerpt."""

    id: int
    summary: str
    content_html: str


@dataclass(frozen=True)
class NotificationView:
    """One notification as its recipient sees it."""

    id: int
    kind: str  # follow, follow_request, mention, reply, like, share
    account: AccountView  # who did it
    post: NotifiedPost | None
    created_at: int
    read_at: int | None

    @classmethod
    def of_row(cls, row: Row) -> NotificationView:
        """From a row of `db.notifications.page`."""
        post = None
        if row["post_id"] is not None:
            post = NotifiedPost(
                id=int(row["post_id"]),
                summary=str(row["post_summary"] or ""),
                content_html=str(row["post_content_html"] or ""),
            )
        account = AccountView(
            id=int(row["from_account_id"]),
            username=str(row["username"]),
            domain=row["domain"] or None,
            local=bool(row["from_local"]),
            display_name=str(row["display_name"] or ""),
            avatar_url=row.get("avatar_url") or None,
            ap_id=None,
            url=None,
        )
        return cls(
            id=int(row["id"]),
            kind=str(row["kind"]),
            account=account,
            post=post,
            created_at=int(row["created_at"]),
            read_at=None if row["read_at"] is None else int(row["read_at"]),
        )


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationView]
    # Where the next page starts; None on the last one. Taken before filtering, so a page
    # whose rows were all hidden still leads on.
    next_max_id: int | None

    @property
    def groups(self) -> list[NotificationGroup]:
        """The page's notifications grouped per kind and post (notification_groups.py)."""
        return group_notifications(self.items)


# Unread counts kept per worker while the database is unchanged (db/read_cache.py).
UNREAD_COUNTS_KEPT = 1024


class NotificationService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.unread_counts: VersionedCache[int, int] = VersionedCache(UNREAD_COUNTS_KEPT)

    async def list(self, account_id: int, max_id: int | None = None) -> list[NotificationView]:
        """One page, newest first, without notifications about posts the recipient can't see."""
        return (await self.page(account_id, max_id)).items

    async def page(
        self, account_id: int, max_id: int | None = None, *, only: str = "all"
    ) -> NotificationPage:
        """`only` names one of FILTERS; an unknown name shows everything."""
        rows = await notifications_q.page(
            self.db, account_id, limit=PAGE, max_id=max_id, kinds=FILTERS.get(only)
        )
        # A notification about a post shows only while the recipient may see that post.
        posts: list[Row] = [
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
        visible = [
            NotificationView.of_row(row)
            for row in rows
            if row["post_id"] is None or row["post_id"] in seen
        ]
        return NotificationPage(visible, rows[-1]["id"] if len(rows) == PAGE else None)

    async def read_page(
        self, account_id: int, max_id: int | None = None, *, only: str = "all"
    ) -> NotificationPage:
        """The notifications page: `page`, then marked read up to the newest one shown, so
        whatever arrives while the page renders stays unread (and, filtered, only what the
        filter shows: likes stay unread on the mentions tab)."""
        page = await self.page(account_id, max_id, only=only)
        if page.items:
            await notifications_q.mark_read(
                self.db,
                account_id,
                up_to_id=max(n.id for n in page.items),
                now=now(),
                kinds=FILTERS.get(only),
            )
        return page

    async def unread_count(self, account_id: int) -> int:
        """One indexed COUNT, capped at UNREAD_CAP; or the count read earlier while nothing
        has been written since (a new notification or a read mark moves the version)."""
        version = await request_version.version(self.db)
        count = self.unread_counts.get(account_id, version)
        if count is None:
            count = await notifications_q.count_unread(self.db, account_id, cap=UNREAD_CAP)
            self.unread_counts.put(account_id, version, count)
        return count

    async def mark_all_read(self, account_id: int, up_to_id: int | None = None) -> int:
        """Mark read, up to the newest one shown when given (later arrivals stay unread)."""
        return await notifications_q.mark_read(self.db, account_id, up_to_id=up_to_id, now=now())
