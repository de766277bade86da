"""Moving accounts (issue 17), against a loopback peer: aliases in `alsoKnownAs`, a move away
with Mastodon's checks (the new account names this one, one move per 30 days) and its signed
Move to the followers, and a remote account's Move taking its local followers along."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import accounts as accounts_q
from instance.db.connection import Row
from instance.federation import moves_in
from tests.federation_in_process.test_inbox_apply import AS, apply, assert_signed_by, send
from tests.helpers.fake_peer import AP, LOCAL_BASE, FakePeer, accepted_follow, remote_follower
from tests.helpers.social import gapo, page, user
from tests.helpers.web import post_form

PASSWORD = "a good long passphrase"
ALICE = f"{LOCAL_BASE}/users/alice"


class MovingPeer(FakePeer):
    """A peer that answers WebFinger and whose actors name the aliases a test gives them."""

    def __init__(self) -> None:
        super().__init__()
        self.aliases: dict[str, list[str]] = {}

    def actor_doc(self, name: str) -> dict[str, Any]:
        return {**super().actor_doc(name), "alsoKnownAs": self.aliases.get(name, [])}

    async def _extra(self, request: web.Request) -> web.Response:
        if request.path != "/.well-known/webfinger":
            return await super()._extra(request)
        name = request.query.get("resource", "").removeprefix("acct:").split("@", 1)[0]
        jrd = {
            "subject": f"acct:{name}@{self.host}",
            "links": [
                {"rel": "self", "type": "application/activity+json", "href": self.actor_id(name)}
            ],
        }
        return web.json_response(jrd, content_type="application/jrd+json")


@pytest.fixture
async def mover() -> Any:
    server = await MovingPeer().start()
    yield server
    await server.stop()


async def actor_json(client: Client, username: str = "alice") -> dict[str, Any]:
    response = await client.get(f"/users/{username}", headers={"Accept": AP})
    assert response.status_code == 200
    return dict(await response.get_json())


async def move_form(client: Client, target: str, password: str = PASSWORD) -> Any:
    return await post_form(
        client,
        "/settings/move",
        {"target": target, "current": password},
        csrf_from="/settings/moving",
    )


async def local(app: Quart, name: str) -> Row:
    row = await accounts_q.get_local_by_username(gapo(app).db, name)
    assert row is not None
    return row


async def test_alias_is_resolved_and_listed_in_also_known_as(app: Quart, mover: MovingPeer) -> None:
    """An alias added on the Moving page is found over WebFinger and listed in the actor."""
    alice = await user(app, "alice")
    assert (await actor_json(alice)).get("alsoKnownAs", []) == []
    response = await post_form(
        alice, "/settings/aliases", {"alias": f"@old@{mover.host}"}, csrf_from="/settings/moving"
    )
    assert response.status_code == 302
    assert (await actor_json(alice))["alsoKnownAs"] == [mover.actor_id("old")]
    assert f"@old@{mover.host}" in await page(alice, "/settings/moving")
    response = await post_form(
        alice,
        "/settings/aliases/remove",
        {"alias_id": mover.actor_id("old")},
        csrf_from="/settings/moving",
    )
    assert response.status_code == 302
    assert (await actor_json(alice)).get("alsoKnownAs", []) == []


async def test_move_away_sends_a_signed_move_and_moves_local_followers(
    app: Quart, mover: MovingPeer
) -> None:
    """With the new account naming this one, the move sets movedTo, sends a signed Move
    (object: the actor, target: the new one) to the followers' shared inbox, and a local
    follower follows the new account instead."""
    alice = await user(app, "alice")
    bob = await user(app, "bob")
    await remote_follower(app, mover, "fan", await local(app, "alice"))
    await accepted_follow(app, await local(app, "bob"), await local(app, "alice"))
    mover.aliases["new"] = [ALICE]
    response = await move_form(alice, f"@new@{mover.host}")
    assert response.status_code == 302, await response.get_data(as_text=True)
    await apply(app)
    assert (await actor_json(alice))["movedTo"] == mover.actor_id("new")
    [move] = [r for r in mover.received if r.activity["type"] == "Move"]
    assert move.path == "/inbox"
    assert move.activity["actor"] == ALICE and move.activity["object"] == ALICE
    assert move.activity["target"] == mover.actor_id("new")
    await assert_signed_by(alice, mover, move, "alice")
    # The local follower moved: a Follow went to the new account, and alice lost bob.
    follows = [r for r in mover.received if r.activity["type"] == "Follow"]
    assert [f.activity["object"] for f in follows] == [mover.actor_id("new")]
    assert follows[0].activity["actor"] == f"{LOCAL_BASE}/users/bob"
    rels = gapo(app).relationships
    new = await accounts_q.get_by_ap_id(gapo(app).db, mover.actor_id("new"))
    assert await rels.state((await local(app, "bob"))["id"], new["id"]) == "pending"
    assert (
        await rels.state((await local(app, "bob"))["id"], (await local(app, "alice"))["id"]) is None
    )
    # The profile says where alice went; she can still use the account.
    assert "This account has moved to" in await page(bob, "/@alice")
    assert "This account has moved to" in await page(alice, "/settings/moving")
    again = app.test_client()
    response = await post_form(again, "/login", {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302


async def test_move_is_refused_when_the_target_does_not_name_this_account(
    app: Quart, mover: MovingPeer
) -> None:
    """Mastodon's check: no alias on the new account, no move (422 with the reason)."""
    alice = await user(app, "alice")
    response = await move_form(alice, f"@new@{mover.host}")
    assert response.status_code == 422
    assert "does not name this one as an alias" in await response.get_data(as_text=True)
    assert "movedTo" not in await actor_json(alice)
    await apply(app)
    assert [r for r in mover.received if r.activity["type"] == "Move"] == []


