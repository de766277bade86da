"""Signed `POST`s to the inboxes received in front of Quart.

An inbox POST does one thing: `InboxService.receive` verifies and stores it, and the answer
is a bare 202 (or the refusal's status and JSON reason). Through Quart it also paid for the
request and response objects, the routing, a before and three after hooks and the header
merging: with receiving itself made cheap (group commit, issue 15) that machinery was about
60 % of the event loop's time per accepted activity (docs/performance.md). This ASGI
middleware calls the same `receive` for the same requests and sends what the route would
(tests/federation_in_process/test_inbox_fast_path.py compares the two answers byte for byte).

It takes only what it can answer exactly as the route does: a POST with a Content-Length
within the body limit, no query string, no cookie, no mounted root path, to `/inbox`,
`/actor/inbox` or the inbox of an account whose actor document is cached (so known, and
neither suspended nor deleted: those get the route's 404 or 410). Everything else goes to
Quart unchanged. A failure that is not a refusal with a status (an overloaded database,
say) is handed to Quart too, with the body already read, so its error handlers answer as
they answer everywhere. It sits inside `BodyGuard`, so a slow body is cut as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from activitypub.inbox import InboxError
from instance import i18n
from instance.config import Settings
from instance.services import Services
from instance.urls import LocalUrls
from instance.web.activitypub_routes import joined_headers
from instance.web.body_guard import ASGIApp, Message, Receive, Scope, Send
from instance.web.context import security_headers_for
from instance.web.fast_path import FastPath

Headers = list[tuple[bytes, bytes]]


class InboxFastPath(FastPath):
    """Wraps an ASGI app; `services` gives the process's services once they are open."""

    def __init__(
        self, app: ASGIApp, services: Callable[[], Services | None], settings: Settings
    ) -> None:
        super().__init__(app, services)
        self.max_body = settings.max_body_bytes
        urls = LocalUrls(settings.base_url)
        self._shared = urls.shared_inbox.removeprefix(urls.base_url)
        self._instance = urls.instance_inbox.removeprefix(urls.base_url)
        self._actor_prefix = urls.actor("").removeprefix(urls.base_url)
        self._inbox_suffix = urls.inbox("x").removeprefix(urls.actor("x"))
        # The headers Quart's after-hooks add to these answers, in their order.
        self._tail: Headers = [
            *((k.lower().encode(), v.encode()) for k, v in security_headers_for(settings)),
            (b"vary", b"Cookie"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = self.services() if self.enabled and scope["type"] == "http" else None
        length = self._length(scope) if services is not None else None
        if services is None or length is None or not self._routed(services, scope["path"]):
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        if body is None:
            return  # the client left (or the guard cut it and answered)
        headers = joined_headers(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
        )
        token = i18n.current_locale.set(i18n.best_match(headers.get("accept-language")))
        try:
            await services.inbox.receive(
                "POST", services.urls.absolute(scope["path"]), headers, body
            )
        except InboxError as exc:
            self.answered += 1
            if exc.status < 300:  # e.g. a Delete from an actor that is already gone
                await self._send(send, exc.status, b"text/html; charset=utf-8", b"")
            else:
                reason = _json_reason(exc.reason)
                await self._send(send, exc.status, b"application/json", reason)
            return
        except Exception:
            # Not a refusal: Quart's error handlers answer (503 with Retry-After, …).
            await self.app(scope, _replay(body, receive), send)
            return
        finally:
            i18n.current_locale.reset(token)
        self.answered += 1
        await self._send(send, 202, b"text/html; charset=utf-8", b"")

    def _length(self, scope: Scope) -> int | None:
        """The body's declared length when this path may take the request, else None."""
        if scope.get("method") != "POST" or scope.get("root_path") or scope.get("query_string"):
            return None
        length: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                if length is not None or not value.isdigit():
                    return None
                length = int(value)
            elif name in (b"cookie", b"transfer-encoding"):
                return None
        if length is None or length > self.max_body:
            return None  # Quart answers 411 or 413 its way
        return length

    def _routed(self, services: Services, path: str) -> bool:
        if path in (self._shared, self._instance):
            return True
        if not path.startswith(self._actor_prefix) or not path.endswith(self._inbox_suffix):
            return False
        username = path[len(self._actor_prefix) : -len(self._inbox_suffix)]
        if not username or "/" in username:
            return False
        return services.documents.cached_actor(username) is not None

    async def _send(self, send: Send, status: int, content_type: bytes, body: bytes) -> None:
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            *self._tail,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _read(receive: Receive) -> bytes | None:
    """The whole body, or None when the client disconnected before it ended."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _json_reason(reason: str) -> bytes:
    return json.dumps({"error": reason}).encode()
