"""Remote actors: fetched, checked, stored in `accounts` with their keys, refreshed on demand.

A key only ever changes through a fetch of the key owner's own document from its
origin, so a forged activity cannot plant a key ("key poisoning"); a failed
verification triggers at most one bounded re-fetch (key rotation).

Every remote document Gapo fetches (actors, keys, notes named by id or as a parent, the
collections a lookup counts) goes through `fetch_document`, which asks nothing of a refused
host (`BlockedHosts.is_blocked`: suspended, or off the allowlist in allowlist mode): an
activity from an allowed sender that names an object or an actor on a blocked third host
does not make this server fetch it.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from activitypub.fetch import Fetcher, FetchError
from activitypub.inbox import KeyNotListed
from activitypub.vocab import Actor, VocabError, origin_of, parse_actor
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import keys as keys_q
from instance.db import media as media_q
from instance.db.connection import Row
from instance.federation.from_ap.actors import (
    domain_of,
    key_document,
    remote_account,
    web_url_or_none,
)
from instance.federation.key_cache import KeyCache
from instance.federation.single_flight import SingleFlight
from instance.ids import IdGenerator, now
from instance.outbound.signing import KeySigner
from instance.shared_state import SharedState
from instance.urls import LocalUrls, remote_file_hash

REFRESH_AFTER = 24 * 3600
KEY_REFETCH_PER_HOST_PER_MINUTE = 10

__all__ = ["ActorFetchFailed", "HostRefused", "RemoteActors", "web_url_or_none"]


class ActorFetchFailed(Exception):
    """The actor could not be fetched or is not a valid actor."""


class HostRefused(FetchError):
    """The document is on a host this server does not federate with: nothing was asked."""


class RemoteActors:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        fetcher: Fetcher,
        urls: LocalUrls,
        instance_signer: KeySigner | None = None,
        *,
        shared: SharedState | None = None,
        refused: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        """`shared` (Redis): the key cache and the fetch locks are shared by every process
        (instance/federation/key_cache.py, single_flight.py); None: all in this process."""
        self.db = db
        self.refused = refused
        self.ids = ids
        self.fetcher = fetcher
        self.urls = urls
        self.instance_signer = instance_signer
        self._refetches: dict[str, deque[float]] = defaultdict(deque)
        self._actor_flights: SingleFlight[Row] = SingleFlight("actor", shared)
        self._key_flights: SingleFlight[tuple[str, str] | None] = SingleFlight("key", shared)
        self._keys = KeyCache(shared)

    async def fetch_document(self, url: str) -> dict[str, Any]:
        """A signed GET of an ActivityPub document (servers in authorized-fetch mode need it),
        never of one on a refused host."""
        host = urlsplit(url).hostname or ""
        if self.refused is not None and host and await self.refused(host):
            raise HostRefused(f"{host} is blocked here")
        _, doc = await self.fetcher.get_json(url, sign=self.instance_signer)
        return doc

    async def get(self, ap_id: str) -> Row | None:
        return await accounts_q.get_by_ap_id(self.db, ap_id)

    async def get_or_fetch(self, ap_id: str, *, refresh: bool = False) -> Row:
        """The stored actor, fetched when unknown, stale, or when asked to refresh."""
        local = self.urls.parse_actor(ap_id)
        if local is not None:
            row = await accounts_q.get_local_by_username(self.db, local)
            if row is None:
                raise ActorFetchFailed(f"no local actor {ap_id}")
            return row
        row = await accounts_q.get_by_ap_id(self.db, ap_id)
        stale = row is not None and (row["ap_fetched_at"] or 0) < now() - REFRESH_AFTER
        if row is not None and not refresh and not stale:
            return row
        started = now()
        try:
            return await self._actor_flights.run(
                ap_id,
                lambda: self._fetch_actor(ap_id),
                settled=lambda: self._fetched_since(ap_id, started),
            )
        except (FetchError, VocabError) as exc:
            if row is not None and not refresh:
                return row  # a stale copy beats none when the origin is briefly down
            raise ActorFetchFailed(str(exc)) from exc

    async def fetch_fresh(self, ap_id: str) -> tuple[Row, Actor]:
        """The actor fetched from its origin now, whatever is stored, then stored: the row
        and the parsed document (a Move is checked against the `alsoKnownAs` of this moment).
        A local actor id gives the local row and no fetch."""
        local = self.urls.parse_actor(ap_id)
        if local is not None:
            raise ActorFetchFailed("a local actor is not fetched")
        try:
            actor = parse_actor(await self.fetch_document(ap_id))
        except (FetchError, VocabError) as exc:
            raise ActorFetchFailed(str(exc)) from exc
        if actor.id != ap_id and origin_of(actor.id) != origin_of(ap_id):
            raise ActorFetchFailed("the actor document names an id on another host")
        return await self.store(actor), actor

    async def _fetched_since(self, ap_id: str, since: int) -> Row | None:
        """The actor as another process just fetched and stored it, if it did."""
        row = await accounts_q.get_by_ap_id(self.db, ap_id)
        return row if row is not None and (row["ap_fetched_at"] or 0) >= since else None

    async def _fetch_actor(self, ap_id: str) -> Row:
        actor = parse_actor(await self.fetch_document(ap_id))
        if actor.id != ap_id and origin_of(actor.id) != origin_of(ap_id):
            raise ActorFetchFailed("the actor document names an id on another host")
        return await self.store(actor)

    async def store(self, actor: Actor) -> Row:
        """Insert or update the actor and its public keys; returns the account row."""
        ts = now()
        account = remote_account(actor)
        username, domain = account.username, account.domain
        values = account.row_values(ts)
        async with self.db.transaction() as tx:
            existing = await accounts_q.get_by_ap_id(tx, actor.id)
            if existing is None:
                clash = await accounts_q.get_by_username_domain(tx, username, domain)
                if clash is not None and clash["ap_id"] != actor.id:
                    # Same handle, new id (the account was re-created): the newest wins the handle.
                    await accounts_q.update_profile(
                        tx, clash["id"], {"username_key": f"{clash['username_key']}~{clash['id']}"}
                    )
                account_id = self.ids.next_id()
                await accounts_q.insert_account(
                    tx,
                    {
                        "id": account_id,
                        "local": 0,
                        "created_at": account.published or ts,
                        "ap_id": actor.id,
                        **values,
                    },
                )
            else:
                account_id = existing["id"]
                await accounts_q.update_profile(tx, account_id, values)
            # Pages show these through /media/proxy/, which serves only URLs learnt so.
            for image_url in (account.avatar_url, account.header_url):
                if image_url:
                    await media_q.remember_remote(tx, remote_file_hash(image_url), image_url, ts)
            for key in account.keys:
                await keys_q.upsert_public_key(
                    tx,
                    keypair_id=self.ids.next_id(),
                    account_id=account_id,
                    key_id=key.id,
                    public_pem=key.pem,
                    now=ts,
                )
        # Keys of this actor may have changed (rotation, a new actor).
        await self._keys.forget(key.id for key in account.keys)
        row = await accounts_q.get_by_id(self.db, account_id)
        assert row is not None
        return row

    def _may_refetch(self, key_id: str) -> bool:
        host = domain_of(key_id)
        window = self._refetches[host]
        t = time.monotonic()
        while window and window[0] < t - 60:
            window.popleft()
        if len(window) >= KEY_REFETCH_PER_HOST_PER_MINUTE:
            return False
        window.append(t)
        return True

    async def lookup_key(self, key_id: str, *, refresh: bool) -> tuple[str, str] | None:
        """(owner actor id, public PEM) for a key id, fetching the owner when needed; None
        when it cannot be had or its owner does not list it."""
        try:
            return await self.lookup_key_or_refuse(key_id, refresh=refresh)
        except KeyNotListed:
            return None

    async def lookup_key_or_refuse(self, key_id: str, *, refresh: bool) -> tuple[str, str] | None:
        """As `lookup_key`, but raises `KeyNotListed` when the owner does not list the key
        (the inbox answers that 401, not 503)."""
        if not refresh:
            hit = await self._keys.get(key_id)
            if hit is not None:
                return hit
            stored = await self._stored_key(key_id)
            if stored is not None:
                await self._keys.put(key_id, *stored)
                return stored
        elif not self._key_flights.running(key_id) and not self._may_refetch(key_id):
            return None
        # Concurrent lookups of one key (a burst from a new actor) share one fetch.
        return await self._key_flights.run(
            key_id, lambda: self._fetch_key(key_id), settled=lambda: self._stored_key(key_id)
        )

    async def _stored_key(self, key_id: str) -> tuple[str, str] | None:
        row = await keys_q.get_by_key_id(self.db, key_id)
        return None if row is None else (row["owner_ap_id"], row["public_pem"])

    async def _fetch_key(self, key_id: str) -> tuple[str, str] | None:
        # The key id usually is `<actor>#main-key`; fetching it yields the actor (or the key).
        document_url = key_id.split("#", 1)[0]
        try:
            doc = await self.fetch_document(document_url)
        except FetchError:
            return None
        found = key_document(doc)
        if found is None:
            return None
        actor_id = found.actor_id
        if origin_of(actor_id) != origin_of(key_id):
            # Not stored: reported as claimed, so the caller refuses it as a key on another
            # host (401) rather than as an unavailable key (503, which invites retries).
            return (actor_id, found.pem) if found.pem is not None else None
        try:
            if found.names_owner:
                await self.get_or_fetch(actor_id, refresh=True)
            else:
                await self.store(parse_actor(doc))
        except (ActorFetchFailed, VocabError):
            return None
        row = await keys_q.get_by_key_id(self.db, key_id)
        if row is None:
            # The owner's own document, just fetched, does not list this key: a final
            # answer (401), where 503 would invite the sender to retry for days.
            raise KeyNotListed("the key's owner does not list this key")
        return row["owner_ap_id"], row["public_pem"]
