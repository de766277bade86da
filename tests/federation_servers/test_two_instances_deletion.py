"""Two real Gapo instances: deleting an account on one removes its posts and follows on the
other, through the signed Delete of the actor."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.helpers.instances import GapoInstance, eventually, signed_in

pytestmark = pytest.mark.federation


def status_of(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


async def test_deleting_on_one_removes_the_actor_on_two(
    instances: tuple[GapoInstance, GapoInstance],
) -> None:
    """bob@two follows alice@one and has her post; `gapo user delete alice` on one sends the
    Delete: two hides her post and drops the follow; one answers 410 for her actor."""
    one, two = instances
    async with signed_in((one, "alice"), (two, "bob")) as (alice, bob):
        await bob.follow(one.handle("alice"))

        def follows() -> list[Any]:
            return list(
                two.query(
                    "SELECT f.state FROM follows f JOIN accounts a ON a.id = f.followee_id"
                    " WHERE a.ap_id = ?",
                    (one.actor("alice"),),
                )
            )

        await eventually(lambda: [r["state"] for r in follows()] == ["accepted"])
        post_id = await alice.post("Tạm biệt")
        note_id = f"{one.actor('alice')}/statuses/{post_id}"

        def on_two() -> list[Any]:
            return list(two.query("SELECT deleted_at FROM posts WHERE ap_id = ?", (note_id,)))

        await eventually(lambda: len(on_two()) == 1)

        assert "deleted" in one.cli("user", "delete", "alice")
        assert status_of(one.actor("alice")) == 410
        await eventually(lambda: on_two()[0]["deleted_at"] is not None)
        await eventually(lambda: follows() == [])
        assert "Tạm biệt" not in await bob.get("/home")
