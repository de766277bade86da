"""Queries on `accounts`: local and remote actors in one table."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from instance.db import search_index
from instance.db.executor import Executor
from instance.db.rows import AccountRow

ACCOUNT_COLUMNS = (
    "id, local, username, username_key, domain, display_name, note_source, note_html, "
    "fields_json, locked, bot, discoverable, indexable, avatar_url, header_url, suspended_at, deleted_at, "
    "silenced_at, sensitive_forced, created_at, updated_at, ap_id, ap_type, ap_url, ap_inbox, ap_shared_inbox, ap_outbox, ap_followers, "
    "ap_following, ap_featured, ap_json, ap_fetched_at"
)


async def insert_account(ex: Executor, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{k}" for k in values)
    await ex.execute(f"INSERT INTO accounts ({columns}) VALUES ({placeholders})", values)
    # Every account write goes through here or `update_profile`: the name index follows.
    await search_index.index_new_account(ex, values)


async def get_by_id(ex: Executor, account_id: int) -> AccountRow | None:
    return await ex.fetch_one(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = :id", {"id": account_id}
    )


async def get_local_by_username(ex: Executor, username: str) -> AccountRow | None:
    return await ex.fetch_one(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username_key = :u AND domain = ''",
        {"u": username.lower()},
    )


async def get_by_username_domain(ex: Executor, username: str, domain: str) -> AccountRow | None:
    return await ex.fetch_one(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username_key = :u AND domain = :d",
        {"u": username.lower(), "d": domain.lower()},
    )


async def get_by_ap_id(ex: Executor, ap_id: str) -> AccountRow | None:
    return await ex.fetch_one(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE ap_id = :ap_id", {"ap_id": ap_id}
    )


async def username_taken(ex: Executor, username: str) -> bool:
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM accounts WHERE username_key = :u AND domain = ''",
        {"u": username.lower()},
    )
    return row is not None


async def update_profile(ex: Executor, account_id: int, values: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    await ex.execute(
        f"UPDATE accounts SET {sets} WHERE id = :account_id", {**values, "account_id": account_id}
    )
    if {"display_name", "username", "domain"} & set(values):
        await search_index.index_account(ex, account_id)


async def set_suspended(ex: Executor, account_id: int, at: int | None) -> None:
    await ex.execute(
        "UPDATE accounts SET suspended_at = :at WHERE id = :id", {"at": at, "id": account_id}
    )


async def count_local(ex: Executor) -> int:
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM accounts WHERE local = 1 AND ap_type = 'Person'"
        )
    )


async def suspended_among(ex: Executor, account_ids: Collection[int]) -> set[int]:
    """Which of these accounts are suspended (one read for a page of posts' authors)."""
    ids = sorted(set(account_ids))
    if not ids:
        return set()
    names = ", ".join(f":a{i}" for i in range(len(ids)))
    params = {f"a{i}": account_id for i, account_id in enumerate(ids)}
    rows = await ex.fetch_all(
        f"SELECT id FROM accounts WHERE id IN ({names}) AND suspended_at IS NOT NULL", params
    )
    return {int(r["id"]) for r in rows}


async def set_moderation(ex: Executor, account_id: int, values: dict[str, Any]) -> None:
    """Writes moderation columns (`suspended_at`, `silenced_at`, `sensitive_forced`)."""
    allowed = {"suspended_at", "silenced_at", "sensitive_forced"}
    if not values or set(values) - allowed:
        raise ValueError(f"not moderation columns: {sorted(set(values) - allowed)}")
    sets = ", ".join(f"{k} = :{k}" for k in values)
    await ex.execute(f"UPDATE accounts SET {sets} WHERE id = :id", {**values, "id": account_id})
