"""Two real Gapo instances: alice moves from one to two, and her followers on both follow her
new account, through the alias on two, the signed Move from one, and the follow writers."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.helpers.instances import PASSWORD, GapoInstance, eventually, signed_in

pytestmark = pytest.mark.federation


def actor_of(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def follows_of(instance: GapoInstance, follower: str) -> list[tuple[str, str]]:
    """(followee's actor id or local username, state) of every follow of a local account."""
    rows = instance.query(
        "SELECT COALESCE(b.ap_id, b.username) AS who, f.state FROM follows f"
        " JOIN accounts a ON a.id = f.follower_id JOIN accounts b ON b.id = f.followee_id"
        " WHERE a.username = ? AND a.local = 1 ORDER BY f.id",
        (follower,),
    )
    return [(str(r["who"]), str(r["state"])) for r in rows]


async def test_moving_from_one_to_two_takes_the_followers_along(
    instances: tuple[GapoInstance, GapoInstance],
) -> None:
    """bob@two and carol@one follow alice@one; alice2@two names alice@one as an alias; alice
    moves. Two accepts the Move (bob now follows alice2 and not alice), one moves carol."""
    one, two = instances
    people = (one, "alice"), (one, "carol"), (two, "alice2"), (two, "bob")
    async with signed_in(*people) as (alice, carol, alice2, bob):
        await bob.follow(one.handle("alice"))
        await carol.follow(one.handle("alice"))
        await eventually(lambda: follows_of(two, "bob") == [(one.actor("alice"), "accepted")])
        status = await alice2.post_form(
            "/settings/aliases", {"alias": one.handle("alice")}, csrf_from="/settings/moving"
        )
        assert status == 302
        assert actor_of(two.actor("alice2"))["alsoKnownAs"] == [one.actor("alice")]
        status = await alice.post_form(
            "/settings/move",
            {"target": two.handle("alice2"), "current": PASSWORD},
            csrf_from="/settings/moving",
        )
        assert status == 302
        assert actor_of(one.actor("alice"))["movedTo"] == two.actor("alice2")
        await eventually(lambda: follows_of(two, "bob") == [("alice2", "accepted")])
        await eventually(lambda: follows_of(one, "carol") == [(two.actor("alice2"), "accepted")])
        assert "This account has moved to" in await carol.get("/@alice")
