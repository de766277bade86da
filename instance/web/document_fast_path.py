"""Cached actors, WebFinger, NodeInfo and host-meta answered in front of Quart.

Peers fetch these few documents for nearly everything they do, and they are already kept as
ready bytes (`instance/federation/document_cache.py`). Served through Quart, a cached one
still cost its request and response objects, the routing, a before and three after hooks and
the header merging: about 1.3× the CPU of a bare Quart route (docs/performance.md). This
ASGI middleware answers a bodiless GET or HEAD of such a document when, and only when, the
route would answer it from the cache with a 200 or a 304, with the same status, header list
and body (tests/test_document_fast_path.py compares the two paths byte for byte).

Everything else goes to Quart unchanged, which so stays the one code path for every other
answer: a cache miss (it builds and keeps the document, so the next request is answered
here), an unknown, suspended or deleted account (never cached: 404 and 410 are the routes'),
a browser's Accept (the redirect to the profile page), a query string other than
WebFinger's one `resource`, a repeated Accept or If-None-Match header, a request with a
cookie (its session is Quart's business) or with a body, a mounted root path.

Nothing here decides anything a route decides: the Accept rule is
`web/negotiation.prefers_activitypub` (and `host_meta_as_json`), the cache keys and their
version check are the services' (`Documents.cached_actor`, `Discovery.cached_webfinger`, …),
so an account change is seen by the next request here exactly as by the routes.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from urllib.parse import parse_qsl

from activitypub.fetch import AP_CONTENT_TYPE
from activitypub.nodeinfo import nodeinfo_content_type
from instance.config import Settings
from instance.federation.discovery import NODEINFO_VERSIONS
from instance.federation.document_cache import CachedDocument
from instance.services import Services
from instance.urls import LocalUrls
from instance.web.activitypub_routes import PUBLIC_CACHE
from instance.web.body_guard import ASGIApp, Receive, Scope, Send
from instance.web.cached_response import etag_matches
from instance.web.context import security_headers_for
from instance.web.fast_path import FastPath
from instance.web.negotiation import host_meta_as_json, prefers_activitypub
from instance.web.wellknown import (
    HOST_META_JSON,
    HOST_META_XML,
    MAX_RESOURCE,
    NODEINFO_LINKS,
)
from webfinger.server import JRD_CONTENT_TYPE

Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]


class Kind(Enum):
    """How a route dresses its document, i.e. which headers follow the body's."""

    ACTIVITYPUB = "activitypub"  # `cached_ap_response`: ETag, Vary: Accept, Cache-Control
    DISCOVERY = "discovery"  # `document_response` in wellknown.py: ETag, CORS
    STATIC = "static"  # wellknown.py's `_json`: CORS, no ETag (no 304 either)


