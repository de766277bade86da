"""Accounts to suggest to a new person: local people who post, and people who just joined.

Never the person themself, anyone they follow or asked to follow, anyone in a block with
them or whom they muted, a suspended or not yet approved account, a server actor, or
someone who asked not to be suggested (`discoverable` off).
"""

from __future__ import annotations

from instance.db.accounts import ACCOUNT_COLUMNS
from instance.db.executor import Executor
from instance.db.feeds import hidden_from
from instance.db.rows import AccountRow

# The account columns read through the alias `a`.
_COLUMNS = ", ".join(f"a.{c.strip()}" for c in ACCOUNT_COLUMNS.split(","))

_SUGGESTIBLE = (
    "a.local = 1 AND a.ap_type = 'Person' AND a.suspended_at IS NULL AND a.discoverable = 1"
    " AND a.id != :me"
    " AND EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved = 1)"
    " AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = :me"
    " AND f.followee_id = a.id)"
    f" AND NOT {hidden_from('a.id')}"
)


async def most_active(
    ex: Executor, account_id: int, *, since_id: int, limit: int
) -> list[AccountRow]:
    """Local people with the most public posts from `since_id` on, most first (ids sort by
    time, so the range is read from the `posts_public` index)."""
    return await ex.fetch_all(
        f"SELECT {_COLUMNS} FROM accounts a JOIN (SELECT p.account_id, COUNT(*) AS n"
        " FROM posts p WHERE p.local = 1 AND p.visibility = 'public'"
        " AND p.deleted_at IS NULL AND p.id >= :since GROUP BY p.account_id) recent"
        f" ON recent.account_id = a.id WHERE {_SUGGESTIBLE}"
        " ORDER BY recent.n DESC, a.id DESC LIMIT :limit",
        {"me": account_id, "since": since_id, "limit": limit},
    )


async def recently_joined(ex: Executor, account_id: int, *, limit: int) -> list[AccountRow]:
    """Local people who signed up last, newest first."""
    return await ex.fetch_all(
        f"SELECT {_COLUMNS} FROM accounts a WHERE {_SUGGESTIBLE}"
        " ORDER BY a.created_at DESC, a.id DESC LIMIT :limit",
        {"me": account_id, "limit": limit},
    )


async def follows_anyone(ex: Executor, account_id: int) -> bool:
    """Whether the account follows, or asked to follow, at least one account."""
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM follows WHERE follower_id = :me LIMIT 1", {"me": account_id}
    )
    return row is not None
