"""First contact is coalesced: concurrent activities from new actors fetch each actor once.

200 signed activities from 20 actors the instance has never seen are posted at once
through the real inbox; the loopback peer counts every GET it serves.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from quart import Quart
from quart.typing import TestClientProtocol as Client

from tests.federation_in_process.test_inbox_apply import apply, note, wrap
from tests.helpers.fake_peer import FakePeer, count, local_user


async def test_burst_from_new_actors_fetches_each_actor_once(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    await local_user(app, "alice")
    names = [f"new{i}" for i in range(20)]
    requests = []
    for name in names:
        for n in range(10):
            created = note(peer, n, f"<p>{name} says {n}</p>", author=name)
            created["id"] = f"{peer.actor_id(name)}/notes/{n}"
            activity = wrap(peer, "Create", created, n, actor=name)
            activity["id"] = f"{peer.actor_id(name)}/activities/{n}"
            headers, body = peer.signed(activity, name=name)
            requests.append(client.post("/inbox", data=body, headers=headers))
    responses = await asyncio.gather(*requests)
    assert [r.status_code for r in responses] == [202] * 200
    await apply(app)
    assert await count(app, "posts") == 200
    fetched = Counter(peer.gets)
    assert fetched == Counter({f"/users/{name}": 1 for name in names})
