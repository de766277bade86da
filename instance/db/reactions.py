"""Queries on `likes` and `shares` (Announce)."""

from __future__ import annotations

from instance.db.connection import Row
from instance.db.executor import Executor

TABLES = ("likes", "shares")


def _table(kind: str) -> str:
    if kind not in TABLES:
        raise ValueError(kind)
    return kind


async def add(
    ex: Executor,
    kind: str,
    *,
    row_id: int,
    account_id: int,
    post_id: int,
    ap_id: str | None,
    now: int,
) -> bool:
    """Record a like or share; False when it already existed (so counts move once)."""
    table = _table(kind)
    existing = await get(ex, kind, account_id, post_id)
    if existing is not None:
        return False
    await ex.execute(
        f"INSERT INTO {table} (id, account_id, post_id, ap_id, created_at)"
        " VALUES (:id, :a, :p, :ap, :now)",
        {"id": row_id, "a": account_id, "p": post_id, "ap": ap_id, "now": now},
    )
    return True


async def get(ex: Executor, kind: str, account_id: int, post_id: int) -> Row | None:
    return await ex.fetch_one(
        f"SELECT id, account_id, post_id, ap_id, created_at FROM {_table(kind)}"
        " WHERE account_id = :a AND post_id = :p",
        {"a": account_id, "p": post_id},
    )


async def get_by_ap_id(ex: Executor, kind: str, ap_id: str) -> Row | None:
    return await ex.fetch_one(
        f"SELECT id, account_id, post_id, ap_id, created_at FROM {_table(kind)} WHERE ap_id = :ap",
        {"ap": ap_id},
    )


async def remove(ex: Executor, kind: str, account_id: int, post_id: int) -> bool:
    changed = await ex.execute(
        f"DELETE FROM {_table(kind)} WHERE account_id = :a AND post_id = :p",
        {"a": account_id, "p": post_id},
    )
    return changed > 0