async def test_second_move_within_30_days_is_refused(app: Quart, mover: MovingPeer) -> None:
    """One move per 30 days, as Mastodon: the second answers 409 and says when."""
    alice = await user(app, "alice")
    mover.aliases["new"] = [ALICE]
    mover.aliases["newer"] = [ALICE]
    assert (await move_form(alice, f"@new@{mover.host}")).status_code == 302
    response = await move_form(alice, f"@newer@{mover.host}")
    assert response.status_code == 409
    assert "You moved less than 30 days ago" in await response.get_data(as_text=True)
    assert (await actor_json(alice))["movedTo"] == mover.actor_id("new")


@pytest.mark.parametrize(
    ("path", "form", "status", "reason"),
    [
        ("/settings/move", {"target": "not an address", "current": PASSWORD}, 422, "@name@server"),
        ("/settings/move", {"target": "@new@127.0.0.1:9", "current": "wrong"}, 401, "password"),
        ("/settings/move", {"target": "@alice@gapo.test", "current": PASSWORD}, 422, "itself"),
        ("/settings/aliases", {"alias": ""}, 422, "@name@server"),
        ("/settings/aliases", {"alias": "@alice@gapo.test"}, 422, "this account"),
        ("/settings/aliases/remove", {"alias_id": "https://x.example/u"}, 404, "no such alias"),
    ],
)
async def test_bad_input_gets_a_4xx_with_a_reason(
    app: Quart, path: str, form: dict[str, str], status: int, reason: str
) -> None:
    """Bad addresses, a wrong password, oneself: a clear 4xx on the page, nothing written."""
    alice = await user(app, "alice")
    response = await post_form(alice, path, form, csrf_from="/settings/moving")
    assert response.status_code == status
    assert reason in await response.get_data(as_text=True)
    assert "movedTo" not in await actor_json(alice)


def move_of(peer: FakePeer, target: str, n: int = 1, obj: str | None = None) -> dict[str, Any]:
    origin = peer.actor_id("remote")
    return {
        "@context": AS,
        "id": f"{peer.base_url}/moves/{n}",
        "type": "Move",
        "actor": origin,
        "object": obj or origin,
        "target": target,
    }


async def results(app: Quart) -> list[str]:
    rows = await gapo(app).db.fetch_all(
        "SELECT result FROM inbox_activities WHERE ap_type = 'Move' ORDER BY id"
    )
    return [str(r["result"]) for r in rows]


async def bob_following_remote(app: Quart, mover: MovingPeer) -> tuple[Client, Row, Row]:
    bob = await user(app, "bob")
    origin = await gapo(app).actors.get_or_fetch(mover.actor_id("remote"))
    await accepted_follow(app, await local(app, "bob"), origin)
    return bob, await local(app, "bob"), origin


