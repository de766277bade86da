"""A post's attachments as the writer stores them: local uploads by id, remote files by URL.

The one place that writes `media` rows for posts: `PostWriter.create` and `edit` call these
inside their transaction, for local posts (uploads already processed by `MediaService`)
and remote ones (entries of the Note's `attachment`, which stay on their server until a
reader asks for them through `/media/proxy/`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from instance.db import media as media_q
from instance.db.executor import Executor
from instance.errors import N_, Conflict
from instance.ids import IdGenerator, now
from instance.urls import remote_file_hash

# Mastodon's limit per post; a remote post's further attachments are kept as links.
MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500
# Files are deleted this long after their post (see PostWriter.delete).
PURGE_DELAY = 600


@dataclass(frozen=True)
class Attachment:
    """One attachment of a new or edited post, in its place in the post."""

    media_id: int | None = None  # a local upload (its row exists, unattached or this post's)
    remote_url: str | None = None  # a remote file (a new row is made)
    kind: str = "unknown"
    media_type: str = ""
    description: str | None = None  # None: a local upload keeps the alt text it has
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    focus_x: float = 0.0
    focus_y: float = 0.0
    remote_preview_url: str | None = None


class AttachmentTaken(Conflict):
    message = N_("That upload is already attached to a post.")


async def store(
    ex: Executor,
    ids: IdGenerator,
    *,
    post_id: int,
    account_id: int,
    attachments: Sequence[Attachment],
) -> None:
    """Attach local uploads to a new post and insert rows for remote files, in order."""
    ts = now()
    for position, item in enumerate(attachments[:MAX_ATTACHMENTS]):
        if item.media_id is not None:
            if not await media_q.attach(ex, item.media_id, post_id, position):
                raise AttachmentTaken(field="media")
            await media_q.update(ex, item.media_id, _chosen(item))
        elif item.remote_url:
            await _insert_remote(ex, ids, post_id, account_id, position, item, ts)


async def replace(
    ex: Executor,
    ids: IdGenerator,
    *,
    post_id: int,
    account_id: int,
    local: bool,
    attachments: Sequence[Attachment],
) -> list[str]:
    """An edit's attachments. Local: those kept get their new alt text and order, the rest
    are removed; remote: the rows are replaced. Returns the storage keys no longer used."""
    current = await media_q.of_posts(ex, [post_id])
    if not local:
        await media_q.delete(ex, [row["id"] for row in current])
        await store(ex, ids, post_id=post_id, account_id=account_id, attachments=attachments)
        return []
    kept = {item.media_id: (position, item) for position, item in enumerate(attachments)}
    removed_keys: list[str] = []
    removed_ids: list[int] = []
    for row in current:
        found = kept.get(row["id"])
        if found is None:
            removed_ids.append(row["id"])
            removed_keys += [k for k in (row["file_key"], row["thumb_key"], row["source_key"]) if k]
            continue
        position, item = found
        await media_q.update(ex, row["id"], _chosen(item))
        await ex.execute(
            "UPDATE media SET position = :pos WHERE id = :id", {"pos": position, "id": row["id"]}
        )
    await media_q.delete(ex, removed_ids)
    return removed_keys


def _chosen(item: Attachment) -> dict[str, object]:
    """What the author set on an upload when posting or editing: focus, and alt text if sent."""
    values: dict[str, object] = {"focus_x": item.focus_x, "focus_y": item.focus_y}
    if item.description is not None:
        values["description"] = item.description[:MAX_DESCRIPTION]
    return values


async def keys_of_post(ex: Executor, post_id: int) -> list[str]:
    """The storage keys of a post's files (what its deletion frees)."""
    rows = await media_q.of_posts(ex, [post_id])
    return [k for row in rows for k in (row["file_key"], row["thumb_key"], row["source_key"]) if k]


async def _insert_remote(
    ex: Executor,
    ids: IdGenerator,
    post_id: int,
    account_id: int,
    position: int,
    item: Attachment,
    ts: int,
) -> None:
    assert item.remote_url is not None
    await media_q.insert(
        ex,
        {
            "id": ids.next_id(),
            "account_id": account_id,
            "post_id": post_id,
            "position": position,
            "kind": item.kind,
            "state": "remote",
            "media_type": item.media_type,
            "remote_url": item.remote_url,
            "remote_preview_url": item.remote_preview_url,
            "width": item.width,
            "height": item.height,
            "duration": item.duration,
            "blurhash": item.blurhash,
            "focus_x": item.focus_x,
            "focus_y": item.focus_y,
            "description": (item.description or "")[:MAX_DESCRIPTION],
            "created_at": ts,
        },
    )
    # Readers load it through /media/proxy/<hash>, which serves only URLs learnt like this.
    await media_q.remember_remote(ex, remote_file_hash(item.remote_url), item.remote_url, ts)
    if item.remote_preview_url:
        await media_q.remember_remote(
            ex, remote_file_hash(item.remote_preview_url), item.remote_preview_url, ts
        )
