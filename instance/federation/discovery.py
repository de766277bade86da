"""Discovery documents: WebFinger answers and NodeInfo with real usage counts."""

from __future__ import annotations

import json
from typing import Any

from activitypub.nodeinfo import nodeinfo_document, nodeinfo_links
from instance import __version__
from instance.config import Settings
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import posts as posts_q
from instance.db import users as users_q
from instance.errors import AccountGone, NotFound
from instance.federation.document_cache import CachedDocument, DocumentCache
from instance.ids import now
from instance.outbound import to_ap
from instance.urls import LocalUrls
from webfinger.server import (
    build_application_jrd,
    build_jrd,
    host_meta_json,
    host_meta_xml,
    parse_resource,
)

MONTH = 30 * 86400
HALF_YEAR = 180 * 86400
# NodeInfo's counts (four COUNT queries, tens of ms on a large database) move with every
# post; crawlers poll it every few minutes at most, so a minute-old count is fine.
NODEINFO_MAX_AGE = 60.0
# The NodeInfo links and host-meta depend on the configuration alone.
STATIC_MAX_AGE = 3600.0
NODEINFO_VERSIONS = ("2.0", "2.1")


class Discovery:
    def __init__(
        self, settings: Settings, db: Database, urls: LocalUrls, cache: DocumentCache
    ) -> None:
        self.settings = settings
        self.db = db
        self.urls = urls
        self.cache = cache

    def _username(self, resource: str) -> str:
        instance_name = to_ap.instance_actor_name(self.settings.host).lower()
        username = parse_resource(
            resource,
            host=self.settings.host,
            base_url=self.urls.base_url,
            named_paths={self.urls.instance_actor_path: instance_name},
        )
        if username is None:
            raise NotFound()
        return username

    async def webfinger_document(self, resource: str) -> CachedDocument:
        """`webfinger` as the bytes served, from the cache (keyed by the name, not by how
        the resource was spelled: acct:, the actor URL and the profile URL share one)."""
        username = self._username(resource)

        async def build() -> bytes:
            return encode_json(await self._jrd(username))

        return await self.cache.get(_webfinger_key(username), build)

    def cached_webfinger(self, resource: str) -> CachedDocument | None:
        """What `webfinger_document` would answer from memory now; None on any miss
        (an unknown or unparsable resource included: its 404 is the route's)."""
        try:
            username = self._username(resource)
        except NotFound:
            return None
        return self.cache.peek(_webfinger_key(username))

    async def nodeinfo_document(self, version: str) -> CachedDocument:
        if version not in NODEINFO_VERSIONS:
            raise NotFound()

        async def build() -> bytes:
            return encode_json(await self.nodeinfo(version))

        return await self.cache.get(("nodeinfo", version), build, max_age=NODEINFO_MAX_AGE)

    def cached_nodeinfo(self, version: str) -> CachedDocument | None:
        return self.cache.peek(("nodeinfo", version))

    async def nodeinfo_links_document(self) -> CachedDocument:
        """`/.well-known/nodeinfo`: where each NodeInfo version is."""

        async def build() -> bytes:
            return encode_json(nodeinfo_links(self.urls.base_url))

        return await self.cache.get(("nodeinfo-links",), build, max_age=STATIC_MAX_AGE)

    def cached_nodeinfo_links(self) -> CachedDocument | None:
        return self.cache.peek(("nodeinfo-links",))

    async def host_meta_document(self, *, as_json: bool) -> CachedDocument:
        """`/.well-known/host-meta` as XRD or, `as_json`, as JSON (host-meta.json)."""

        async def build() -> bytes:
            if as_json:
                return encode_json(host_meta_json(self.urls.base_url))
            return host_meta_xml(self.urls.base_url).encode()

        return await self.cache.get(("host-meta", as_json), build, max_age=STATIC_MAX_AGE)

    def cached_host_meta(self, *, as_json: bool) -> CachedDocument | None:
        return self.cache.peek(("host-meta", as_json))

    async def webfinger(self, resource: str) -> dict[str, Any]:
        return await self._jrd(self._username(resource))

    async def _jrd(self, username: str) -> dict[str, Any]:
        instance_name = to_ap.instance_actor_name(self.settings.host).lower()
        if username == instance_name:
            # The instance actor, named after the host: checked by peers that verify our
            # signed GETs (authorized fetch). It comes before any account of that name.
            return build_application_jrd(
                name=to_ap.instance_actor_name(self.settings.host),
                host=self.settings.host,
                actor_url=self.urls.instance_actor,
                profile_url=to_ap.instance_actor_page(self.urls),
            )
        account = await accounts_q.get_local_by_username(self.db, username)
        if account is not None and account["deleted_at"] is not None:
            raise AccountGone()
        if account is None or account["ap_type"] != "Person" or account["suspended_at"]:
            raise NotFound()
        return build_jrd(
            username=account["username"],
            host=self.settings.host,
            actor_url=self.urls.actor(account["username"]),
            profile_url=self.urls.profile(account["username"]),
        )

    async def nodeinfo(self, version: str) -> dict[str, Any]:
        if version not in NODEINFO_VERSIONS:
            raise NotFound()
        ts = now()
        return nodeinfo_document(
            version,
            software_name="gapo",
            software_version=__version__,
            repository=None,
            homepage=None,
            users_total=await accounts_q.count_local(self.db),
            users_active_month=await users_q.count_active_since(self.db, ts - MONTH),
            users_active_halfyear=await users_q.count_active_since(self.db, ts - HALF_YEAR),
            local_posts=await posts_q.count_local_listed(self.db),
            open_registrations=self.settings.registrations in ("open", "approval"),
            node_name=self.settings.instance_name,
        )


def _webfinger_key(username: str) -> tuple[str, str]:
    # The name as parsed, not folded: the instance actor is matched case-sensitively.
    return ("webfinger", username)


def encode_json(doc: dict[str, Any]) -> bytes:
    """A discovery document as served: UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False).encode()
