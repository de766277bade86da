"""A deleted post answers 410 only to those who could have seen it; to anyone else it is the
same 404 as a post that never existed, over ActivityPub and on the HTML pages alike."""

from __future__ import annotations

from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.helpers.fake_peer import AP, LOCAL_BASE, FakePeer, local_user, remote_follower
from tests.helpers.social import act_on, gapo, user


def answer(response: Any, body: bytes) -> tuple[int, bytes, dict[str, str]]:
    """What a client can tell apart: status, body and every header but the date and the
    session cookie (the visitor's own form state, re-signed on each answer)."""
    headers = {
        k.lower(): v for k, v in response.headers.items() if k.lower() not in ("date", "set-cookie")
    }
    return response.status_code, body, headers


async def fetch(client: Client, path: str, headers: dict[str, str]) -> tuple[int, bytes, Any]:
    response = await client.get(path, headers=headers)
    return answer(response, await response.get_data())


async def test_over_activitypub(
    app: Quart, client: Client, peer: FakePeer, other_peer: FakePeer
) -> None:
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    await gapo(app).actors.get_or_fetch(peer.actor_id("stranger"))
    await gapo(app).actors.get_or_fetch(other_peer.actor_id("friend"))
    posts = gapo(app).posts
    followers_only = await posts.create(alice, "for followers", visibility="followers")
    direct = await posts.create(alice, f"@friend@{other_peer.host} for you", visibility="direct")
    public = await posts.create(alice, "for all")
    unlisted = await posts.create(alice, "for all, quietly", visibility="unlisted")
    for post in (followers_only, direct, public, unlisted):
        await posts.delete(alice, post["id"])
    never = public["id"] + 999_999

    def signed(server: FakePeer, name: str, path: str) -> dict[str, str]:
        return server.signed_get(LOCAL_BASE + path, name)

    for suffix in ("", "/activity", "/replies"):
        base = "/users/alice/statuses/{}" + suffix
        missing_path = base.format(never)
        for post, allowed in (
            (followers_only, [(peer, "fan")]),
            (direct, [(other_peer, "friend")]),
        ):
            path = base.format(post["id"])
            not_allowed = [(peer, "stranger")] + ([(peer, "fan")] if post is direct else [])
            # Unsigned, or signed by someone who could never see it: exactly a missing id.
            assert await fetch(client, path, {"Accept": AP}) == await fetch(
                client, missing_path, {"Accept": AP}
            )
            for server, name in not_allowed:
                got = await fetch(client, path, signed(server, name, path))
                nothing = await fetch(client, missing_path, signed(server, name, missing_path))
                assert got == nothing, (path, name)
                assert got[0] == 404
            for server, name in allowed:
                response = await client.get(path, headers=signed(server, name, path))
                assert response.status_code == 410, (path, name)
                doc = await response.get_json()
                assert doc["type"] == "Tombstone" and doc["deleted"]
        for post in (public, unlisted):
            response = await client.get(base.format(post["id"]), headers={"Accept": AP})
            assert response.status_code == 410
            assert (await response.get_json())["type"] == "Tombstone"


async def test_on_the_html_pages(app: Quart) -> None:
    alice = await user(app, "alice")
    bob = await user(app, "bob")  # follows alice
    carol = await user(app, "carol")  # does not
    anonymous = app.test_client()
    alice_id = (await gapo(app).accounts.profile("alice"))["id"]
    response = await act_on(bob, "follow", alice_id)
    assert response.status_code in (302, 303)
    author = await gapo(app).accounts.profile("alice")
    posts = gapo(app).posts
    followers_only = await posts.create(author, "for followers", visibility="followers")
    public = await posts.create(author, "for all")
    bob_page = await bob.get(f"/p/{followers_only['id']}")
    assert bob_page.status_code == 200  # bob could see it
    for post in (followers_only, public):
        await posts.delete(author, post["id"])
    never = public["id"] + 999_999

    for path in ("/p/{}", "/@alice/{}"):
        hidden, missing = path.format(followers_only["id"]), path.format(never)
        for reader in (alice, bob):
            response = await reader.get(hidden)
            assert response.status_code == 410, path
            assert "deleted" in await response.get_data(as_text=True)
        for reader in (carol, anonymous):
            got = await reader.get(hidden)
            nothing = await reader.get(missing)
            # The page names its own path (the language form comes back to it); all else is one.
            body = (await got.get_data()).replace(hidden.encode(), missing.encode())
            assert answer(got, body) == answer(nothing, await nothing.get_data())
            assert got.status_code == 404
        for reader in (carol, anonymous, bob):
            assert (await reader.get(path.format(public["id"]))).status_code == 410
