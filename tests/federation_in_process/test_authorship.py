"""Authorship: the author of a created or updated note is the activity's signer.

A peer signs as one of its actors and claims a note by another (forged `attributedTo`),
embeds a neighbour's note in an Announce, or names nobody: each goes through the real
inbox (Quart test client, keys fetched over loopback HTTP, real signatures).
"""

from __future__ import annotations

import json
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_activity
from instance.db import posts as posts_q
from instance.federation.handle_notes import handle_create
from tests.federation_in_process.test_inbound_interop import fixture, result_of
from tests.federation_in_process.test_inbox_apply import PUBLIC, apply, note, send, wrap
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer, count, local_user
from tests.helpers.social import gapo


async def post_signed(
    client: Client, peer: FakePeer, activity: dict[str, Any], name: str
) -> tuple[int, dict[str, Any]]:
    headers, body = peer.signed(activity, name=name)
    response = await client.post("/inbox", data=body, headers=headers)
    text = await response.get_data(as_text=True)
    return response.status_code, (json.loads(text) if text.startswith("{") else {})


def mentioning(peer: FakePeer, n: int, author: str, username: str) -> dict[str, Any]:
    """Note `n` "by" `author`, mentioning the local `username` (tag and address)."""
    local = f"{LOCAL_BASE}/users/{username}"
    return note(peer, n, f"<p>hello @{username}</p>", author=author) | {
        "cc": [local],
        "tag": [{"type": "Mention", "href": local, "name": f"@{username}@gapo.test"}],
    }


async def notifications_of(app: Quart, username: str) -> list[tuple[str, str]]:
    """(kind, the notifying actor's ap_id) for each notification of a local user."""
    rows = await gapo(app).db.fetch_all(
        "SELECT n.kind, a.ap_id FROM notifications n"
        " JOIN accounts r ON r.id = n.account_id"
        " JOIN accounts a ON a.id = n.from_account_id"
        " WHERE r.username = :u AND r.local = 1",
        {"u": username},
    )
    return [(r["kind"], r["ap_id"]) for r in rows]


async def test_create_attributed_to_a_neighbour_is_403(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Mallory signs a Create of a note "by" remote (same host) mentioning alice: 403, nothing
    stored, nobody notified by remote."""
    await local_user(app, "alice")
    forged = mentioning(peer, 1, "remote", "alice")
    status, answer = await post_signed(
        client, peer, wrap(peer, "Create", forged, 1, actor="mallory"), "mallory"
    )
    assert status == 403
    assert "attributed" in answer["error"]
    await apply(app)
    assert await count(app, "inbox_activities") == 0
    assert await count(app, "posts") == 0
    assert await notifications_of(app, "alice") == []


async def test_attributed_to_list_needs_the_actor_among_its_actors(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """PeerTube attributes to [account Person, channel Group]: accepted when the actor is
    one of them, refused (403) when the list names others only."""
    video = fixture("peertube/object-video-tilvids.json")
    listed = note(peer, 2, "<p>a video</p>") | {
        "attributedTo": [
            {"type": "Person", "id": peer.actor_id("remote")},
            {"type": "Group", "id": peer.actor_id("channel")},
        ]
    }
    assert [e["type"] for e in video["attributedTo"]] == ["Person", "Group"]  # the real shape
    await send(client, peer, wrap(peer, "Create", listed, 2))
    await apply(app)
    row = await posts_q.get_by_ap_id(gapo(app).db, listed["id"])
    assert row is not None and row["author_ap_id"] == peer.actor_id("remote")

    others = note(peer, 3, "<p>not mine</p>") | {
        "attributedTo": [
            {"type": "Person", "id": peer.actor_id("remote")},
            {"type": "Group", "id": peer.actor_id("channel")},
        ]
    }
    status, _ = await post_signed(
        client, peer, wrap(peer, "Create", others, 3, actor="mallory"), "mallory"
    )
    assert status == 403
    assert await posts_q.get_by_ap_id(gapo(app).db, others["id"]) is None


async def test_missing_attributed_to_is_the_actor(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A Create whose note names no author is stored as the actor's."""
    bare = note(peer, 4, "<p>no attributedTo</p>")
    del bare["attributedTo"]
    create = wrap(peer, "Create", bare, 4)
    await send(client, peer, create)
    await apply(app)
    assert (await result_of(app, create)).startswith("stored post")
    row = await posts_q.get_by_ap_id(gapo(app).db, bare["id"])
    assert row is not None and row["author_ap_id"] == peer.actor_id("remote")


async def test_referenced_note_of_someone_else_is_rejected_when_applied(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A Create naming its note by id passes the inbox (nothing to check yet); the note is
    fetched from its origin, is remote's, and the Create by mallory is rejected."""
    await local_user(app, "alice")
    real = mentioning(peer, 5, "remote", "alice")
    peer.extra_docs["/notes/5"] = real
    create = wrap(peer, "Create", real["id"], 5, actor="mallory")
    await send(client, peer, create, name="mallory")
    await apply(app)
    assert (await result_of(app, create)).startswith("rejected")
    assert await posts_q.get_by_ap_id(gapo(app).db, real["id"]) is None
    assert await notifications_of(app, "alice") == []


async def test_apply_refuses_a_forged_note_stored_before_the_inbox_checked(
    app: Quart, peer: FakePeer
) -> None:
    """The handler checks too: a forged Create that reached it (e.g. stored by an older
    version) writes nothing and notifies nobody."""
    await local_user(app, "alice")
    mallory = await gapo(app).actors.get_or_fetch(peer.actor_id("mallory"))
    forged = mentioning(peer, 6, "remote", "alice")
    activity = parse_activity(wrap(peer, "Create", forged, 6, actor="mallory"))
    result = await handle_create(gapo(app).federation, activity, mallory)
    assert result == "rejected: the note is attributed to someone other than the actor"
    assert await count(app, "posts") == 0
    assert await notifications_of(app, "alice") == []


async def test_announce_embedding_a_neighbours_note_is_fetched_from_origin(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Mallory boosts an embedded note "by" remote that mentions alice; the origin knows no
    such note (404): nothing is stored and alice hears nothing "from" remote."""
    await local_user(app, "alice")
    forged = mentioning(peer, 7, "remote", "alice")
    announce = wrap(peer, "Announce", forged, 7, actor="mallory")
    await send(client, peer, announce, name="mallory")
    await apply(app)
    assert "/notes/7" in peer.gets
    assert (await result_of(app, announce)).startswith("ignored")
    assert await posts_q.get_by_ap_id(gapo(app).db, forged["id"]) is None
    assert await notifications_of(app, "alice") == []


async def test_self_boost_of_an_embedded_own_note_is_taken_as_sent(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """An Announce embedding the signer's own note needs no fetch."""
    own = note(peer, 8, "<p>my own words</p>") | {"to": [PUBLIC]}
    announce = wrap(peer, "Announce", own, 8)
    await send(client, peer, announce)
    await apply(app)
    assert await result_of(app, announce) == "shared"
    assert "/notes/8" not in peer.gets
    row = await posts_q.get_by_ap_id(gapo(app).db, own["id"])
    assert row is not None and "my own words" in row["content_html"]
