"""Allowlist mode: only the allowlist's domains federate, both ways; open mode restores all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_actor
from instance.db import users as users_q
from instance.errors import NotFound
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer, accepted_follow, jobs, local_user
from tests.helpers.social import gapo

AS = "https://www.w3.org/ns/activitystreams"


def follow(peer: FakePeer, n: int) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{peer.base_url}/activities/follow-{n}",
        "type": "Follow",
        "actor": peer.actor_id("remote"),
        "object": f"{LOCAL_BASE}/users/alice",
    }


async def admin(app: Quart) -> Any:
    await local_user(app, "rooty")
    await gapo(app).accounts.promote("rooty", "admin")
    return await users_q.get_by_username(gapo(app).db, "rooty")


async def post(client: Client, peer: FakePeer, n: int) -> tuple[int, Any]:
    headers, body = peer.signed(follow(peer, n))
    response = await client.post("/inbox", data=body, headers=headers)
    return response.status_code, json.loads(await response.get_data(as_text=True) or "null")


async def test_allowlist_mode_refuses_a_host_not_on_the_list(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A signed POST from a host not allowed is a 403 with a reason; once the host is on
    the list it is accepted; back in open mode any host is."""
    await local_user(app, "alice")
    staff = await admin(app)
    federation = gapo(app).federation_admin
    await federation.set_mode(staff, "allowlist", "closing ranks")
    assert await federation.mode(staff) == "allowlist"

    code, answer = await post(client, peer, 1)
    assert code == 403 and answer["error"]

    await federation.allow(staff, "127.0.0.1", "a friend")
    assert await federation.allowlist(staff) == ["127.0.0.1"]
    code, _ = await post(client, peer, 2)
    assert code == 202

    await federation.allow(staff, "127.0.0.1", "no longer", allowed=False)
    code, _ = await post(client, peer, 3)
    assert code == 403

    await federation.set_mode(staff, "open", "reopening")
    code, _ = await post(client, peer, 4)
    assert code == 202


async def test_allowlist_mode_sends_nothing_to_a_host_not_on_the_list(
    app: Quart, peer: FakePeer
) -> None:
    """A delivery to a host not allowed is given up unsent, with the reason; an allowed
    host gets its POST."""
    services = gapo(app)
    alice = await local_user(app, "alice")
    staff = await admin(app)
    fan = await services.actors.store(parse_actor(peer.actor_doc("fan")))
    await accepted_follow(app, fan, alice)
    await services.federation_admin.set_mode(staff, "allowlist", "closing ranks")

    await services.posts.create(alice, "hello followers")
    await services.runner.run_until_idle(limit_seconds=10)
    [job] = await jobs(app)
    assert job["state"] == "dead" and "blocked" in job["last_error"]
    assert peer.received == []

    await services.federation_admin.allow(staff, "127.0.0.1", "a friend")
    await services.posts.create(alice, "hello again")
    await services.runner.run_until_idle(limit_seconds=10)
    assert len(peer.received) == 1


async def test_allowlist_mode_looks_up_no_account_of_a_host_not_on_the_list(
    app: Quart, peer: FakePeer
) -> None:
    """A search for a remote account asks nothing of a host not allowed."""
    services = gapo(app)
    staff = await admin(app)
    await services.federation_admin.set_mode(staff, "allowlist", "closing ranks")
    with pytest.raises(NotFound):
        await services.lookup.find(peer.actor_id("remote"))
    assert peer.gets == []
    await services.federation_admin.allow(staff, "127.0.0.1", "a friend")
    found = await services.lookup.find(peer.actor_id("remote"))
    assert found["ap_id"] == peer.actor_id("remote")
