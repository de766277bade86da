"""A remote profile's preview (recent public posts, follower totals) is read from its server
only for signed-in viewers, and at most once per account every few minutes."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart

from activitypub.fetch import FetchError
from instance.federation import lookup as lookup_module
from tests.helpers.social import gapo, remote_account, user

ACTOR = "https://mastodon.social/users/Gargron"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def documents(followers: int = 1234, following: int = 56) -> dict[str, dict[str, Any]]:
    note = {
        "id": f"{ACTOR}/statuses/1",
        "type": "Note",
        "attributedTo": ACTOR,
        "content": "<p>hello from the remote outbox</p>",
        "published": "2024-05-01T10:00:00Z",
        "to": [PUBLIC],
    }
    create = {"id": f"{note['id']}/activity", "type": "Create", "actor": ACTOR, "object": note}
    return {
        f"{ACTOR}/outbox": {
            "id": f"{ACTOR}/outbox",
            "type": "OrderedCollection",
            "totalItems": 1,
            "orderedItems": [create],
        },
        f"{ACTOR}/followers": {
            "id": f"{ACTOR}/followers",
            "type": "OrderedCollection",
            "totalItems": followers,
        },
        f"{ACTOR}/following": {
            "id": f"{ACTOR}/following",
            "type": "OrderedCollection",
            "totalItems": following,
        },
    }


class FakeRemote:
    """Stands in for RemoteActors.fetch_document: serves documents, counts requests."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.requests: list[str] = []

    async def fetch_document(self, url: str) -> dict[str, Any]:
        self.requests.append(url)
        if url not in self.docs:
            raise FetchError(f"404 on {url}")
        return self.docs[url]


async def test_preview_is_cached_per_account_for_a_few_minutes(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await remote_account(app)
    remote = FakeRemote(documents())
    clock = [1000.0]
    lookup = lookup_module.Lookup(
        gapo(app).db, remote, gapo(app).urls, "localhost", False, clock=lambda: clock[0]
    )  # type: ignore[arg-type]
    first = await lookup.remote_preview(account)
    assert [p["content_html"] for p in first.posts] == ["<p>hello from the remote outbox</p>"]
    assert (first.followers_total, first.following_total) == (1234, 56)
    assert len(remote.requests) == 3
    clock[0] += lookup_module.PREVIEW_TTL - 1
    assert await lookup.remote_preview(account) == first
    assert len(remote.requests) == 3
    clock[0] += 2
    await lookup.remote_preview(account)
    assert len(remote.requests) == 6


async def test_a_failing_peer_is_not_asked_again_at_once(app: Quart) -> None:
    account = await remote_account(app)
    remote = FakeRemote({})
    lookup = lookup_module.Lookup(
        gapo(app).db, remote, gapo(app).urls, "localhost", False, clock=lambda: 5.0
    )  # type: ignore[arg-type]
    preview = await lookup.remote_preview(account)
    assert preview.posts == [] and preview.followers_total is None
    asked = len(remote.requests)
    await lookup.remote_preview(account)
    assert len(remote.requests) == asked


async def test_profile_fetches_remotely_only_for_signed_in_viewers(
    app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await remote_account(app)
    remote = FakeRemote(documents(followers=4321, following=87))
    monkeypatch.setattr(gapo(app).actors, "fetch_document", remote.fetch_document)
    path = f"/accounts/{account['id']}"

    anonymous = await (await app.test_client().get(path)).get_data(as_text=True)
    assert remote.requests == []
    assert "hello from the remote outbox" not in anonymous
    # Stored follows only: nobody here follows them.
    assert "Followers: 0" in anonymous

    reader = await user(app, "alice")
    for _ in range(3):
        body = await (await reader.get(path)).get_data(as_text=True)
        assert "hello from the remote outbox" in body
        # The remote server's own totals, when it tells them.
        assert "Followers: 4321" in body and "Following: 87" in body
    assert sorted(set(remote.requests)) == sorted(documents())
    assert len(remote.requests) == 3


async def test_preview_shows_only_notes_addressed_to_the_public_collection(app: Quart) -> None:
    # One rule for "public" (activitypub.vocab.is_public): its three spellings count; an
    # address that merely ends in "#Public" (any collection a peer names so) does not.
    account = await remote_account(app)
    docs = documents()
    outbox = docs[f"{ACTOR}/outbox"]
    create = outbox["orderedItems"][0]
    items = []
    for n, address in enumerate((PUBLIC, "as:Public", "Public", f"{ACTOR}/followers#Public")):
        note = {**create["object"], "id": f"{ACTOR}/statuses/{n}", "content": f"<p>{n}</p>"}
        note["to"] = [address]
        items.append({**create, "id": f"{note['id']}/activity", "object": note})
    outbox["orderedItems"] = items
    lookup = lookup_module.Lookup(
        gapo(app).db, FakeRemote(docs), gapo(app).urls, "localhost", False
    )  # type: ignore[arg-type]
    posts = await lookup.recent_public_posts(account)
    assert [p["content_html"] for p in posts] == ["<p>0</p>", "<p>1</p>", "<p>2</p>"]
