"""No document Gapo serves or delivers carries a property whose value is an empty array.

ActivityStreams 2.0 Core asks for such properties to be omitted. The served side is crawled
from the actors (every local URL a document names is fetched as ActivityPub), so a new
kind of document is covered as soon as something links to it; the sent side is every POST
a real peer on loopback received while people posted, edited, liked, shared, followed,
unfollowed, deleted and changed their profile.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.outgoing import omit_empty_arrays
from tests.helpers.fake_peer import AP, LOCAL_BASE, FakePeer, local_user, remote_follower
from tests.helpers.social import gapo


def empty_arrays(value: Any, where: str = "$") -> list[str]:
    """The JSON paths of every empty array in a document."""
    if isinstance(value, list):
        if not value:
            return [where]
        return [p for i, item in enumerate(value) for p in empty_arrays(item, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in empty_arrays(item, f"{where}.{key}")]
    return []


def local_links(value: Any) -> set[str]:
    """Every URL on this instance a document names (fragments dropped)."""
    if isinstance(value, str):
        return {value.split("#", 1)[0]} if value.startswith(LOCAL_BASE + "/") else set()
    if isinstance(value, list):
        return {link for item in value for link in local_links(item)}
    if isinstance(value, dict):
        return {link for item in value.values() for link in local_links(item)}
    return set()


async def crawl(client: Client, start: list[str], limit: int = 300) -> dict[str, tuple[int, Any]]:
    """(status, document) of every ActivityPub document reachable from `start`."""
    seen: dict[str, tuple[int, Any]] = {}
    queue = deque(start)
    visited: set[str] = set()
    while queue and len(visited) < limit:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        response = await client.get(url.removeprefix(LOCAL_BASE), headers={"Accept": AP})
        if not response.content_type.startswith("application/activity+json"):
            continue  # inboxes (POST only), tag pages and the like
        doc = json.loads(await response.get_data(as_text=True))
        seen[url] = (response.status_code, doc)
        queue.extend(sorted(local_links(doc) - visited))
    return seen


def test_omit_empty_arrays_keeps_everything_else() -> None:
    doc = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "tag": [],
        "summary": None,
        "name": "",
        "to": ["a"],
        "replies": {"first": {"items": [], "next": "n"}},
        "attachment": [{"type": "PropertyValue", "value": "", "x": []}],
    }
    assert omit_empty_arrays(doc) == {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "summary": None,
        "name": "",
        "to": ["a"],
        "replies": {"first": {"next": "n"}},
        "attachment": [{"type": "PropertyValue", "value": ""}],
    }


async def test_served_documents_have_no_empty_arrays(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Actors (with and without profile fields), the instance actor, notes (bare, tagged,
    replies, direct without addressees), Create activities, outboxes and their pages,
    followers/following/featured/replies collections (empty and not), Tombstones."""
    alice = await local_user(app, "alice")
    bob = await local_user(app, "bob")
    await gapo(app).accounts.update_profile(
        bob["id"], display_name="Bob", bio="hi", fields=[("Site", "https://bob.example")]
    )
    await remote_follower(app, peer, "fan", alice)
    posts = gapo(app).posts
    bare = await posts.create(alice, "plain words")
    await posts.create(alice, "#tagged and @bob", visibility="unlisted")
    await posts.create(bob, "a reply", in_reply_to_id=bare["id"])
    await posts.create(alice, "nobody addressed", visibility="direct")
    gone = await posts.create(alice, "soon gone")
    await posts.delete(alice, gone["id"])

    start = [f"{LOCAL_BASE}/users/alice", f"{LOCAL_BASE}/users/bob", f"{LOCAL_BASE}/actor"]
    start.append(f"{LOCAL_BASE}/users/alice/statuses/{gone['id']}")
    served = await crawl(client, start)

    kinds = {(status, doc.get("type")) for status, doc in served.values()}
    for kind in (
        (200, "Person"),
        (200, "Application"),
        (200, "Note"),
        (200, "Create"),
        (200, "OrderedCollection"),
        (200, "OrderedCollectionPage"),
        (200, "Collection"),
        (200, "CollectionPage"),
        (410, "Tombstone"),
    ):
        assert kind in kinds, kind
    assert any("attachment" in doc for _, doc in served.values())  # bob's field is kept
    found = {url: empty_arrays(doc) for url, (_, doc) in served.items() if empty_arrays(doc)}
    assert found == {}


async def test_delivered_activities_have_no_empty_arrays(app: Quart, peer: FakePeer) -> None:
    """Create, Update (note and profile), Like, Announce, Undo, Delete, Follow: as received."""
    alice = await local_user(app, "alice")
    services = gapo(app)
    fan = await remote_follower(app, peer, "fan", alice)
    theirs = await services.federation.notes.ingest(
        {
            "id": f"{fan['ap_id']}/notes/1",
            "type": "Note",
            "attributedTo": fan["ap_id"],
            "content": "<p>from afar</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
        author=fan,
    )
    posts = services.posts
    await posts.react(alice, theirs["id"], "likes")
    post = await posts.create(alice, "first")
    await posts.edit(alice, post["id"], "first, edited")
    await posts.react(alice, post["id"], "likes")
    await posts.react(alice, post["id"], "shares")
    await posts.react(alice, post["id"], "shares", undo=True)
    await posts.create(alice, f"@fan@{peer.host} only you", visibility="direct")
    await posts.delete(alice, post["id"])
    # Saving the profile enqueues its Update(Person).
    await services.accounts.update_profile(alice["id"], display_name="Alice", bio="")
    await services.relationship_writer.follow(alice, fan)
    await services.runner.run_until_idle(limit_seconds=10)

    received = [got.activity for got in peer.received]
    types = {activity["type"] for activity in received}
    assert {"Create", "Update", "Like", "Announce", "Undo", "Delete", "Follow"} <= types
    found = {a["type"] + " " + a["id"]: empty_arrays(a) for a in received if empty_arrays(a)}
    assert found == {}