async def test_incoming_move_takes_local_followers_to_the_target(
    app: Quart, client: Client, mover: MovingPeer
) -> None:
    """A Move the target agrees to: bob follows the target (a Follow is delivered), stops
    following the origin (an Undo), and the origin's profile says where it went; a repeated
    Move changes nothing."""
    bob_client, bob, origin = await bob_following_remote(app, mover)
    mover.aliases["new"] = [mover.actor_id("remote")]
    await send(client, mover, move_of(mover, mover.actor_id("new")))
    await apply(app)
    assert await results(app) == ["move accepted"]
    follows = [r for r in mover.received if r.activity["type"] == "Follow"]
    assert [(f.path, f.activity["object"]) for f in follows] == [
        ("/users/new/inbox", mover.actor_id("new"))
    ]
    undos = [r for r in mover.received if r.activity["type"] == "Undo"]
    assert [u.activity["object"]["object"] for u in undos] == [mover.actor_id("remote")]
    rels = gapo(app).relationships
    assert await rels.state(bob["id"], origin["id"]) is None
    body = await page(bob_client, f"/accounts/{origin['id']}")
    assert "This account has moved to" in body and f"@new@{mover.host}" in body
    # The same move again (a new id): nothing more is sent.
    before = len(mover.received)
    await send(client, mover, move_of(mover, mover.actor_id("new"), n=2))
    await apply(app)
    assert (await results(app))[-1] == "ignored: already moved there"
    assert len(mover.received) == before


async def test_incoming_move_is_refused_without_the_alias(
    app: Quart, client: Client, mover: MovingPeer
) -> None:
    """The target does not list the origin in alsoKnownAs: stored, refused, nobody moves."""
    _, bob, origin = await bob_following_remote(app, mover)
    await send(client, mover, move_of(mover, mover.actor_id("new")))
    await apply(app)
    assert await results(app) == ["rejected: the target does not name the origin in alsoKnownAs"]
    assert await gapo(app).relationships.state(bob["id"], origin["id"]) == "accepted"
    assert [r for r in mover.received if r.activity["type"] == "Follow"] == []


async def test_incoming_move_of_another_actor_is_refused(
    app: Quart, client: Client, mover: MovingPeer
) -> None:
    """Only an actor can move itself: a Move whose object is someone else does nothing."""
    _, bob, origin = await bob_following_remote(app, mover)
    mover.aliases["new"] = [mover.actor_id("other")]
    activity = move_of(mover, mover.actor_id("new"), obj=mover.actor_id("other"))
    await send(client, mover, activity)
    await apply(app)
    assert await results(app) == ["rejected: a Move must move its own actor"]
    assert await gapo(app).relationships.state(bob["id"], origin["id"]) == "accepted"


async def test_blocks_carry_over_and_a_second_move_waits_7_days(
    app: Quart, client: Client, mover: MovingPeer
) -> None:
    """Who blocked the origin here blocks the target too (a move is no way around a block),
    and another Move of the same account within 7 days is ignored, as Mastodon does."""
    await user(app, "carol")
    carol = await local(app, "carol")
    origin = await gapo(app).actors.get_or_fetch(mover.actor_id("remote"))
    await gapo(app).relationship_writer.block(carol, origin)
    mover.aliases["new"] = [mover.actor_id("remote")]
    mover.aliases["newer"] = [mover.actor_id("remote")]
    await send(client, mover, move_of(mover, mover.actor_id("new")))
    await apply(app)
    new = await accounts_q.get_by_ap_id(gapo(app).db, mover.actor_id("new"))
    assert await gapo(app).relationships.is_blocked(carol["id"], new["id"])
    blocks = [r.activity["object"] for r in mover.received if r.activity["type"] == "Block"]
    assert mover.actor_id("new") in blocks
    await send(client, mover, move_of(mover, mover.actor_id("newer"), n=2))
    await apply(app)
    assert (await results(app))[-1] == "ignored: the account moved less than 7 days ago"


async def test_deleting_the_account_removes_its_aliases(app: Quart, mover: MovingPeer) -> None:
    """The aliases and the move go with the account (the tombstone keeps neither)."""
    alice = await user(app, "alice")
    await post_form(
        alice, "/settings/aliases", {"alias": f"@old@{mover.host}"}, csrf_from="/settings/moving"
    )
    account = await local(app, "alice")
    assert await gapo(app).moved.also_known_as(account) == (mover.actor_id("old"),)
    response = await post_form(
        alice, "/settings/delete", {"current": PASSWORD}, csrf_from="/settings/data"
    )
    assert response.status_code == 302
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    await gapo(app).db.execute("UPDATE jobs SET run_at = 0 WHERE state = 'queued'")
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    assert await gapo(app).moved.also_known_as(account) == ()


