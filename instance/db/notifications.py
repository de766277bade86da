"""Queries on `notifications`: one row per (recipient, kind, actor, post), read or unread."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.posts import author_live
from instance.db.rows import NotificationRow

# Hidden at read time as well as skipped at write time: a block or mute made later also
# silences what arrived before it.
NOT_SILENCED = (
    " NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = n.account_id"
    " AND b.target_id = n.from_account_id) OR (b.account_id = n.from_account_id"
    " AND b.target_id = n.account_id))"
    " AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = n.account_id"
    " AND m.target_id = n.from_account_id)"
    # Nothing from a suspended account, and nothing about a suspended author's post.
    f" AND {author_live('n.from_account_id')}"
    " AND NOT EXISTS (SELECT 1 FROM posts sp JOIN accounts sus ON sus.id = sp.account_id"
    " WHERE sp.id = n.post_id AND sus.suspended_at IS NOT NULL)"
)


async def insert_once(
    ex: Executor,
    *,
    notification_id: int,
    account_id: int,
    kind: str,
    from_account_id: int,
    post_id: int | None,
    now: int,
) -> bool:
    """Add the notification unless the same one exists (unique index); True when added."""
    changed = await ex.execute(
        "INSERT INTO notifications (id, account_id, kind, from_account_id, post_id, created_at)"
        " VALUES (:id, :a, :kind, :f, :p, :now) ON CONFLICT DO NOTHING",
        {
            "id": notification_id,
            "a": account_id,
            "kind": kind,
            "f": from_account_id,
            "p": post_id,
            "now": now,
        },
    )
    return changed > 0


async def remove(
    ex: Executor,
    *,
    account_id: int,
    kinds: tuple[str, ...],
    from_account_id: int,
    post_id: int | None,
) -> int:
    names = ", ".join(f":k{i}" for i in range(len(kinds)))
    params = {f"k{i}": k for i, k in enumerate(kinds)}
    return await ex.execute(
        "DELETE FROM notifications WHERE account_id = :a AND from_account_id = :f"
        f" AND kind IN ({names}) AND COALESCE(post_id, 0) = :p",
        {**params, "a": account_id, "f": from_account_id, "p": post_id or 0},
    )


async def change_kind(
    ex: Executor, *, account_id: int, from_account_id: int, old: str, new: str
) -> int:
    """A follow request that was approved becomes a follow (read state kept)."""
    return await ex.execute(
        "UPDATE notifications SET kind = :new WHERE account_id = :a AND from_account_id = :f"
        " AND kind = :old AND post_id IS NULL",
        {"a": account_id, "f": from_account_id, "old": old, "new": new},
    )


async def is_silenced(ex: Executor, account_id: int, from_account_id: int) -> bool:
    """A block either way, or the recipient muting the actor."""
    row = await ex.fetch_one(
        "SELECT 1 AS one FROM blocks WHERE (account_id = :a AND target_id = :f)"
        " OR (account_id = :f AND target_id = :a)"
        " UNION ALL SELECT 1 AS one FROM mutes WHERE account_id = :a AND target_id = :f"
        " LIMIT 1",
        {"a": account_id, "f": from_account_id},
    )
    return row is not None


def _kinds_clause(kinds: tuple[str, ...] | None) -> tuple[str, dict[str, str]]:
    """ " AND n.kind IN (...)" for a filter, with its parameters; nothing without one."""
    if not kinds:
        return "", {}
    names = ", ".join(f":kind{i}" for i in range(len(kinds)))
    return f" AND n.kind IN ({names})", {f"kind{i}": k for i, k in enumerate(kinds)}


async def page(
    ex: Executor,
    account_id: int,
    *,
    limit: int,
    max_id: int | None,
    kinds: tuple[str, ...] | None = None,
) -> list[NotificationRow]:
    """Newest first (only `kinds` when given), with the actor's names and avatar and the
    post's fields that `can_see` needs."""
    only, params = _kinds_clause(kinds)
    return await ex.fetch_all(
        "SELECT n.id, n.kind, n.from_account_id, n.post_id, n.created_at, n.read_at,"
        " a.username, a.domain, a.display_name, a.local AS from_local, a.avatar_url,"
        " p.account_id AS post_account_id, p.visibility AS post_visibility,"
        " p.deleted_at AS post_deleted_at, p.summary AS post_summary,"
        " p.content_html AS post_content_html"
        " FROM notifications n JOIN accounts a ON a.id = n.from_account_id"
        " LEFT JOIN posts p ON p.id = n.post_id"
        f" WHERE n.account_id = :a AND (:max_id IS NULL OR n.id < :max_id){only} AND"
        f"{NOT_SILENCED} ORDER BY n.id DESC LIMIT :limit",
        {"a": account_id, "max_id": max_id, "limit": limit, **params},
    )


async def count_unread(ex: Executor, account_id: int, *, cap: int) -> int:
    """Unread and still relevant, counted up to `cap` so a huge backlog stays cheap.

    Mirrors `can_see` in SQL (deleted posts, audience) so that the number in the
    navigation matches what the page shows.
    """
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM notifications n"
            " LEFT JOIN posts p ON p.id = n.post_id"
            " WHERE n.account_id = :a AND n.read_at IS NULL AND"
            f"{NOT_SILENCED} AND (n.post_id IS NULL OR (p.deleted_at IS NULL AND"
            " (p.visibility IN ('public', 'unlisted') OR p.account_id = :a"
            " OR EXISTS (SELECT 1 FROM post_recipients r WHERE r.post_id = p.id"
            " AND r.account_id = :a) OR (p.visibility = 'followers' AND EXISTS"
            " (SELECT 1 FROM follows f WHERE f.follower_id = :a AND f.followee_id = p.account_id"
            " AND f.state = 'accepted'))))) LIMIT :cap) AS unread",
            {"a": account_id, "cap": cap},
        )
    )


async def mark_read(
    ex: Executor,
    account_id: int,
    *,
    up_to_id: int | None,
    now: int,
    kinds: tuple[str, ...] | None = None,
) -> int:
    """Mark read up to an id (of `kinds` only when given: a filtered page leaves the rest)."""
    only, params = _kinds_clause(kinds)
    return await ex.execute(
        "UPDATE notifications AS n SET read_at = :now WHERE n.account_id = :a"
        f" AND n.read_at IS NULL AND (:up IS NULL OR n.id <= :up){only}",
        {"a": account_id, "up": up_to_id, "now": now, **params},
    )
