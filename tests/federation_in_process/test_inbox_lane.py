"""The inbox lane: inbox jobs claimed in batches, each actor's applied in order, others at once."""

from __future__ import annotations

import asyncio
import random

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import inbox as inbox_q
from instance.db import jobs as jobs_q
from instance.db.rows import InboxActivityRow
from instance.federation.inbox import INBOX_JOB
from instance.federation.inbox_lane import InboxLane
from instance.ids import now
from tests.federation_in_process.test_inbox_apply import apply, note, send, wrap
from tests.helpers.fake_peer import FakePeer, local_user, remote_follower
from tests.helpers.social import gapo


class RecordingInbox:
    """Stands in for `InboxService.apply_row`: takes a random while, records the order."""

    def __init__(self) -> None:
        self.order: dict[str, list[int]] = {}
        self.in_flight = 0
        self.most_in_flight = 0

    async def apply_row(self, row: InboxActivityRow) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(random.uniform(0, 0.01))  # noqa: S311 (test jitter)
            self.order.setdefault(row["actor_ap_id"], []).append(row["id"])
            return f"applied {row['id']}"
        finally:
            self.in_flight -= 1


async def store(app: Quart, actor: str, n: int) -> int:
    """An inbox record and its job, as the inbox's accept path writes them."""
    services = gapo(app)
    row_id = services.ids.next_id()
    await inbox_q.insert_once_with_job(
        services.db,
        inbox_q.Received(row_id, f"{actor}/activities/{n}", "Create", actor, None, "{}", now()),
        job=services.queue.enqueue_statement(
            INBOX_JOB, {"row": row_id}, if_row_in=("inbox_activities", row_id)
        ),
    )
    return row_id


async def test_each_actor_in_order_and_actors_at_once(app: Quart) -> None:
    """Activities of five actors, interleaved: each actor's are applied in the order they
    were received, several actors' at the same time, and every result is recorded with its
    job's end."""
    actors = [f"https://a{i}.example/users/x" for i in range(5)]
    received: dict[str, list[int]] = {a: [] for a in actors}
    for n in range(60):
        actor = actors[n % len(actors)]
        received[actor].append(await store(app, actor, n))
    services = gapo(app)
    recording = RecordingInbox()
    lane = InboxLane(services.db, recording, flush_delay=0.01)  # type: ignore[arg-type]
    claimed = await lane.run_once()
    assert claimed == 60  # one round, one claim for the lot
    await asyncio.wait(lane.tasks())
    await lane.flush()
    assert recording.order == received
    assert recording.most_in_flight > 1
    rows = await services.db.fetch_all("SELECT id, result FROM inbox_activities")
    assert all(r["result"] == f"applied {r['id']}" for r in rows)
    states = {j["state"] for j in await jobs_q.list_by_kind(services.db, INBOX_JOB)}
    assert states == {"done"}
    await lane.stop()


async def test_a_job_whose_record_is_gone_is_given_up(app: Quart) -> None:
    """A job pointing at no record ends dead, and the others of its batch still apply."""
    services = gapo(app)
    kept = await store(app, "https://a.example/users/x", 1)
    gone = await store(app, "https://a.example/users/x", 2)
    await services.db.execute("DELETE FROM inbox_activities WHERE id = :id", {"id": gone})
    recording = RecordingInbox()
    lane = InboxLane(services.db, recording, flush_delay=0.01)  # type: ignore[arg-type]
    await lane.run_once()
    await asyncio.wait(lane.tasks())
    await lane.flush()
    assert recording.order == {"https://a.example/users/x": [kept]}
    states = sorted(j["state"] for j in await jobs_q.list_by_kind(services.db, INBOX_JOB))
    assert states == ["dead", "done"]
    await lane.stop()


async def test_create_then_delete_of_many_notes_ends_deleted(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """Signed Creates and Deletes of the same notes, all received before any is applied:
    the real handlers, run by the lane, see each Create before its Delete."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "remote", alice)
    ids = []
    for n in range(12):
        created = note(peer, n, f"note {n}")
        ids.append(created["id"])
        await send(client, peer, wrap(peer, "Create", created, n=n))
        await send(
            client,
            peer,
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": f"{created['id']}#delete",
                "type": "Delete",
                "actor": peer.actor_id("remote"),
                "object": created["id"],
            },
        )
    await apply(app)
    rows = await gapo(app).db.fetch_all("SELECT ap_type, result FROM inbox_activities ORDER BY id")
    assert [r["ap_type"] for r in rows] == ["Create", "Delete"] * 12
    assert all(r["result"].startswith("stored post") for r in rows[::2])
    assert not any(r["result"].startswith("ignored") for r in rows[1::2])
    for note_id in ids:
        post = await gapo(app).db.fetch_one(
            "SELECT deleted_at FROM posts WHERE ap_id = :id", {"id": note_id}
        )
        assert post is None or post["deleted_at"] is not None
