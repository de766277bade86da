"""Two web processes and two job workers on one PostgreSQL, as docs/scale-out.md lays out.

Alice posts through one web process; Bob follows her through the other; twelve remote
followers' inboxes on a peer are delivered to by two `gapo worker` processes, and one of
them is killed (SIGKILL) while its deliveries are in flight. What a single process would
deliver must arrive: each inbox gets the Create, the jobs all end done (the killed worker's
once its lease runs out), and only a delivery whose end was not yet recorded at the kill
may arrive twice (delivery is at least once, as everywhere in the fediverse).
"""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from instance.db.postgres import PostgresDatabase
from instance.ids import now
from tests.federation_servers.test_worker_process import Worker
from tests.helpers import postgres
from tests.helpers.fake_peer import FakePeer, Received
from tests.helpers.instances import GapoInstance, WebUser, eventually, free_port

FOLLOWERS = 12


@pytest.fixture
async def slow_peer() -> AsyncIterator[FakePeer]:
    peer = FakePeer(shared_inbox=False)

    async def slowly(_: Received) -> int:
        await asyncio.sleep(0.4)  # deliveries stay in flight long enough to be cut
        return 202

    peer.inbox_answer = slowly
    await peer.start()
    yield peer
    await peer.stop()


async def add_remote_followers(db: PostgresDatabase, peer: FakePeer, followee: str) -> None:
    alice = await db.fetch_value(
        "SELECT id FROM accounts WHERE local = 1 AND username = :u", {"u": followee}
    )
    ts = now()
    async with db.transaction() as tx:
        for n in range(FOLLOWERS):
            account = random.getrandbits(60)
            actor = peer.actor_id(f"f{n}")
            await tx.execute(
                "INSERT INTO accounts (id, local, username, username_key, domain, created_at,"
                " updated_at, ap_id, ap_inbox) VALUES (:id, 0, :u, :u, :d, :ts, :ts, :ap, :inbox)",
                {
                    "id": account,
                    "u": f"f{n}",
                    "d": peer.host,
                    "ts": ts,
                    "ap": actor,
                    "inbox": f"{actor}/inbox",
                },
            )
            await tx.execute(
                "INSERT INTO follows (id, follower_id, followee_id, state, created_at,"
                " accepted_at) VALUES (:id, :a, :b, 'accepted', :ts, :ts)",
                {"id": random.getrandbits(60), "a": account, "b": alice, "ts": ts},
            )


def creates(peer: FakePeer) -> list[str]:
    return [r.path for r in peer.received if r.activity.get("type") == "Create"]


async def test_two_web_processes_and_two_workers_share_one_postgresql(
    tmp_path: Path, slow_peer: FakePeer
) -> None:
    url = postgres.database_for(tmp_path)
    common = {"GAPO_DATABASE_URL": url, "GAPO_JOB_LEASE_SECONDS": "5"}
    web_one = GapoInstance("web-one", tmp_path, serve_args=("--no-jobs",), extra_env=common)
    port_two = free_port()
    same_instance = {
        **common,
        "GAPO_BASE_URL": web_one.base_url,
        "GAPO_ALTERNATE_HOSTS": f"127.0.0.1:{port_two}",
    }
    web_two = GapoInstance(
        "web-two", tmp_path, port_two, serve_args=("--no-jobs",), extra_env=same_instance
    )
    workers = [GapoInstance(f"worker-{n}", tmp_path, extra_env=same_instance) for n in (1, 2)]
    db = PostgresDatabase(url, pool_size=2)
    running: list[Worker] = []
    people: list[WebUser] = []
    try:
        web_one.start()
        # Every machine shares the session secret (docs/scale-out.md).
        for other in (web_two, *workers):
            other.data_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(web_one.data_dir / "secret_key", other.data_dir / "secret_key")
        web_two.start()
        web_one.create_user("alice")
        web_one.create_user("bob")
        await db.open()
        await add_remote_followers(db, slow_peer, "alice")
        running = [Worker(w) for w in workers]
        for worker in running:
            worker.wait_until_running()

        bob = await WebUser(web_two, "bob").login()
        people.append(bob)
        alice_id = await db.fetch_value(
            "SELECT id FROM accounts WHERE local = 1 AND username = 'alice'"
        )
        assert await bob.post_form("/follow", {"account_id": str(alice_id)}, "/home") == 302
        assert 'href="/@alice"' in await bob.get("/search?q=alice")  # PostgreSQL's index
        alice = await WebUser(web_one, "alice").login()
        people.append(alice)
        status = await alice.post_form(
            "/posts", {"text": "từ máy một", "visibility": "public"}, csrf_from="/home"
        )
        assert status == 302

        await eventually(lambda: len(creates(slow_peer)) >= 2, timeout=30)
        running[0].process.kill()  # mid-delivery: its leased jobs wait out the lease
        running[0].process.wait(timeout=10)
        # What was recorded done by then is never sent again; the rest is sent by the
        # other worker, once each, whether or not the dead one had sent it.
        recorded = int(
            await db.fetch_value(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'deliver' AND state = 'done'"
            )
        )
        assert recorded < FOLLOWERS  # it died with deliveries still to make

        async def all_done() -> bool:
            states = await db.fetch_all(
                "SELECT state, COUNT(*) AS n FROM jobs WHERE kind = 'deliver' GROUP BY state"
            )
            return {r["state"]: int(r["n"]) for r in states} == {"done": FOLLOWERS}

        await eventually(all_done, timeout=60)
        delivered = creates(slow_peer)
        assert set(delivered) == {f"/users/f{n}/inbox" for n in range(FOLLOWERS)}
        assert FOLLOWERS <= len(delivered) <= FOLLOWERS + (FOLLOWERS - recorded)
        # Bob, who followed through the other process, reads the post at home on this one.
        bob_here = await WebUser(web_one, "bob").login()
        people.append(bob_here)
        assert "từ máy một" in await bob_here.get("/home")
    finally:
        for person in people:
            await person.close()
        for worker in running:
            worker.stop()
        web_two.stop()
        web_one.stop()
        await db.close()
