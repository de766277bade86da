"""Queries on `invites`: codes that admit a sign-up in invite mode."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import InviteRow, UsedInviteRow


async def insert_invite(
    ex: Executor,
    *,
    invite_id: int,
    code: str,
    created_by: int | None,
    now: int,
    expires_at: int | None,
    max_uses: int,
) -> None:
    await ex.execute(
        "INSERT INTO invites (id, code, created_by, created_at, expires_at, max_uses, uses) "
        "VALUES (:id, :code, :by, :now, :exp, :max, 0)",
        {
            "id": invite_id,
            "code": code,
            "by": created_by,
            "now": now,
            "exp": expires_at,
            "max": max_uses,
        },
    )


async def use_invite(ex: Executor, code: str, now: int) -> UsedInviteRow | None:
    """Count one use of a valid code, atomically; None when the code cannot be used."""
    changed = await ex.execute(
        "UPDATE invites SET uses = uses + 1 WHERE code = :code AND uses < max_uses "
        "AND (expires_at IS NULL OR expires_at > :now)",
        {"code": code, "now": now},
    )
    if not changed:
        return None
    return await ex.fetch_one("SELECT id, code FROM invites WHERE code = :code", {"code": code})


async def list_recent(ex: Executor, *, limit: int) -> list[InviteRow]:
    return await ex.fetch_all(
        "SELECT id, code, created_by, created_at, expires_at, max_uses, uses FROM invites"
        " ORDER BY id DESC LIMIT :limit",
        {"limit": limit},
    )


async def expire(ex: Executor, invite_id: int, now: int) -> int:
    """Ends a code now (its uses so far stay counted)."""
    return await ex.execute(
        "UPDATE invites SET expires_at = :now WHERE id = :id AND (expires_at IS NULL"
        " OR expires_at > :now)",
        {"id": invite_id, "now": now},
    )
