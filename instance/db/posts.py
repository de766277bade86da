"""Queries on `posts`, their recipients and their edit history."""

from __future__ import annotations

from typing import Any

from instance.db.executor import Executor
from instance.db.rows import PostEditRow, PostWithAuthorRow

POST_COLUMNS = (
    "p.id, p.account_id, p.local, p.ap_id, p.url, p.in_reply_to_id, p.in_reply_to_ap_id,"
    " p.thread_root_id, p.content_source, p.content_html, p.summary, p.sensitive, p.visibility,"
    " p.language, p.created_at, p.updated_at, p.deleted_at, p.replies_count, p.likes_count,"
    " p.shares_count"
)
WITH_AUTHOR = (
    f"SELECT {POST_COLUMNS}, a.username, a.domain, a.display_name, a.ap_id AS author_ap_id,"
    " a.local AS author_local, a.avatar_url, a.ap_url AS author_url, a.ap_followers"
    " AS author_followers, a.suspended_at AS author_suspended_at,"
    " a.sensitive_forced AS author_sensitive_forced"
    " FROM posts p JOIN accounts a ON a.id = p.account_id"
)


def author_live(column: str) -> str:
    """SQL true unless the account `column` names is suspended: the SQL copies of `can_see`
    (feeds, reply counts, the unread count) leave its posts out as the rule does."""
    return (
        f"NOT EXISTS (SELECT 1 FROM accounts sus WHERE sus.id = {column}"
        " AND sus.suspended_at IS NOT NULL)"
    )


def author_listed(column: str) -> str:
    """SQL true when the account `column` names may appear on public timelines, hashtag
    pages and search: not suspended, not silenced, not of a silenced domain."""
    return (
        f"NOT EXISTS (SELECT 1 FROM accounts lst WHERE lst.id = {column}"
        " AND (lst.suspended_at IS NOT NULL OR lst.silenced_at IS NOT NULL"
        " OR EXISTS (SELECT 1 FROM hosts lh WHERE lh.domain = lst.domain"
        " AND lh.severity = 'silence')))"
    )