class DocumentFastPath(FastPath):
    """Wraps an ASGI app; `services` gives the process's services once they are open."""

    def __init__(
        self, app: ASGIApp, services: Callable[[], Services | None], settings: Settings
    ) -> None:
        super().__init__(app, services)
        # The routes' paths, as LocalUrls spells the ids they serve.
        urls = LocalUrls(settings.base_url)
        self._actor_prefix = urls.actor("").removeprefix(urls.base_url)
        self._instance_actor = urls.instance_actor_path
        self._prefixes = (self._actor_prefix, self._instance_actor, "/.well-known/", "/nodeinfo/")
        security = [(k.lower().encode(), v.encode()) for k, v in security_headers_for(settings)]
        # After the security headers (the after-hook), `add_vary` puts Vary: Cookie: merged
        # into the ActivityPub answer's own Vary, appended to the others.
        discovery = [(b"access-control-allow-origin", b"*"), *security, (b"vary", b"Cookie")]
        self._tails: dict[Kind, Headers] = {
            Kind.ACTIVITYPUB: [
                (b"vary", b"Accept, Cookie"),
                (b"cache-control", PUBLIC_CACHE.encode()),
                *security,
            ],
            Kind.DISCOVERY: discovery,
            Kind.STATIC: discovery,
        }
        self._content_types = {
            version: nodeinfo_content_type(version).encode() for version in NODEINFO_VERSIONS
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enabled and scope["type"] == "http":
            answer = self._answer(scope)
            if answer is not None:
                self.answered += 1
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                # For HEAD too, as Quart does: the server leaves the body out.
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
        await self.app(scope, receive, send)

    def _answer(self, scope: Scope) -> Answer | None:
        if scope.get("method") not in ("GET", "HEAD") or scope.get("root_path"):
            return None
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if query and path != "/.well-known/webfinger":
            return None
        if not path.startswith(self._prefixes):
            return None
        services = self.services()
        if services is None:
            return None
        accept: str | None = None
        if_none_match: str | None = None
        for name, value in scope["headers"]:
            if name == b"accept":
                if accept is not None:
                    return None
                accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if if_none_match is not None:
                    return None
                if_none_match = value.decode("latin-1")
            elif name in (b"cookie", b"content-length", b"transfer-encoding"):
                return None
        found = self._document(services, path, query, accept)
        if found is None:
            return None
        document, content_type, kind = found
        tail = self._tails[kind]
        if kind is Kind.STATIC:
            return 200, self._headers(content_type, document.body, None, tail), document.body
        if if_none_match and etag_matches(if_none_match, document.etag):
            return 304, self._headers(content_type, b"", document.etag, tail), b""
        return 200, self._headers(content_type, document.body, document.etag, tail), document.body

    @staticmethod
    def _headers(content_type: bytes, body: bytes, etag: str | None, tail: Headers) -> Headers:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if etag is not None:
            headers.append((b"etag", etag.encode()))
        headers.extend(tail)
        return headers

    def _document(
        self, services: Services, path: str, query: bytes, accept: str | None
    ) -> tuple[CachedDocument, bytes, Kind] | None:
        """The cached document the route for `path` would answer with, if it is cached."""
        document: CachedDocument | None
        if path.startswith(self._actor_prefix):
            username = path[len(self._actor_prefix) :]
            if not username or "/" in username:
                return None  # another route, or none
            if not prefers_activitypub(accept, canonical=True):
                return None  # a browser: the route redirects to the profile page
            document = services.documents.cached_actor(username)
            return (document, AP_CONTENT_TYPE.encode(), Kind.ACTIVITYPUB) if document else None
        if path == "/.well-known/webfinger":
            resource = _resource(query)
            if resource is None:
                return None
            document = services.discovery.cached_webfinger(resource)
            return (document, JRD_CONTENT_TYPE.encode(), Kind.DISCOVERY) if document else None
        if path.startswith("/nodeinfo/"):
            version = path[len("/nodeinfo/") :]
            content_type = self._content_types.get(version)
            if content_type is None:
                return None
            document = services.discovery.cached_nodeinfo(version)
            return (document, content_type, Kind.DISCOVERY) if document else None
        if path == self._instance_actor:
            document = services.documents.cached_instance_actor()
            return (document, AP_CONTENT_TYPE.encode(), Kind.ACTIVITYPUB) if document else None
        if path == "/.well-known/nodeinfo":
            document = services.discovery.cached_nodeinfo_links()
            return (document, NODEINFO_LINKS.encode(), Kind.STATIC) if document else None
        if path in ("/.well-known/host-meta", "/.well-known/host-meta.json"):
            as_json = path.endswith(".json") or host_meta_as_json(accept, None)
            document = services.discovery.cached_host_meta(as_json=as_json)
            host_meta_type = HOST_META_JSON if as_json else HOST_META_XML
            return (document, host_meta_type.encode(), Kind.STATIC) if document else None
        return None


def _resource(query: bytes) -> str | None:
    """WebFinger's `resource`, read as the route reads it (werkzeug's `request.args`), when
    it is the query's only parameter and one the route would not refuse; else None."""
    if not query.startswith(b"resource="):
        return None
    try:
        text = query.decode()
    except UnicodeDecodeError:
        return None
    pairs = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    if len(pairs) != 1:
        return None
    resource = pairs[0][1]
    if not resource or len(resource) > MAX_RESOURCE:
        return None
    return resource
