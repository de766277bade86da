"""Remote notes into `posts`: sanitised, addressed, linked to their parent, bounded fetching.

A reply whose parent is unknown fetches the parent chain, at most MAX_ANCESTORS
deep and with a per-call budget, so a hostile peer cannot make us loop. A parent that is
already being ingested further down the same chain (notes answering each other) is not
fetched again, and stored parent links never form a loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import unquote, urlsplit

from activitypub.fetch import FetchError
from activitypub.html import sanitize_html
from activitypub.vocab import (
    Attachment,
    Note,
    Visibility,
    VocabError,
    attributed_actor_ids,
    origin_of,
    parse_datetime,
    parse_note,
    visibility_of,
)
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.federation.remote_actors import ActorFetchFailed, RemoteActors, web_url_or_none
from instance.ids import IdGenerator, now
from instance.notifications.writer import Notifier
from instance.posts.hashtags import store_post_tags
from instance.posts.languages import normalize_language
from instance.posts.visibility import can_see
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

MAX_ANCESTORS = 8
NOTE_TYPES = {"Note", "Article", "Question", "Page", "Video", "Image", "Audio", "Event"}
# Types Mastodon shows "converted": their title (`name`) heads the post, linked to its page.
TITLED_TYPES = frozenset({"Article", "Page", "Video", "Audio", "Image", "Event"})
MAX_TITLE = 500
MAX_OPTION = 500
MAX_LABEL = 200
# Narrowest last: a reply is never shown wider than its local parent.
_VISIBILITY_ORDER: tuple[Visibility, ...] = ("public", "unlisted", "followers", "direct")


class NoteRejected(Exception):
    """The note cannot be stored (bad shape, wrong origin, unknown author)."""


class NoteForged(NoteRejected):
    """The note is attributed to someone other than the actor that sent it."""


class NoteIgnored(Exception):
    """An update that changes nothing we keep (stale, not an edit, or of a deleted post)."""


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


def render_content(note: Note) -> str:
    """The stored HTML of a remote note, the same on Create and on Update.

    The title of an article-like type, then the content, a poll's options and links to
    the attachments. Each piece is sanitised on its own, so unbalanced markup in the
    content cannot swallow what follows it.
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
    for attachment in note.attachments:
        url = web_url_or_none(attachment.url)
        if url:
            label = escape(_attachment_label(attachment))
            parts.append(f'<p><a href="{escape(url)}">{label}</a></p>')
    return "".join(sanitize_html(part) for part in parts)


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


async def _version_time(ex: Executor, post: Row) -> int:
    """When the stored version was written, in µs, at the precision its peer gave.

    The `updated_at`/`created_at` columns hold whole seconds; the stored document keeps
    the timestamps as sent (Mastodon sends milliseconds), so it is read first.
    """
    try:
        raw = json.loads(await posts_q.ap_json(ex, post["id"]) or "{}")
    except ValueError:
        raw = None  # cut at 200 kB: whole seconds will do
    if isinstance(raw, dict):
        stamp = parse_datetime(raw.get("updated")) or parse_datetime(raw.get("published"))
        if stamp is not None:
            return _micros(stamp)
    return _micros(int(post["updated_at"] or post["created_at"] or 0))


async def _check_edit_applies(ex: Executor, post: Row, edited_at: float, content_html: str) -> None:
    """`NoteIgnored` unless an edit made at `edited_at` is news for the stored post.

    The rule (Mastodon's: an Update applies unless it is older than what is held):
    newer than the stored version applies; older is ignored (updates arrive out of
    order); equal applies only when it changes the text, so a repeated delivery is no
    edit while a second edit stamped in the same millisecond is not lost.
    """
    if post["deleted_at"] is not None:
        raise NoteIgnored("the post was deleted")
    edited, stored = _micros(edited_at), await _version_time(ex, post)
    if edited < stored:
        raise NoteIgnored("older than the stored version")
    if edited == stored and content_html == post["content_html"]:
        raise NoteIgnored("the stored version already")


