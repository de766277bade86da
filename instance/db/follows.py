"""Queries on `follows`: who follows whom, pending or accepted."""

from __future__ import annotations

from typing import Any

from instance.db.accounts import ACCOUNT_COLUMNS
from instance.db.executor import Executor
from instance.db.rows import FollowedAccountRow, FollowRow, InboxesRow

PREFIXED = ", ".join(f"a.{c.strip()}" for c in ACCOUNT_COLUMNS.split(","))


async def upsert_follow(
    ex: Executor,
    *,
    follow_id: int,
    follower_id: int,
    followee_id: int,
    state: str,
    ap_id: str | None,
    now: int,
) -> FollowRow:
    """Create the follow, or refresh the Follow id of an existing one (a re-sent Follow).

    The unique pair decides which of two concurrent Follows (two processes) inserts; the
    other finds the row and refreshes it."""
    inserted = await ex.execute(
        "INSERT INTO follows (id, follower_id, followee_id, state, ap_id, created_at,"
        " accepted_at) VALUES (:id, :fr, :fe, :state, :ap_id, :now, :acc)"
        " ON CONFLICT (follower_id, followee_id) DO NOTHING",
        {
            "id": follow_id,
            "fr": follower_id,
            "fe": followee_id,
            "state": state,
            "ap_id": ap_id,
            "now": now,
            "acc": now if state == "accepted" else None,
        },
    )
    existing = None if inserted else await get_follow(ex, follower_id, followee_id)
    if existing is not None and ap_id and existing["ap_id"] != ap_id:
        await ex.execute(
            "UPDATE follows SET ap_id = :ap_id WHERE id = :id",
            {"ap_id": ap_id, "id": existing["id"]},
        )
    row = await get_follow(ex, follower_id, followee_id)
    assert row is not None
    return row


async def get_follow(ex: Executor, follower_id: int, followee_id: int) -> FollowRow | None:
    return await ex.fetch_one(
        "SELECT id, follower_id, followee_id, state, ap_id, created_at, accepted_at FROM follows"
        " WHERE follower_id = :fr AND followee_id = :fe",
        {"fr": follower_id, "fe": followee_id},
    )


async def accepted_among(ex: Executor, follower_id: int, followee_ids: set[int]) -> set[int]:
    """Which of these accounts the follower follows (accepted, not merely requested)."""
    if not followee_ids:
        return set()
    ids = sorted(followee_ids)
    names = ", ".join(f":f{i}" for i in range(len(ids)))
    params: dict[str, Any] = {f"f{i}": followee for i, followee in enumerate(ids)}
    params["me"] = follower_id
    rows = await ex.fetch_all(
        "SELECT followee_id FROM follows WHERE follower_id = :me AND state = 'accepted'"
        f" AND followee_id IN ({names})",
        params,
    )
    return {int(r["followee_id"]) for r in rows}


async def get_by_ap_id(ex: Executor, ap_id: str) -> FollowRow | None:
    return await ex.fetch_one(
        "SELECT id, follower_id, followee_id, state, ap_id, created_at, accepted_at FROM follows"
        " WHERE ap_id = :ap_id",
        {"ap_id": ap_id},
    )


async def accept(ex: Executor, follow_id: int, now: int) -> int:
    return await ex.execute(
        "UPDATE follows SET state = 'accepted', accepted_at = :now WHERE id = :id"
        " AND state = 'pending'",
        {"id": follow_id, "now": now},
    )


async def delete(ex: Executor, follower_id: int, followee_id: int) -> int:
    return await ex.execute(
        "DELETE FROM follows WHERE follower_id = :fr AND followee_id = :fe",
        {"fr": follower_id, "fe": followee_id},
    )


async def delete_all_of(ex: Executor, account_id: int) -> int:
    return await ex.execute(
        "DELETE FROM follows WHERE follower_id = :a OR followee_id = :a", {"a": account_id}
    )


# (the column holding the listed account, the column holding the account whose list it is)
_SIDES = {"followers": ("follower_id", "followee_id"), "following": ("followee_id", "follower_id")}


async def _list(
    ex: Executor, which: str, account_id: int, state: str, limit: int, max_id: int | None
) -> list[FollowedAccountRow]:
    listed, owner = _SIDES[which]
    return await ex.fetch_all(
        f"SELECT {PREFIXED}, f.id AS follow_id, f.ap_id AS follow_ap_id FROM follows f"
        f" JOIN accounts a ON a.id = f.{listed} WHERE f.{owner} = :aid AND f.state = :state"
        " AND (:max_id IS NULL OR f.id < :max_id) ORDER BY f.id DESC LIMIT :limit",
        {"aid": account_id, "state": state, "limit": limit, "max_id": max_id},
    )


async def list_followers(
    ex: Executor,
    account_id: int,
    *,
    state: str = "accepted",
    limit: int = 40,
    max_id: int | None = None,
) -> list[FollowedAccountRow]:
    """Follower accounts, newest follow first; `max_id` pages on the follow's id."""
    return await _list(ex, "followers", account_id, state, limit, max_id)


async def list_following(
    ex: Executor,
    account_id: int,
    *,
    state: str = "accepted",
    limit: int = 40,
    max_id: int | None = None,
) -> list[FollowedAccountRow]:
    """Followed accounts, newest follow first."""
    return await _list(ex, "following", account_id, state, limit, max_id)


async def count_followers(ex: Executor, account_id: int) -> int:
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM follows WHERE followee_id = :a AND state = 'accepted'",
            {"a": account_id},
        )
    )


async def count_following(ex: Executor, account_id: int) -> int:
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM follows WHERE follower_id = :a AND state = 'accepted'",
            {"a": account_id},
        )
    )


async def follower_inboxes(ex: Executor, account_id: int) -> list[InboxesRow]:
    """Inbox and shared inbox of every accepted remote follower (pending ones get nothing)."""
    return await ex.fetch_all(
        "SELECT a.ap_inbox, a.ap_shared_inbox FROM follows f JOIN accounts a"
        " ON a.id = f.follower_id WHERE f.followee_id = :a AND f.state = 'accepted'"
        " AND a.local = 0",
        {"a": account_id},
    )
