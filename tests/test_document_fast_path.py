"""The fast path in front of Quart answers cached documents exactly as the routes do.

Each request is sent twice to the same started app, once with the fast path off (Quart's
routes answer) and once with it on, and what reached the server is compared: status, the
header list in order, the body. Whatever the fast path does not answer (misses, unknown or
suspended accounts, bad resources, browsers, cookies, queries) must reach Quart unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from quart import Quart

from instance.accounts.changes import AccountChanges
from instance.web.document_fast_path import DocumentFastPath
from tests.helpers.asgi import Sent, asgi_request
from tests.helpers.fake_peer import AP, local_user
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
            if etag is None:
                continue  # the static documents carry none, and never answer 304
            headers = {**request.get("headers", {}), "If-None-Match": f'"other", {etag}'}
            revalidated = {**request, "headers": headers}
            quart, served, answered = await both(app, path, method=method, **revalidated)
            assert answered and quart.status == 304 and served == quart, (path, method)


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
