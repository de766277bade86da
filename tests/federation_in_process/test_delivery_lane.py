"""The delivery lane: deliveries claimed and ended in batches, host health written only on a
change, exactly one delivery per shared inbox, and nothing lost when a process dies mid-batch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.ids import now
from instance.outbound.delivery_lane import DeliveryLane
from tests.helpers.fake_peer import FakePeer, Received, jobs, local_user, remote_follower
from tests.helpers.port_sink import PortSink
from tests.helpers.social import gapo


@pytest.fixture
async def sink() -> AsyncIterator[PortSink]:
    ports = await PortSink().start(1_000)
    yield ports
    await ports.stop()


def lane_for(app: Quart, *, delay: float = 0.05, size: int = 256) -> DeliveryLane:
    """A lane of its own on the app's database and fetcher (as a second runner would be)."""
    services = gapo(app)
    return DeliveryLane(
        services.db, services.fetcher, services.actor_keys, flush_delay=delay, flush_size=size
    )


async def drain(lane: DeliveryLane) -> None:
    """Run the lane until nothing is due and every outcome is written."""
    db = lane.db
    for _ in range(500):
        started = await lane.run_once()
        if lane.tasks():
            await asyncio.wait(lane.tasks(), return_when=asyncio.FIRST_COMPLETED)
            continue
        await lane.flush()
        if started == 0 and not await jobs_q.due(db, now(), limit=1):
            return
    raise AssertionError("the lane did not finish")


