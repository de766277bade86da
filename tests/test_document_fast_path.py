"""The fast path in front of Quart answers cached documents exactly as the routes do.

Each request is sent twice to the same started app, once with the fast path off (Quart's
routes answer) and once with it on, and what reached the server is compared: status, the
header list in order, the body. Whatever the fast path does not answer (misses, unknown or
suspended accounts, bad resources, browsers, cookies, queries) must reach Quart unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from instance.accounts.changes import AccountChanges
from instance.web.document_fast_path import DocumentFastPath
from tests.helpers.asgi import Sent, asgi_request
from tests.helpers.fake_peer import AP, local_user
from tests.helpers.instances import free_port
from tests.helpers.social import gapo
from tests.helpers.web import AppFactory

LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def fast_path(app: Quart) -> DocumentFastPath:
    path = app.extensions["document_fast_path"]
    assert isinstance(path, DocumentFastPath)
    return path


async def both(app: Quart, path: str, **request: Any) -> tuple[Sent, Sent, bool]:
    """The answer through Quart, then with the fast path on, and whether it answered."""
    fast = fast_path(app)
    fast.enabled = False
    try:
        quart = await asgi_request(app, path, **request)
    finally:
        fast.enabled = True
    before = fast.answered
    served = await asgi_request(app, path, **request)
    return quart, served, fast.answered > before


def acct(app: Quart, name: str = "alice") -> bytes:
    return f"resource=acct:{name}@{gapo(app).settings.host}".encode()


def documents(app: Quart) -> list[tuple[str, dict[str, Any]]]:
    urls = gapo(app).urls
    host = gapo(app).settings.host
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/users/alice", {"headers": {"Accept": accept}})
        for accept in (AP, LD, "application/json", "*/*", "application/activity+json, */*;q=0.1")
    ]
    cases += [
        ("/users/alice", {}),  # no Accept: the actor id's own kind, JSON
        ("/actor", {}),
        ("/actor", {"headers": {"Accept": "text/html"}}),  # always JSON there
        ("/.well-known/webfinger", {"query": acct(app)}),
        ("/.well-known/webfinger", {"query": b"resource=" + urls.actor("alice").encode()}),
        ("/.well-known/webfinger", {"query": b"resource=acct%3Aalice%40" + host.encode()}),
        ("/nodeinfo/2.0", {}),
        ("/nodeinfo/2.1", {}),
        ("/.well-known/nodeinfo", {}),
        ("/.well-known/host-meta", {}),
        ("/.well-known/host-meta", {"headers": {"Accept": "application/json"}}),
        ("/.well-known/host-meta.json", {}),
    ]
    return cases


@pytest.mark.parametrize("base_url", ["http://localhost:8000", "https://social.example"])
async def test_every_cached_document_is_answered_byte_for_byte_as_quart_does(
    make_app: AppFactory, base_url: str
) -> None:
    """GET and HEAD, 200 and 304, plain and HTTPS (HSTS): same status, headers, body."""
    app = await make_app(base_url=base_url)
    await local_user(app, "alice")
    for path, request in documents(app):
        for method in ("GET", "HEAD"):
            warm, _, _ = await both(app, path, method=method, **request)  # Quart builds it
            assert warm.status == 200, (path, request)
            quart, served, answered = await both(app, path, method=method, **request)
            assert answered, (path, method, request)
            assert served == quart, (path, method, request)
            etag = quart.header("etag")
            # The static documents carry none, and answer 200 whatever If-None-Match says.
            validator = f'"other", {etag}' if etag else "*"
            headers = {**request.get("headers", {}), "If-None-Match": validator}
            revalidated = {**request, "headers": headers}
            quart, served, answered = await both(app, path, method=method, **revalidated)
            assert quart.status == (304 if etag else 200), (path, method)
            assert answered and served == quart, (path, method)


async def test_a_profile_change_is_seen_by_the_next_request(make_app: AppFactory) -> None:
    """A save in this process, a bump by another one: the next answer is the new one."""
    app = await make_app()
    alice = await local_user(app, "alice")
    accept = {"headers": {"Accept": AP}}
    await asgi_request(app, "/users/alice", **accept)
    _, served, answered = await both(app, "/users/alice", **accept)
    assert answered and b'"name": "alice"' in served.body

    await gapo(app).accounts.update_profile(alice["id"], display_name="Alice Liddell", bio="")
    before = fast_path(app).answered
    fresh = await asgi_request(app, "/users/alice", **accept)
    assert fast_path(app).answered == before  # a miss: Quart built it again
    assert b'"name": "Alice Liddell"' in fresh.body

    # Another process on this data dir (the CLI, another worker) changes an account: its
    # bump of the shared version file empties this process's cache before the next request.
    other_process = AccountChanges(gapo(app).settings.data_dir / "run" / "account-changes")
    await gapo(app).db.execute(
        "UPDATE accounts SET display_name = 'Alice L.' WHERE username = 'alice' AND local = 1"
    )
    other_process.bump()
    again = await asgi_request(app, "/users/alice", **accept)
    assert fast_path(app).answered == before
    assert b'"name": "Alice L."' in again.body


async def test_suspended_and_unknown_accounts_fall_through_to_the_same_404(
    make_app: AppFactory,
) -> None:
    app = await make_app()
    await local_user(app, "alice")
    await asgi_request(app, "/users/alice", headers={"Accept": AP})
    await asgi_request(app, "/.well-known/webfinger", query=acct(app))
    await gapo(app).accounts.suspend("alice")
    for path, request in (
        ("/users/alice", {"headers": {"Accept": AP}}),
        ("/users/nobody", {"headers": {"Accept": AP}}),
        ("/.well-known/webfinger", {"query": acct(app)}),
        ("/.well-known/webfinger", {"query": acct(app, "nobody")}),
    ):
        quart, served, answered = await both(app, path, **request)
        assert not answered and quart.status == 404 and served == quart, path


async def test_what_the_fast_path_does_not_understand_reaches_quart(
    make_app: AppFactory,
) -> None:
    """Bad resources, browsers, queries, cookies, repeated headers, bodies, other methods."""
    app = await make_app()
    await local_user(app, "alice")
    for path, request in documents(app):
        await asgi_request(app, path, **request)  # everything cached
    cases: list[tuple[str, dict[str, Any], int]] = [
        ("/.well-known/webfinger", {}, 400),
        ("/.well-known/webfinger", {"query": b"resource="}, 400),
        ("/.well-known/webfinger", {"query": b"resource=" + b"a" * 501}, 400),
        ("/.well-known/webfinger", {"query": b"resource=acct:alice@elsewhere.example"}, 404),
        ("/.well-known/webfinger", {"query": b"resource=%ff%fe"}, 404),
        ("/.well-known/webfinger", {"query": acct(app) + b"&rel=self"}, 200),
        ("/.well-known/webfinger", {"query": b"rel=self&" + acct(app)}, 200),
        ("/users/alice", {"headers": {"Accept": "text/html"}}, 302),
        ("/users/alice", {"headers": {"Accept": "text/html,*/*;q=0.8"}}, 302),
        ("/users/alice", {"headers": {"Accept": AP}, "query": b"x=1"}, 200),
        ("/users/alice", {"headers": {"Accept": AP, "Cookie": "gapo_locale=vi"}}, 200),
        ("/users/alice/", {"headers": {"Accept": AP}}, 404),
        ("/users/alice", {"headers": {"Accept": AP, "Content-Length": "0"}}, 200),
        ("/users/alice", {"headers": {"Accept": AP}, "method": "OPTIONS"}, 200),
        ("/users/alice", {"headers": {"Accept": AP}, "method": "DELETE"}, 405),
        ("/nodeinfo/2.2", {}, 404),
        ("/nodeinfo/2.1", {"query": b"x=1"}, 200),
        ("/.well-known/host-meta", {"query": b"format=json"}, 200),
    ]
    for path, request, status in cases:
        quart, served, answered = await both(app, path, **request)
        assert not answered, (path, request)
        assert quart.status == status and served == quart, (path, request, quart.status)

    # A header given twice is left to Quart's reading of it.
    repeated = [(b"accept", b"text/html"), (b"accept", AP.encode())]
    before = fast_path(app).answered
    await asgi_request(app, "/users/alice", raw_headers=repeated)
    assert fast_path(app).answered == before


async def test_nothing_is_answered_before_the_services_are_open(tmp_path: Path) -> None:
    """Outside the app's lifespan (no services yet) every request goes to Quart."""
    sent: list[str] = []

    async def quart(scope: Any, receive: Any, send: Any) -> None:
        sent.append(scope["path"])

    from tests.helpers.web import make_settings

    fast = DocumentFastPath(quart, lambda: None, make_settings(tmp_path / "data"))
    scope = {"type": "http", "method": "GET", "path": "/actor", "query_string": b"", "headers": []}
    await fast(scope, None, None)
    assert sent == ["/actor"] and fast.answered == 0


