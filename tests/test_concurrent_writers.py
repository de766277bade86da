"""Two worker processes writing to one SQLite file at once: every row lands, ids stay unique."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from instance.db.migrate import migrate
from tests.helpers.processes import gapo_env

ROWS_PER_WORKER = 300
SIGNUPS_PER_WORKER = 3

# Each worker opens its own services on the shared file, as a `gapo serve` worker does,
# says it is ready, waits for "go", then writes one row per transaction as fast as it can.
WORKER = """
import asyncio, json, sys
from instance.accounts.service import SignupRequest
from instance.config import load_settings
from instance.db import accounts as accounts_q
from instance.ids import now
from instance.services import open_services

async def main(tag: str, rows: int, signups: int) -> None:
    services = await open_services(load_settings())
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        ids = []
        for n in range(rows):
            account_id = services.ids.next_id()
            await accounts_q.insert_account(services.db, {
                "id": account_id, "local": 0, "username": f"{tag}{n}",
                "username_key": f"{tag}{n}", "domain": "remote.example",
                "created_at": now(), "updated_at": now(),
                "ap_id": f"https://remote.example/users/{tag}{n}",
            })
            ids.append(account_id)
            if n % 100 == 0 and n // 100 < signups:
                user = await services.accounts.signup(SignupRequest(
                    username=f"{tag}_u{n}", email=f"{tag}{n}@example.org",
                    password="a good long passphrase"))
                # Its key is made on first use: here, both processes writing it at once.
                await services.accounts.public_key(user["account_id"])
        print(json.dumps({"node": services.ids.node, "ids": ids}))
    finally:
        await services.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def test_two_processes_write_at_once(tmp_path: Path) -> None:
    """Two processes inserting 300 rows and signing up users concurrently lose nothing."""
    data_dir = tmp_path / "data"
    db_path = data_dir / "gapo.sqlite3"
    await migrate(f"sqlite:///{db_path}", db_path)
    env = gapo_env(data_dir)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, tag, str(ROWS_PER_WORKER), str(SIGNUPS_PER_WORKER)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    results = []
    for proc in procs:  # "go" reaches both before either's output is read
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err.lower(), err
        results.append(json.loads(out.strip().splitlines()[-1]))

    assert results[0]["node"] != results[1]["node"]
    ids_a, ids_b = results[0]["ids"], results[1]["ids"]
    # Ids sort by time: overlapping ranges show the two processes really wrote at once.
    assert min(ids_a) < max(ids_b) and min(ids_b) < max(ids_a)
    minted = ids_a + ids_b
    assert len(minted) == len(set(minted)) == 2 * ROWS_PER_WORKER
    with sqlite3.connect(db_path) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM accounts WHERE local = 0")}
        users = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
        user_keys = conn.execute(
            "SELECT COUNT(*) FROM keypairs k JOIN users u ON u.account_id = k.account_id"
        ).fetchone()[0]
        all_ids = [r[0] for r in conn.execute("SELECT id FROM accounts")]
    assert stored == set(minted)
    assert users == user_keys == 2 * SIGNUPS_PER_WORKER
    assert len(all_ids) == len(set(all_ids)) >= 2 * (ROWS_PER_WORKER + SIGNUPS_PER_WORKER)
