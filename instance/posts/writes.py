"""One writer per post action: create, edit, delete, like and share (and their undo).

Each method is the action's whole write: the rows, counters, hashtags, recipients, edit
history or tombstone, the notifications (through the one `Notifier`) and, when the actor
is local, the outgoing activity. The local `PostService` (web forms, later the client API)
and the inbox (`federation/notes_in.py`, `handle_notes.py`, `handle_reactions.py`) both
call these, so a post behaves the same whoever wrote it. Validation and resolving (what the
text mentions, who the author is) happen before, outside the transaction.

Posts to followers leave with one `fanout` job (`outbound/fanout.py`); a direct post, or a
like, goes to its few addressees' inboxes at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from instance.db import Database, search_index
from instance.db import account_removal as removal_q
from instance.db import accounts as accounts_q
from instance.db import media as media_q
from instance.db import posts as posts_q
from instance.db import reactions as reactions_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.ids import IdGenerator, now
from instance.media.uploads import MEDIA_PURGE
from instance.notifications.writer import Notifier
from instance.outbound.fanout import FanOut
from instance.outbound.note_documents import NoteDocuments
from instance.outbound.outbox import Outbox
from instance.outbound.to_ap import notes as notes_ap
from instance.outbound.to_ap import reactions as reactions_ap
from instance.posts import attachments
from instance.posts.attachments import Attachment
from instance.posts.hashtags import store_post_tags
from instance.posts.visibility import can_see
from instance.urls import LocalUrls

__all__ = [
    "Attachment",
    "Audience",
    "EditGuard",
    "Executor",
    "NewPost",
    "PostContent",
    "PostWriter",
    "Row",
]

# (counter column, notification kind) of each reaction table.
REACTIONS = {"likes": ("likes_count", "like"), "shares": ("shares_count", "share")}
SHAREABLE = ("public", "unlisted")

# Run inside an edit's transaction on the current row; raises to refuse the edit there.
EditGuard = Callable[[Executor, Row], Awaitable[None]]


@dataclass(frozen=True)
class PostContent:
    """What a version of a post holds: what an edit replaces."""

    content_html: str
    summary: str
    sensitive: bool
    hashtags: tuple[str, ...]
    content_source: str = ""  # the text a local author wrote; remote posts have none
    ap_json: str | None = None  # the document a remote post came as (None when too big)
    # Its attachments in order; on an edit, None leaves them as they are.
    attachments: tuple[Attachment, ...] | None = None


@dataclass(frozen=True)
class Audience:
    """Local accounts a post is addressed to (they may see it) and those told of it."""

    addressed: tuple[int, ...] = ()  # mentioned, or the author answered
    silent: tuple[int, ...] = ()  # only in to/cc of a remote note: they see it, unnotified
    notified: tuple[int, ...] = ()  # get a `mention` notification


@dataclass(frozen=True)
class NewPost:
    """The row values of a new post. A local post's id and ap_id are made by the writer."""

    author: Row
    content: PostContent
    visibility: str
    language: str | None
    created_at: int
    audience: Audience = field(default_factory=Audience)
    updated_at: int | None = None
    in_reply_to_id: int | None = None
    in_reply_to_ap_id: str | None = None
    ap_id: str | None = None
    url: str | None = None


def shareable(post: Row) -> bool:
    """Only public and unlisted posts can be shared (by anyone, from anywhere)."""
    return post["visibility"] in SHAREABLE


