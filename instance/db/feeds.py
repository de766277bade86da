"""Timeline queries: read-time selection on indexed columns, no fan-out tables."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.posts import WITH_AUTHOR, author_listed, author_live
from instance.db.rows import PostWithAuthorRow, SharedPostRow


def hidden_from(author: str) -> str:
    """SQL true when a block (either way) or the viewer `:me`'s mute hides `author`'s items.

    Used for the author of a post and, where shares are listed, for the sharer too.
    """
    return (
        f"(EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = :me AND b.target_id = {author})"
        f" OR (b.account_id = {author} AND b.target_id = :me))"
        f" OR EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = :me AND m.target_id = {author}))"
    )


# Own posts and posts of accepted follows that `:me` may see. One IN list (follows plus
# self) rather than `= :me OR IN (...)`: the OR made SQLite merge two index searches and
# sort them (27 ms at 200k posts, against 1.6 ms this way; bench/bench_home_feed.py).
# Blocks and mutes are checked once per account in that list, not once per post (three
# index look-ups per candidate row otherwise).
# A suspended followee is left out of that list too (once per account, like blocks).
HOME_POSTS = (
    "p.deleted_at IS NULL AND p.account_id IN"
    " (SELECT f.followee_id FROM follows f WHERE f.follower_id = :me AND f.state = 'accepted'"
    f" AND NOT {hidden_from('f.followee_id')} AND {author_live('f.followee_id')}"
    f" UNION ALL SELECT :me WHERE NOT {hidden_from(':me')})"
    " AND (p.visibility IN ('public', 'unlisted', 'followers') OR p.account_id = :me"
    " OR EXISTS (SELECT 1 FROM post_recipients r WHERE r.post_id = p.id"
    " AND r.account_id = :me))"
)
# Public top-level posts (of this server with `:local_only`), without what `:me` blocked
# or muted when signed in, nor suspended or silenced authors.
PUBLIC_POSTS = (
    "p.deleted_at IS NULL AND p.visibility = 'public'"
    f" AND {author_listed('p.account_id')}"
    " AND (:local_only = 0 OR p.local = 1) AND p.in_reply_to_id IS NULL"
    f" AND (:me IS NULL OR NOT {hidden_from('p.account_id')})"
)


# The home feed first looks among the newest 2,000 posts of everyone (below the page's
# cursor). Per followed account that is one short range of the posts_account index instead
# of all of its posts: at 500k posts and 300 follows the full query reads and sorts ~15k
# rows to keep 30 (3.2 ms alone, 13 ms a page under load); the window holds ~60 of them
# (0.7 ms). A window that holds a whole page is exact (its rows are the newest of all); a
# reader whose follows wrote less in it gets the full query.
HOME_WINDOWS = (2_000,)


async def home(
    ex: Executor, account_id: int, *, limit: int, max_id: int | None
) -> list[PostWithAuthorRow]:
    """Own posts and posts of accepted follows that the account may see, newest first."""
    params: dict[str, object] = {"me": account_id, "limit": limit, "max_id": max_id}
    for window in HOME_WINDOWS:
        rows: list[PostWithAuthorRow] = await ex.fetch_all(
            f"{WITH_AUTHOR} WHERE {HOME_POSTS}"
            " AND (:max_id IS NULL OR p.id < :max_id) AND p.id > COALESCE((SELECT w.id"
            " FROM posts w WHERE (:max_id IS NULL OR w.id < :max_id)"
            " ORDER BY w.id DESC LIMIT 1 OFFSET :window), 0)"
            " ORDER BY p.id DESC LIMIT :limit",
            {**params, "window": window},
        )
        if len(rows) == limit:
            return rows
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE {HOME_POSTS}"
        " AND (:max_id IS NULL OR p.id < :max_id) ORDER BY p.id DESC LIMIT :limit",
        params,
    )


async def count_home_newer(ex: Executor, account_id: int, *, since: int, cap: int) -> int:
    """Home entries newer than the id `since` (posts, and shares by the same accounts), up
    to `cap` each: what the "new posts" indicator counts. Both come from one id generator,
    so one cursor compares with both."""
    return int(
        await ex.fetch_value(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 AS one FROM posts p"
            f" WHERE {HOME_POSTS} AND p.id > :since AND p.account_id != :me LIMIT :cap) AS own)"
            " + (SELECT COUNT(*) FROM (SELECT 1 AS one FROM shares s JOIN posts p"
            " ON p.id = s.post_id WHERE s.account_id IN"
            " (SELECT followee_id FROM follows WHERE follower_id = :me AND state = 'accepted')"
            f" AND s.id > :since AND p.deleted_at IS NULL AND {author_live('p.account_id')}"
            f" AND {author_live('s.account_id')}"
            " AND p.visibility IN ('public', 'unlisted')"
            f" AND NOT {hidden_from('s.account_id')} AND NOT {hidden_from('p.account_id')}"
            " LIMIT :cap) AS shared) AS n",
            {"me": account_id, "since": since, "cap": cap},
        )
    )


async def count_public_newer(
    ex: Executor, *, local_only: bool, since: int, cap: int, viewer_id: int | None = None
) -> int:
    """Posts of a public timeline newer than `since`, up to `cap`."""
    return int(
        await ex.fetch_value(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM posts p WHERE"
            f" {PUBLIC_POSTS} AND p.id > :since"
            " AND (:me IS NULL OR p.account_id != :me) LIMIT :cap) AS newer",
            {
                "local_only": 1 if local_only else 0,
                "since": since,
                "cap": cap,
                "me": viewer_id,
            },
        )
    )


async def public(
    ex: Executor,
    *,
    local_only: bool,
    limit: int,
    max_id: int | None,
    viewer_id: int | None = None,
) -> list[PostWithAuthorRow]:
    """Public top-level posts; a signed-in viewer does not see blocked or muted authors."""
    return await ex.fetch_all(
        f"{WITH_AUTHOR} WHERE {PUBLIC_POSTS}"
        " AND (:max_id IS NULL OR p.id < :max_id) ORDER BY p.id DESC LIMIT :limit",
        {
            "local_only": 1 if local_only else 0,
            "limit": limit,
            "max_id": max_id,
            "me": viewer_id,
        },
    )


# Larger than any id the generator can make (64-bit signed).
NO_MAX_ID = (1 << 63) - 1
# How many candidate shares are read per page slot before the visibility checks.
SHARE_WINDOW_FACTOR = 10


async def home_shares(
    ex: Executor,
    account_id: int,
    *,
    limit: int,
    max_id: int | None,
    min_id: int | None = None,
) -> list[SharedPostRow]:
    """Shares by the account and its accepted follows, newest share first, paged by share id.

    Each row is the shared post (the columns of WITH_AUTHOR) plus `feed_id` (the share's
    id) and the sharer's `shared_by_*` names. Only public and unlisted posts can be shared;
    a block or mute hides a share when it touches the sharer or the post's author.

    With `min_id`, only shares above that id: the home feed passes the last of a full
    batch of posts, below which it takes nothing in this read anyway (at 500k posts the
    reader's follows had ~6k shares, 14 ms to sort for the 30 newest).
    """
    return await ex.fetch_all(
        # First the newest share ids of the followed accounts, read from the covering index
        # shares_account alone; only that window is joined to posts and checked for blocks
        # and mutes. Joining first made SQLite check every share of every followed account
        # before sorting (34 ms at 1M posts and 35k shares, against 2 ms this way;
        # bench/bench_home_feed.py). A window made only of hidden shares yields a short
        # page, never a wrong one.
        "WITH recent AS (SELECT s.id FROM shares s WHERE s.account_id IN"
        " (SELECT followee_id FROM follows WHERE follower_id = :me AND state = 'accepted'"
        " UNION ALL SELECT :me) AND s.id < :before AND s.id > :after"
        " ORDER BY s.id DESC LIMIT :window)"
        " SELECT sp.*, s.id AS feed_id, sa.id AS shared_by_id,"
        " sa.username AS shared_by_username, sa.domain AS shared_by_domain,"
        " sa.display_name AS shared_by_display_name"
        f" FROM recent r CROSS JOIN shares s CROSS JOIN ({WITH_AUTHOR}) sp CROSS JOIN accounts sa"
        " WHERE s.id = r.id AND sp.id = s.post_id AND sa.id = s.account_id"
        " AND sp.deleted_at IS NULL AND sp.visibility IN ('public', 'unlisted')"
        " AND sp.author_suspended_at IS NULL AND sa.suspended_at IS NULL"
        f" AND NOT {hidden_from('s.account_id')} AND NOT {hidden_from('sp.account_id')}"
        " ORDER BY s.id DESC LIMIT :limit",
        {
            "me": account_id,
            "limit": limit,
            "window": limit * SHARE_WINDOW_FACTOR,
            "before": NO_MAX_ID if max_id is None else max_id,
            "after": -1 if min_id is None else min_id,
        },
    )
