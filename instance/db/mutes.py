"""Queries on `mutes`: whose posts and shares an account chose not to see."""

from __future__ import annotations

from instance.db.executor import Executor


async def add(ex: Executor, *, mute_id: int, account_id: int, target_id: int, now: int) -> None:
    await ex.execute(
        "INSERT INTO mutes (id, account_id, target_id, created_at) VALUES (:id, :a, :t, :now)"
        " ON CONFLICT (account_id, target_id) DO NOTHING",
        {"id": mute_id, "a": account_id, "t": target_id, "now": now},
    )


async def remove(ex: Executor, account_id: int, target_id: int) -> int:
    return await ex.execute(
        "DELETE FROM mutes WHERE account_id = :a AND target_id = :t",
        {"a": account_id, "t": target_id},
    )


async def exists(ex: Executor, account_id: int, target_id: int) -> bool:
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM mutes WHERE account_id = :a AND target_id = :t",
        {"a": account_id, "t": target_id},
    )
    return row is not None
