"""The inbox fast path in front of Quart receives signed POSTs exactly as the routes do.

Each activity is sent twice to the same started app, once with the fast path off (Quart's
route answers) and once with it on, and what reached the server is compared: status, the
header list in order, the body. What the fast path must not take (unknown accounts,
cookies, queries, bodies without a length) reaches Quart unchanged, and what it takes is
stored exactly once, as through the route.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from quart import Quart

from instance.errors import Overloaded
from instance.web.inbox_fast_path import InboxFastPath
from tests.helpers.asgi import Sent, asgi_request
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer, count, local_user, rsa_pems
from tests.helpers.social import gapo

AS = "https://www.w3.org/ns/activitystreams"


def fast_path(app: Quart) -> InboxFastPath:
    path = app.extensions["inbox_fast_path"]
    assert isinstance(path, InboxFastPath)
    return path


def like(peer: FakePeer, n: int) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{peer.base_url}/activities/like-{n}",
        "type": "Like",
        "actor": peer.actor_id("remote"),
        "object": f"{LOCAL_BASE}/p/1",
    }


async def warm(app: Quart) -> None:
    """alice's actor document cached, as after a peer fetched it (it is kept 2 s, and a
    loaded machine may take that long between two requests of a test)."""
    if await gapo(app).db.fetch_value("SELECT COUNT(*) FROM accounts WHERE username = 'alice'"):
        await gapo(app).documents.actor_document("alice")


async def send(app: Quart, path: str, headers: dict[str, str], body: bytes, **extra: Any) -> Sent:
    return await asgi_request(app, path, method="POST", headers=headers, body=body, **extra)


async def both(
    app: Quart, peer: FakePeer, path: str, n: int, **signing: Any
) -> tuple[Sent, Sent, bool]:
    """Activity `n` through Quart and activity `n + 1000` with the fast path on, each signed
    for `path`; and whether the fast path answered the second."""
    fast = fast_path(app)
    headers, body = peer.signed(like(peer, n), url=f"{LOCAL_BASE}{path}", **signing)
    fast.enabled = False
    try:
        quart = await send(app, path, headers, body)
    finally:
        fast.enabled = True
    before = fast.answered
    await warm(app)
    headers, body = peer.signed(like(peer, n + 1000), url=f"{LOCAL_BASE}{path}", **signing)
    served = await send(app, path, headers, body)
    return quart, served, fast.answered > before


@pytest.mark.parametrize("path", ["/inbox", "/actor/inbox", "/users/alice/inbox"])
async def test_an_accepted_activity_gets_the_routes_answer(
    app: Quart, peer: FakePeer, path: str
) -> None:
    await local_user(app, "alice")
    quart, served, answered = await both(app, peer, path, 1)
    assert answered
    assert quart.status == 202 and served == quart
    # Both stored, each with its job, as through the route.
    assert await count(app, "inbox_activities") == 2
    assert (
        int(await gapo(app).db.fetch_value("SELECT COUNT(*) FROM jobs WHERE kind = 'inbox'")) == 2
    )


async def test_a_refusal_gets_the_routes_status_and_reason(app: Quart, peer: FakePeer) -> None:
    await local_user(app, "alice")
    quart, served, answered = await both(app, peer, "/inbox", 2, private_pem=rsa_pems("other")[0])
    assert answered
    assert quart.status == 401 and served == quart
    assert json.loads(served.body)["error"]
    assert await count(app, "inbox_activities") == 0


async def test_the_same_activity_twice_is_stored_once(app: Quart, peer: FakePeer) -> None:
    await local_user(app, "alice")
    headers, body = peer.signed(like(peer, 3))
    first = await send(app, "/inbox", headers, body)
    again = await send(app, "/inbox", headers, body)
    assert first.status == again.status == 202
    assert fast_path(app).answered == 2
    assert await count(app, "inbox_activities") == 1


async def test_what_it_does_not_take_reaches_quart(app: Quart, peer: FakePeer) -> None:
    await local_user(app, "alice")
    fast = fast_path(app)
    headers, body = peer.signed(like(peer, 4), url=f"{LOCAL_BASE}/users/nobody/inbox")
    unknown = await send(app, "/users/nobody/inbox", headers, body)
    assert unknown.status == 404
    # alice exists, but her actor document is not cached: the route checks her.
    headers, body = peer.signed(like(peer, 5), url=f"{LOCAL_BASE}/users/alice/inbox")
    assert (await send(app, "/users/alice/inbox", headers, body)).status == 202
    assert fast.answered == 0
    await warm(app)
    headers, body = peer.signed(like(peer, 9), url=f"{LOCAL_BASE}/users/alice/inbox")
    assert (await send(app, "/users/alice/inbox", headers, body)).status == 202
    assert fast.answered == 1
    headers, body = peer.signed(like(peer, 6))
    with_cookie = await send(app, "/inbox", {**headers, "Cookie": "a=b"}, body)
    assert with_cookie.status == 202
    headers, body = peer.signed(like(peer, 7))
    queried = await send(app, "/inbox", headers, body, query=b"x=1")
    assert queried.status == 202  # the route's answer, whatever it makes of the query
    assert fast.answered == 1
    assert await count(app, "inbox_activities") == 4


async def test_an_overloaded_database_is_answered_by_quart(
    app: Quart, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await local_user(app, "alice")

    async def overloaded(*_: Any, **__: Any) -> Any:
        raise Overloaded(retry_after=7)

    monkeypatch.setattr(gapo(app).inbox, "receive", overloaded)
    quart, served, answered = await both(app, peer, "/inbox", 8)
    assert not answered
    assert quart.status == 503 and served == quart
    assert served.header("Retry-After") == "7"
