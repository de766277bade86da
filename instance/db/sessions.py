"""Queries on `sessions`: server-side login sessions keyed by a token's hash."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import SessionRow, SessionUserRow
from instance.db.users import USER_JOIN


async def insert_session(
    ex: Executor,
    *,
    session_id: int,
    token_hash: str,
    user_id: int,
    now: int,
    expires_at: int,
    device: str,
) -> None:
    await ex.execute(
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at,"
        " device) VALUES (:id, :th, :uid, :now, :now, :exp, :device)",
        {
            "id": session_id,
            "th": token_hash,
            "uid": user_id,
            "now": now,
            "exp": expires_at,
            "device": device,
        },
    )


# USER_JOIN's columns, and the session's end (a kept user is checked against it).
SESSION_USER_JOIN = USER_JOIN.replace(" FROM ", ", s.expires_at AS session_expires_at FROM ", 1)


async def get_user_for_token(ex: Executor, token_hash: str, now: int) -> SessionUserRow | None:
    """The user of a live session, and when that session expires."""
    return await ex.fetch_one(
        f"{SESSION_USER_JOIN} JOIN sessions s ON s.user_id = u.id "
        "WHERE s.token_hash = :th AND s.expires_at > :now",
        {"th": token_hash, "now": now},
    )


async def delete_by_token(ex: Executor, token_hash: str) -> None:
    await ex.execute("DELETE FROM sessions WHERE token_hash = :th", {"th": token_hash})


async def delete_for_user(ex: Executor, user_id: int, *, except_hash: str | None = None) -> int:
    """Ends every session of the user, but the one whose token hashes to `except_hash`."""
    return await ex.execute(
        "DELETE FROM sessions WHERE user_id = :uid AND token_hash <> :keep",
        {"uid": user_id, "keep": except_hash or ""},
    )


async def delete_one(ex: Executor, user_id: int, session_id: int) -> int:
    """Ends one session, only if it is the user's own: the id comes from a form."""
    return await ex.execute(
        "DELETE FROM sessions WHERE id = :id AND user_id = :uid",
        {"id": session_id, "uid": user_id},
    )


async def list_for_user(ex: Executor, user_id: int, now: int) -> list[SessionRow]:
    return await ex.fetch_all(
        "SELECT id, token_hash, device, created_at FROM sessions"
        " WHERE user_id = :uid AND expires_at > :now ORDER BY created_at DESC",
        {"uid": user_id, "now": now},
    )


async def delete_expired(ex: Executor, now: int) -> int:
    return await ex.execute("DELETE FROM sessions WHERE expires_at <= :now", {"now": now})


async def purge_expired(ex: Executor, now: int, limit: int) -> int:
    """Up to `limit` expired sessions (housekeeping deletes in batches)."""
    return await ex.execute(
        "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= :now"
        " LIMIT :limit)",
        {"now": now, "limit": limit},
    )
