"""The delivery runner against fake peers: host isolation, signature fallback, retries, leases."""

from __future__ import annotations

import asyncio
import json

from quart import Quart

from instance.db import hosts as hosts_q
from instance.ids import now
from tests.helpers.fake_peer import FakePeer, Received, jobs, local_user, remote_follower
from tests.helpers.fanout import expand_fanouts
from tests.helpers.social import gapo


async def job_states(app: Quart) -> dict[str, list[str]]:
    """Deliver job states by target host."""
    states: dict[str, list[str]] = {}
    for job in await jobs(app):
        states.setdefault(job["host"], []).append(job["state"])
    return states


async def until(predicate: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_slow_host_does_not_hold_up_a_healthy_one(
    app: Quart, peer: FakePeer, other_peer: FakePeer
) -> None:
    """A host that hangs holds at most its per-host share; the healthy host's delivery completes."""
    alice = await local_user(app, "alice")
    slow = other_peer
    slow.shared_inbox = False  # three followers there, three inboxes, three jobs
    for name in ("s1", "s2", "s3"):
        await remote_follower(app, slow, name, alice)
    await remote_follower(app, peer, "fan", alice)
    gate = asyncio.Event()

    async def hang(_: Received) -> int:
        await asyncio.wait_for(gate.wait(), 5)
        return 202

    slow.inbox_answer = hang
    await gapo(app).posts.create(alice, "to everyone")
    await expand_fanouts(gapo(app))  # the post's one fan-out job, into deliveries
    runner = gapo(app).runner
    await runner.run_once()

    async def healthy_done() -> bool:
        return (await job_states(app)).get(peer.host) == ["done"]

    try:
        await until(healthy_done)
        states = await job_states(app)
        assert sorted(states[slow.host]) == ["queued", "running", "running"]
        assert [r.activity["type"] for r in peer.received] == ["Create"]
    finally:
        gate.set()
    await runner.run_until_idle(limit_seconds=10)
    assert (await job_states(app))[slow.host] == ["done"] * 3
    assert len(slow.received) == 3


async def test_401_to_cavage_falls_back_to_rfc9421_and_is_remembered(
    app: Quart, peer: FakePeer
) -> None:
    """A peer refusing cavage (401) but taking RFC 9421 gets the post; the host remembers rfc9421."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)

    async def rfc9421_only(got: Received) -> int:
        return 202 if "Signature-Input" in got.headers else 401

    peer.inbox_answer = rfc9421_only
    await gapo(app).posts.create(alice, "new standard")
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    [job] = await jobs(app)
    assert job["state"] == "done"
    assert ["Signature-Input" in r.headers for r in peer.received] == [False, True]
    host = await hosts_q.get(gapo(app).db, peer.host)
    assert host is not None and host["signature_scheme"] == "rfc9421"

    await gapo(app).posts.create(alice, "second post")
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    assert len(peer.received) == 3
    assert "Signature-Input" in peer.received[-1].headers


async def test_404_is_permanent(app: Quart, peer: FakePeer) -> None:
    """A 404 from the inbox kills the job after one attempt."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)

    async def gone(_: Received) -> int:
        return 404

    peer.inbox_answer = gone
    await gapo(app).posts.create(alice, "into the void")
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    [job] = await jobs(app)
    assert job["state"] == "dead" and job["attempts"] == 1
    assert len(peer.received) == 1


async def test_500_is_retried_later(app: Quart, peer: FakePeer) -> None:
    """A 500 from the inbox queues the job again with one attempt counted, due in the future."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)

    async def broken(_: Received) -> int:
        return 500

    peer.inbox_answer = broken
    before = now()
    await gapo(app).posts.create(alice, "try again")
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    [job] = await jobs(app)
    assert job["state"] == "queued" and job["attempts"] == 1
    assert job["run_at"] > before + 10
    assert "500" in job["last_error"]


async def test_pending_follower_gets_nothing(app: Quart, peer: FakePeer) -> None:
    """A pending follow is not a follower: a post enqueues no delivery to it."""
    alice = await local_user(app, "alice", locked=True)
    fan = await remote_follower(app, peer, "fan", alice)
    await gapo(app).db.execute(
        "UPDATE follows SET state = 'pending', accepted_at = NULL WHERE follower_id = :f",
        {"f": fan["id"]},
    )
    await gapo(app).posts.create(alice, "not for you yet", visibility="followers")
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    assert await jobs(app) == []
    assert peer.received == []


async def test_expired_lease_is_reclaimed(app: Quart, peer: FakePeer) -> None:
    """A delivery left 'running' by a killed process is reclaimed once its lease runs out."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    await gapo(app).posts.create(alice, "survives kill -9")
    [job] = await jobs(app)
    await gapo(app).db.execute(
        "UPDATE jobs SET state = 'running', locked_by = 'dead-runner', locked_until = :t"
        " WHERE id = :id",
        {"t": now() - 5, "id": job["id"]},
    )
    await gapo(app).runner.run_until_idle(limit_seconds=10)
    [job] = await jobs(app)
    assert job["state"] == "done"
    [got] = peer.received
    assert got.activity["type"] == "Create"
    assert json.loads(job["payload"])["activity"]["id"] == got.activity["id"]


async def test_a_backlog_for_one_slow_host_does_not_hide_other_hosts(
    app: Quart, peer: FakePeer, other_peer: FakePeer
) -> None:
    """More jobs for a hanging host than one window of due jobs holds still leave room."""
    alice = await local_user(app, "alice")
    slow = other_peer
    gate = asyncio.Event()

    async def hang(_: Received) -> int:
        await asyncio.wait_for(gate.wait(), 10)
        return 202

    slow.inbox_answer = hang
    runner = gapo(app).runner
    backlog = runner.concurrency * 4 + 20
    activity = {"type": "Create", "id": "https://example.invalid/x", "actor": "a", "object": "o"}
    async with gapo(app).db.transaction() as tx:
        for _ in range(backlog):  # queued first, so they come first in every window
            await gapo(app).queue.enqueue(
                tx,
                "deliver",
                {"inbox": f"{slow.base_url}/inbox", "activity": activity, "signer": alice["id"]},
                host=slow.host,
            )
    await remote_follower(app, peer, "fan", alice)
    await gapo(app).posts.create(alice, "for the healthy host")
    await expand_fanouts(gapo(app))  # the post's one fan-out job, into deliveries
    await runner.run_once()

    async def healthy_done() -> bool:
        return "done" in (await job_states(app)).get(peer.host, [])

    try:
        await until(healthy_done)
        assert (await job_states(app))[slow.host].count("running") == runner.per_host
    finally:
        gate.set()
        await runner.stop()


async def test_open_circuit_defers_without_spending_attempts(app: Quart, peer: FakePeer) -> None:
    """Jobs that wait for a host's breaker keep their attempts for real tries."""
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    peer.inbox_answer = None
    calls = 0

    async def failing(_: Received) -> int:
        nonlocal calls
        calls += 1
        return 503

    peer.inbox_answer = failing
    runner = gapo(app).runner
    for n in range(12):
        await gapo(app).posts.create(alice, f"post {n}")
    await runner.run_until_idle(limit_seconds=10)
    rows = await jobs(app)
    assert all(job["state"] == "queued" for job in rows)
    # Each real POST costs an attempt; a job turned away by the open breaker costs none.
    assert sum(int(job["attempts"]) for job in rows) == calls
    assert calls < len(rows) + 5  # the breaker opened after a few failures
    assert any(int(job["attempts"]) == 0 for job in rows)
