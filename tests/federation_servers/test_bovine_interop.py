"""Interop with an independent ActivityPub implementation: bovine, in its own venv and
process, follows a Gapo user and is followed by one, each side verifying the other's
signatures with its own code."""

from __future__ import annotations

import pytest

from tests.federation_bovine.bovine_harness import BovinePeer
from tests.helpers.instances import GapoInstance, WebUser, eventually

pytestmark = pytest.mark.federation


def activities(entries: list[dict], kind: str) -> list[dict]:
    return [e for e in entries if e["activity"].get("type") == kind]


async def test_bovine_follows_gapo_and_receives_signed_posts(
    gapo: GapoInstance, peer: BovinePeer
) -> None:
    """bovine follows a Gapo user by handle, gets a verified Accept, then verified notes."""
    gapo.create_user("erin")
    await peer.follow(gapo.handle("erin").lstrip("@"))
    accepts = await eventually(lambda: _verified(peer, "Accept"), timeout=30)
    assert accepts[0]["activity"]["actor"] == gapo.actor("erin")

    erin = await WebUser(gapo, "erin").login()
    try:
        await erin.post("Hello bovine, from Gapo")
        creates = await eventually(lambda: _verified(peer, "Create"), timeout=30)
        note = creates[0]["activity"]["object"]
        assert "Hello bovine, from Gapo" in note["content"]
        assert creates[0]["key_id"] == f"{gapo.actor('erin')}#main-key"
    finally:
        await erin.close()
    assert peer.actor_id in await _followers(gapo, "erin")


async def _verified(peer: BovinePeer, kind: str) -> list[dict]:
    entries = activities(await peer.inbox(), kind)
    assert all(e["verified"] for e in entries), entries
    return entries


async def _followers(gapo: GapoInstance, username: str) -> list[str]:
    rows = gapo.query(
        "SELECT a.ap_id FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " JOIN accounts b ON b.id = f.followee_id WHERE b.username = ? AND f.state = 'accepted'",
        (username,),
    )
    return [r["ap_id"] for r in rows]


async def test_gapo_follows_bovine_and_receives_its_notes(
    gapo: GapoInstance, peer: BovinePeer
) -> None:
    """A Gapo user follows the bovine actor by URL; bovine's Accept and notes verify here."""
    gapo.create_user("frank")
    frank = await WebUser(gapo, "frank").login()
    try:
        await frank.follow(peer.actor_id)
        await eventually(
            lambda: gapo.query(
                "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.followee_id"
                " WHERE a.ap_id = ? AND f.state = 'accepted'",
                (peer.actor_id,),
            ),
            timeout=30,
        )
        note_id = await peer.post("Moo from bovine")
        stored = await eventually(
            lambda: gapo.query("SELECT content_html FROM posts WHERE ap_id = ?", (note_id,)),
            timeout=30,
        )
        assert "Moo from bovine" in stored[0]["content_html"]
        assert "Moo from bovine" in await frank.get("/home")
    finally:
        await frank.close()
