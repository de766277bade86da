"""Queries on `blocks`: who blocked whom."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import BlockRow


async def add(
    ex: Executor, *, block_id: int, account_id: int, target_id: int, ap_id: str | None, now: int
) -> None:
    await ex.execute(
        "INSERT INTO blocks (id, account_id, target_id, ap_id, created_at)"
        " VALUES (:id, :a, :t, :ap, :now) ON CONFLICT (account_id, target_id) DO NOTHING",
        {"id": block_id, "a": account_id, "t": target_id, "ap": ap_id, "now": now},
    )


async def remove(ex: Executor, account_id: int, target_id: int) -> int:
    return await ex.execute(
        "DELETE FROM blocks WHERE account_id = :a AND target_id = :t",
        {"a": account_id, "t": target_id},
    )


async def either_blocks(ex: Executor, a: int, b: int) -> bool:
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM blocks WHERE (account_id = :a AND target_id = :b)"
        " OR (account_id = :b AND target_id = :a) LIMIT 1",
        {"a": a, "b": b},
    )
    return row is not None


async def get(ex: Executor, account_id: int, target_id: int) -> BlockRow | None:
    return await ex.fetch_one(
        "SELECT id, account_id, target_id, ap_id, created_at FROM blocks"
        " WHERE account_id = :a AND target_id = :t",
        {"a": account_id, "t": target_id},
    )


async def related_ids(ex: Executor, account_id: int) -> set[int]:
    """Accounts this one blocked or is blocked by: each is hidden from the other."""
    rows = await ex.fetch_all(
        "SELECT target_id AS other FROM blocks WHERE account_id = :a"
        " UNION SELECT account_id AS other FROM blocks WHERE target_id = :a",
        {"a": account_id},
    )
    return {int(r["other"]) for r in rows}
