"""Timeline queries: read-time selection on indexed columns, no fan-out tables."""

from __future__ import annotations

from instance.db.connection import Row
from instance.db.executor import Executor
from instance.db.posts import WITH_AUTHOR


async def home(ex: Executor, account_id: int, *, limit: int, max_id: int | None) -> list[Row]:
    """Own posts and posts of accepted follows that the account may see, newest first."""
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE p.deleted_at IS NULL AND (p.account_id = :me OR p.account_id IN"
        " (SELECT followee_id FROM follows WHERE follower_id = :me AND state = 'accepted'))"
        " AND (p.visibility IN ('public', 'unlisted', 'followers') OR p.account_id = :me"
        " OR EXISTS (SELECT 1 FROM post_recipients r WHERE r.post_id = p.id"
        " AND r.account_id = :me))"
        " AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = :me AND"
        " b.target_id = p.account_id) OR (b.account_id = p.account_id AND b.target_id = :me))"
        " AND (:max_id IS NULL OR p.id < :max_id) ORDER BY p.id DESC LIMIT :limit",
        {"me": account_id, "limit": limit, "max_id": max_id},
    )


async def public(ex: Executor, *, local_only: bool, limit: int, max_id: int | None) -> list[Row]:
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE p.deleted_at IS NULL AND p.visibility = 'public'"
        " AND (:local_only = 0 OR p.local = 1) AND p.in_reply_to_id IS NULL"
        " AND (:max_id IS NULL OR p.id < :max_id) ORDER BY p.id DESC LIMIT :limit",
        {"local_only": 1 if local_only else 0, "limit": limit, "max_id": max_id},
    )
