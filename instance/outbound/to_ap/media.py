"""to_ap for attachments: a local post's processed media rows as a Note's `attachment`.

The shape is Mastodon's (`name` is the alt text, `focalPoint` is [x, y] in -1..1 with y
up, `blurhash`, `width`, `height`), with the type named as GoToSocial does (Image, Video,
Audio, Document) so that readers that go by the type alone still show the file. A video's
(and a gifv's) poster frame rides along as `icon`, as Mastodon and GoToSocial send a
preview. Only files that finished processing are federated: a peer that fetched a
half-made one would keep it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from instance.urls import LocalUrls

# Mastodon sends a gifv as a video/mp4: peers play it as a silent looping video.
_TYPES = {"image": "Image", "video": "Video", "gifv": "Video", "audio": "Audio"}


def attachment(urls: LocalUrls, row: Mapping[str, Any]) -> dict[str, Any]:
    """One `attachment` entry of a ready local `media` row (see `db.media.MEDIA_COLUMNS`)."""
    doc: dict[str, Any] = {
        "type": _TYPES.get(str(row["kind"]), "Document"),
        "mediaType": row["media_type"],
        "url": urls.media(row["file_key"]),
        "name": row["description"] or None,
    }
    if row["blurhash"]:
        doc["blurhash"] = row["blurhash"]
    if row["width"] and row["height"]:
        doc["width"] = int(row["width"])
        doc["height"] = int(row["height"])
    doc["focalPoint"] = [float(row["focus_x"] or 0.0), float(row["focus_y"] or 0.0)]
    if row["kind"] in ("video", "gifv") and row["thumb_key"]:
        doc["icon"] = {
            "type": "Image",
            "mediaType": "image/jpeg",
            "url": urls.media(row["thumb_key"]),
        }
    return doc


def attachments(urls: LocalUrls, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The entries of the ready local files among `rows`, in their order."""
    return [
        attachment(urls, row)
        for row in rows
        if row["state"] == "ready" and row["file_key"] and not row["remote_url"]
    ]