async def insert_post(ex: Executor, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{k}" for k in values)
    await ex.execute(f"INSERT INTO posts ({columns}) VALUES ({placeholders})", values)


async def add_recipients(
    ex: Executor, post_id: int, account_ids: list[int], *, mentioned: bool = True
) -> None:
    """Addressees who may see the post; `mentioned=False` records silent ones (addressed
    without a mention: they see it and are not notified)."""
    for account_id in dict.fromkeys(account_ids):
        await ex.execute(
            "INSERT INTO post_recipients (post_id, account_id, mentioned) VALUES (:p, :a, :m)"
            " ON CONFLICT (post_id, account_id) DO NOTHING",
            {"p": post_id, "a": account_id, "m": 1 if mentioned else 0},
        )


async def replace_recipients(
    ex: Executor, post_id: int, account_ids: list[int], *, silent: list[int] | None = None
) -> None:
    """The post's addressees become exactly these (an edit that drops a mention)."""
    await ex.execute("DELETE FROM post_recipients WHERE post_id = :p", {"p": post_id})
    await add_recipients(ex, post_id, account_ids)
    await add_recipients(ex, post_id, silent or [], mentioned=False)


async def recipients(ex: Executor, post_id: int) -> list[int]:
    rows = await ex.fetch_all(
        "SELECT account_id FROM post_recipients WHERE post_id = :p", {"p": post_id}
    )
    return [int(r["account_id"]) for r in rows]


async def addressed_among(ex: Executor, account_id: int, post_ids: list[int]) -> set[int]:
    """Which of these posts name the account among their recipients."""
    if not post_ids:
        return set()
    names = ", ".join(f":p{i}" for i in range(len(post_ids)))
    params: dict[str, Any] = {f"p{i}": post_id for i, post_id in enumerate(post_ids)}
    params["a"] = account_id
    rows = await ex.fetch_all(
        f"SELECT post_id FROM post_recipients WHERE account_id = :a AND post_id IN ({names})",
        params,
    )
    return {int(r["post_id"]) for r in rows}


async def get(ex: Executor, post_id: int) -> PostWithAuthorRow | None:
    return await ex.fetch_one(f"{WITH_AUTHOR} WHERE p.id = :id", {"id": post_id})


async def get_by_ap_id(ex: Executor, ap_id: str) -> PostWithAuthorRow | None:
    return await ex.fetch_one(f"{WITH_AUTHOR} WHERE p.ap_id = :ap_id", {"ap_id": ap_id})


async def update_content(ex: Executor, post_id: int, values: dict[str, Any]) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    await ex.execute(f"UPDATE posts SET {sets} WHERE id = :post_id", {**values, "post_id": post_id})


async def ap_json(ex: Executor, post_id: int) -> str | None:
    """The ActivityPub document a remote post was stored from (None for local posts)."""
    value = await ex.fetch_value("SELECT ap_json FROM posts WHERE id = :id", {"id": post_id})
    return None if value is None else str(value)


async def add_edit(
    ex: Executor, *, edit_id: int, post_id: int, content_html: str, summary: str, now: int
) -> None:
    await ex.execute(
        "INSERT INTO post_edits (id, post_id, content_html, summary, created_at)"
        " VALUES (:id, :p, :c, :s, :now)",
        {"id": edit_id, "p": post_id, "c": content_html, "s": summary, "now": now},
    )


async def edits(ex: Executor, post_id: int) -> list[PostEditRow]:
    return await ex.fetch_all(
        "SELECT id, content_html, summary, created_at FROM post_edits WHERE post_id = :p"
        " ORDER BY id",
        {"p": post_id},
    )


async def mark_deleted(ex: Executor, post_id: int, now: int) -> None:
    """Keep a tombstone row (id, ap_id, deleted_at) so later fetches answer 410.

    The content goes; the addressees stay (account ids only), because who could have seen
    the post decides who is told it was deleted (410) and who gets a plain 404.
    """
    await ex.execute(
        "UPDATE posts SET deleted_at = :now, content_html = '', content_source = '', summary = '',"
        " ap_json = NULL WHERE id = :id",
        {"id": post_id, "now": now},
    )
    await ex.execute("DELETE FROM likes WHERE post_id = :id", {"id": post_id})
    await ex.execute("DELETE FROM shares WHERE post_id = :id", {"id": post_id})
    # Earlier versions are the post's text too: they go with it.
    await ex.execute("DELETE FROM post_edits WHERE post_id = :id", {"id": post_id})


async def purge_tombstones(ex: Executor, before: int, limit: int) -> int:
    """Up to `limit` tombstones of posts deleted before `before`, removed for good.

    A tombstone answers 410 for the post's URL and keeps a late or replayed `Create` of a
    deleted remote post from bringing it back; after the retention it is only a record
    that the post existed. What hangs on the row (addressees, tags, attachments'
    rows, notifications) goes with it by cascade; replies keep their text and lose the link.
    """
    return await ex.execute(
        "DELETE FROM posts WHERE id IN (SELECT id FROM posts WHERE deleted_at IS NOT NULL"
        " AND deleted_at < :before LIMIT :limit)",
        {"before": before, "limit": limit},
    )


async def bump_count(ex: Executor, post_id: int, column: str, delta: int) -> None:
    if column not in ("replies_count", "likes_count", "shares_count"):
        raise ValueError(column)
    await ex.execute(
        f"UPDATE posts SET {column} = CASE WHEN {column} + :d < 0 THEN 0 ELSE {column} + :d END"
        " WHERE id = :id",
        {"d": delta, "id": post_id},
    )


async def by_account(
    ex: Executor,
    account_id: int,
    *,
    visibilities: tuple[str, ...],
    limit: int,
    max_id: int | None = None,
    min_id: int | None = None,
    with_replies: bool = True,
) -> list[PostWithAuthorRow]:
    """An account's posts, newest first; without replies, a thread's own continuations stay."""
    names = ", ".join(f":v{i}" for i in range(len(visibilities)))
    params: dict[str, Any] = {f"v{i}": v for i, v in enumerate(visibilities)}
    params.update({"a": account_id, "limit": limit, "max_id": max_id, "min_id": min_id})
    replies = (
        ""
        if with_replies
        else " AND (p.in_reply_to_ap_id IS NULL OR EXISTS (SELECT 1 FROM posts parent"
        " WHERE parent.id = p.in_reply_to_id AND parent.account_id = p.account_id))"
    )
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE p.account_id = :a AND p.deleted_at IS NULL"
        f" AND p.visibility IN ({names}) AND (:max_id IS NULL OR p.id < :max_id)"
        f" AND (:min_id IS NULL OR p.id > :min_id){replies} ORDER BY p.id DESC LIMIT :limit",
        params,
    )


async def count_by_account(ex: Executor, account_id: int, visibilities: tuple[str, ...]) -> int:
    names = ", ".join(f":v{i}" for i in range(len(visibilities)))
    params: dict[str, Any] = {f"v{i}": v for i, v in enumerate(visibilities)}
    params["a"] = account_id
    return int(
        await ex.fetch_value(
            f"SELECT COUNT(*) AS n FROM posts p WHERE p.account_id = :a AND p.deleted_at IS NULL"
            f" AND p.visibility IN ({names})",
            params,
        )
    )


