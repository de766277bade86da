"""What this instance serves over ActivityPub: actors, notes, collections, with access checks.

Public things are served to anyone, unsigned (our keys and actors must be fetchable
without a signature). Followers-only and direct notes go only to a signed request
from an actor allowed to see them; a forbidden note answers exactly like a missing one,
and so does a deleted one to anyone who could not have seen it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from activitypub.outgoing import omit_empty_arrays
from activitypub.signatures import SignatureError, parse_request_signature, verify_parsed
from activitypub.vocab import origin_of
from instance.db import Database
from instance.db import account_moves as moves_q
from instance.db import accounts as accounts_q
from instance.db import follows as follows_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.errors import NotFound
from instance.federation.document_cache import CachedDocument, DocumentCache
from instance.federation.remote_actors import RemoteActors
from instance.outbound import to_ap
from instance.outbound.actor_keys import ActorKeys
from instance.outbound.note_documents import NoteDocuments
from instance.outbound.to_ap import notes as notes_ap
from instance.posts.visibility import can_see, could_have_seen, visibilities_for, visible_posts
from instance.urls import LocalUrls

# The instance actor changes only with its key, which a process reads once at start.
INSTANCE_ACTOR_MAX_AGE = 3600.0
# A note's replies collection is served as one page; longer threads are read from their
# authors' servers by peers that want them.
REPLIES_PAGE_SIZE = 100


class Gone(Exception):
    """The object existed and was deleted: answer 410 with a Tombstone."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__("gone")
        self.document = document