@asynccontextmanager
async def on_loopback(app: Quart) -> AsyncIterator[int]:
    """The started app behind a real Hypercorn on a loopback port (its lifespan already ran)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(asgi, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


async def on_the_wire(port: int, request: bytes) -> bytes:
    """The raw answer to one request on its own connection, its Date line left out."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)  # the server closes: Connection: close
    writer.close()
    return b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"date:"))


async def test_on_the_wire_through_hypercorn_the_bytes_are_the_same(make_app: AppFactory) -> None:
    """Real HTTP/1.1 on loopback: GET, HEAD (no body, same length) and 304 match byte for byte."""
    app = await make_app()
    await local_user(app, "alice")
    host = gapo(app).settings.host
    start = b"Host: localhost\r\nConnection: close\r\n"
    actor = b"/users/alice HTTP/1.1\r\n" + start + b"Accept: application/activity+json\r\n"
    finger = f"/.well-known/webfinger?resource=acct:alice@{host} HTTP/1.1\r\n".encode() + start
    async with on_loopback(app) as port:
        get = await on_the_wire(port, b"GET " + actor + b"\r\n")  # builds: through Quart
        assert get.startswith(b"HTTP/1.1 200")
        etag = next(x for x in get.split(b"\r\n") if x.startswith(b"etag:")).split(b": ", 1)[1]
        requests = [
            b"GET " + actor + b"\r\n",
            b"HEAD " + actor + b"\r\n",
            b"GET " + actor + b"If-None-Match: " + etag + b"\r\n\r\n",
            b"GET " + finger + b"\r\n",
            b"HEAD " + finger + b"\r\n",
        ]
        await on_the_wire(port, requests[3])
        fast = fast_path(app)
        fast.enabled = False
        through_quart = [await on_the_wire(port, r) for r in requests]
        fast.enabled = True
        before = fast.answered
        served = [await on_the_wire(port, r) for r in requests]
        assert fast.answered == before + len(requests)
    assert served == through_quart
    body = get.split(b"\r\n\r\n", 1)[1]
    assert served[0].endswith(body) and len(body) > 1000
    head = served[1]  # the headers of the GET, the body left out
    assert head.endswith(b"\r\n\r\n") and f"content-length: {len(body)}".encode() in head
    assert served[2].startswith(b"HTTP/1.1 304")
