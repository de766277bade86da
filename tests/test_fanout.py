"""Fan-out: a post writes one `fanout` job; the job writes one delivery per distinct inbox.

An account with 10,000 followers on 1,000 hosts posts: the post's transaction holds one job,
the fan-out job expands into exactly one `deliver` job per distinct (shared) inbox, in
batches, and a second run (a retry after a crash, or after it finished) adds none.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from quart import Quart

from instance.db.executor import Executor
from instance.ids import now
from instance.outbound.fanout import FANOUT, FanOutJob
from instance.outbound.outbox import Outbox
from tests.helpers.fake_peer import local_user
from tests.helpers.social import gapo

HOSTS = 1_000
PER_HOST = 10


async def add_followers(app: Quart, followee_id: int) -> set[str]:
    """10,000 remote followers in one bulk insert; even hosts have a shared inbox.

    Returns the distinct inboxes a delivery must reach: the shared one where there is one.
    """
    services = gapo(app)
    expected: set[str] = set()
    ts = now()
    async with services.db.transaction() as tx:
        for h in range(HOSTS):
            host = f"host{h}.example"
            shared = f"https://{host}/inbox" if h % 2 == 0 else None
            for u in range(PER_HOST):
                account = services.ids.next_id()
                actor = f"https://{host}/users/u{u}"
                await tx.execute(
                    "INSERT INTO accounts (id, local, username, username_key, domain, created_at,"
                    " updated_at, ap_id, ap_inbox, ap_shared_inbox) VALUES (:id, 0, :u, :u, :d,"
                    " :ts, :ts, :ap, :inbox, :shared)",
                    {
                        "id": account,
                        "u": f"u{u}",
                        "d": host,
                        "ts": ts,
                        "ap": actor,
                        "inbox": f"{actor}/inbox",
                        "shared": shared,
                    },
                )
                await tx.execute(
                    "INSERT INTO follows (id, follower_id, followee_id, state, created_at,"
                    " accepted_at) VALUES (:id, :a, :b, 'accepted', :ts, :ts)",
                    {"id": services.ids.next_id(), "a": account, "b": followee_id, "ts": ts},
                )
                expected.add(shared or f"{actor}/inbox")
    return expected


async def jobs_of(app: Quart, kind: str) -> list[Any]:
    return list(
        await gapo(app).db.fetch_all("SELECT * FROM jobs WHERE kind = :k ORDER BY id", {"k": kind})
    )


async def run(app: Quart, handler: FanOutJob, job: Any) -> None:
    await handler(json.loads(job["payload"]), job)


class CrashingOutbox(Outbox):
    """The process dies (here: raises) while writing the third batch."""

    def __init__(self, outbox: Outbox, crash_on: int) -> None:
        super().__init__(outbox.queue)
        self.calls = 0
        self.crash_on = crash_on

    async def to_inboxes(self, ex: Executor, **kwargs: Any) -> int:
        self.calls += 1
        written = await super().to_inboxes(ex, **kwargs)
        if self.calls == self.crash_on:
            raise RuntimeError("killed mid-batch")  # its transaction rolls back
        return written


async def test_ten_thousand_followers_one_job_then_one_delivery_per_inbox(app: Quart) -> None:
    services = gapo(app)
    alice = await local_user(app, "alice")
    expected = await add_followers(app, alice["id"])
    assert len(expected) == HOSTS // 2 + (HOSTS // 2) * PER_HOST  # 5,500 distinct inboxes

    await services.posts.create(alice, "hello, all ten thousand of you")
    # The post's transaction wrote exactly one job: the fan-out, no delivery yet.
    all_jobs = await services.db.fetch_all("SELECT kind FROM jobs")
    assert [j["kind"] for j in all_jobs] == [FANOUT]

    [job] = await jobs_of(app, FANOUT)
    handler = FanOutJob(services.db, services.posts.writer.outbox)
    await run(app, handler, job)
    deliveries = await jobs_of(app, "deliver")
    inboxes = [json.loads(d["payload"])["inbox"] for d in deliveries]
    assert len(inboxes) == len(expected)
    assert set(inboxes) == expected
    assert {json.loads(d["payload"])["activity"]["type"] for d in deliveries} == {"Create"}

    # Run again (the runner retried it): nothing new.
    [job] = await jobs_of(app, FANOUT)
    await run(app, handler, job)
    assert len(await jobs_of(app, "deliver")) == len(expected)


async def test_a_fanout_retried_after_a_crash_delivers_each_inbox_once(app: Quart) -> None:
    services = gapo(app)
    alice = await local_user(app, "alice")
    expected = await add_followers(app, alice["id"])
    await services.posts.create(alice, "survive the crash")
    [job] = await jobs_of(app, FANOUT)
    outbox = services.posts.writer.outbox
    crashing = FanOutJob(services.db, CrashingOutbox(outbox, crash_on=3), batch=500)
    with pytest.raises(RuntimeError):
        await run(app, crashing, job)
    # Two batches committed with their cursor; the third rolled back.
    assert len(await jobs_of(app, "deliver")) == 1_000
    [job] = await jobs_of(app, FANOUT)
    await run(app, FanOutJob(services.db, outbox), job)
    inboxes = [json.loads(d["payload"])["inbox"] for d in await jobs_of(app, "deliver")]
    assert len(inboxes) == len(set(inboxes)) == len(expected)


async def test_fanout_runs_under_the_job_runner(app: Quart) -> None:
    """The runner knows the `fanout` kind: it runs the post's fan-out job to the end."""
    services = gapo(app)
    alice = await local_user(app, "alice")
    await services.posts.create(alice, "to my followers")
    # No remote follower: the fan-out finds nothing to deliver, and finishes.
    await services.runner.run_until_idle(limit_seconds=10)
    [job] = await jobs_of(app, FANOUT)
    assert job["state"] == "done"
    assert await jobs_of(app, "deliver") == []