class Documents:
    def __init__(
        self,
        db: Database,
        urls: LocalUrls,
        actors: RemoteActors,
        notes: NoteDocuments,
        host: str,
        cache: DocumentCache,
        keys: ActorKeys,
    ) -> None:
        self.db = db
        # A local actor's key is made the first time its document is asked for.
        self.keys = keys
        self.urls = urls
        self.actors = actors
        self.notes = notes
        self.host = host
        self.cache = cache

    async def signer(self, method: str, url: str, headers: Mapping[str, str]) -> Row | None:
        """The remote account that signed this GET, or None when unsigned or invalid."""
        try:
            parsed = parse_request_signature(method, url, headers, b"")
        except SignatureError:
            return None
        for refresh in (False, True):
            found = await self.actors.lookup_key(parsed.key_id, refresh=refresh)
            if found is None:
                return None
            owner, pem = found
            if origin_of(owner) != origin_of(parsed.key_id):
                return None  # a key speaks only for actors on its own host
            try:
                await asyncio.to_thread(verify_parsed, parsed, pem)
            except SignatureError:
                continue
            return await accounts_q.get_by_ap_id(self.db, owner)
        return None

    async def _local(self, username: str) -> Row:
        account = await accounts_q.get_local_by_username(self.db, username)
        if account is not None and account["deleted_at"] is not None:
            # As Mastodon answers for a deleted actor: 410 with a Tombstone.
            raise Gone(to_ap.tombstone(self.urls.actor(account["username"]), account["deleted_at"]))
        if account is None or account["ap_type"] != "Person" or account["suspended_at"]:
            raise NotFound()
        return account

    async def actor(self, username: str) -> dict[str, Any]:
        account = await self._local(username)
        key = await self.keys.for_account(account["id"])
        assert key is not None  # a local account always gets one
        moves = await moves_q.get(self.db, account["id"])
        return to_ap.person(self.urls, account, key["public_pem"], moves)

    async def actor_document(self, username: str) -> CachedDocument:
        """`actor` as the bytes served, from the cache (same 404 for suspended or unknown)."""

        async def build() -> bytes:
            return encode_ap(await self.actor(username))

        return await self.cache.get(("actor", username), build)

    def cached_actor(self, username: str) -> CachedDocument | None:
        """What `actor_document` would answer from memory now, or None. Only documents are
        kept, so a suspended, deleted or unknown account is always None."""
        return self.cache.peek(("actor", username))

    async def instance_actor_document(self, public_pem: str) -> CachedDocument:
        async def build() -> bytes:
            return encode_ap(await self.instance_actor(public_pem))

        return await self.cache.get(("instance-actor",), build, max_age=INSTANCE_ACTOR_MAX_AGE)

    def cached_instance_actor(self) -> CachedDocument | None:
        return self.cache.peek(("instance-actor",))

    def instance_outbox(self) -> dict[str, Any]:
        return to_ap.ordered_collection(self.urls.instance_outbox, 0, first=None, items=[])

    async def instance_actor(self, public_pem: str) -> dict[str, Any]:
        return to_ap.instance_actor(self.urls, self.host, public_pem)

    async def note(self, viewer: Row | None, username: str, post_id: int) -> dict[str, Any]:
        post = await posts_q.get(self.db, post_id)
        if post is None or not post["local"] or post["username"] != username:
            raise NotFound()
        viewer_id = viewer["id"] if viewer else None
        if post["deleted_at"] is not None:
            # A Tombstone only for those who could have seen the note; a deleted followers-only
            # or direct note is, to anyone else, the same 404 as one that never existed.
            if not await could_have_seen(self.db, viewer_id, post):
                raise NotFound()
            raise Gone(to_ap.tombstone(self.urls.note(username, post_id), post["deleted_at"]))
        if not await can_see(self.db, viewer_id, post):
            raise NotFound()
        return await self.notes.note(self.db, post)

    async def replies_collection(
        self, viewer: Row | None, username: str, post_id: int, *, page: bool
    ) -> dict[str, Any]:
        """The note's replies the requester may see: a Collection, or its one page of ids."""
        await self.note(viewer, username, post_id)  # same access rules, same 404 / 410
        collection_id = self.urls.replies(username, post_id)
        page_id = self.urls.page(collection_id)
        if not page:
            return to_ap.collection(collection_id, first=page_id)
        rows = await posts_q.replies_to(self.db, post_id, limit=REPLIES_PAGE_SIZE)
        viewer_id = viewer["id"] if viewer else None
        items = [self.notes.ap_id_of(r) for r in await visible_posts(self.db, viewer_id, rows)]
        return to_ap.collection_page(page_id, collection_id, items)

    async def create_activity(
        self, viewer: Row | None, username: str, post_id: int
    ) -> dict[str, Any]:
        return notes_ap.create(await self.note(viewer, username, post_id))

    async def outbox(
        self, viewer: Row | None, username: str, *, page: bool, max_id: int | None
    ) -> dict[str, Any]:
        """The account's public, unlisted (and, for an accepted follower, followers-only)
        posts as Create activities, newest first, paged down by ``max_id``.

        The collection links only ``first``; each page links ``next`` (older posts). Every
        post is checked with :func:`can_see` for the signer, so a blocked one gets nothing.
        """
        account = await self._local(username)
        collection = self.urls.outbox(username)
        if not page:
            total = await posts_q.count_by_account(self.db, account["id"], ("public", "unlisted"))
            return to_ap.ordered_collection(collection, total, first=self.urls.page(collection))
        viewer_id = viewer["id"] if viewer else None
        is_follower = False
        if viewer_id is not None:
            follow = await follows_q.get_follow(self.db, viewer_id, account["id"])
            is_follower = follow is not None and follow["state"] == "accepted"
        rows = await posts_q.by_account(
            self.db,
            account["id"],
            visibilities=visibilities_for(is_self=False, is_follower=is_follower),
            limit=to_ap.PAGE_SIZE,
            max_id=max_id,
        )
        items = []
        for row in await visible_posts(self.db, viewer_id, rows):
            note = await self.notes.note(self.db, row, with_context=False)
            # Without its own context: the page's covers its items.
            items.append(notes_ap.create(note))
        page_id = self.urls.page(collection, max_id=max_id)
        # Paging follows the rows read, not the items kept, so a filtered page still leads on.
        next_url = (
            self.urls.page(collection, max_id=rows[-1]["id"])
            if len(rows) == to_ap.PAGE_SIZE
            else None
        )
        return to_ap.ordered_page(page_id, collection, items, next_url=next_url, prev_url=None)

    async def follow_collection(
        self, username: str, which: str, *, page: bool, max_id: int | None
    ) -> dict[str, Any]:
        account = await self._local(username)
        collection = (
            self.urls.followers(username) if which == "followers" else self.urls.following(username)
        )
        count = follows_q.count_followers if which == "followers" else follows_q.count_following
        total = await count(self.db, account["id"])
        if not page:
            return to_ap.ordered_collection(
                collection, total, first=self.urls.page(collection, "1")
            )
        lister = follows_q.list_followers if which == "followers" else follows_q.list_following
        rows = await lister(self.db, account["id"], limit=to_ap.PAGE_SIZE * 2, max_id=max_id)
        items = [self.urls.actor(r["username"]) if r["local"] else r["ap_id"] for r in rows]
        next_url = (
            self.urls.page(collection, "1", max_id=rows[-1]["follow_id"])
            if len(rows) == to_ap.PAGE_SIZE * 2
            else None
        )
        page_id = self.urls.page(collection, "1", max_id=max_id)
        return to_ap.ordered_page(page_id, collection, items, next_url=next_url, prev_url=None)

    async def featured(self, username: str) -> dict[str, Any]:
        await self._local(username)
        return to_ap.ordered_collection(self.urls.featured(username), 0, first=None, items=[])


def encode_ap(doc: dict[str, Any]) -> bytes:
    """An ActivityPub document as served: empty arrays left out, UTF-8 JSON."""
    return json.dumps(omit_empty_arrays(doc), ensure_ascii=False).encode()
