"""Counts for the admin dashboard (sign-ups, active people, posts, by UTC day) and the
operator's `/health` and `/metrics` (instance/admin/operations.py)."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import DayCountRow, JobCountRow

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


async def ping(ex: Executor) -> bool:
    """The cheapest read that goes through the database: `/health`'s question."""
    # A real table (a bare SELECT 1 would not notice a missing or unreadable schema).
    return int(await ex.fetch_value("SELECT COUNT(*) AS n FROM id_node_claims WHERE seq < 0")) == 0


async def pending_jobs_by_kind(ex: Executor) -> list[JobCountRow]:
    """Jobs waiting or running, per kind and state (the `jobs_due` index: no finished row read)."""
    return await ex.fetch_all(
        "SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')"
        " GROUP BY kind, state ORDER BY kind, state"
    )


async def jobs_of_kind_by_outcome(ex: Executor, kind: str) -> dict[str, int]:
    """Jobs of one kind still in the table (finished ones for `retain_jobs_days`), by
    outcome: done, dead (given up), retrying (queued after a failure), queued, running."""
    rows = await ex.fetch_all(
        "SELECT CASE WHEN state = 'queued' AND attempts > 0 THEN 'retrying' ELSE state END"
        " AS outcome, COUNT(*) AS n FROM jobs WHERE kind = :kind GROUP BY 1",
        {"kind": kind},
    )
    return {str(row["outcome"]): int(row["n"]) for row in rows}
