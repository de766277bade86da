"""Queries on `inbox_activities`: every accepted inbound activity, stored once by id."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from instance.db.connection import Database, Transaction
from instance.db.executor import Executor
from instance.db.rows import InboxActivityRow

INSERT_ONCE = (
    "INSERT INTO inbox_activities (id, ap_id, ap_type, actor_ap_id, key_id, body,"
    " received_at) VALUES (:id, :ap_id, :t, :actor, :kid, :body, :now)"
    " ON CONFLICT (ap_id) DO NOTHING"
)
SELECT = (
    "SELECT id, ap_id, ap_type, actor_ap_id, key_id, body, received_at, processed_at, result"
    " FROM inbox_activities"
)
MARK_PROCESSED = "UPDATE inbox_activities SET processed_at = :now, result = :r WHERE id = :id"
# What a record keeps of its handler's result.
RESULT_CHARS = 500


@dataclass(frozen=True)
class Received:
    """An accepted activity as `inbox_activities` stores it."""

    row_id: int
    ap_id: str
    ap_type: str
    actor_ap_id: str
    key_id: str | None
    body: str
    now: int

    def params(self) -> dict[str, Any]:
        return {
            "id": self.row_id,
            "ap_id": self.ap_id,
            "t": self.ap_type,
            "actor": self.actor_ap_id,
            "kid": self.key_id,
            "body": self.body,
            "now": self.now,
        }


async def insert_once(ex: Executor, activity: Received) -> bool:
    """Store the activity; False when an activity with this id was already stored."""
    return await ex.execute(INSERT_ONCE, activity.params()) > 0


async def insert_once_with_job(
    db: Database,
    activity: Received,
    *,
    job: tuple[str, dict[str, Any]],
    after_commit: Callable[[], None] | None = None,
) -> bool:
    """Store the activity and, only if it was new, its job (`jobs.enqueue_statement` with
    `if_row_in=("inbox_activities", row_id)`), as one transaction that the database may
    carry together with other callers' (`Database.write_statements`). Returns once
    committed; False when an activity with this id was already stored."""
    statements = [(INSERT_ONCE, activity.params()), job]
    stored, _ = await db.write_statements(statements, after_commit=after_commit)
    return stored > 0


async def get(ex: Executor, row_id: int) -> InboxActivityRow | None:
    return await ex.fetch_one(f"{SELECT} WHERE id = :id", {"id": row_id})


async def get_many(ex: Executor, row_ids: Collection[int]) -> list[InboxActivityRow]:
    """Several records in one read (the inbox lane's claimed batch)."""
    ids = sorted(set(row_ids))
    if not ids:
        return []
    params = {f"r{i}": row_id for i, row_id in enumerate(ids)}
    names = ", ".join(f":r{i}" for i in range(len(ids)))
    return await ex.fetch_all(f"{SELECT} WHERE id IN ({names})", params)


def _processed(row_id: int, result: str, now: int) -> dict[str, Any]:
    return {"id": row_id, "r": result[:RESULT_CHARS], "now": now}


async def mark_processed_many(
    tx: Transaction, results: Sequence[tuple[int, str]], now: int
) -> None:
    """Each record's result, in one trip (the inbox lane's batch of outcomes)."""
    if results:
        await tx.execute_batch(
            [(MARK_PROCESSED, _processed(row_id, result, now)) for row_id, result in results]
        )


async def mark_processed(ex: Executor, row_id: int, result: str, now: int) -> None:
    await ex.execute(MARK_PROCESSED, _processed(row_id, result, now))


async def count(ex: Executor) -> int:
    return int(await ex.fetch_value("SELECT COUNT(*) AS n FROM inbox_activities"))


async def purge_received_before(ex: Executor, before: int, below_id: int, limit: int) -> int:
    """Up to `limit` records received before `before`. Ids sort by time, so `below_id` (the
    first id of that second) keeps the search on the primary key instead of a table scan."""
    return await ex.execute(
        "DELETE FROM inbox_activities WHERE id IN (SELECT id FROM inbox_activities"
        " WHERE id < :below AND received_at < :before ORDER BY id LIMIT :limit)",
        {"before": before, "below": below_id, "limit": limit},
    )
