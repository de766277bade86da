"""Queries for moderation: the audit log and the admin's account lists."""

from __future__ import annotations

from typing import Any

from instance.db.executor import Executor
from instance.db.rows import AdminAccountRow, ModerationLogRow

ADMIN_ACCOUNT = (
    "SELECT a.id, a.local, a.username, a.domain, a.display_name, a.note_html, a.ap_type,"
    " a.suspended_at, a.silenced_at, a.deleted_at, a.sensitive_forced, a.created_at, a.ap_url,"
    " u.id AS user_id, u.role, u.approved, u.last_active_at"
    " FROM accounts a LEFT JOIN users u ON u.account_id = a.id"
)

FILTERS = {
    "all": "1 = 1",
    "local": "a.local = 1",
    "remote": "a.local = 0",
    "pending": "u.approved = 0",
    "suspended": "a.suspended_at IS NOT NULL",
    "silenced": "a.silenced_at IS NOT NULL",
}


async def search_accounts(
    ex: Executor, query: str, *, status: str, limit: int, max_id: int | None = None
) -> list[AdminAccountRow]:
    """People (not server actors) whose username, domain or name holds `query`, newest first.

    A plain LIKE, not the search index: moderators must find suspended and silenced
    accounts too, which the index's readers leave out.
    """
    where = FILTERS[status]
    like = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return await ex.fetch_all(
        f"{ADMIN_ACCOUNT} WHERE a.ap_type != 'Application' AND {where}"
        " AND (:q = '' OR a.username_key LIKE :like ESCAPE '\\' OR a.domain LIKE :like"
        " ESCAPE '\\' OR LOWER(a.display_name) LIKE :like ESCAPE '\\')"
        " AND (:max_id IS NULL OR a.id < :max_id) ORDER BY a.id DESC LIMIT :limit",
        {"q": query, "like": like, "limit": limit, "max_id": max_id},
    )


async def get_account(ex: Executor, account_id: int) -> AdminAccountRow | None:
    return await ex.fetch_one(f"{ADMIN_ACCOUNT} WHERE a.id = :id", {"id": account_id})


async def insert_log(ex: Executor, values: dict[str, Any]) -> None:
    await ex.execute(
        "INSERT INTO moderation_log (id, actor_account_id, actor_label, action,"
        " target_account_id, target_label, reason, created_at) VALUES (:id, :actor_account_id,"
        " :actor_label, :action, :target_account_id, :target_label, :reason, :created_at)",
        values,
    )


async def log_page(
    ex: Executor, *, limit: int, max_id: int | None = None, target_account_id: int | None = None
) -> list[ModerationLogRow]:
    return await ex.fetch_all(
        "SELECT id, actor_account_id, actor_label, action, target_account_id, target_label,"
        " reason, created_at FROM moderation_log"
        " WHERE (:t IS NULL OR target_account_id = :t) AND (:max_id IS NULL OR id < :max_id)"
        " ORDER BY id DESC LIMIT :limit",
        {"t": target_account_id, "max_id": max_id, "limit": limit},
    )
