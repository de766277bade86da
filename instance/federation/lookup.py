"""Finding accounts by `@name@host`, `name@host` or URL, and reading a remote outbox."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from activitypub.fetch import FetchError
from activitypub.html import sanitize_html
from activitypub.vocab import VocabError, is_public, parse_collection, parse_note
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db.connection import Row
from instance.errors import N_, NotFound
from instance.federation.remote_actors import ActorFetchFailed, RemoteActors
from instance.shared_state import SharedState
from instance.urls import LocalUrls
from webfinger.client import WebFingerError, parse_handle, resolve

log = logging.getLogger(__name__)

RECENT_POSTS = 10
# A remote profile's preview (recent public posts, follower and following totals) is read
# from its server at most once per account per this many seconds in each process, and only
# for signed-in viewers: opening a profile must not make us fetch from a peer every time.
# With Redis (`shared`), once per account in that time for all processes together.
PREVIEW_TTL = 300.0
PREVIEW_CACHE_SIZE = 1000


@dataclass(frozen=True)
class RemotePreview:
    """What the remote server says about an account; empty or None when it did not answer."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    followers_total: int | None = None
    following_total: int | None = None


def _is_loopback_host(host: str) -> bool:
    name = (
        host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    )
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback or ipaddress.ip_address(name).is_private
    except ValueError:
        return False


class Lookup:
    def __init__(
        self,
        db: Database,
        actors: RemoteActors,
        urls: LocalUrls,
        host: str,
        allow_private: bool,
        *,
        clock: Callable[[], float] = time.monotonic,
        refused: Callable[[str], Awaitable[bool]] | None = None,
        shared: SharedState | None = None,
    ) -> None:
        self.db = db
        self.shared = shared
        # `BlockedHosts.is_blocked`: a suspended host, or one off the allowlist in allowlist
        # mode, is not asked about its accounts.
        self.refused = refused
        self.actors = actors
        self.urls = urls
        self.host = host
        self.allow_private = allow_private
        self._clock = clock
        # account id -> (when it expires, the preview); least recently used first.
        self._previews: OrderedDict[int, tuple[float, RemotePreview]] = OrderedDict()

    async def find(self, query: str) -> Row:
        """The account a search names, fetching a remote one when needed; NotFound otherwise."""
        query = query.strip()
        handle = parse_handle(query) if not query.startswith(("http://", "https://")) else None
        if handle is None and not query.startswith(("http://", "https://")):
            local = await accounts_q.get_local_by_username(self.db, query.lstrip("@"))
            if local is not None and local["ap_type"] == "Person":
                return local
            raise NotFound(N_("No account matches that search."))
        if handle is not None and handle[1] == self.host.lower():
            local = await accounts_q.get_local_by_username(self.db, handle[0])
            if local is None:
                raise NotFound(N_("No account matches that search."))
            return local
        if handle is not None:
            known = await accounts_q.get_by_username_domain(self.db, handle[0], handle[1])
            if known is not None:
                return known
        local_name = self.urls.parse_actor(query)
        if local_name is not None:
            local = await accounts_q.get_local_by_username(self.db, local_name)
            if local is not None:
                return local
        remote_host = urlsplit(f"//{handle[1]}" if handle else query).hostname or ""
        if self.refused is not None and await self.refused(remote_host):
            raise NotFound(N_("No account matches that search."))
        scheme = (
            "http" if (handle and self.allow_private and _is_loopback_host(handle[1])) else "https"
        )
        try:
            actor_id = await resolve(
                query,
                get_jrd=self.actors.fetcher.get_jrd,
                get_actor=self.actors.fetch_document,
                scheme=scheme,
            )
            return await self.actors.get_or_fetch(actor_id)
        except (WebFingerError, FetchError, ActorFetchFailed) as exc:
            # What someone searched for is theirs: the log says only that a lookup failed.
            log.info("a search lookup failed (%s)", type(exc).__name__)
            raise NotFound(N_("No account matches that search.")) from exc

    async def remote_preview(self, account: Row) -> RemotePreview:
        """The remote profile's recent public posts and follower/following totals, cached.

        Answers (failures too, as an empty preview) are kept for PREVIEW_TTL seconds, so a
        popular or dead peer is asked at most once per account in that time.
        """
        if account["local"]:
            return RemotePreview()
        key = int(account["id"])
        if self.shared is not None:
            return await self._shared_preview(self.shared, account)
        cached = self._previews.get(key)
        if cached is not None and cached[0] > self._clock():
            self._previews.move_to_end(key)
            return cached[1]
        preview = await self._read_preview(account)
        self._previews[key] = (self._clock() + PREVIEW_TTL, preview)
        self._previews.move_to_end(key)
        while len(self._previews) > PREVIEW_CACHE_SIZE:
            self._previews.popitem(last=False)
        return preview

    async def _read_preview(self, account: Row) -> RemotePreview:
        posts, followers, following = await asyncio.gather(
            self.recent_public_posts(account),
            self._total_items(account["ap_followers"]),
            self._total_items(account["ap_following"]),
        )
        return RemotePreview(posts=posts, followers_total=followers, following_total=following)

    async def _shared_preview(self, shared: SharedState, account: Row) -> RemotePreview:
        """The preview kept in Redis for every process (JSON: it holds only public posts)."""
        name = f"preview:{int(account['id'])}"
        found = await shared.get(name)
        if found is not None:
            data = json.loads(found)
            return RemotePreview(
                posts=list(data["posts"]),
                followers_total=data["followers_total"],
                following_total=data["following_total"],
            )
        preview = await self._read_preview(account)
        value = {
            "posts": preview.posts,
            "followers_total": preview.followers_total,
            "following_total": preview.following_total,
        }
        await shared.put(name, json.dumps(value, default=str), PREVIEW_TTL)
        return preview

    async def _total_items(self, url: str | None) -> int | None:
        """A remote collection's `totalItems`, None when absent or unreadable."""
        if not url:
            return None
        try:
            return parse_collection(await self.actors.fetch_document(url)).total_items
        except (FetchError, VocabError) as exc:
            log.info("collection %s unavailable: %s", url, exc)
            return None

    async def recent_public_posts(self, account: Row) -> list[dict[str, Any]]:
        """Up to ten public notes from a remote outbox, sanitised, for the profile preview."""
        if account["local"] or not account["ap_outbox"]:
            return []
        try:
            outbox = parse_collection(await self.actors.fetch_document(account["ap_outbox"]))
            page: Any = outbox.first
            items = outbox.items
            if not items and isinstance(page, str):
                items = parse_collection(await self.actors.fetch_document(page)).items
            elif not items and isinstance(page, dict):
                items = parse_collection(page).items
        except (FetchError, VocabError) as exc:
            log.info("outbox of %s unavailable: %s", account["ap_id"], exc)
            return []
        posts: list[dict[str, Any]] = []
        for item in items[:40]:
            obj = (
                item.get("object")
                if isinstance(item, dict) and item.get("type") == "Create"
                else None
            )
            if not isinstance(obj, dict):
                continue
            try:
                note = parse_note(obj)
            except VocabError:
                continue
            if not any(is_public(a) for a in note.to):
                continue
            posts.append(
                {
                    "id": note.id,
                    "url": note.url or note.id,
                    "content_html": sanitize_html(note.content or ""),
                    "summary": note.summary or "",
                    "published": note.published,
                }
            )
            if len(posts) >= RECENT_POSTS:
                break
        return posts
