"""from_ap for attachments: a remote note's `attachment` entries into the writer's values.

Images and videos become `media` rows (readers load them through `/media/proxy/`); audio,
documents, links and whatever is past the cap stay links in the post's content, since the
proxy serves only images and videos.
"""

from __future__ import annotations

from collections.abc import Sequence

from activitypub.vocab import Attachment as RemoteAttachment
from instance.posts.attachments import MAX_DESCRIPTION, Attachment

# Kinds the proxy can serve (it refuses anything its sniffer does not call image or video).
STORED_KINDS = frozenset({"image", "video"})
# When a peer names no media type: Mastodon guesses from the file name too.
_EXTENSIONS = {
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "gif": "image",
    "webp": "image",
    "avif": "image",
    "heic": "image",
    "mp4": "video",
    "m4v": "video",
    "webm": "video",
    "mov": "video",
    "mp3": "audio",
    "ogg": "audio",
    "oga": "audio",
    "opus": "audio",
    "m4a": "audio",
    "wav": "audio",
    "flac": "audio",
}
_TYPES = {"Image": "image", "Video": "video", "Audio": "audio"}
# Sizes only lay the page out before the file loads; a peer's absurd ones are dropped.
MAX_DIMENSION = 16384


def kind_of(attachment: RemoteAttachment) -> str:
    """image | video | audio | unknown, from the media type, else the type, else the name.

    SVG is no image here: it is a document that can carry script. Mastodon's gifv is sent
    as a `video/mp4` Document, indistinguishable from a video on the wire: it is a video.
    """
    media_type = (attachment.media_type or "").split(";", 1)[0].strip().lower()
    major = media_type.split("/", 1)[0]
    if media_type == "image/svg+xml":
        return "unknown"
    if major in ("image", "video", "audio"):
        return major
    if media_type and media_type != "application/octet-stream":
        return "unknown"  # text/html links, PDFs, playlists
    if attachment.type in _TYPES:
        return _TYPES[attachment.type]
    path = attachment.url.split("?", 1)[0].split("#", 1)[0]
    tail = path.rsplit("/", 1)[-1]
    ext = tail.rsplit(".", 1)[-1].lower() if "." in tail else ""
    return _EXTENSIONS.get(ext, "unknown")


def to_attachment(attachment: RemoteAttachment, kind: str) -> Attachment:
    """The writer's value for one remote attachment (a `media` row in state `remote`)."""
    focus_x, focus_y = attachment.focal_point or (0.0, 0.0)
    return Attachment(
        remote_url=attachment.url,
        kind=kind,
        media_type=(attachment.media_type or "")[:100],
        description=(attachment.name or "").strip()[:MAX_DESCRIPTION],
        # A blurhash is ~30 characters; a longer one is no blurhash.
        blurhash=attachment.blurhash
        if attachment.blurhash and len(attachment.blurhash) <= 100
        else None,
        width=_dimension(attachment.width),
        height=_dimension(attachment.height),
        duration=attachment.duration,
        focus_x=focus_x,
        focus_y=focus_y,
        remote_preview_url=attachment.preview_url,
    )


def _dimension(value: int | None) -> int | None:
    return value if value is not None and value <= MAX_DIMENSION else None


def stored_attachments(
    attachments: Sequence[RemoteAttachment], limit: int
) -> tuple[tuple[Attachment, ...], list[RemoteAttachment]]:
    """The attachments stored as media (at most `limit`, in order) and those left as links."""
    stored: list[Attachment] = []
    linked: list[RemoteAttachment] = []
    for attachment in attachments:
        kind = kind_of(attachment)
        if kind in STORED_KINDS and len(stored) < limit:
            stored.append(to_attachment(attachment, kind))
        else:
            linked.append(attachment)
    return tuple(stored), linked