async def test_followers_move_in_batches(
    app: Quart, client: Client, mover: MovingPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migration job takes one batch per run and queues the rest: everyone moves."""
    monkeypatch.setattr(moves_in, "BATCH", 1)
    origin = await gapo(app).actors.get_or_fetch(mover.actor_id("remote"))
    names = ["bob", "dave", "erin"]
    for name in names:
        await user(app, name)
        await accepted_follow(app, await local(app, name), origin)
    mover.aliases["new"] = [mover.actor_id("remote")]
    await send(client, mover, move_of(mover, mover.actor_id("new")))
    await apply(app)
    follows = [r.activity["actor"] for r in mover.received if r.activity["type"] == "Follow"]
    assert sorted(follows) == [f"{LOCAL_BASE}/users/{n}" for n in names]
    runs = await gapo(app).db.fetch_all("SELECT state FROM jobs WHERE kind = 'move_followers'")
    assert [r["state"] for r in runs] == ["done"] * 4


async def test_followers_here_are_notified_of_the_move(
    app: Quart, client: Client, mover: MovingPeer
) -> None:
    """As Mastodon's `move` notification: bob, who followed the origin, is told it moved."""
    bob_client, _bob, origin = await bob_following_remote(app, mover)
    assert "moved to a new account" not in await page(bob_client, "/notifications")
    mover.aliases["new"] = [mover.actor_id("remote")]
    await send(client, mover, move_of(mover, mover.actor_id("new")))
    await apply(app)
    body = await page(bob_client, "/notifications")
    assert "moved to a new account" in body
    assert f"/accounts/{origin['id']}" in body


async def test_a_move_can_be_cancelled(app: Quart, mover: MovingPeer) -> None:
    """Mastodon's "cancel the redirect": movedTo leaves the actor (an Update tells the
    followers' servers), the page says so, and the 30-day cool-down still holds."""
    alice = await user(app, "alice")
    await remote_follower(app, mover, "fan", await local(app, "alice"))
    mover.aliases["new"] = [ALICE]
    mover.aliases["newer"] = [ALICE]
    assert (await move_form(alice, f"@new@{mover.host}")).status_code == 302
    await apply(app)
    assert (await actor_json(alice))["movedTo"] == mover.actor_id("new")
    updates_before = len([r for r in mover.received if r.activity["type"] == "Update"])

    response = await post_form(alice, "/settings/move/cancel", {}, csrf_from="/settings/moving")
    assert response.status_code == 302
    assert "movedTo" not in await actor_json(alice)
    body = await page(alice, "/settings/moving")
    assert "The move was cancelled" in await page(alice, "/settings/moving?done=cancelled")
    assert "This account has moved to" not in body
    assert "You can move again on" in body
    await apply(app)
    updates = [r for r in mover.received if r.activity["type"] == "Update"]
    assert len(updates) > updates_before
    assert "movedTo" not in updates[-1].activity["object"]
    assert (await move_form(alice, f"@newer@{mover.host}")).status_code == 409
    # Cancelling again (nothing to cancel) is harmless.
    response = await post_form(alice, "/settings/move/cancel", {}, csrf_from="/settings/moving")
    assert response.status_code == 302


async def test_a_cancelled_move_takes_no_more_followers(app: Quart, mover: MovingPeer) -> None:
    """A follower still waiting in the migration when the move is cancelled stays."""
    alice = await user(app, "alice")
    await user(app, "bob")
    await accepted_follow(app, await local(app, "bob"), await local(app, "alice"))
    mover.aliases["new"] = [ALICE]
    assert (await move_form(alice, f"@new@{mover.host}")).status_code == 302
    response = await post_form(alice, "/settings/move/cancel", {}, csrf_from="/settings/moving")
    assert response.status_code == 302
    await apply(app)
    rels = gapo(app).relationships
    bob, alice_row = await local(app, "bob"), await local(app, "alice")
    assert await rels.state(bob["id"], alice_row["id"]) == "accepted"
    assert [r for r in mover.received if r.activity["type"] == "Follow"] == []
