"""The Note view: posts of every flavour (Note, Article, Page, Question, Video, …).

Tags, attachments, addressing and quote links are normalised here; ``content``
stays raw HTML for ``activitypub.html`` to sanitise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from activitypub.vocab_actor import ACTOR_TYPES, url_of
from activitypub.vocab_base import (
    VocabError,
    as_list,
    first_str,
    id_of,
    ids_of,
    lang_value,
    parse_datetime,
    types_of,
)

__all__ = [
    "NOTE_TYPES",
    "Attachment",
    "Hashtag",
    "Mention",
    "Note",
    "parse_note",
]

# Objects shown as posts. BookWyrm's Comment/Quotation/Review and Pleroma's
# ChatMessage carry content and an author like a Note does.
NOTE_TYPES = frozenset(
    {
        "Note",
        "Article",
        "Page",
        "Question",
        "Video",
        "Audio",
        "Image",
        "Event",
        "ChatMessage",
        "Comment",
        "Quotation",
        "Review",
    }
)


@dataclass(frozen=True)
class Mention:
    href: str
    name: str | None


@dataclass(frozen=True)
class Hashtag:
    href: str | None
    name: str  # as sent, usually with the leading "#"


@dataclass(frozen=True)
class Attachment:
    url: str  # http(s) only
    media_type: str | None
    name: str | None  # alt text
    blurhash: str | None
    width: int | None
    height: int | None
    type: str | None
    focal_point: tuple[float, float] | None = None  # Mastodon's: x right, y up, -1..1
    preview_url: str | None = None  # the poster or thumbnail (`icon`), http(s) only
    duration: float | None = None  # seconds, when the peer says
    sensitive: bool = False  # Misskey marks files one by one


@dataclass(frozen=True)
class Note:
    id: str
    type: str
    attributed_to: str | None
    content: str  # raw HTML; "" when the post has none
    content_map: dict[str, str]
    summary: str | None  # the content warning
    sensitive: bool
    in_reply_to: str | None
    published: float | None
    updated: float | None
    url: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    mentions: tuple[Mention, ...]
    hashtags: tuple[Hashtag, ...]
    attachments: tuple[Attachment, ...]
    replies_id: str | None
    quote_url: str | None
    language: str | None
    raw: dict[str, Any]
    name: str | None = None  # the title of an Article, Page or Video
    # A Question's choices (`oneOf`, or `anyOf` for several answers), names as sent.
    poll_options: tuple[str, ...] = ()


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, float) and value > 0:
        return int(value)
    return None


# A post shows at most a handful; a hostile peer may send thousands. Only the first entries
# are read at all, so parsing cost does not grow with what a peer chooses to send.
MAX_PARSED_ATTACHMENTS = 64
# Peertube lists every rendition of a video; more Links than this are not looked at.
MAX_PARSED_LINKS = 64
# The rendition picked from Peertube's list: the tallest up to this height (a page shows
# it small; 1080p files are hundreds of MB, past what the media proxy fetches).
PREFERRED_VIDEO_HEIGHT = 720
MAX_VIDEO_BYTES = 99 * 1024 * 1024
_DURATION_RE = re.compile(r"P(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def http_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL, else None (no data:, javascript:, magnet:)."""
    if not isinstance(value, str) or not value:
        return None
    lowered = value[:8].lower()
    if lowered.startswith("https://") or lowered.startswith("http://"):
        return value
    return None


def _media_links(value: Any) -> list[dict[str, Any]]:
    """Link objects of a ``url`` value, and those one level down in a Link's ``tag``
    (where Peertube puts the mp4 files of its HLS playlist)."""
    found: list[dict[str, Any]] = []
    for entry in as_list(value)[:MAX_PARSED_LINKS]:
        if not isinstance(entry, dict):
            continue
        found.append(entry)
        found.extend(t for t in as_list(entry.get("tag"))[:MAX_PARSED_LINKS] if isinstance(t, dict))
    return found


def _link_href(link: dict[str, Any]) -> str | None:
    return http_url(first_str(link.get("href"))) or http_url(first_str(link.get("url")))


def _playable(media_type: str | None) -> bool:
    return bool(media_type) and str(media_type).split("/", 1)[0] in ("image", "video", "audio")


def _file_link(value: Any) -> tuple[str | None, dict[str, Any]]:
    """The file a ``url`` value points to: a string, a Link, or a list of those.

    From a list, a Link with an image/video/audio type wins over a page (``text/html``);
    of several videos, the rendition `_best_video` picks. Returns the URL and its Link
    (empty for a plain string).
    """
    if isinstance(value, str):
        return http_url(value), {}
    links = _media_links(value)
    videos = [
        link
        for link in links
        if first_str(link.get("mediaType")) == "video/mp4" and _link_href(link)
    ]
    if videos:
        best = _best_video(videos)
        return _link_href(best), best
    for link in links:
        if _playable(first_str(link.get("mediaType"))) and _link_href(link):
            return _link_href(link), link
    for entry in as_list(value)[:MAX_PARSED_LINKS]:
        if isinstance(entry, str) and http_url(entry):
            return entry, {}
        if isinstance(entry, dict) and _link_href(entry):
            return _link_href(entry), entry
    return None, {}


