"""One request through an app's ASGI callable, the answer recorded as the server would get it.

Quart's test client rebuilds a response object (it recomputes Content-Length, merges
headers); comparing two code paths header by header needs what was actually sent: the
status, the header list in order, and the body bytes joined.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from quart import Quart


@dataclass(frozen=True)
class Sent:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode()
        for key, value in self.headers:
            if key == wanted:
                return value.decode("latin-1")
        return None


async def asgi_request(
    app: Quart,
    path: str,
    *,
    method: str = "GET",
    query: bytes = b"",
    headers: dict[str, str] | None = None,
    raw_headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> Sent:
    """Send one request to `app` (a started app) and record what it answers.

    `raw_headers` are added as they are (a header given twice, say); `body` arrives in two
    messages when it has more than one byte, as a server may deliver it.
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            *([] if any(k.lower() == "host" for k in headers or {}) else [(b"host", b"localhost")]),
            *((k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()),
            *(raw_headers or ()),
            *([(b"content-length", str(len(body)).encode())] if body else []),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
    }
    messages: list[MutableMapping[str, Any]] = []
    chunks = [body[: len(body) // 2], body[len(body) // 2 :]] if len(body) > 1 else [body]
    # Quart stops handling a request whose client has gone: say so only once it answered.
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    await app(scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return Sent(start["status"], [(bytes(k), bytes(v)) for k, v in start["headers"]], body)
