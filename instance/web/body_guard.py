"""Slow request bodies: a deadline for each body and a cap on how many arrive at once.

Hypercorn cuts a connection whose request headers have not all arrived within its keep-alive
timeout (instance/server_limits.py), but it gives the body all the time a client takes, and
Quart waits 60 s for it. A client sending a byte now and then held a connection, a file
descriptor and a place in Quart for a minute: 1,100 of them exhausted a 1,024-file limit.

This ASGI middleware sits in front of the Quart app:

- a body must keep pace with `min_rate` bytes a second after a grace of `timeout` seconds,
  i.e. by time t after the headers, `min_rate * (t - timeout)` bytes must have arrived. A
  form arrives in one packet and a photo on a slow mobile link at tens of KB/s; a trickling
  attacker is cut after `timeout` seconds with a 408 and the connection is closed;
- at most `max_in_flight` bodies may be arriving at once in this process. Beyond that a new
  request with a body is answered 503 with `Retry-After` at once, without reading it.
  Requests without a body (every page view, /health) are never counted or refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from instance.errors import Overloaded
from instance.i18n import LOCALES, best_match, translations
from instance.web.errors import HTTP_MESSAGES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Quart's own signature is narrower

# Seconds a refused client is asked to wait: a slot frees as soon as any body completes.
RETRY_AFTER = 5
DISCONNECT: Message = {"type": "http.disconnect"}


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def has_body(scope: Scope) -> bool:
    """Whether the request announces a body: a non-zero length, chunked, or HTTP/2 without one."""
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() != b"0"
    if _header(scope, b"transfer-encoding") is not None:
        return True
    # HTTP/2 and 3 frame bodies without either header.
    return str(scope.get("http_version", "1.1")).startswith(("2", "3")) and scope.get("method") in (
        "POST",
        "PUT",
        "PATCH",
    )


async def respond(scope: Scope, send: Send, status: int, message: str, **headers: str) -> None:
    """A short plain-text answer in the client's language, closing the connection."""
    locale = best_match((_header(scope, b"accept-language") or b"").decode("latin-1"))
    body = translations(locale).ugettext(message).encode()
    extra = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class BodyGuard:
    """Wraps an ASGI app; see the module docstring. One instance per process."""

    def __init__(self, app: ASGIApp, *, timeout: float, min_rate: int, max_in_flight: int) -> None:
        self.app = app
        self.timeout = timeout
        self.min_rate = min_rate
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        # Loaded now: the answers are most needed when no file can be opened any more.
        for locale in LOCALES:
            translations(locale)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await respond(scope, send, 503, Overloaded.message, retry_after=str(RETRY_AFTER))
            return
        self.in_flight += 1
        body = _ArrivingBody(self, scope, receive, send)
        try:
            await self.app(scope, body.receive, body.send)
        finally:
            body.release()


class _ArrivingBody:
    """One request's body on its way in: the pace it must keep, and its place in the count."""

    def __init__(self, guard: BodyGuard, scope: Scope, receive: Receive, send: Send) -> None:
        self.guard = guard
        self.scope = scope
        self._receive = receive
        self._send = send
        self.started = asyncio.get_running_loop().time()
        self.received = 0
        self.counted = True  # holds a place until the body is complete, cut or abandoned
        self.cut = False
        self.response_started = False
        self.answered = False  # by the guard, with its 408

    def release(self) -> None:
        if self.counted:
            self.counted = False
            self.guard.in_flight -= 1

    async def receive(self) -> Message:
        if self.cut:
            return DISCONNECT
        if not self.counted:  # the body is complete: only a disconnect can follow
            return await self._receive()
        loop = asyncio.get_running_loop()
        allowed_until = self.started + self.guard.timeout + self.received / self.guard.min_rate
        try:
            message = await asyncio.wait_for(self._receive(), max(0.0, allowed_until - loop.time()))
        except TimeoutError:
            await self._cut()
            return DISCONNECT
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.release()
        else:
            self.release()
        return message

    async def _cut(self) -> None:
        """Too slow: answer 408 unless the app already answered; the app sees a disconnect."""
        self.release()
        self.cut = True
        if not self.response_started:
            self.response_started = self.answered = True
            await respond(self.scope, self._send, 408, HTTP_MESSAGES[408])

    async def send(self, message: Message) -> None:
        if self.answered:
            return  # the 408 was the answer; the app is being told the client left
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)
