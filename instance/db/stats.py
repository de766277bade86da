"""Counts for the admin dashboard: sign-ups, active people, posts, by UTC day."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import DayCountRow

DAY = 86400


async def signups_by_day(ex: Executor, since: int) -> list[DayCountRow]:
    return await ex.fetch_all(
        "SELECT created_at / 86400 AS day, COUNT(*) AS n FROM users WHERE created_at >= :since"
        " GROUP BY created_at / 86400 ORDER BY day",
        {"since": since},
    )


async def posts_by_day(ex: Executor, since_id: int, *, local: bool) -> list[DayCountRow]:
    """Posts written since the id `since_id` (ids sort by time: a range of the primary key)."""
    return await ex.fetch_all(
        "SELECT created_at / 86400 AS day, COUNT(*) AS n FROM posts"
        " WHERE id >= :since_id AND local = :local AND deleted_at IS NULL"
        " GROUP BY created_at / 86400 ORDER BY day",
        {"since_id": since_id, "local": 1 if local else 0},
    )


async def active_since(ex: Executor, since: int) -> int:
    """Local people seen since `since` (users.last_active_at: the last time only)."""
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM users WHERE last_active_at >= :since", {"since": since}
        )
    )


async def totals(ex: Executor) -> dict[str, int]:
    row = await ex.fetch_one(
        "SELECT (SELECT COUNT(*) FROM users) AS users,"
        " (SELECT COUNT(*) FROM users WHERE approved = 0) AS pending,"
        " (SELECT COUNT(*) FROM accounts WHERE local = 0) AS remote_accounts,"
        " (SELECT COUNT(*) FROM reports WHERE resolved_at IS NULL) AS open_reports"
    )
    return {k: int(v) for k, v in dict(row).items()}
