"""Applying received activities: follows (open and locked), notes, reactions, actor deletion."""

from __future__ import annotations

import json
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.signatures import verify_request
from instance.db import accounts as accounts_q
from instance.db import follows as follows_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from tests.helpers.fake_peer import AP, LOCAL_BASE, FakePeer, jobs, local_user
from tests.helpers.social import gapo

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def send(
    client: Client, peer: FakePeer, activity: dict[str, Any], name: str = "remote"
) -> None:
    headers, body = peer.signed(activity, name=name)
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 202, await response.get_data(as_text=True)


async def apply(app: Quart) -> None:
    await gapo(app).runner.run_until_idle(limit_seconds=10)


def follow_of(peer: FakePeer, target: str, n: int = 1) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{peer.base_url}/follows/{n}",
        "type": "Follow",
        "actor": peer.actor_id("remote"),
        "object": f"{LOCAL_BASE}/users/{target}",
    }


async def follow_state(app: Quart, peer: FakePeer, followee: Row) -> str | None:
    remote = await accounts_q.get_by_ap_id(gapo(app).db, peer.actor_id("remote"))
    assert remote is not None
    state: str | None = await gapo(app).relationships.state(remote["id"], followee["id"])
    return state


async def assert_signed_by(client: Client, peer: FakePeer, got: Any, username: str) -> None:
    """The peer-side check: the POST verifies with the key served at GET /users/<name>."""
    response = await client.get(f"/users/{username}", headers={"Accept": AP})
    pem = (await response.get_json())["publicKey"]["publicKeyPem"]
    key_id = verify_request("POST", peer.base_url + got.path, got.headers, got.body, pem)
    assert key_id == f"{LOCAL_BASE}/users/{username}#main-key"


async def test_follow_of_open_account_is_accepted(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A Follow of an unlocked account is accepted and a signed Accept is delivered to the peer."""
    alice = await local_user(app, "alice")
    await send(client, peer, follow_of(peer, "alice"))
    await apply(app)
    assert await follow_state(app, peer, alice) == "accepted"
    [job] = await jobs(app)
    payload = json.loads(job["payload"])
    assert payload["inbox"] == f"{peer.actor_id('remote')}/inbox"
    assert payload["activity"]["type"] == "Accept"
    assert job["state"] == "done"
    [got] = peer.received
    assert got.activity["type"] == "Accept"
    assert got.activity["object"]["id"] == f"{peer.base_url}/follows/1"
    await assert_signed_by(client, peer, got, "alice")


async def test_locked_account_follow_waits_for_approval(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A locked account's follower stays pending, gets no posts, and gets an Accept on approval."""
    bob = await local_user(app, "bob", locked=True)
    await send(client, peer, follow_of(peer, "bob"))
    await apply(app)
    assert await follow_state(app, peer, bob) == "pending"
    await gapo(app).posts.create(bob, "only for real followers", visibility="public")
    await apply(app)
    assert await jobs(app) == []
    assert peer.received == []

    remote = await accounts_q.get_by_ap_id(gapo(app).db, peer.actor_id("remote"))
    await gapo(app).relationship_writer.approve(bob, remote)
    await apply(app)
    assert await follow_state(app, peer, bob) == "accepted"
    [got] = peer.received
    assert got.activity["type"] == "Accept"
    await assert_signed_by(client, peer, got, "bob")


async def test_undo_follow_removes_it(app: Quart, client: Client, peer: FakePeer) -> None:
    """Undo(Follow) from the follower removes the follow."""
    alice = await local_user(app, "alice")
    follow = follow_of(peer, "alice")
    await send(client, peer, follow)
    await apply(app)
    inner = {k: v for k, v in follow.items() if k != "@context"}
    undo = {
        "@context": AS,
        "id": f"{peer.base_url}/undo/1",
        "type": "Undo",
        "actor": peer.actor_id("remote"),
        "object": inner,
    }
    await send(client, peer, undo)
    await apply(app)
    assert await follow_state(app, peer, alice) is None


def note(peer: FakePeer, n: int, content: str, author: str = "remote") -> dict[str, Any]:
    return {
        "id": f"{peer.base_url}/notes/{n}",
        "type": "Note",
        "attributedTo": peer.actor_id(author),
        "content": content,
        "to": [PUBLIC],
        "cc": [f"{peer.actor_id(author)}/followers"],
        "published": "2025-01-02T03:04:05Z",
    }


def wrap(peer: FakePeer, kind: str, obj: Any, n: int, actor: str = "remote") -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{peer.base_url}/activities/{kind.lower()}-{n}",
        "type": kind,
        "actor": peer.actor_id(actor),
        "object": obj,
        "to": [PUBLIC],
    }


