"""Queries on `hashtags` and `post_hashtags`: tags by key, a post's tags, a tag's posts."""

from __future__ import annotations

from instance.db.executor import Executor
from instance.db.feeds import hidden_from
from instance.db.folding import fold
from instance.db.posts import WITH_AUTHOR, author_listed
from instance.db.rows import HashtagRow, PostWithAuthorRow


async def get_by_key(ex: Executor, name_key: str) -> HashtagRow | None:
    return await ex.fetch_one(
        "SELECT id, name_key, display_name, created_at FROM hashtags WHERE name_key = :k",
        {"k": name_key},
    )


async def ensure(ex: Executor, *, new_id: int, name_key: str, display_name: str, now: int) -> int:
    """The id of the tag with this key, made with `new_id` when it is new.

    The first writer's display form stays: a later `#VIỆTNAM` does not rename `#ViệtNam`.
    """
    # `name_folded` is what search matches ("viet nam" finds `việtnam`, `db/search.py`).
    await ex.execute(
        "INSERT INTO hashtags (id, name_key, display_name, name_folded, created_at)"
        " VALUES (:id, :k, :d, :f, :now) ON CONFLICT (name_key) DO NOTHING",
        {"id": new_id, "k": name_key, "d": display_name, "f": fold(display_name), "now": now},
    )
    return int(await ex.fetch_value("SELECT id FROM hashtags WHERE name_key = :k", {"k": name_key}))


async def replace_for_post(ex: Executor, post_id: int, hashtag_ids: list[int]) -> None:
    """The post carries exactly these tags afterwards (an edit may drop some)."""
    await ex.execute("DELETE FROM post_hashtags WHERE post_id = :p", {"p": post_id})
    for hashtag_id in dict.fromkeys(hashtag_ids):
        await ex.execute(
            "INSERT INTO post_hashtags (post_id, hashtag_id) VALUES (:p, :h)",
            {"p": post_id, "h": hashtag_id},
        )


async def public_posts(
    ex: Executor,
    hashtag_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    viewer_id: int | None = None,
) -> list[PostWithAuthorRow]:
    """Public, undeleted posts with the tag, newest first, below `max_id` when given.

    For a signed-in viewer, authors they blocked, muted or are blocked by are left out.
    """
    return await ex.fetch_all(
        f"{WITH_AUTHOR} JOIN post_hashtags ph ON ph.post_id = p.id"
        " WHERE ph.hashtag_id = :h AND p.visibility = 'public' AND p.deleted_at IS NULL"
        f" AND {author_listed('p.account_id')} AND (:max_id IS NULL OR ph.post_id < :max_id)"
        f" AND (:me IS NULL OR NOT {hidden_from('p.account_id')})"
        " ORDER BY ph.post_id DESC LIMIT :limit",
        {"h": hashtag_id, "limit": limit, "max_id": max_id, "me": viewer_id},
    )
