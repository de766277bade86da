"""Attachments as a viewer sees them: the typed view pages, the client API and feeds render.

Every URL in a view is one a reader's browser may load: our own files, or a remote file
through `/media/proxy/` (a reader's address never reaches another server).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from instance.urls import LocalUrls

# Kinds a page can show inline; anything else is shown as a link to its remote URL.
SHOWN_KINDS = ("image", "video", "gifv", "audio")


@dataclass(frozen=True)
class MediaView:
    """One attachment of a post."""

    id: int
    kind: str  # image | video | gifv | audio | unknown
    state: str  # processing | ready | failed | remote
    media_type: str
    url: str | None  # the file, on this origin (None while processing)
    preview_url: str | None  # thumbnail or poster frame, on this origin
    remote_url: str | None  # a remote attachment's own address (for links, never embedded)
    width: int | None
    height: int | None
    duration: float | None
    blurhash: str | None
    focus_x: float
    focus_y: float
    description: str  # alt text

    @property
    def shown(self) -> bool:
        """Whether a page can show it inline (else it is a link)."""
        return self.kind in SHOWN_KINDS and self.url is not None

    @property
    def ready(self) -> bool:
        return self.state in ("ready", "remote")


def media_view(row: Mapping[str, Any], urls: LocalUrls) -> MediaView:
    """The view of one `media` row (see `db.media.MEDIA_COLUMNS`)."""
    remote_url = row.get("remote_url") or None
    file_key = row.get("file_key") or None
    thumb_key = row.get("thumb_key") or None
    if remote_url is not None:
        url: str | None = urls.proxied(remote_url)
        preview = row.get("remote_preview_url") or None
        preview_url = urls.proxied(preview) if preview else None
    else:
        url = urls.media(file_key) if file_key and row["state"] == "ready" else None
        preview_url = urls.media(thumb_key) if thumb_key and row["state"] == "ready" else None
    if row["kind"] == "image" and preview_url is None:
        preview_url = url
    return MediaView(
        id=int(row["id"]),
        kind=str(row["kind"]),
        state=str(row["state"]),
        media_type=str(row.get("media_type") or ""),
        url=url,
        preview_url=preview_url,
        remote_url=remote_url,
        width=_int(row.get("width")),
        height=_int(row.get("height")),
        duration=None if row.get("duration") is None else float(row["duration"]),
        blurhash=row.get("blurhash") or None,
        focus_x=float(row.get("focus_x") or 0.0),
        focus_y=float(row.get("focus_y") or 0.0),
        description=str(row.get("description") or ""),
    )


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
