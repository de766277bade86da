"""Remote notes into `posts`: checked, addressed, linked to their parent, bounded fetching.

A reply whose parent is unknown fetches the parent chain, at most MAX_ANCESTORS
deep and with a per-call budget, so a hostile peer cannot make us loop. A parent that is
already being ingested further down the same chain (notes answering each other) is not
fetched again, and stored parent links never form a loop.

The note is turned into row values by `from_ap/notes.py` and written by the post writer
(`posts/writes.py`), the same one local posts use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from activitypub.fetch import FetchError
from activitypub.vocab import (
    NOTE_TYPES,
    Note,
    Visibility,
    VocabError,
    origin_of,
    parse_note,
    visibility_of,
)
from instance.federation.from_ap import notes as from_ap
from instance.federation.remote_actors import ActorFetchFailed, RemoteActors
from instance.posts.attachments import MAX_ATTACHMENTS
from instance.posts.writes import Audience, Executor, PostWriter, Row
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

MAX_ANCESTORS = 8
# Narrowest last: a reply is never shown wider than its local parent.
_VISIBILITY_ORDER: tuple[Visibility, ...] = ("public", "unlisted", "followers", "direct")


class NoteRejected(Exception):
    """The note cannot be stored (bad shape, wrong origin, unknown author)."""


class NoteForged(NoteRejected):
    """The note is attributed to someone other than the actor that sent it."""


class NoteIgnored(Exception):
    """An update that changes nothing we keep (stale, not an edit, or of a deleted post)."""


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


async def _version_time(writer: PostWriter, ex: Executor, post: Row) -> int:
    """When the stored version was written, in µs, at the precision its peer gave.

    The `updated_at`/`created_at` columns hold whole seconds; the stored document keeps
    the timestamps as sent (Mastodon sends milliseconds), so it is read first.
    """
    stamp = from_ap.stored_version_time(await writer.stored_document(ex, post["id"]))
    if stamp is not None:
        return _micros(stamp)
    return _micros(int(post["updated_at"] or post["created_at"] or 0))


async def _check_edit_applies(
    writer: PostWriter, ex: Executor, post: Row, edited_at: float, content_html: str
) -> None:
    """`NoteIgnored` unless an edit made at `edited_at` is news for the stored post.

    The rule (Mastodon's: an Update applies unless it is older than what is held):
    newer than the stored version applies; older is ignored (updates arrive out of
    order); equal applies only when it changes the text, so a repeated delivery is no
    edit while a second edit stamped in the same millisecond is not lost.
    """
    if post["deleted_at"] is not None:
        raise NoteIgnored("the post was deleted")
    edited, stored = _micros(edited_at), await _version_time(writer, ex, post)
    if edited < stored:
        raise NoteIgnored("older than the stored version")
    if edited == stored and content_html == post["content_html"]:
        raise NoteIgnored("the stored version already")


def _author_of(note: Note, signer: Row | None) -> str:
    """Whose note this is: the signer's, who must be among its `attributedTo` (a missing
    one is the signer's); without a signer, the author it names."""
    claimed = from_ap.claimed_authors(note)
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
        actors: RemoteActors,
        urls: LocalUrls,
        writer: PostWriter,
        *,
        max_attachments: int = MAX_ATTACHMENTS,
    ) -> None:
        self.actors = actors
        self.urls = urls
        self.max_attachments = max_attachments
        # The one writer of posts; the inbox handlers reach it as `ctx.notes.writer`.
        self.writer = writer

    async def _local_accounts(self, addresses: Iterable[str]) -> list[int]:
        ids: list[int] = []
        for addr in addresses:
            username = self.urls.parse_actor(addr)
            if username is None:
                continue
            account_id = await self.writer.local_account_id(username)
            if account_id is not None:
                ids.append(account_id)
        return list(dict.fromkeys(ids))

    async def _audience(self, note: Note) -> Audience:
        """The local accounts the note addresses: a `Mention` tag notifies; being only in
        `to`/`cc` gives sight of the post and no notification (as Mastodon's silent
        mentions), or any server could notify anyone here of anything."""
        mentioned = await self._local_accounts(m.href for m in note.mentions)
        addressed = await self._local_accounts([*note.to, *note.cc])
        return Audience(
            addressed=tuple(mentioned),
            silent=tuple(i for i in addressed if i not in mentioned),
            notified=tuple(mentioned),
        )

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
        existing = await self.writer.by_ap_id(note.id)
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
                if await self.writer.can_see(author["id"], local_parent)
                else None
            )
        else:
            parent_id = await self._parent(note.in_reply_to, fetch_budget, _chain | {note.id})
        return await self.writer.create(
            from_ap.new_post(
                note,
                author=author,
                visibility=visibility,
                parent_id=parent_id,
                audience=await self._audience(note),
                max_attachments=self.max_attachments,
            )
        )

    async def _local_parent(self, in_reply_to: str | None) -> Row | None:
        """The local post a note answers, when it answers one of ours that exists."""
        local_id = self.urls.parse_note(in_reply_to) if in_reply_to else None
        if local_id is None:
            return None
        parent = await self.writer.get(local_id)
        return parent if parent is not None and parent["local"] else None

    async def _parent(
        self, in_reply_to: str | None, budget: int, chain: frozenset[str]
    ) -> int | None:
        if not in_reply_to:
            return None
        if self.urls.is_local(in_reply_to):
            return None  # ours, yet not a local post we have: nothing to fetch
        known = await self.writer.by_ap_id(in_reply_to)
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
        claimed = from_ap.claimed_authors(note)
        if claimed and actor_ap_id not in claimed:
            raise NoteForged("the note is attributed to someone other than the actor")
        existing = await self.writer.by_ap_id(note.id)
        if existing is None or existing["author_ap_id"] != actor_ap_id:
            return None
        edited_at = note.updated
        if edited_at is None:
            raise NoteIgnored("no edit time: not an edit")
        content = from_ap.content_of(note, max_attachments=self.max_attachments)
        await _check_edit_applies(
            self.writer, self.writer.db, existing, edited_at, content.content_html
        )

        async def still_applies(ex: Executor, current: Row) -> None:
            # Again, under the write lock: another delivery may have won the race.
            await _check_edit_applies(self.writer, ex, current, edited_at, content.content_html)

        return await self.writer.edit(
            existing,
            content,
            await self._audience(note),
            updated_at=int(edited_at),
            guard=still_applies,
        )