async def stored(app: Quart, ap_id: str) -> Row:
    row = await posts_q.get_by_ap_id(gapo(app).db, ap_id)
    assert row is not None
    return row


async def test_note_lifecycle(app: Quart, client: Client, peer: FakePeer) -> None:
    """Create stores a sanitised note, Update by its author edits it, by another is refused
    (403), Delete tombstones it."""
    xss = '<p>hello <script>alert(1)</script><img src="x" onerror="alert(2)"></p>'
    created = note(peer, 1, xss)
    await send(client, peer, wrap(peer, "Create", created, 1))
    await apply(app)
    post = await stored(app, created["id"])
    assert "hello" in post["content_html"]
    assert "<script" not in post["content_html"]
    assert "onerror" not in post["content_html"]
    assert "alert(1)" not in post["content_html"]

    edited = {**created, "content": "<p>edited</p>", "updated": "2025-01-03T00:00:00Z"}
    await send(client, peer, wrap(peer, "Update", edited, 2))
    await apply(app)
    post = await stored(app, created["id"])
    assert "edited" in post["content_html"]
    assert len(await posts_q.edits(gapo(app).db, post["id"])) == 1

    # Another actor of the same host, claiming the note is still the author's: 403.
    hijack = {**created, "content": "<p>hijacked</p>"}
    headers, body = peer.signed(wrap(peer, "Update", hijack, 3, actor="mallory"), name="mallory")
    response = await client.post("/inbox", data=body, headers=headers)
    assert response.status_code == 403
    await apply(app)
    post = await stored(app, created["id"])
    assert "hijacked" not in post["content_html"] and "edited" in post["content_html"]

    await send(client, peer, wrap(peer, "Delete", {"id": created["id"], "type": "Tombstone"}, 4))
    await apply(app)
    assert (await stored(app, created["id"]))["deleted_at"] is not None


async def counts(app: Quart, post_id: int) -> Row:
    row = await posts_q.get(gapo(app).db, post_id)
    assert row is not None
    return row


async def test_like_undo_like_and_announce_move_counts(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Like and Undo(Like) move the like count; Announce moves the share count."""
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "like me", visibility="public")
    note_id = f"{LOCAL_BASE}/users/alice/statuses/{post['id']}"
    like = wrap(peer, "Like", note_id, 1)
    await send(client, peer, like)
    await apply(app)
    assert (await counts(app, post["id"]))["likes_count"] == 1

    inner = {k: v for k, v in like.items() if k != "@context"}
    await send(client, peer, wrap(peer, "Undo", inner, 2))
    await apply(app)
    assert (await counts(app, post["id"]))["likes_count"] == 0

    await send(client, peer, wrap(peer, "Announce", note_id, 3))
    await apply(app)
    assert (await counts(app, post["id"]))["shares_count"] == 1


async def test_delete_of_actor_removes_its_posts(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Delete of the actor itself removes (tombstones) every post it left here."""
    alice = await local_user(app, "alice")
    await send(client, peer, follow_of(peer, "alice"))
    for n in (1, 2):
        await send(client, peer, wrap(peer, "Create", note(peer, n, f"post {n}"), n))
    await apply(app)
    actor = peer.actor_id("remote")
    await send(client, peer, wrap(peer, "Delete", actor, 9))
    await apply(app)
    for n in (1, 2):
        assert (await stored(app, f"{peer.base_url}/notes/{n}"))["deleted_at"] is not None
    remote = await accounts_q.get_by_ap_id(gapo(app).db, actor)
    assert remote is not None
    assert await follows_q.get_follow(gapo(app).db, remote["id"], alice["id"]) is None