def _best_video(videos: list[dict[str, Any]]) -> dict[str, Any]:
    """The tallest rendition up to `PREFERRED_VIDEO_HEIGHT` that is not too big to fetch,
    else the smallest one."""

    def height(link: dict[str, Any]) -> int:
        return _positive_int(link.get("height")) or 0

    def fits(link: dict[str, Any]) -> bool:
        size = _positive_int(link.get("size"))
        return height(link) <= PREFERRED_VIDEO_HEIGHT and (size is None or size <= MAX_VIDEO_BYTES)

    fitting = [link for link in videos if fits(link)]
    if fitting:
        return max(fitting, key=height)
    return min(videos, key=lambda link: (_positive_int(link.get("size")) or 0, height(link)))


def _preview_url(value: Any) -> str | None:
    """A poster from an ``icon`` value (an Image, a URL, or a list of them: the widest)."""
    best: tuple[int, str] | None = None
    for entry in as_list(value)[:MAX_PARSED_LINKS]:
        if isinstance(entry, str):
            url = http_url(entry)
            width = 0
        elif isinstance(entry, dict):
            url, _ = _file_link(entry.get("url"))
            url = url or http_url(first_str(entry.get("href")))
            width = _positive_int(entry.get("width")) or 0
        else:
            continue
        if url and (best is None or width > best[0]):
            best = (width, url)
    return best[1] if best else None


def _focal_point(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) != 2:
        return None
    x, y = value
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y)):
        return None
    if not all(math.isfinite(v) for v in (x, y)):
        return None
    return (max(-1.0, min(1.0, float(x))), max(-1.0, min(1.0, float(y))))