def _author_of(note: Note, signer: Row | None) -> str:
    """Whose note this is: the signer's, who must be among its `attributedTo` (a missing
    one is the signer's); without a signer, the author it names."""
    claimed = attributed_actor_ids(note.raw.get("attributedTo"))
    if signer is not None:
        if claimed and signer["ap_id"] not in claimed:
            raise NoteForged("the note is attributed to someone other than the actor")
        return str(signer["ap_id"])
    if not note.attributed_to:
        raise NoteRejected("the note names no author")
    return note.attributed_to


def _narrowest(a: Visibility, b: Visibility) -> Visibility:
    return max(a, b, key=_VISIBILITY_ORDER.index)


class RemoteNotes:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        actors: RemoteActors,
        urls: LocalUrls,
        *,
        notifications: Notifier,
    ) -> None:
        self.db = db
        self.ids = ids
        self.actors = actors
        self.urls = urls
        self.notifications = notifications

    async def _local_accounts(self, addresses: Iterable[str]) -> list[int]:
        ids: list[int] = []
        for addr in addresses:
            username = self.urls.parse_actor(addr)
            if username is None:
                continue
            account = await accounts_q.get_local_by_username(self.db, username)
            if account is not None:
                ids.append(int(account["id"]))
        return list(dict.fromkeys(ids))

    async def _local_recipients(self, note: Note) -> tuple[list[int], list[int]]:
        """(mentioned, silent) local accounts: a `Mention` tag notifies; being only in
        `to`/`cc` gives sight of the post and no notification (as Mastodon's silent
        mentions), or any server could notify anyone here of anything."""
        mentioned = await self._local_accounts(m.href for m in note.mentions)
        addressed = await self._local_accounts([*note.to, *note.cc])
        return mentioned, [i for i in addressed if i not in mentioned]

    async def ingest(
        self,
        doc: dict[str, Any],
        *,
        author: Row | None = None,
        fetch_budget: int = MAX_ANCESTORS,
        _chain: frozenset[str] = frozenset(),
    ) -> Row:
        """Store a remote note (or return it when known); returns the post row.

        `author` is the signer of the activity that brought the note, who must be its
        author (`NoteForged` otherwise); without it the note was fetched from its origin
        and its `attributedTo` is believed.

        `_chain` holds the ids of the notes whose ingest led here (their replies), so a
        parent chain that loops back is cut instead of fetched round and round.
        """
        try:
            note = parse_note(doc)
        except VocabError as exc:
            raise NoteRejected(str(exc)) from exc
        if note.type not in NOTE_TYPES:
            raise NoteRejected(f"unsupported object type {note.type}")
        author_ap_id = _author_of(note, author)
        if origin_of(author_ap_id) != origin_of(note.id):
            raise NoteRejected("the note and its author are on different hosts")
        if self.urls.is_local(note.id):
            raise NoteRejected("a remote server cannot create our notes")
        if author is None:
            try:
                author = await self.actors.get_or_fetch(author_ap_id)
            except ActorFetchFailed as exc:
                raise NoteRejected(f"author unavailable: {exc}") from exc
        existing = await posts_q.get_by_ap_id(self.db, note.id)
        if existing is not None:
            return existing
        visibility = visibility_of(note.to, note.cc, author["ap_followers"])
        local_parent = await self._local_parent(note.in_reply_to)
        if local_parent is not None:
            # A reply never widens a local parent's audience: it is shown no wider than
            # the parent, and only linked under it when its author may see the parent.
            visibility = _narrowest(visibility, local_parent["visibility"])
            parent_id = (
                int(local_parent["id"])
                if await can_see(self.db, author["id"], local_parent)
                else None
            )
        else:
            parent_id = await self._parent(note.in_reply_to, fetch_budget, _chain | {note.id})
        content = render_content(note)
        post_id = self.ids.next_id()
        mentioned, silent = await self._local_recipients(note)
        async with self.db.transaction() as tx:
            if await posts_q.get_by_ap_id(tx, note.id) is not None:
                found = await posts_q.get_by_ap_id(tx, note.id)
                assert found is not None
                return found
            await posts_q.insert_post(
                tx,
                {
                    "id": post_id,
                    "account_id": author["id"],
                    "local": 0,
                    "ap_id": note.id,
                    "url": note.url or note.id,
                    "in_reply_to_id": parent_id,
                    "in_reply_to_ap_id": note.in_reply_to,
                    "content_html": content,
                    "summary": (note.summary or "")[:1000],
                    "sensitive": 1 if note.sensitive else 0,
                    "visibility": visibility,
                    "language": normalize_language(note.language),
                    "created_at": int(note.published or now()),
                    "updated_at": int(note.updated) if note.updated else None,
                    "ap_json": json.dumps(note.raw)[:200_000],
                },
            )
            await posts_q.add_recipients(tx, post_id, mentioned)
            await posts_q.add_recipients(tx, post_id, silent, mentioned=False)
            # Peers send names with the sign ("#tag"); the key makes `#ViệtNam` from Mastodon
            # and `#việtnam` from here one tag.
            await store_post_tags(tx, self.ids, post_id, (h.name for h in note.hashtags), now())
            if parent_id is not None:
                await posts_q.bump_count(tx, parent_id, "replies_count", 1)
            await self.notifications.new_post(
                tx,
                author_id=author["id"],
                post_id=post_id,
                mentioned_ids=mentioned,
                parent_id=parent_id,
            )
            await posts_q.attach_orphan_replies(tx, post_id, note.id)
        row = await posts_q.get(self.db, post_id)
        assert row is not None
        return row

    async def _local_parent(self, in_reply_to: str | None) -> Row | None:
        """The local post a note answers, when it answers one of ours that exists."""
        local_id = self.urls.parse_note(in_reply_to) if in_reply_to else None
        if local_id is None:
            return None
        parent = await posts_q.get(self.db, local_id)
        return parent if parent is not None and parent["local"] else None

    async def _parent(
        self, in_reply_to: str | None, budget: int, chain: frozenset[str]
    ) -> int | None:
        if not in_reply_to:
            return None
        if self.urls.is_local(in_reply_to):
            return None  # ours, yet not a local post we have: nothing to fetch
        known = await posts_q.get_by_ap_id(self.db, in_reply_to)
        if known is not None:
            return int(known["id"])
        if budget <= 0:
            return None
        if in_reply_to in chain:
            log.info("reply cycle at %s: not fetching it again", in_reply_to)
            return None
        try:
            doc = await self.actors.fetch_document(in_reply_to)
            parent = await self.ingest(doc, fetch_budget=budget - 1, _chain=chain)
        except (FetchError, NoteRejected) as exc:
            log.info("could not fetch parent %s: %s", in_reply_to, exc)
            return None
        return int(parent["id"])

    async def update(self, doc: dict[str, Any], actor_ap_id: str) -> Row | None:
        """Apply an Update(Note) from its author; keeps the previous text as an edit.

        None for a post we do not have (or not by this actor). `NoteIgnored` when the
        update is no edit (no `updated`, as Mastodon sends for poll tallies), is older
        than what we hold (updates can arrive out of order), or is of a deleted post.
        """
        try:
            note = parse_note(doc)
        except VocabError as exc:
            raise NoteRejected(str(exc)) from exc
        claimed = attributed_actor_ids(note.raw.get("attributedTo"))
        if claimed and actor_ap_id not in claimed:
            raise NoteForged("the note is attributed to someone other than the actor")
        existing = await posts_q.get_by_ap_id(self.db, note.id)
        if existing is None or existing["author_ap_id"] != actor_ap_id:
            return None
        if note.updated is None:
            raise NoteIgnored("no edit time: not an edit")
        content = render_content(note)
        await _check_edit_applies(self.db, existing, note.updated, content)
        async with self.db.transaction() as tx:
            current = await posts_q.get(tx, existing["id"])
            assert current is not None  # posts are tombstoned, never removed
            await _check_edit_applies(tx, current, note.updated, content)  # again, locked
            await posts_q.add_edit(
                tx,
                edit_id=self.ids.next_id(),
                post_id=current["id"],
                content_html=current["content_html"],
                summary=current["summary"],
                now=now(),
            )
            await posts_q.update_content(
                tx,
                current["id"],
                {
                    "content_html": content,
                    "summary": (note.summary or "")[:1000],
                    "sensitive": 1 if note.sensitive else 0,
                    "updated_at": int(note.updated),
                    "ap_json": json.dumps(note.raw)[:200_000],
                },
            )
            await store_post_tags(
                tx, self.ids, current["id"], (h.name for h in note.hashtags), now()
            )
        return await posts_q.get(self.db, existing["id"])
