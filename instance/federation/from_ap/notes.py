"""from_ap for notes: a parsed remote Note (`activitypub/vocab_note.py`) into row values.

The post writer (`posts/writes.py`) stores what this returns; nothing else reads a
remote note's JSON. Who the author is, what the note answers and which local people it
addresses are looked up by `federation/notes_in.py` and passed in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from urllib.parse import unquote, urlsplit

from activitypub.html import sanitize_html
from activitypub.vocab import Attachment, Note, attributed_actor_ids, parse_datetime
from instance.federation.from_ap.attachments import stored_attachments
from instance.federation.from_ap.stored import stored_document
from instance.federation.remote_actors import web_url_or_none
from instance.ids import now
from instance.posts.attachments import MAX_ATTACHMENTS
from instance.posts.languages import normalize_language
from instance.posts.writes import Audience, NewPost, PostContent, Row

# Types Mastodon shows "converted": their title (`name`) heads the post, linked to its page.
TITLED_TYPES = frozenset({"Article", "Page", "Video", "Audio", "Image", "Event"})
MAX_TITLE = 500
MAX_OPTION = 500
MAX_LABEL = 200
MAX_SUMMARY = 1000


def _attachment_label(attachment: Attachment) -> str:
    """Alt text, else the file name at the end of the URL, else a plain word."""
    if attachment.name and attachment.name.strip():
        return attachment.name.strip()[:MAX_LABEL]
    try:
        path = urlsplit(attachment.url).path
    except ValueError:
        path = ""
    tail = unquote(path.rstrip("/").rsplit("/", 1)[-1]).strip()
    return tail[:MAX_LABEL] or "attachment"


def render_content(note: Note, linked: Sequence[Attachment] | None = None) -> str:
    """The stored HTML of a remote note, the same on Create and on Update.

    The title of an article-like type, then the content, a poll's options and links to
    the attachments not stored as media (`linked`; all of them when not given). Each
    piece is sanitised on its own, so unbalanced markup in the content cannot swallow
    what follows it.
    """
    parts: list[str] = []
    title = (note.name or "").strip()
    if title and note.type in TITLED_TYPES:
        href = web_url_or_none(note.url) or web_url_or_none(note.id)
        text = escape(title[:MAX_TITLE])
        heading = f'<a href="{escape(href)}">{text}</a>' if href else text
        parts.append(f"<p><strong>{heading}</strong></p>")
    parts.append(note.content or "")
    if note.poll_options:
        items = "".join(f"<li>{escape(option[:MAX_OPTION])}</li>" for option in note.poll_options)
        parts.append(f"<ul>{items}</ul>")
    for attachment in note.attachments if linked is None else linked:
        url = web_url_or_none(attachment.url)
        if url:
            label = escape(_attachment_label(attachment))
            parts.append(f'<p><a href="{escape(url)}">{label}</a></p>')
    return "".join(sanitize_html(part) for part in parts)


def claimed_authors(note: Note) -> tuple[str, ...]:
    """Every actor the note's `attributedTo` names (Peertube lists a channel too)."""
    return attributed_actor_ids(note.raw.get("attributedTo"))


def stored_version_time(stored: str | None) -> float | None:
    """When the stored document says its version was written (`updated`, else
    `published`), at the precision its peer gave; None when it does not say."""
    try:
        raw = json.loads(stored or "{}")
    except ValueError:
        return None  # documents stored before they were kept whole may be cut
    if not isinstance(raw, dict):
        return None
    return parse_datetime(raw.get("updated")) or parse_datetime(raw.get("published"))


def content_of(note: Note, *, max_attachments: int = MAX_ATTACHMENTS) -> PostContent:
    """A version of the note: what Create stores and Update replaces.

    Up to `max_attachments` images and videos become media rows (shown through the
    media proxy); the others stay links in the content.
    """
    stored, linked = stored_attachments(note.attachments, max_attachments)
    return PostContent(
        content_html=render_content(note, linked),
        summary=(note.summary or "")[:MAX_SUMMARY],
        # Misskey marks a sensitive file on the file, not on the note: the post hides it.
        sensitive=bool(note.sensitive) or any(a.sensitive for a in note.attachments),
        # Peers send names with the sign ("#tag"); the writer stores them by key.
        hashtags=tuple(h.name for h in note.hashtags),
        ap_json=stored_document(note.raw),
        # Always a tuple, never None: an Update replaces the attachments with its own list.
        attachments=stored,
    )


def new_post(
    note: Note,
    *,
    author: Row,
    visibility: str,
    parent_id: int | None,
    audience: Audience,
    content: PostContent | None = None,
    max_attachments: int = MAX_ATTACHMENTS,
) -> NewPost:
    """The row values of a remote note, for `PostWriter.create`."""
    return NewPost(
        author=author,
        content=content or content_of(note, max_attachments=max_attachments),
        visibility=visibility,
        language=normalize_language(note.language),
        created_at=int(note.published or now()),
        updated_at=int(note.updated) if note.updated else None,
        audience=audience,
        in_reply_to_id=parent_id,
        in_reply_to_ap_id=note.in_reply_to,
        ap_id=note.id,
        url=note.url or note.id,
    )
