"""Account migration (`Move`) both ways between a real Gapo and bovine, an independent peer
in its own venv: each side checks the other's `alsoKnownAs` with its own code and verifies
the other's signatures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.federation_bovine.bovine_harness import BovinePeer, free_port
from tests.helpers.instances import PASSWORD, GapoInstance, WebUser, eventually

pytestmark = pytest.mark.federation


@pytest.fixture(scope="module")
def gapo(federation_root: Path) -> Iterator[GapoInstance]:
    instance = GapoInstance("gapo-move", federation_root).start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def peer(federation_root: Path, request: pytest.FixtureRequest) -> Iterator[BovinePeer]:
    """A fresh bovine actor per test: a moved actor stays moved."""
    name = request.node.name[-20:].replace("_", "")
    bovine = BovinePeer.start(free_port(), "moo", federation_root / f"bovine-{name}")
    try:
        yield bovine
    finally:
        bovine.stop()


async def received(peer: BovinePeer, kind: str) -> list[dict[str, Any]]:
    return [e for e in await peer.inbox() if e["activity"].get("type") == kind]


def follows_of(gapo: GapoInstance, follower: str) -> list[tuple[str, str]]:
    """(followee's actor id or local username, state) of every follow of a local account."""
    rows = gapo.query(
        "SELECT COALESCE(b.ap_id, b.username) AS who, f.state FROM follows f"
        " JOIN accounts a ON a.id = f.follower_id JOIN accounts b ON b.id = f.followee_id"
        " WHERE a.username = ? AND a.local = 1 ORDER BY f.id",
        (follower,),
    )
    return [(str(r["who"]), str(r["state"])) for r in rows]


async def test_a_gapo_account_moves_to_bovine(gapo: GapoInstance, peer: BovinePeer) -> None:
    """bovine follows ana and names her in `alsoKnownAs`; ana moves to bovine's actor. bovine
    gets a verified, well-formed Move that passes Mastodon's checks and an Update with
    `movedTo`; carl, ana's follower on Gapo, now follows bovine's actor instead."""
    gapo.create_user("ana")
    gapo.create_user("carl")
    await peer.follow(gapo.handle("ana").lstrip("@"))
    await eventually(lambda: received(peer, "Accept"), timeout=30)
    carl = await WebUser(gapo, "carl").login()
    ana = await WebUser(gapo, "ana").login()
    try:
        await carl.follow(gapo.handle("ana"))
        assert follows_of(gapo, "carl") == [("ana", "accepted")]
        # Without the alias, Gapo refuses the move (it reads bovine's actor fresh).
        move = {"target": peer.handle, "current": PASSWORD}
        assert await ana.post_form("/settings/move", move, csrf_from="/settings/moving") == 422
        await peer.set_aliases([gapo.actor("ana")])
        assert await ana.post_form("/settings/move", move, csrf_from="/settings/moving") == 302
    finally:
        await carl.close()
        await ana.close()

    [entry] = await eventually(lambda: received(peer, "Move"), timeout=30)
    assert entry["verified"] is True, entry
    assert entry["key_id"] == f"{gapo.actor('ana')}#main-key"
    activity = entry["activity"]
    assert activity["actor"] == activity["object"] == gapo.actor("ana")
    assert activity["target"] == peer.actor_id
    assert activity["id"].startswith(gapo.base_url)
    assert "https://www.w3.org/ns/activitystreams" in str(activity["@context"])
    assert gapo.actor("ana") + "/followers" in activity["to"]
    [check] = await eventually(peer.moves, timeout=30)
    assert check["checked"] is True, check

    updates = await eventually(lambda: moved_actor_updates(peer), timeout=30)
    assert updates[-1]["movedTo"] == peer.actor_id
    await eventually(lambda: follows_of(gapo, "carl") == [(peer.actor_id, "accepted")], 30)
    assert gapo.actor("carl") in await peer.followers()


async def moved_actor_updates(peer: BovinePeer) -> list[dict[str, Any]]:
    """The actors in verified Updates that carry `movedTo`."""
    return [
        e["activity"]["object"]
        for e in await received(peer, "Update")
        if e["verified"]
        and isinstance(e["activity"].get("object"), dict)
        and e["activity"]["object"].get("movedTo")
    ]


async def test_a_bovine_actor_moves_to_gapo(gapo: GapoInstance, peer: BovinePeer) -> None:
    """eli on Gapo follows bovine's actor; dora on Gapo names it as an alias; bovine sends its
    signed Move to dora. Gapo checks it and eli follows dora instead. A Move to an account
    that does not name bovine's actor (fay) changes nothing."""
    gapo.create_user("dora")
    gapo.create_user("eli")
    gapo.create_user("fay")
    eli = await WebUser(gapo, "eli").login()
    dora = await WebUser(gapo, "dora").login()
    try:
        await eli.follow(peer.actor_id)
        await eventually(lambda: follows_of(gapo, "eli") == [(peer.actor_id, "accepted")], 30)

        await peer.move(gapo.actor("fay"))  # fay lists no alias: Gapo refuses it when applied
        await eventually(lambda: _move_outcome(gapo, peer), timeout=30)
        assert "alsoKnownAs" in _move_outcome(gapo, peer)
        assert follows_of(gapo, "eli") == [(peer.actor_id, "accepted")]

        status = await dora.post_form(
            "/settings/aliases", {"alias": "@" + peer.handle}, csrf_from="/settings/moving"
        )
        assert status == 302
        await peer.move(gapo.actor("dora"))
        await eventually(lambda: follows_of(gapo, "eli") == [("dora", "accepted")], 30)
        [moo] = gapo.query("SELECT id FROM accounts WHERE ap_id = ?", (peer.actor_id,))
        assert "This account has moved to" in await eli.get(f"/accounts/{moo['id']}")
    finally:
        await eli.close()
        await dora.close()
    # eli's Undo of the old follow reached bovine, signed and verified.
    undo = await eventually(lambda: received(peer, "Undo"), timeout=30)
    assert undo[-1]["verified"] is True
    assert gapo.actor("eli") not in await peer.followers()


def _move_outcome(gapo: GapoInstance, peer: BovinePeer) -> str:
    """What Gapo's inbox made of the peer's (latest) Move, once applied."""
    rows = gapo.query(
        "SELECT result FROM inbox_activities WHERE ap_type = 'Move' AND actor_ap_id = ?"
        " AND processed_at IS NOT NULL ORDER BY id DESC LIMIT 1",
        (peer.actor_id,),
    )
    return str(rows[0]["result"] or "") if rows else ""
