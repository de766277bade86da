"""Queries on `account_moves`: the aliases an account names and where it moved."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.rows import AccountMoveRow

COLUMNS = "account_id, also_known_as_json, moved_to_ap_id, moved_at, updated_at"


async def get(ex: Executor, account_id: int) -> AccountMoveRow | None:
    return await ex.fetch_one(
        f"SELECT {COLUMNS} FROM account_moves WHERE account_id = :a", {"a": account_id}
    )


async def set_aliases(ex: Executor, account_id: int, aliases_json: str, now: int) -> None:
    await ex.execute(
        "INSERT INTO account_moves (account_id, also_known_as_json, updated_at)"
        " VALUES (:a, :j, :now) ON CONFLICT (account_id)"
        " DO UPDATE SET also_known_as_json = :j, updated_at = :now",
        {"a": account_id, "j": aliases_json, "now": now},
    )


async def set_moved(ex: Executor, account_id: int, moved_to_ap_id: str, now: int) -> None:
    await ex.execute(
        "INSERT INTO account_moves (account_id, moved_to_ap_id, moved_at, updated_at)"
        " VALUES (:a, :to, :now, :now) ON CONFLICT (account_id)"
        " DO UPDATE SET moved_to_ap_id = :to, moved_at = :now, updated_at = :now",
        {"a": account_id, "to": moved_to_ap_id, "now": now},
    )


async def clear_moved(ex: Executor, account_id: int, now: int) -> None:
    """A cancelled move: `movedTo` goes, `moved_at` stays (the cool-down still counts)."""
    await ex.execute(
        "UPDATE account_moves SET moved_to_ap_id = NULL, updated_at = :now WHERE account_id = :a",
        {"a": account_id, "now": now},
    )


async def local_followers(
    ex: Executor, account_id: int, after_follow_id: int, limit: int
) -> list[tuple[int, int]]:
    """(follow id, follower id) of local accounts following (or asking to follow)
    `account_id`, by follow id after `after_follow_id`: the cursor of a migration."""
    rows = await ex.fetch_all(
        "SELECT f.id AS follow_id, f.follower_id FROM follows f"
        " JOIN accounts a ON a.id = f.follower_id"
        " WHERE f.followee_id = :a AND a.local = 1 AND f.id > :after ORDER BY f.id LIMIT :limit",
        {"a": account_id, "after": after_follow_id, "limit": limit},
    )
    return [(int(r["follow_id"]), int(r["follower_id"])) for r in rows]


async def local_blockers_and_muters(ex: Executor, account_id: int) -> list[tuple[int, str]]:
    """(local account id, "block" or "mute") of everyone here who blocks or mutes the account:
    a move carries these over to the new account, as Mastodon's does."""
    rows = await ex.fetch_all(
        "SELECT b.account_id AS id, 'block' AS kind FROM blocks b"
        " JOIN accounts a ON a.id = b.account_id WHERE b.target_id = :a AND a.local = 1"
        " UNION ALL SELECT m.account_id AS id, 'mute' AS kind FROM mutes m"
        " JOIN accounts a ON a.id = m.account_id WHERE m.target_id = :a AND a.local = 1",
        {"a": account_id},
    )
    return [(int(r["id"]), str(r["kind"])) for r in rows]
