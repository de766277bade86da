"""Serving interop: the instance actor by WebFinger, AP documents at the `url` pages,
cache headers that never let a shared cache keep a private answer, and the outbox."""

from __future__ import annotations

import json
import re
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import accounts as accounts_q
from tests.helpers.fake_peer import (
    AP,
    LOCAL_BASE,
    LOCAL_HOST,
    FakePeer,
    local_user,
    remote_follower,
)
from tests.helpers.social import gapo
from tests.helpers.web import signup

LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
PUBLIC_CACHE = "max-age=60, public"
PRIVATE_CACHE = "private, no-store"


def alternate_links(html: str) -> list[str]:
    return re.findall(
        r'<link rel="alternate" type="application/activity\+json" href="([^"]+)">', html
    )


def varies_on(response: Any, *names: str) -> bool:
    vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
    return all(name.lower() in vary for name in names)


async def webfinger(client: Client, resource: str) -> tuple[int, Any]:
    response = await client.get("/.well-known/webfinger", query_string={"resource": resource})
    text = await response.get_data(as_text=True)
    return response.status_code, json.loads(text) if response.status_code == 200 else None


# --- 1. the instance actor by WebFinger ---


async def test_webfinger_finds_the_instance_actor(app: Quart, client: Client) -> None:
    """acct:<host>@<host> and the /actor URL answer a JRD whose self link is /actor, so a
    peer checking preferredUsername@host of our signing key's owner finds it."""
    actor = await client.get("/actor", headers={"Accept": AP})
    doc = await actor.get_json()
    name = doc["preferredUsername"]
    assert name == LOCAL_HOST

    for resource in (
        f"acct:{name}@{LOCAL_HOST}",
        f"acct:{name.upper()}@{LOCAL_HOST}",
        f"{LOCAL_BASE}/actor",
    ):
        status, jrd = await webfinger(client, resource)
        assert status == 200, resource
        assert jrd["subject"] == f"acct:{name}@{LOCAL_HOST}"
        links = {link["rel"]: link for link in jrd["links"]}
        assert links["self"] == {"rel": "self", "type": AP, "href": doc["id"]}
        assert doc["id"] == f"{LOCAL_BASE}/actor"
        assert jrd["aliases"] == [doc["id"]]

    # Unknown names stay unknown; the stored row's own name is not a public handle.
    for resource in (
        f"acct:nobody@{LOCAL_HOST}",
        f"acct:{LOCAL_HOST}@elsewhere.example",
        f"acct:instance.actor@{LOCAL_HOST}",
        f"{LOCAL_BASE}/actors",
    ):
        status, _ = await webfinger(client, resource)
        assert status == 404, resource


# --- 2. content negotiation on the `url` pages ---


