"""Queries on `users`: the login side of a local account."""

from __future__ import annotations

from typing import Any

from instance.db.executor import Executor
from instance.db.rows import UserRow

USER_JOIN = (
    "SELECT u.id AS user_id, u.account_id, u.email, u.password_hash, u.role, u.locale, "
    "u.approved, u.created_at AS user_created_at, u.last_login_at, u.last_active_at, "
    "a.username, a.display_name, a.suspended_at, a.deleted_at, a.silenced_at "
    "FROM users u JOIN accounts a ON a.id = u.account_id"
)


async def insert_user(ex: Executor, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{k}" for k in values)
    await ex.execute(f"INSERT INTO users ({columns}) VALUES ({placeholders})", values)


async def username_taken(ex: Executor, username: str) -> bool:
    """Whether a local account (deleted ones too: their names stay reserved) has this name."""
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM accounts WHERE username_key = :u AND domain = ''",
        {"u": username.lower()},
    )
    return row is not None


async def get_by_username(ex: Executor, username: str) -> UserRow | None:
    return await ex.fetch_one(
        f"{USER_JOIN} WHERE a.username_key = :u AND a.domain = ''", {"u": username.lower()}
    )


async def get_by_id(ex: Executor, user_id: int) -> UserRow | None:
    return await ex.fetch_one(f"{USER_JOIN} WHERE u.id = :id", {"id": user_id})


async def list_all(ex: Executor) -> list[UserRow]:
    return await ex.fetch_all(f"{USER_JOIN} ORDER BY u.id")


async def set_fields(ex: Executor, user_id: int, values: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    await ex.execute(f"UPDATE users SET {sets} WHERE id = :user_id", {**values, "user_id": user_id})


async def count_active_since(ex: Executor, since: int) -> int:
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM users WHERE last_active_at >= :since", {"since": since}
        )
    )


async def admin_exists(ex: Executor) -> bool:
    row = await ex.fetch_one("SELECT 1 AS one FROM users WHERE role = 'admin' LIMIT 1")
    return row is not None