async def count_local_listed(ex: Executor) -> int:
    """Local posts anyone may read (public and unlisted, not deleted): NodeInfo's
    `localPosts`. Followers-only and direct posts are not announced, not even as a number."""
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM posts WHERE local = 1 AND deleted_at IS NULL"
            " AND visibility IN ('public', 'unlisted')"
        )
    )


async def replies_to(ex: Executor, post_id: int, limit: int = 200) -> list[PostWithAuthorRow]:
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE p.in_reply_to_id = :id AND p.deleted_at IS NULL"
        " ORDER BY p.id LIMIT :limit",
        {"id": post_id, "limit": limit},
    )


async def replies_to_any(
    ex: Executor, parent_ids: list[int], limit: int
) -> list[PostWithAuthorRow]:
    """Direct replies to any of the given posts, oldest first: one level of a reply tree."""
    if not parent_ids:
        return []
    names = ", ".join(f":p{i}" for i in range(len(parent_ids)))
    params: dict[str, Any] = {f"p{i}": pid for i, pid in enumerate(parent_ids)}
    params["limit"] = limit
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE p.in_reply_to_id IN ({names}) AND p.deleted_at IS NULL"
        " ORDER BY p.id LIMIT :limit",
        params,
    )


# How far up a parent's chain attach_orphan_replies looks for itself; chains are acyclic,
# so this only bounds the read.
ORPHAN_CYCLE_DEPTH = 10_000


async def attach_orphan_replies(ex: Executor, parent_id: int, parent_ap_id: str) -> int:
    """Replies that arrived before their parent get linked (and counted) once it is known.

    A reply that is also an ancestor of the parent stays unlinked: two notes that answer
    each other (a hostile peer can serve that) must not become a loop of parent links.
    Returns how many replies were linked.
    """
    linked = await ex.execute(
        "UPDATE posts SET in_reply_to_id = :pid WHERE in_reply_to_ap_id = :ap AND"
        " in_reply_to_id IS NULL AND deleted_at IS NULL AND id NOT IN ("
        " WITH RECURSIVE up(id, depth) AS (SELECT :pid, 0 UNION ALL"
        " SELECT p.in_reply_to_id, up.depth + 1 FROM posts p JOIN up ON p.id = up.id"
        " WHERE p.in_reply_to_id IS NOT NULL AND up.depth < :max_depth)"
        " SELECT id FROM up)",
        {"pid": parent_id, "ap": parent_ap_id, "max_depth": ORPHAN_CYCLE_DEPTH},
    )
    if linked:
        await bump_count(ex, parent_id, "replies_count", linked)
    return linked


async def delete_all_of_account(ex: Executor, account_id: int, now: int) -> None:
    await ex.execute(
        "UPDATE posts SET deleted_at = :now, content_html = '', content_source = '',"
        " summary = '', ap_json = NULL WHERE account_id = :a AND deleted_at IS NULL",
        {"a": account_id, "now": now},
    )


# `can_see(:me, r)` for a reply `r`, in SQL; `:me` is NULL for an anonymous viewer, and
# then every comparison with it is false and only public and unlisted replies count.
REPLY_VISIBLE = (
    f"r.deleted_at IS NULL AND {author_live('r.account_id')} AND (r.account_id = :me OR ("
    " NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = :me AND b.target_id = r.account_id)"
    " OR (b.account_id = r.account_id AND b.target_id = :me))"
    " AND (r.visibility IN ('public', 'unlisted')"
    " OR EXISTS (SELECT 1 FROM post_recipients pr WHERE pr.post_id = r.id AND pr.account_id = :me)"
    " OR (r.visibility = 'followers' AND EXISTS (SELECT 1 FROM follows f"
    " WHERE f.follower_id = :me AND f.followee_id = r.account_id AND f.state = 'accepted')))))"
)


async def visible_reply_counts(
    ex: Executor, viewer_account_id: int | None, post_ids: list[int]
) -> dict[int, int]:
    """Post id -> how many of its direct replies the viewer may see (absent when none)."""
    ids = list(dict.fromkeys(post_ids))
    if not ids:
        return {}
    names = ", ".join(f":p{i}" for i in range(len(ids)))
    params: dict[str, Any] = {f"p{i}": post_id for i, post_id in enumerate(ids)}
    params["me"] = viewer_account_id
    rows = await ex.fetch_all(
        "SELECT r.in_reply_to_id AS parent_id, COUNT(*) AS n FROM posts r"
        f" WHERE r.in_reply_to_id IN ({names}) AND {REPLY_VISIBLE}"
        " GROUP BY r.in_reply_to_id",
        params,
    )
    return {int(row["parent_id"]): int(row["n"]) for row in rows}
