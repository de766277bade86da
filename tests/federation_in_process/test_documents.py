"""What the instance serves: actors, collections, notes with access checks, discovery documents."""

from __future__ import annotations

import json
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import posts as posts_q
from instance.ids import now
from tests.helpers.fake_peer import (
    AP,
    LOCAL_BASE,
    LOCAL_HOST,
    FakePeer,
    local_user,
    remote_follower,
)
from tests.helpers.social import gapo

LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTOR_FIELDS = (
    "preferredUsername",
    "name",
    "summary",
    "url",
    "inbox",
    "outbox",
    "followers",
    "following",
    "featured",
    "publicKey",
    "endpoints",
    "manuallyApprovesFollowers",
    "discoverable",
    "published",
    "@context",
)
# Listed only when not empty (ActivityStreams omits empty arrays): profile fields, aliases.
ACTOR_FIELDS_IF_ANY = ("attachment", "alsoKnownAs", "tag")


async def get_ap(client: Client, path: str, **headers: str) -> tuple[int, Any, str]:
    response = await client.get(path, headers={"Accept": AP, **headers})
    text = await response.get_data(as_text=True)
    return response.status_code, (json.loads(text) if text else None), response.content_type


async def test_actor_document_for_both_accept_types(app: Quart, client: Client) -> None:
    """GET /users/<name> answers activity+json (for both AP Accept types) with Mastodon's fields."""
    await local_user(app, "alice")
    for accept in (AP, LD):
        response = await client.get("/users/alice", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.content_type.startswith("application/activity+json")
        doc = await response.get_json()
        for name in ACTOR_FIELDS:
            assert name in doc, name
        for name in ACTOR_FIELDS_IF_ANY:
            assert doc.get(name, ["absent"]) != [], name
        actor = f"{LOCAL_BASE}/users/alice"
        assert doc["id"] == actor and doc["type"] == "Person"
        assert doc["preferredUsername"] == "alice"
        assert doc["publicKey"]["id"] == f"{actor}#main-key"
        assert doc["publicKey"]["owner"] == actor
        assert "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
        assert doc["endpoints"]["sharedInbox"] == f"{LOCAL_BASE}/inbox"
        assert doc["manuallyApprovesFollowers"] is False
        context = json.dumps(doc["@context"])
        assert "https://w3id.org/security/v1" in context
        assert "joinmastodon.org/ns" in context


async def test_actor_html_and_instance_actor(app: Quart, client: Client) -> None:
    """A browser gets the HTML profile; /actor is an Application with a key."""
    await local_user(app, "alice")
    response = await client.get("/users/alice", headers={"Accept": "text/html"})
    if response.status_code in (301, 302, 303):
        assert response.headers["Location"].endswith("/@alice")
        response = await client.get("/@alice")
    assert response.status_code == 200
    assert response.content_type.startswith("text/html")

    status, doc, _ = await get_ap(client, "/actor")
    assert status == 200
    assert doc["type"] == "Application"
    assert doc["publicKey"]["owner"] == doc["id"] == f"{LOCAL_BASE}/actor"
    assert "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
    # Every collection the actor names answers (Mastodon reads the outbox's totalItems).
    status, outbox, _ = await get_ap(client, doc["outbox"].removeprefix(LOCAL_BASE))
    assert status == 200
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 0


async def test_outbox_and_follow_collections_page(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Outbox, followers and following are OrderedCollections whose pages link partOf/next."""
    alice = await local_user(app, "alice")
    for n in range(25):
        await gapo(app).posts.create(alice, f"post number {n}")
    await remote_follower(app, peer, "remote", alice)

    status, outbox, _ = await get_ap(client, "/users/alice/outbox")
    assert status == 200
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 25
    first_path = outbox["first"].removeprefix(LOCAL_BASE)
    _, first, _ = await get_ap(client, first_path)
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == outbox["id"]
    assert len(first["orderedItems"]) == 20
    assert first["orderedItems"][0]["type"] == "Create"
    _, second, _ = await get_ap(client, first["next"].removeprefix(LOCAL_BASE))
    assert second["partOf"] == outbox["id"]
    assert len(second["orderedItems"]) == 5
    assert "next" not in second
    seen = {i["object"]["id"] for i in first["orderedItems"] + second["orderedItems"]}
    assert len(seen) == 25

    for which, expected in (("followers", [peer.actor_id("remote")]), ("following", [])):
        _, collection, _ = await get_ap(client, f"/users/alice/{which}")
        assert collection["type"] == "OrderedCollection"
        assert collection["totalItems"] == len(expected)
        _, page, _ = await get_ap(client, collection["first"].removeprefix(LOCAL_BASE))
        assert page["partOf"] == collection["id"]
        assert page.get("orderedItems", []) == expected


async def test_note_access(
    app: Quart, client: Client, peer: FakePeer, other_peer: FakePeer
) -> None:
    """Public notes to anyone; followers-only to accepted followers; direct to the mentioned;
    forbidden answers like missing; deleted → 410 Tombstone."""
    alice = await local_user(app, "alice")
    public = await gapo(app).posts.create(alice, "hello world")
    path = f"/users/alice/statuses/{public['id']}"
    status, doc, content_type = await get_ap(client, path)
    assert status == 200 and content_type.startswith("application/activity+json")
    assert doc["id"] == LOCAL_BASE + path and doc["type"] == "Note"

    await remote_follower(app, peer, "fan", alice)
    await gapo(app).actors.get_or_fetch(peer.actor_id("stranger"))
    private = await gapo(app).posts.create(alice, "for followers", visibility="followers")
    path = f"/users/alice/statuses/{private['id']}"
    missing = f"/users/alice/statuses/{private['id'] + 12345}"

    unsigned = await client.get(path, headers={"Accept": AP})
    absent = await client.get(missing, headers={"Accept": AP})
    assert unsigned.status_code == absent.status_code == 404
    stranger = await client.get(path, headers=peer.signed_get(LOCAL_BASE + path, "stranger"))
    assert stranger.status_code == 404
    assert await stranger.get_data() == await absent.get_data()
    fan = await client.get(path, headers=peer.signed_get(LOCAL_BASE + path, "fan"))
    assert fan.status_code == 200
    assert (await fan.get_json())["id"] == LOCAL_BASE + path

    await gapo(app).actors.get_or_fetch(other_peer.actor_id("friend"))
    direct = await gapo(app).posts.create(
        alice, f"@friend@{other_peer.host} just you", visibility="direct"
    )
    path = f"/users/alice/statuses/{direct['id']}"
    for who, server, code in (("friend", other_peer, 200), ("fan", peer, 404)):
        response = await client.get(path, headers=server.signed_get(LOCAL_BASE + path, who))
        assert response.status_code == code, who

    await gapo(app).posts.delete(alice, public["id"])
    status, doc, _ = await get_ap(client, f"/users/alice/statuses/{public['id']}")
    assert status == 410 and doc["type"] == "Tombstone"


async def test_webfinger(app: Quart, client: Client) -> None:
    """WebFinger answers acct: and actor-URL resources with a JRD and CORS; 404 unknown; 400 none."""
    await local_user(app, "alice")
    actor = f"{LOCAL_BASE}/users/alice"
    for resource in (f"acct:alice@{LOCAL_HOST}", actor):
        response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        jrd = json.loads(await response.get_data(as_text=True))
        assert jrd["subject"] == f"acct:alice@{LOCAL_HOST}"
        assert actor in jrd["aliases"]
        links = {link["rel"]: link for link in jrd["links"]}
        assert links["self"]["href"] == actor and links["self"]["type"] == AP
        assert links["http://webfinger.net/rel/profile-page"]["href"] == f"{LOCAL_BASE}/@alice"
    unknown = await client.get(
        "/.well-known/webfinger", query_string={"resource": f"acct:nobody@{LOCAL_HOST}"}
    )
    assert unknown.status_code == 404
    missing = await client.get("/.well-known/webfinger")
    assert missing.status_code == 400
    # Errors carry CORS too, so a script elsewhere can tell "no such account" from a failure.
    for response in (unknown, missing):
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_host_meta_and_nodeinfo(app: Quart, client: Client) -> None:
    """host-meta points at WebFinger; NodeInfo 2.0/2.1 carry real counts and the sign-up mode."""
    host_meta = await client.get("/.well-known/host-meta")
    assert host_meta.status_code == 200
    assert f"{LOCAL_BASE}/.well-known/webfinger?resource={{uri}}" in await host_meta.get_data(
        as_text=True
    )
    index = json.loads(await (await client.get("/.well-known/nodeinfo")).get_data(as_text=True))
    hrefs = {link["href"] for link in index["links"]}
    assert {f"{LOCAL_BASE}/nodeinfo/2.0", f"{LOCAL_BASE}/nodeinfo/2.1"} <= hrefs

    alice = await local_user(app, "alice")
    await local_user(app, "bob")
    for n in range(3):
        await gapo(app).posts.create(alice, f"counted {n}")
    await gapo(app).db.execute(
        "UPDATE users SET last_active_at = :t WHERE account_id = :a",
        {"t": now(), "a": alice["id"]},
    )
    assert await posts_q.count_local_listed(gapo(app).db) == 3
    for version in ("2.0", "2.1"):
        response = await client.get(f"/nodeinfo/{version}")
        assert response.status_code == 200
        info = json.loads(await response.get_data(as_text=True))
        assert info["version"] == version
        assert info["usage"]["users"]["total"] == 2
        assert info["usage"]["users"]["activeMonth"] == 1
        assert info["usage"]["localPosts"] == 3
        assert info["openRegistrations"] is True
    assert (await client.get("/nodeinfo/9.9")).status_code == 404


async def test_nodeinfo_counts_only_posts_anyone_may_read(app: Quart, client: Client) -> None:
    """`localPosts` counts public and unlisted posts: not followers-only, direct or deleted."""
    alice = await local_user(app, "alice")
    await local_user(app, "bob")
    posts = gapo(app).posts
    await posts.create(alice, "public one")
    await posts.create(alice, "unlisted one", visibility="unlisted")
    await posts.create(alice, "for followers", visibility="followers")
    await posts.create(alice, "@bob just you", visibility="direct")
    gone = await posts.create(alice, "soon deleted")
    await posts.delete(alice, gone["id"])
    for version in ("2.0", "2.1"):
        info = await (await client.get(f"/nodeinfo/{version}")).get_json()
        assert info["usage"]["localPosts"] == 2, version


async def test_nodeinfo_closed_registrations(make_app: Any) -> None:
    """With GAPO_REGISTRATIONS=closed NodeInfo says openRegistrations: false."""
    app = await make_app(registrations="closed", base_url=LOCAL_BASE)
    response = await app.test_client().get("/nodeinfo/2.1")
    assert json.loads(await response.get_data(as_text=True))["openRegistrations"] is False
