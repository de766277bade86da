"""Queries on `media` (attachments) and `remote_files` (remote URLs served from here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from instance.db.executor import Executor
from instance.db.rows import MediaRow, RemoteFileRow

MEDIA_COLUMNS = (
    "id, account_id, post_id, position, kind, state, media_type, file_key, thumb_key,"
    " source_key, remote_url, remote_preview_url, width, height, duration, blurhash, focus_x,"
    " focus_y, description, error, size, created_at"
)
REMOTE_FILE_COLUMNS = (
    "url_hash, url, file_key, media_type, size, fetched_at, last_used_at, failed_at, created_at"
)
# The columns an attachment's processing or an edit may change.
UPDATABLE = frozenset(
    {
        "state",
        "media_type",
        "file_key",
        "thumb_key",
        "source_key",
        "width",
        "height",
        "duration",
        "blurhash",
        "focus_x",
        "focus_y",
        "description",
        "error",
        "size",
        "kind",
    }
)


async def insert(ex: Executor, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{k}" for k in values)
    await ex.execute(f"INSERT INTO media ({columns}) VALUES ({placeholders})", values)


async def get(ex: Executor, media_id: int) -> MediaRow | None:
    return await ex.fetch_one(f"SELECT {MEDIA_COLUMNS} FROM media WHERE id = :id", {"id": media_id})


async def update(ex: Executor, media_id: int, values: dict[str, Any]) -> None:
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    await ex.execute(f"UPDATE media SET {assignments} WHERE id = :id", {**values, "id": media_id})


async def of_posts(ex: Executor, post_ids: Sequence[int]) -> list[MediaRow]:
    """The attachments of a page of posts, in order: one query for the whole page."""
    if not post_ids:
        return []
    marks = ", ".join(f":p{i}" for i in range(len(post_ids)))
    return await ex.fetch_all(
        f"SELECT {MEDIA_COLUMNS} FROM media WHERE post_id IN ({marks})"
        " ORDER BY post_id, position, id",
        {f"p{i}": pid for i, pid in enumerate(post_ids)},
    )


async def unattached_of(ex: Executor, account_id: int, media_ids: Sequence[int]) -> list[MediaRow]:
    """The account's own uploads among `media_ids` that no post holds yet."""
    if not media_ids:
        return []
    marks = ", ".join(f":m{i}" for i in range(len(media_ids)))
    return await ex.fetch_all(
        f"SELECT {MEDIA_COLUMNS} FROM media WHERE id IN ({marks})"
        " AND account_id = :a AND post_id IS NULL",
        {"a": account_id, **{f"m{i}": mid for i, mid in enumerate(media_ids)}},
    )


async def attach(ex: Executor, media_id: int, post_id: int, position: int) -> bool:
    """Attach an upload to a post; False when it was attached already (by a racing post)."""
    changed = await ex.execute(
        "UPDATE media SET post_id = :p, position = :pos WHERE id = :id AND post_id IS NULL",
        {"p": post_id, "pos": position, "id": media_id},
    )
    return changed > 0


async def delete(ex: Executor, media_ids: Sequence[int]) -> None:
    for media_id in media_ids:
        await ex.execute("DELETE FROM media WHERE id = :id", {"id": media_id})


async def delete_of_post(ex: Executor, post_id: int) -> None:
    await ex.execute("DELETE FROM media WHERE post_id = :p", {"p": post_id})


async def delete_of_account(ex: Executor, account_id: int) -> None:
    """A deleted remote actor's attachment rows (their files were never stored here)."""
    await ex.execute("DELETE FROM media WHERE account_id = :a", {"a": account_id})


async def unattached_before(ex: Executor, cutoff: int, limit: int) -> list[MediaRow]:
    """Uploads never attached to a post, older than `cutoff` (housekeeping removes them)."""
    return await ex.fetch_all(
        f"SELECT {MEDIA_COLUMNS} FROM media WHERE post_id IS NULL AND created_at < :c"
        " ORDER BY created_at LIMIT :n",
        {"c": cutoff, "n": limit},
    )


# --- remote files ---


async def remember_remote(ex: Executor, url_hash: str, url: str, now: int) -> None:
    """Note a remote URL that may be served from here (once; later calls change nothing)."""
    await ex.execute(
        "INSERT INTO remote_files (url_hash, url, created_at) VALUES (:h, :u, :now)"
        " ON CONFLICT (url_hash) DO NOTHING",
        {"h": url_hash, "u": url, "now": now},
    )


async def remote_file(ex: Executor, url_hash: str) -> RemoteFileRow | None:
    return await ex.fetch_one(
        f"SELECT {REMOTE_FILE_COLUMNS} FROM remote_files WHERE url_hash = :h", {"h": url_hash}
    )


async def update_remote_file(ex: Executor, url_hash: str, values: dict[str, Any]) -> None:
    allowed = {"file_key", "media_type", "size", "fetched_at", "last_used_at", "failed_at"}
    if set(values) - allowed:
        raise ValueError(f"not updatable: {sorted(set(values) - allowed)}")
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    await ex.execute(
        f"UPDATE remote_files SET {assignments} WHERE url_hash = :h", {**values, "h": url_hash}
    )


async def remote_files_fetched_before(ex: Executor, cutoff: int, limit: int) -> list[RemoteFileRow]:
    """Cached remote files last used before `cutoff` (`gapo media prune` drops their copies)."""
    return await ex.fetch_all(
        f"SELECT {REMOTE_FILE_COLUMNS} FROM remote_files WHERE file_key IS NOT NULL"
        " AND COALESCE(last_used_at, fetched_at) < :c ORDER BY fetched_at LIMIT :n",
        {"c": cutoff, "n": limit},
    )
