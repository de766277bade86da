"""Deliveries the address guard refuses are permanent failures, not days of retries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from activitypub.delivery import HostHealth
from activitypub.vocab import parse_actor
from instance.db import hosts as hosts_q
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer, accepted_follow, jobs, local_user
from tests.helpers.social import gapo


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_refused_inbox_fails_at_once_with_its_reason(
    make_app: Any, peer: FakePeer, host: str
) -> None:
    """A follower whose inbox is on loopback (an IP literal, or a name resolving to it) gets
    no POST; its job is dead after one attempt, says why, and the host is not marked failing."""
    app = await make_app(base_url=LOCAL_BASE, allow_private_addresses=False)
    services = gapo(app)
    alice = await local_user(app, "alice")
    origin = f"http://{host}:{peer.base_url.rsplit(':', 1)[1]}"
    doc = json.loads(json.dumps(peer.actor_doc("fan")).replace(peer.base_url, origin))
    # Stored as if it had come with a signed Follow: the guard is met only at delivery.
    fan = await services.actors.store(parse_actor(doc))
    await accepted_follow(app, fan, alice)

    await services.posts.create(alice, "hello followers")
    await services.runner.run_until_idle(limit_seconds=10)

    [job] = await jobs(app)
    assert job["state"] == "dead"
    assert job["attempts"] == 1
    assert "refused" in job["last_error"] and "not allowed" in job["last_error"]
    assert peer.received == []
    row = await hosts_q.get(services.db, origin.split("://", 1)[1])
    health = HostHealth.from_dict(json.loads(row["health_json"])) if row else HostHealth()
    assert health.consecutive_failures == 0