class PostWriter:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        urls: LocalUrls,
        *,
        notifications: Notifier,
        outbox: Outbox,
        fanout: FanOut,
        documents: NoteDocuments,
    ) -> None:
        self.db = db
        self.ids = ids
        self.urls = urls
        self.notifications = notifications
        self.outbox = outbox
        self.fanout = fanout
        self.documents = documents

    # --- the lookups the inbox needs before it calls a writer ---

    async def get(self, post_id: int) -> Row | None:
        return await posts_q.get(self.db, post_id)

    async def by_ap_id(self, ap_id: str) -> Row | None:
        return await posts_q.get_by_ap_id(self.db, ap_id)

    async def find(self, object_id: str | None) -> Row | None:
        """The post an ActivityPub id names: one of ours by its URL, else a stored remote one."""
        if not object_id:
            return None
        local_id = self.urls.parse_note(object_id)
        if local_id is not None:
            return await posts_q.get(self.db, local_id)
        return await posts_q.get_by_ap_id(self.db, object_id)

    async def can_see(self, account_id: int | None, post: Row) -> bool:
        return await can_see(self.db, account_id, post)

    async def local_account_id(self, username: str) -> int | None:
        account = await accounts_q.get_local_by_username(self.db, username)
        return None if account is None else int(account["id"])

    async def stored_document(self, ex: Executor, post_id: int) -> str | None:
        """The JSON a remote post was stored from (None for local or oversized ones)."""
        return await posts_q.ap_json(ex, post_id)

    async def reaction(self, kind: str, account_id: int, post_id: int) -> Row | None:
        return await reactions_q.get(self.db, kind, account_id, post_id)

    async def reaction_by_ap_id(self, kind: str, ap_id: str) -> Row | None:
        return await reactions_q.get_by_ap_id(self.db, kind, ap_id)

    # --- create, edit, delete ---

    async def create(self, new: NewPost) -> Row:
        """Store a post; a remote one already stored (by ap_id) is returned as it is."""
        author = new.author
        local = bool(author["local"])
        post_id = self.ids.next_id()
        ap_id = self.urls.note(author["username"], post_id) if local else new.ap_id
        assert ap_id is not None, "a remote post needs its ap_id"
        url = self.urls.note_page(author["username"], post_id) if local else new.url or ap_id
        async with self.db.transaction() as tx:
            if not local and (found := await posts_q.get_by_ap_id(tx, ap_id)) is not None:
                return found
            await posts_q.insert_post(
                tx,
                {
                    "id": post_id,
                    "account_id": author["id"],
                    "local": 1 if local else 0,
                    "ap_id": ap_id,
                    "url": url,
                    "in_reply_to_id": new.in_reply_to_id,
                    "in_reply_to_ap_id": new.in_reply_to_ap_id,
                    "content_source": new.content.content_source,
                    "content_html": new.content.content_html,
                    "summary": new.content.summary,
                    "sensitive": 1 if new.content.sensitive else 0,
                    "visibility": new.visibility,
                    "language": new.language,
                    "created_at": new.created_at,
                    "updated_at": new.updated_at,
                    "ap_json": new.content.ap_json,
                },
            )
            await attachments.store(
                tx,
                self.ids,
                post_id=post_id,
                account_id=author["id"],
                attachments=new.content.attachments or (),
            )
            await posts_q.add_recipients(tx, post_id, list(new.audience.addressed))
            await posts_q.add_recipients(tx, post_id, list(new.audience.silent), mentioned=False)
            # Tags are stored by key: `#ViệtNam` from Mastodon and `#việtnam` from here are one.
            await store_post_tags(tx, self.ids, post_id, new.content.hashtags, now())
            if new.in_reply_to_id is not None:
                await posts_q.bump_count(tx, new.in_reply_to_id, "replies_count", 1)
            await self.notifications.new_post(
                tx,
                author_id=author["id"],
                post_id=post_id,
                mentioned_ids=new.audience.notified,
                parent_id=new.in_reply_to_id,
            )
            if not local:
                # Replies that arrived before this post are linked to it now.
                await posts_q.attach_orphan_replies(tx, post_id, ap_id)
            post = await posts_q.get(tx, post_id)
            assert post is not None
            if local:
                # Found by search from the same commit on, if public and its author allows.
                await search_index.index_post(tx, post_id)
                note = await self.documents.note(tx, post)
                published = post["updated_at"] or post["created_at"]
                await self._send(tx, post, notes_ap.create(note, published=published))
        return post

    async def edit(
        self,
        post: Row,
        content: PostContent,
        audience: Audience,
        *,
        updated_at: int,
        guard: EditGuard | None = None,
    ) -> Row:
        """A new version of a post: the old one goes to its edit history.

        The new version decides who is addressed: a dropped mention drops that person (they
        keep what they already received); someone newly mentioned is told, the others were
        told already (a notification is written once). `guard` runs first, inside the
        transaction, on the current row.
        """
        async with self.db.transaction() as tx:
            current = await posts_q.get(tx, post["id"])
            assert current is not None  # posts are tombstoned, never removed
            if guard is not None:
                await guard(tx, current)
            await posts_q.add_edit(
                tx,
                edit_id=self.ids.next_id(),
                post_id=current["id"],
                content_html=current["content_html"],
                summary=current["summary"],
                now=now(),
            )
            values: dict[str, Any] = {
                "content_html": content.content_html,
                "summary": content.summary,
                "sensitive": 1 if content.sensitive else 0,
                "updated_at": updated_at,
            }
            if current["local"]:
                values["content_source"] = content.content_source
            else:
                values["ap_json"] = content.ap_json
            await posts_q.update_content(tx, current["id"], values)
            if content.attachments is not None:
                freed = await attachments.replace(
                    tx,
                    self.ids,
                    post_id=current["id"],
                    account_id=current["account_id"],
                    local=bool(current["local"]),
                    attachments=content.attachments,
                )
                await self._purge_later(tx, freed)
            await posts_q.replace_recipients(
                tx, current["id"], list(audience.addressed), silent=list(audience.silent)
            )
            await self.notifications.new_post(
                tx,
                author_id=current["account_id"],
                post_id=current["id"],
                mentioned_ids=audience.notified,
                parent_id=None,
            )
            await store_post_tags(tx, self.ids, current["id"], content.hashtags, now())
            updated = await posts_q.get(tx, current["id"])
            assert updated is not None
            if updated["local"]:
                # The index holds the new words only: the old ones find it no more.
                await search_index.index_post(tx, updated["id"])
                note = await self.documents.note(tx, updated)
                activity_id = self.urls.activity(updated["username"], "update", self.ids.next_id())
                activity = notes_ap.update(note, activity_id, published=updated_at)
                await self._send(tx, updated, activity)
        return updated

    async def delete(self, post: Row) -> bool:
        """Tombstone a post (its parent counts one reply less); False when already gone."""
        async with self.db.transaction() as tx:
            current = await posts_q.get(tx, post["id"])
            # A second Delete (peers resend them) must not count the reply off twice.
            if current is None or current["deleted_at"] is not None:
                return False
            activity = None
            if current["local"]:
                to, cc = await self.documents.addressing(tx, current)
                activity = notes_ap.delete(
                    self.documents.ap_id_of(current),
                    self.urls.actor(current["username"]),
                    to=to,
                    cc=cc,
                )
            await posts_q.mark_deleted(tx, current["id"], now())
            await search_index.unindex_post(tx, current["id"])
            # The files outlive the post a little: peers fetching the Delete's object get
            # a 404 for the note, and nothing is served from here once the job has run.
            await self._purge_later(tx, await attachments.keys_of_post(tx, current["id"]))
            await media_q.delete_of_post(tx, current["id"])
            if current["in_reply_to_id"]:
                await posts_q.bump_count(tx, current["in_reply_to_id"], "replies_count", -1)
            if activity is not None:
                await self._send(tx, current, activity)
        return True

    async def remove_actor(self, actor: Row) -> None:
        """A remote actor deleted itself: its posts go and the account is closed (its follows
        are the relationship writer's, `RelationshipWriter.forget_actor`)."""
        async with self.db.transaction() as tx:
            await posts_q.delete_all_of_account(tx, actor["id"], now())
            await media_q.delete_of_account(tx, actor["id"])
            # Its likes and shares of posts here go too (the counts drop), and what it
            # caused in people's notifications.
            await removal_q.delete_reactions(tx, actor["id"])
            await removal_q.delete_notifications_from(tx, actor["id"])
            await accounts_q.set_suspended(tx, actor["id"], now())

    async def _purge_later(self, ex: Executor, keys: list[str]) -> None:
        if keys:
            await self.outbox.queue.enqueue(
                ex, MEDIA_PURGE, {"keys": keys}, delay=attachments.PURGE_DELAY
            )

    async def _send(self, ex: Executor, post: Row, activity: dict[str, Any]) -> None:
        """A direct post's activity goes to its addressees only; any other to followers too
        (one fan-out job, expanded outside this transaction)."""
        addressed = await self.documents.addressees(ex, post)
        if post["visibility"] == "direct":
            await self.outbox.to_accounts(
                ex, signer_account_id=post["account_id"], activity=activity, accounts=addressed
            )
        else:
            await self.fanout.to_followers(
                ex, account_id=post["account_id"], activity=activity, also=addressed
            )

    # --- likes and shares ---

    async def react(self, account: Row, post: Row, kind: str, *, ap_id: str | None = None) -> bool:
        """A like or share (kind `likes` / `shares`), once per account and post; False
        when it was there already. A remote one carries its activity's id."""
        column, notice = REACTIONS[kind]
        row_id = self.ids.next_id()
        if account["local"]:
            ap_id = self.urls.activity(account["username"], kind, row_id)
        async with self.db.transaction() as tx:
            added = await reactions_q.add(
                tx,
                kind,
                row_id=row_id,
                account_id=account["id"],
                post_id=post["id"],
                ap_id=ap_id,
                now=now(),
            )
            if not added:
                return False
            await posts_q.bump_count(tx, post["id"], column, 1)
            await self.notifications.notify(
                tx,
                recipient=post["account_id"],
                kind=notice,
                from_account_id=account["id"],
                post_id=post["id"],
            )
            if account["local"]:
                assert ap_id is not None
                await self._send_reaction(tx, account, post, kind, ap_id, undo=False)
        return True

    async def unreact(self, account: Row, post_id: int, kind: str) -> bool:
        """Take a like or share back (its notification goes too); False when there was none."""
        column, notice = REACTIONS[kind]
        async with self.db.transaction() as tx:
            existing = await reactions_q.get(tx, kind, account["id"], post_id)
            if existing is None:
                return False
            await reactions_q.remove(tx, kind, account["id"], post_id)
            await posts_q.bump_count(tx, post_id, column, -1)
            post = await posts_q.get(tx, post_id)
            if post is None:
                return True
            await self.notifications.withdraw(
                tx,
                recipient_id=post["account_id"],
                kinds=(notice,),
                from_account_id=account["id"],
                post_id=post_id,
            )
            # A local like or share always has its activity id (`react` sets it).
            if account["local"] and existing["ap_id"] is not None:
                await self._send_reaction(tx, account, post, kind, existing["ap_id"], undo=True)
        return True

    async def _send_reaction(
        self, ex: Executor, account: Row, post: Row, kind: str, ap_id: str, *, undo: bool
    ) -> None:
        """A like goes to the post's author; a share (and its undo) to our followers too."""
        author = await accounts_q.get_by_id(ex, post["account_id"])
        assert author is not None
        actor = self.urls.actor(account["username"])
        object_id = self.documents.ap_id_of(post)
        to: list[str] | None = None
        cc: list[str] | None = None
        if kind == "shares":
            to, cc = reactions_ap.announce_addressing(
                post["visibility"],
                author_id=self.documents.actor_id_of(author),
                followers=self.urls.followers(account["username"]),
            )
        if undo:
            undo_id = self.urls.activity(account["username"], "undo", self.ids.next_id())
            activity = reactions_ap.undo(undo_id, kind, ap_id, actor, object_id, to=to, cc=cc)
        elif to is not None and cc is not None:
            activity = reactions_ap.share(ap_id, actor, object_id, published=now(), to=to, cc=cc)
        else:
            activity = reactions_ap.reaction(kind, ap_id, actor, object_id, published=now())
        if kind == "shares":
            await self.fanout.to_followers(
                ex, account_id=account["id"], activity=activity, also=[author]
            )
        else:
            await self.outbox.to_accounts(
                ex, signer_account_id=account["id"], activity=activity, accounts=[author]
            )