async def test_profile_page_serves_the_actor_to_activitypub_clients(
    app: Quart, client: Client
) -> None:
    """/@alice answers the actor document for both AP Accept types; HTML links to it."""
    await local_user(app, "alice")
    actor_id = f"{LOCAL_BASE}/users/alice"
    canonical = await (await client.get("/users/alice", headers={"Accept": AP})).get_json()
    for accept in (AP, LD):
        response = await client.get("/@alice", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.content_type.startswith("application/activity+json")
        assert await response.get_json() == canonical
        assert varies_on(response, "Accept")

    page = await client.get("/@alice", headers={"Accept": "text/html"})
    assert page.content_type.startswith("text/html")
    assert varies_on(page, "Accept")
    assert alternate_links(await page.get_data(as_text=True)) == [actor_id]

    missing = await client.get("/@nobody", headers={"Accept": AP})
    assert missing.status_code == 404


async def test_post_page_serves_the_note_like_its_canonical_id(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """/@alice/<id> answers the note as /users/alice/statuses/<id> does, under the same
    access rules: forbidden answers like missing, deleted answers 410 with a Tombstone."""
    alice = await local_user(app, "alice")
    public = await gapo(app).posts.create(alice, "hello world")
    canonical = f"{LOCAL_BASE}/users/alice/statuses/{public['id']}"
    for accept in (AP, LD):
        response = await client.get(f"/@alice/{public['id']}", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.content_type.startswith("application/activity+json")
        assert (await response.get_json())["id"] == canonical
    # Someone else's name in the URL is not this note.
    await local_user(app, "bob")
    wrong = await client.get(f"/@bob/{public['id']}", headers={"Accept": AP})
    assert wrong.status_code == 404

    await remote_follower(app, peer, "fan", alice)
    await gapo(app).actors.get_or_fetch(peer.actor_id("stranger"))
    private = await gapo(app).posts.create(alice, "for followers", visibility="followers")
    path = f"/@alice/{private['id']}"
    missing = await client.get(f"/@alice/{private['id'] + 12345}", headers={"Accept": AP})
    unsigned = await client.get(path, headers={"Accept": AP})
    stranger = await client.get(path, headers=peer.signed_get(LOCAL_BASE + path, "stranger"))
    assert missing.status_code == unsigned.status_code == stranger.status_code == 404
    assert await unsigned.get_data() == await stranger.get_data() == await missing.get_data()
    fan = await client.get(path, headers=peer.signed_get(LOCAL_BASE + path, "fan"))
    assert fan.status_code == 200
    assert (await fan.get_json())["id"] == f"{LOCAL_BASE}/users/alice/statuses/{private['id']}"

    await gapo(app).posts.delete(alice, public["id"])
    gone = await client.get(f"/@alice/{public['id']}", headers={"Accept": AP})
    assert gone.status_code == 410
    assert (await gone.get_json())["type"] == "Tombstone"


async def test_post_page_links_its_note_only_when_public(app: Quart, client: Client) -> None:
    """The HTML of a public or unlisted post links its AP id (search-by-URL); a
    followers-only one does not advertise it."""
    await signup(client, "carol")
    carol = await accounts_q.get_local_by_username(gapo(app).db, "carol")
    assert carol is not None
    for visibility, linked in (("public", True), ("unlisted", True), ("followers", False)):
        post = await gapo(app).posts.create(carol, f"a {visibility} post", visibility=visibility)
        page = await client.get(f"/@carol/{post['id']}", headers={"Accept": "text/html"})
        assert page.status_code == 200, visibility
        assert page.content_type.startswith("text/html")
        assert varies_on(page, "Accept")
        expected = [f"{LOCAL_BASE}/users/carol/statuses/{post['id']}"] if linked else []
        assert alternate_links(await page.get_data(as_text=True)) == expected, visibility
    # Pages that show no single object carry no such link.
    timeline = await client.get("/public/local")
    assert alternate_links(await timeline.get_data(as_text=True)) == []


# --- 3. cache headers ---


async def test_cache_headers_keep_private_answers_private(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Only answers an unsigned request would get are `public`; signer-dependent answers
    say `Vary: Signature`; anything filtered for a signer is `private, no-store`."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    public = await gapo(app).posts.create(alice, "hello world")
    private = await gapo(app).posts.create(alice, "for followers", visibility="followers")

    actor = await client.get("/users/alice", headers={"Accept": AP})
    assert actor.headers["Cache-Control"] == PUBLIC_CACHE

    for prefix in ("/users/alice/statuses", "/@alice"):
        for suffix in ("", "/activity"):
            if prefix == "/@alice" and suffix:
                continue
            path = f"{prefix}/{public['id']}{suffix}"
            unsigned = await client.get(path, headers={"Accept": AP})
            assert unsigned.status_code == 200, path
            assert unsigned.headers["Cache-Control"] == PUBLIC_CACHE, path
            assert varies_on(unsigned, "Accept", "Signature"), path
            signed = await client.get(path, headers=peer.signed_get(LOCAL_BASE + path, "fan"))
            assert signed.headers["Cache-Control"] == PUBLIC_CACHE, path  # same as unsigned

            path = f"{prefix}/{private['id']}{suffix}"
            fan = await client.get(path, headers=peer.signed_get(LOCAL_BASE + path, "fan"))
            assert fan.status_code == 200, path
            assert fan.headers["Cache-Control"] == PRIVATE_CACHE, path
            assert varies_on(fan, "Accept", "Signature"), path
            refused = await client.get(path, headers={"Accept": AP})
            assert refused.status_code == 404, path
            assert "public" not in refused.headers.get("Cache-Control", ""), path
            assert varies_on(refused, "Signature"), path

    page_path = "/users/alice/outbox?page=true"
    fan_page = await client.get(page_path, headers=peer.signed_get(LOCAL_BASE + page_path, "fan"))
    items = (await fan_page.get_json())["orderedItems"]
    assert {i["object"]["id"].rsplit("/", 1)[-1] for i in items} == {
        str(public["id"]),
        str(private["id"]),
    }
    assert fan_page.headers["Cache-Control"] == PRIVATE_CACHE
    assert varies_on(fan_page, "Signature")
    anonymous_page = await client.get(page_path, headers={"Accept": AP})
    assert len((await anonymous_page.get_json())["orderedItems"]) == 1
    assert anonymous_page.headers["Cache-Control"] == PUBLIC_CACHE
    assert varies_on(anonymous_page, "Signature")

    replies_path = f"/users/alice/statuses/{private['id']}/replies?page=true"
    replies = await client.get(
        replies_path, headers=peer.signed_get(LOCAL_BASE + replies_path, "fan")
    )
    assert replies.status_code == 200
    assert replies.headers["Cache-Control"] == PRIVATE_CACHE


# --- 4. the outbox ---


async def test_outbox_filters_each_post_for_the_signer_and_links_consistently(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A blocked signer gets no posts; the collection links `first` and pages link `next`
    only (no `last`/`prev` pointing at paging the route does not offer)."""
    alice = await local_user(app, "alice")
    for n in range(22):
        await gapo(app).posts.create(alice, f"post number {n}")
    enemy = await gapo(app).actors.get_or_fetch(peer.actor_id("enemy"))
    await gapo(app).relationship_writer.block(alice, enemy)

    collection = await client.get("/users/alice/outbox", headers={"Accept": AP})
    doc = await collection.get_json()
    assert doc["first"] == f"{LOCAL_BASE}/users/alice/outbox?page=true"
    assert "last" not in doc
    assert collection.headers["Cache-Control"] == PUBLIC_CACHE

    page_path = "/users/alice/outbox?page=true"
    blocked = await client.get(page_path, headers=peer.signed_get(LOCAL_BASE + page_path, "enemy"))
    assert blocked.status_code == 200
    assert "orderedItems" not in await blocked.get_json()

    first = await (await client.get(page_path, headers={"Accept": AP})).get_json()
    assert len(first["orderedItems"]) == 20
    assert "prev" not in first
    second_path = first["next"].removeprefix(LOCAL_BASE)
    second = await (await client.get(second_path, headers={"Accept": AP})).get_json()
    assert second["id"] == first["next"]
    assert len(second["orderedItems"]) == 2
    assert "next" not in second and "prev" not in second
    blocked_second = await client.get(
        second_path, headers=peer.signed_get(LOCAL_BASE + second_path, "enemy")
    )
    assert "orderedItems" not in await blocked_second.get_json()
