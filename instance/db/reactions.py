"""Queries on `likes` and `shares` (Announce)."""

from __future__ import annotations

from typing import Any

from instance.db.accounts import ACCOUNT_COLUMNS
from instance.db.executor import Executor
from instance.db.rows import OwnReactionRow, ReactionRow, ReactorRow

TABLES = ("likes", "shares")
ACCOUNT_PREFIXED = ", ".join(f"a.{c.strip()}" for c in ACCOUNT_COLUMNS.split(","))


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
    """Record a like or share; False when it already existed (so counts move once).

    The constraint decides, not a read before the insert: on PostgreSQL two processes may
    add the same like at once, and the second waits for the first and then inserts nothing.
    """
    table = _table(kind)
    inserted = await ex.execute(
        f"INSERT INTO {table} (id, account_id, post_id, ap_id, created_at)"
        " VALUES (:id, :a, :p, :ap, :now) ON CONFLICT (account_id, post_id) DO NOTHING",
        {"id": row_id, "a": account_id, "p": post_id, "ap": ap_id, "now": now},
    )
    return inserted == 1


async def get(ex: Executor, kind: str, account_id: int, post_id: int) -> ReactionRow | None:
    return await ex.fetch_one(
        f"SELECT id, account_id, post_id, ap_id, created_at FROM {_table(kind)}"
        " WHERE account_id = :a AND post_id = :p",
        {"a": account_id, "p": post_id},
    )


async def get_by_ap_id(ex: Executor, kind: str, ap_id: str) -> ReactionRow | None:
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


async def of_account(ex: Executor, account_id: int, post_ids: list[int]) -> list[OwnReactionRow]:
    """Which of these posts the account liked or shared: rows of (kind, post_id), one query.

    Both tables are read on their UNIQUE (account_id, post_id) index.
    """
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return []
    names = ", ".join(f":p{i}" for i in range(len(ids)))
    params: dict[str, Any] = {f"p{i}": post_id for i, post_id in enumerate(ids)}
    params["a"] = account_id
    return await ex.fetch_all(
        f"SELECT 'likes' AS kind, post_id FROM likes WHERE account_id = :a AND post_id IN ({names})"
        " UNION ALL SELECT 'shares' AS kind, post_id FROM shares"
        f" WHERE account_id = :a AND post_id IN ({names})",
        params,
    )


async def accounts_of(
    ex: Executor,
    kind: str,
    post_id: int,
    *,
    viewer_id: int | None,
    limit: int,
    max_id: int | None = None,
) -> list[ReactorRow]:
    """Accounts that liked or shared the post, newest first, paged by the reaction's id.

    Each row is the account's columns plus `reaction_id`. Suspended accounts are left out,
    and so is anyone on either side of a block with the viewer.
    """
    return await ex.fetch_all(
        f"SELECT {ACCOUNT_PREFIXED}, r.id AS reaction_id FROM {_table(kind)} r"
        " JOIN accounts a ON a.id = r.account_id WHERE r.post_id = :p"
        " AND a.suspended_at IS NULL AND (:max_id IS NULL OR r.id < :max_id)"
        " AND (:me IS NULL OR NOT EXISTS (SELECT 1 FROM blocks b"
        " WHERE (b.account_id = :me AND b.target_id = a.id)"
        " OR (b.account_id = a.id AND b.target_id = :me)))"
        " ORDER BY r.id DESC LIMIT :limit",
        {"p": post_id, "max_id": max_id, "me": viewer_id, "limit": limit},
    )
