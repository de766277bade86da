"""Remote interaction: what `/authorize_interaction?uri=…` names, an account or a post.

WebFinger advertises that template (rel `http://ostatus.org/schema/1.0/subscribe`) so that
someone reading a post or a profile on another server can act on it from here: their
server's "interact" button sends them to us with the object's id. Accounts resolve as the
search box does; posts are looked up here first, then fetched from their origin through the
signed, SSRF-guarded client and stored like any remote note.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from activitypub.fetch import FetchError
from activitypub.vocab import classify
from instance.db import Database
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.errors import N_, NotFound
from instance.federation.lookup import Lookup
from instance.federation.notes_in import NoteRejected, RemoteNotes
from instance.federation.remote_actors import ActorFetchFailed, RemoteActors
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

MAX_URI_CHARS = 2048


@dataclass(frozen=True)
class InteractionTarget:
    """Exactly one of the two is set."""

    account: Row | None = None
    post: Row | None = None


def _normalise(uri: str) -> str:
    """`acct:name@host` and `@name@host` become the handle the lookup understands."""
    uri = uri.strip()
    if uri.lower().startswith("acct:"):
        uri = uri[5:]
    return uri


class RemoteInteraction:
    def __init__(
        self,
        db: Database,
        lookup: Lookup,
        actors: RemoteActors,
        notes: RemoteNotes,
        urls: LocalUrls,
    ) -> None:
        self.db = db
        self.lookup = lookup
        self.actors = actors
        self.notes = notes
        self.urls = urls

    async def resolve(self, uri: str) -> InteractionTarget:
        """The account or post `uri` names; NotFound with a reason otherwise."""
        uri = _normalise(uri)
        if not uri or len(uri) > MAX_URI_CHARS or any(ord(c) < 0x20 for c in uri):
            raise NotFound(N_("That address does not name an account or a post."))
        if not uri.startswith(("https://", "http://")):
            return InteractionTarget(account=await self.lookup.find(uri))
        local_post = self.urls.parse_note(uri)
        if local_post is not None:
            row = await posts_q.get(self.db, local_post)
            if row is None or not row["local"]:
                raise NotFound(N_("That post is not here."))
            return InteractionTarget(post=row)
        if self.urls.is_local(uri):
            return InteractionTarget(account=await self.lookup.find(uri))
        known = await posts_q.get_by_ap_id(self.db, uri)
        if known is not None:
            return InteractionTarget(post=known)
        return await self._fetch(uri)

    async def _fetch(self, uri: str) -> InteractionTarget:
        try:
            doc = await self.actors.fetch_document(uri)
            kind = classify(doc)
            if kind == "actor":
                return InteractionTarget(account=await self.actors.get_or_fetch(str(doc["id"])))
            if kind == "note":
                return InteractionTarget(post=await self.notes.ingest(doc))
        except (FetchError, ActorFetchFailed, NoteRejected) as exc:
            # What someone looked up is theirs: the log says only that a lookup failed.
            log.info("an interaction lookup failed (%s)", type(exc).__name__)
            raise NotFound(N_("That address could not be reached or read.")) from exc
        raise NotFound(N_("That address does not name an account or a post."))
