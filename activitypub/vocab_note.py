"""The Note view: posts of every flavour (Note, Article, Page, Question, Video, …).

Tags, attachments, addressing and quote links are normalised here; ``content``
stays raw HTML for ``activitypub.html`` to sanitise.
"""

from __future__ import annotations

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
    url: str
    media_type: str | None
    name: str | None  # alt text
    blurhash: str | None
    width: int | None
    height: int | None
    type: str | None


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


def _attachments(value: Any) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for entry in as_list(value):
        if isinstance(entry, str):
            found.append(Attachment(entry, None, None, None, None, None, None))
            continue
        if not isinstance(entry, dict) or "PropertyValue" in types_of(entry):
            continue
        url = url_of(entry.get("url")) or first_str(entry.get("href"))
        if not url:
            continue  # nothing to show or fetch
        link = entry.get("url") if isinstance(entry.get("url"), dict) else {}
        media_type = first_str(entry.get("mediaType")) or first_str(entry.get("mimeType"))
        if media_type is None and isinstance(link, dict):
            media_type = first_str(link.get("mediaType"))
        found.append(
            Attachment(
                url=url,
                media_type=media_type,
                name=lang_value(entry, "name"),
                blurhash=first_str(entry.get("blurhash")),
                width=_positive_int(entry.get("width")),
                height=_positive_int(entry.get("height")),
                type=first_str(entry.get("type")),
            )
        )
    return tuple(found)


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
        attachments=_attachments(doc.get("attachment")),
        replies_id=id_of(doc.get("replies")),
        quote_url=_quote_url(doc),
        language=_language(doc, content_map),
        raw=doc,
        name=lang_value(doc, "name"),
        poll_options=_poll_options(doc) if "Question" in types else (),
    )
