"""Queries for a person's export: the accounts they follow, block and mute, what they liked."""

from __future__ import annotations

from typing import Any

from instance.db.executor import Executor

_TARGETS = {
    "following": "SELECT a.username, a.domain FROM follows f JOIN accounts a"
    " ON a.id = f.followee_id WHERE f.follower_id = :a AND a.deleted_at IS NULL ORDER BY f.id",
    "blocks": "SELECT a.username, a.domain FROM blocks b JOIN accounts a"
    " ON a.id = b.target_id WHERE b.account_id = :a AND a.deleted_at IS NULL ORDER BY b.id",
    "mutes": "SELECT a.username, a.domain FROM mutes m JOIN accounts a"
    " ON a.id = m.target_id WHERE m.account_id = :a AND a.deleted_at IS NULL ORDER BY m.id",
}


async def targets(ex: Executor, kind: str, account_id: int) -> list[Any]:
    """(username, domain) of every account the person follows (or asked to), blocks or mutes."""
    return await ex.fetch_all(_TARGETS[kind], {"a": account_id})


async def liked_posts(ex: Executor, account_id: int) -> list[Any]:
    """What a liked post's id needs (`NoteDocuments.ap_id_of`), oldest like first."""
    return await ex.fetch_all(
        "SELECT p.id, p.local, p.ap_id, a.username FROM likes l JOIN posts p ON p.id = l.post_id"
        " JOIN accounts a ON a.id = p.account_id WHERE l.account_id = :a ORDER BY l.id",
        {"a": account_id},
    )


async def media_keys(ex: Executor, account_id: int) -> list[str]:
    rows = await ex.fetch_all(
        "SELECT file_key FROM media WHERE account_id = :a AND file_key IS NOT NULL ORDER BY id",
        {"a": account_id},
    )
    return [str(r["file_key"]) for r in rows]
