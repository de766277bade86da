"""kill -9 of a real `gapo serve` in the middle of a burst of signed inbox POSTs: every
activity answered 202 is on disk with its job, and is applied after the restart."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import aiohttp

from activitypub.signatures import sign_cavage
from tests.helpers.fake_peer import AP, FakePeer, rsa_pems
from tests.helpers.instances import GapoInstance, eventually

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SENDERS = 4
BURST = 400
KILL_AFTER = 120  # acknowledged activities before the kill


def create(peer: FakePeer, sender: str, n: int) -> dict[str, object]:
    actor = peer.actor_id(sender)
    note = {
        "id": f"{actor}/notes/{n}",
        "type": "Note",
        "attributedTo": actor,
        "content": f"<p>burst {n}</p>",
        "to": [PUBLIC],
        "published": "2025-01-02T03:04:05Z",
    }
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor}/activities/{n}",
        "type": "Create",
        "actor": actor,
        "to": [PUBLIC],
        "object": note,
    }


def signed(instance: GapoInstance, peer: FakePeer, sender: str, activity: dict[str, object]):
    body = json.dumps(activity).encode()
    headers = sign_cavage(
        "POST",
        f"{instance.base_url}/inbox",
        {"Host": instance.host, "Content-Type": AP},
        body,
        key_id=peer.key_id(sender),
        private_key_pem=rsa_pems()[0],
    )
    return headers, body


async def test_kill_mid_burst_loses_no_acknowledged_activity(tmp_path: Path) -> None:
    """Signed Creates from several senders arrive over 16 connections; the server is killed
    with SIGKILL once 120 were answered 202. Each of those is stored with its job (an
    acknowledgement means committed, with fsync), and after a restart all are applied."""
    peer = await FakePeer().start()
    instance = GapoInstance(
        "inbox-kill", tmp_path, extra_env={"GAPO_SQLITE_SYNCHRONOUS": "FULL"}
    ).start()
    try:
        senders = [f"sender{i}" for i in range(SENDERS)]
        acknowledged: list[str] = []
        killed = asyncio.Event()
        async with aiohttp.ClientSession() as http:
            # Warm-up: each sender's key fetched once.
            for i, sender in enumerate(senders):
                headers, body = signed(instance, peer, sender, create(peer, sender, -1 - i))
                async with http.post(f"{instance.base_url}/inbox", data=body, headers=headers) as r:
                    assert r.status == 202, await r.text()
            work = [
                (senders[n % SENDERS], create(peer, senders[n % SENDERS], n)) for n in range(BURST)
            ]
            queue = iter(work)

            async def client() -> None:
                for sender, activity in queue:
                    if killed.is_set():
                        return
                    headers, body = signed(instance, peer, sender, activity)
                    try:
                        async with http.post(
                            f"{instance.base_url}/inbox",
                            data=body,
                            headers=headers,
                            timeout=aiohttp.ClientTimeout(total=10),
                        ) as reply:
                            await reply.read()
                            if reply.status == 202:
                                acknowledged.append(str(activity["id"]))
                    except (aiohttp.ClientError, TimeoutError):
                        return  # the server is gone

            async def killer() -> None:
                while len(acknowledged) < KILL_AFTER:
                    await asyncio.sleep(0.005)
                instance.stop(hard=True)
                killed.set()

            await asyncio.gather(killer(), *(client() for _ in range(16)))
        assert len(acknowledged) >= KILL_AFTER
        stored = {
            r["ap_id"]
            for r in instance.query(
                "SELECT a.ap_id FROM inbox_activities a JOIN jobs j ON j.kind = 'inbox'"
                " AND j.payload = '{\"row\":' || a.id || '}'"
            )
        }
        missing = [a for a in acknowledged if a not in stored]
        assert missing == []
        assert len(acknowledged) < BURST  # the kill did land in the middle

        # Jobs the killed process held wait for their lease (5 minutes) to run out: let it.
        with sqlite3.connect(instance.data_dir / "gapo.sqlite3") as conn:
            conn.execute("UPDATE jobs SET locked_until = 0 WHERE state = 'running'")
        instance.start()

        def unapplied() -> int:
            marks = ",".join("?" * len(acknowledged))
            rows = instance.query(
                f"SELECT COUNT(*) AS n FROM inbox_activities WHERE ap_id IN ({marks})"
                " AND processed_at IS NULL",
                tuple(acknowledged),
            )
            return int(rows[0]["n"])

        await eventually(lambda: unapplied() == 0, timeout=60)
    finally:
        instance.stop()
        await peer.stop()