def _duration(value: Any) -> float | None:
    """Seconds from a number or an ISO 8601 duration (Peertube: ``PT1145S``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) and value > 0 else None
    if not isinstance(value, str) or len(value) > 40:
        return None
    match = _DURATION_RE.fullmatch(value.strip())
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _attachment(entry: Any) -> Attachment | None:
    if isinstance(entry, str):
        url = http_url(entry)
        return Attachment(url, None, None, None, None, None, None) if url else None
    if not isinstance(entry, dict) or "PropertyValue" in types_of(entry):
        return None
    url, link = _file_link(entry.get("url"))
    if url is None:
        url = http_url(first_str(entry.get("href")))
    if not url:
        return None  # nothing to show or fetch
    media_type = first_str(entry.get("mediaType")) or first_str(entry.get("mimeType"))
    if (media_type is None or not _playable(media_type)) and link:
        media_type = first_str(link.get("mediaType")) or media_type
    # GoToSocial before 0.16 sent the alt text as `summary`.
    name = lang_value(entry, "name") or lang_value(entry, "summary")
    return Attachment(
        url=url,
        media_type=media_type,
        name=name,
        blurhash=first_str(entry.get("blurhash")),
        width=_positive_int(entry.get("width")) or _positive_int(link.get("width")),
        height=_positive_int(entry.get("height")) or _positive_int(link.get("height")),
        type=first_str(entry.get("type")),
        focal_point=_focal_point(entry.get("focalPoint")),
        preview_url=_preview_url(entry.get("icon")),
        duration=_duration(entry.get("duration")),
        sensitive=entry.get("sensitive") is True,
    )


def _attachments(value: Any) -> tuple[Attachment, ...]:
    found = (_attachment(entry) for entry in as_list(value)[:MAX_PARSED_ATTACHMENTS])
    return tuple(a for a in found if a is not None)


def _own_video(doc: dict[str, Any]) -> tuple[Attachment, ...]:
    found = _video_itself(doc)
    return (found,) if found else ()


def _video_itself(doc: dict[str, Any]) -> Attachment | None:
    """A Peertube Video is its own attachment: the mp4 among its ``url`` Links and a
    poster from its ``icon`` list."""
    links = [
        link
        for link in _media_links(doc.get("url"))
        if first_str(link.get("mediaType")) == "video/mp4" and _link_href(link)
    ]
    if not links:
        return None
    best = _best_video(links)
    href = _link_href(best)
    assert href is not None
    return Attachment(
        url=href,
        media_type="video/mp4",
        name=None,
        blurhash=None,
        width=_positive_int(best.get("width")),
        height=_positive_int(best.get("height")),
        type="Video",
        preview_url=_preview_url(doc.get("icon")),
        duration=_duration(doc.get("duration")),
    )


MAX_POLL_OPTIONS = 50


def _poll_options(doc: dict[str, Any]) -> tuple[str, ...]:
    for key in ("oneOf", "anyOf"):
        options: list[str] = []
        for entry in as_list(doc.get(key)):
            name = lang_value(entry, "name") if isinstance(entry, dict) else first_str(entry)
            if name and name.strip():
                options.append(name.strip())
        if options:
            return tuple(options[:MAX_POLL_OPTIONS])
    return ()


def _tags(value: Any) -> tuple[tuple[Mention, ...], tuple[Hashtag, ...]]:
    mentions: list[Mention] = []
    hashtags: list[Hashtag] = []
    for entry in as_list(value):
        if not isinstance(entry, dict):
            continue
        types = types_of(entry)
        if "Mention" in types:
            href = id_of(entry.get("href")) or id_of(entry.get("id"))
            if href:
                mentions.append(Mention(href=href, name=first_str(entry.get("name"))))
        elif "Hashtag" in types:
            name = first_str(entry.get("name"))
            if name:
                hashtags.append(Hashtag(href=id_of(entry.get("href")), name=name))
    return tuple(mentions), tuple(hashtags)


def _attributed_to(value: Any) -> str | None:
    """The author; from a list (PeerTube: account and channel), a Person first."""
    entries = as_list(value)
    for entry in entries:
        if isinstance(entry, dict) and "Person" in types_of(entry):
            found = id_of(entry)
            if found:
                return found
    for entry in entries:
        if isinstance(entry, dict) and any(t in ACTOR_TYPES for t in types_of(entry)):
            found = id_of(entry)
            if found:
                return found
    return id_of(entries)


def attributed_actor_ids(value: Any) -> tuple[str, ...]:
    """Every actor an `attributedTo` names, in order: strings, and objects that are actors.

    A list may name several (PeerTube: the account, a Person, and its channel, a Group);
    typed objects that are no actor (Lemmy's moderators collection) claim nobody. The
    empty tuple means the object names no author.
    """
    found: list[str] = []
    for entry in as_list(value):
        if isinstance(entry, dict):
            types = types_of(entry)
            if types and not any(t in ACTOR_TYPES for t in types):
                continue
        entry_id = id_of(entry)
        if entry_id and entry_id not in found:
            found.append(entry_id)
    return tuple(found)


def _language(doc: dict[str, Any], content_map: dict[str, str]) -> str | None:
    if content_map:
        return next(iter(content_map))
    language = doc.get("language")
    if isinstance(language, dict):  # Lemmy and PeerTube: {identifier, name}
        return first_str(language.get("identifier"))
    return first_str(language)


def _quote_url(doc: dict[str, Any]) -> str | None:
    # Misskey: quoteUrl/_misskey_quote; Fedibird: quoteURL; Akkoma: quoteUri;
    # FEP-044f: quote.
    for key in ("quote", "quoteUrl", "quoteURL", "quoteUri", "_misskey_quote"):
        found = id_of(doc.get(key))
        if found:
            return found
    return None


def parse_note(doc: dict[str, Any]) -> Note:
    """Read a post; ``VocabError`` only when it has no id or no type."""
    if not isinstance(doc, dict):
        raise VocabError("note is not a JSON object")
    note_id = id_of(doc.get("id"))
    if note_id is None:
        raise VocabError("note has no id")
    types = types_of(doc)
    if not types:
        raise VocabError("note has no type")
    note_type = next((t for t in types if t in NOTE_TYPES), types[0])
    raw_map = doc.get("contentMap")
    content_map = (
        {k: v for k, v in raw_map.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(raw_map, dict)
        else {}
    )
    content = first_str(doc.get("content"))
    if content is None:
        content = next(iter(content_map.values()), "")
    summary = lang_value(doc, "summary")
    mentions, hashtags = _tags(doc.get("tag"))
    return Note(
        id=note_id,
        type=note_type,
        attributed_to=_attributed_to(doc.get("attributedTo")),
        content=content,
        content_map=content_map,
        summary=summary or None,  # "" means no content warning
        sensitive=doc.get("sensitive") is True,
        in_reply_to=id_of(doc.get("inReplyTo")),
        published=parse_datetime(doc.get("published")),
        updated=parse_datetime(doc.get("updated")),
        url=url_of(doc.get("url")),
        to=tuple(ids_of(doc.get("to"))),
        cc=tuple(ids_of(doc.get("cc"))),
        mentions=mentions,
        hashtags=hashtags,
        attachments=_attachments(doc.get("attachment"))
        or (_own_video(doc) if "Video" in types else ()),
        replies_id=id_of(doc.get("replies")),
        quote_url=_quote_url(doc),
        language=_language(doc, content_map),
        raw=doc,
        name=lang_value(doc, "name"),
        poll_options=_poll_options(doc) if "Question" in types else (),
    )