class CountingTransactions:
    """Counts the write transactions opened on a database while installed."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.count = 0
        self.original = db.transaction

    def __enter__(self) -> CountingTransactions:
        def counted() -> Any:
            self.count += 1
            return self.original()

        self.db.transaction = counted
        return self

    def __exit__(self, *_: object) -> None:
        self.db.transaction = self.original


async def personal_followers(app: Quart, peer: FakePeer, n: int) -> Any:
    alice = await local_user(app, "alice")
    peer.shared_inbox = False  # one inbox, one job each
    for i in range(n):
        await remote_follower(app, peer, f"fan{i}", alice)
    return alice


async def test_a_thousand_shared_inboxes_get_exactly_one_delivery_each(
    app: Quart, sink: PortSink
) -> None:
    """10,000 followers on 1,000 hosts, each host with a shared inbox: 1,000 POSTs, one per
    host, every job done."""
    services = gapo(app)
    alice = await local_user(app, "alice")
    ts = now()
    async with services.db.transaction() as tx:
        for port in sink.ports:
            host = f"127.0.0.1:{port}"
            for u in range(10):
                account = services.ids.next_id()
                actor = f"http://{host}/users/u{u}"
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
                        "shared": f"http://{host}/inbox",
                    },
                )
                await tx.execute(
                    "INSERT INTO follows (id, follower_id, followee_id, state, created_at,"
                    " accepted_at) VALUES (:id, :a, :b, 'accepted', :ts, :ts)",
                    {"id": services.ids.next_id(), "a": account, "b": alice["id"], "ts": ts},
                )
    await services.posts.create(alice, "to a thousand servers")
    await services.runner.run_until_idle(limit_seconds=120)

    rows = await jobs(app)
    assert len(rows) == 1_000 and {r["state"] for r in rows} == {"done"}
    assert set(sink.received) == {(port, "/inbox") for port in sink.ports}
    # Delivery is at least once: a POST the sink answered but whose answer came after the
    # client's timeout (the sink shares this loop, on a loaded machine) is sent again, and
    # that failed attempt is on the job. Every POST beyond one per host is such an attempt,
    # never a second job nor a job claimed twice.
    retried = sum(int(r["attempts"]) for r in rows)
    assert sum(sink.received.values()) == 1_000 + retried


async def test_deliveries_are_claimed_and_ended_in_batches(app: Quart, peer: FakePeer) -> None:
    """40 deliveries to one host take a handful of write transactions, not two each."""
    alice = await personal_followers(app, peer, 40)
    await gapo(app).posts.create(alice, "forty at once")
    await jobs(app)  # the fan-out, expanded into 40 deliver jobs
    lane = lane_for(app, delay=60, size=1_000)  # outcomes wait for the final flush
    with CountingTransactions(gapo(app).db) as counted:
        await drain(lane)
    rows = await jobs(app)
    assert len(rows) == 40 and {r["state"] for r in rows} == {"done"}
    assert sorted(r.path for r in peer.received) == sorted(
        f"/users/fan{i}/inbox" for i in range(40)
    )
    # Claims: 2 while the host is unknown, then up to 32 at a time once it answered; one
    # transaction ends them all (and writes the host's row once).
    assert counted.count <= 6


async def test_host_health_is_written_only_when_it_changes(
    app: Quart, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four: their failures stay under the breaker's threshold of five.
    alice = await personal_followers(app, peer, 4)
    writes: list[dict[str, Any]] = []
    original = hosts_q.set_health

    async def recording(ex: Any, domain: str, health_json: str, ts: int) -> None:
        writes.append(json.loads(health_json))
        await original(ex, domain, health_json, ts)

    monkeypatch.setattr(hosts_q, "set_health", recording)

    await gapo(app).posts.create(alice, "four successes")
    await jobs(app)
    lane = lane_for(app)
    await drain(lane)
    assert len(peer.received) == 4
    # A healthy host: its row is made once (with the first success), not once per success.
    assert len(writes) == 1 and writes[0]["consecutive_failures"] == 0

    async def broken(_: Received) -> int:
        return 503

    peer.inbox_answer = broken
    writes.clear()
    await gapo(app).posts.create(alice, "four failures")
    await jobs(app)
    await drain(lane)
    # Failures change what the next delivery does (the breaker counts them): written.
    assert writes and writes[-1]["consecutive_failures"] == 4
    row = await hosts_q.get(gapo(app).db, peer.host)
    assert row is not None
    assert (
        json.loads(row["health_json"])["consecutive_failures"] == writes[-1]["consecutive_failures"]
    )

    peer.inbox_answer = None
    writes.clear()
    await gapo(app).db.execute("UPDATE jobs SET run_at = 0 WHERE state = 'queued'")
    await drain(lane)
    # The first success after failures closes the breaker: written, once.
    assert writes and writes[-1]["consecutive_failures"] == 0
    row = await hosts_q.get(gapo(app).db, peer.host)
    assert row is not None and json.loads(row["health_json"])["consecutive_failures"] == 0


async def test_a_crash_mid_batch_retries_what_was_not_ended(app: Quart, peer: FakePeer) -> None:
    """A runner killed with outcomes unwritten: its jobs are claimed again once their lease
    runs out and delivered; jobs whose end was written before are not sent again."""
    alice = await personal_followers(app, peer, 10)
    gate = asyncio.Event()
    answered = 0

    async def slow_after_four(_: Received) -> int:
        nonlocal answered
        answered += 1
        if answered > 4:
            await gate.wait()
        return 202

    peer.inbox_answer = slow_after_four
    await gapo(app).posts.create(alice, "through a crash")
    await jobs(app)
    first = lane_for(app, delay=60, size=4)  # the first four outcomes are written at once

    async def four_written() -> bool:
        rows = await jobs(app)
        return sum(r["state"] == "done" for r in rows) == 4

    async with asyncio.timeout(10):
        while not await four_written():
            await first.run_once()
            await asyncio.sleep(0.02)
    ended_before = {
        json.loads(r["payload"])["inbox"] for r in await jobs(app) if r["state"] == "done"
    }
    # kill -9: the tasks vanish, nothing more is written, nothing is released.
    for task in first.tasks():
        task.cancel()
    await asyncio.gather(*first.tasks(), return_exceptions=True)
    rows = await jobs(app)
    assert {r["state"] for r in rows} == {"done", "running"}

    # Another runner, once the leases ran out.
    await gapo(app).db.execute(
        "UPDATE jobs SET locked_until = :t WHERE state = 'running'", {"t": now() - 1}
    )
    gate.set()
    await drain(lane_for(app))
    rows = await jobs(app)
    assert {r["state"] for r in rows} == {"done"}
    got: dict[str, int] = {}
    for received in peer.received:
        url = f"{peer.base_url}{received.path}"
        got[url] = got.get(url, 0) + 1
    assert set(got) == {json.loads(r["payload"])["inbox"] for r in rows}
    assert all(got[inbox] == 1 for inbox in ended_before)


async def test_a_hosts_limit_holds_across_runners(app: Quart, peer: FakePeer) -> None:
    """Two runners (two workers): a host that has not answered yet gets `per_host`
    deliveries in flight from both together, not from each."""
    alice = await personal_followers(app, peer, 6)
    release = asyncio.Event()

    async def hanging(_: Received) -> int:
        await release.wait()
        return 202

    peer.inbox_answer = hanging
    await gapo(app).posts.create(alice, "six at once")
    await jobs(app)
    first, second = lane_for(app), lane_for(app)
    assert await first.run_once() == first.per_host
    assert await second.run_once() == 0  # the host's two places are taken by the first
    release.set()
    await drain(first)
    await drain(second)
    rows = await jobs(app)
    assert {r["state"] for r in rows} == {"done"} and len(peer.received) == 6
