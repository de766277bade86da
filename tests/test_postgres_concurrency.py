"""PostgreSQL under concurrent writers: counters stay exact and unique constraints hold across
processes, and a serialization failure or deadlock is retried or answered 503, never a 500.

Each test has its own database on this process's private cluster (`tests/helpers/postgres.py`);
the writer processes are `tests/helpers/pg_writers.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from instance.db.migrate import migrate
from instance.db.postgres import PostgresDatabase, WriteConflict
from tests.helpers import postgres

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = 40
POST_ID = 5000


@pytest.fixture
async def url() -> str:
    database = postgres.empty_database("c_" + uuid.uuid4().hex[:16])
    await migrate(database)
    return database


@pytest.fixture
async def db(url: str) -> AsyncIterator[PostgresDatabase]:
    database = PostgresDatabase(url, pool_size=4)
    await database.open()
    for n in range(1, ACCOUNTS + 1):
        await database.execute(
            "INSERT INTO accounts (id, local, username, username_key, created_at, updated_at)"
            " VALUES (:id, 1, :name, :name, 0, 0)",
            {"id": n, "name": f"user{n}"},
        )
    await database.execute(
        "INSERT INTO posts (id, account_id, local, visibility, created_at)"
        " VALUES (:id, 1, 1, 'public', 0)",
        {"id": POST_ID},
    )
    yield database
    await database.close()


def _writers(
    action: str, url: str, target: int, accounts: list[int], processes: int
) -> list[dict[str, int]]:
    """`processes` writer processes, each doing the action for every account at once."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.helpers.pg_writers",
                action,
                url,
                str(target),
                str(1000000 * (p + 1)),
                *map(str, accounts),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    results = []
    for proc in started:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Traceback" not in err, err
        results.append(json.loads(out))
    return results


async def test_likes_from_three_processes_are_counted_exactly(
    url: str, db: PostgresDatabase
) -> None:
    """Three processes like one post for the same 40 accounts at once: 40 likes, count 40."""
    accounts = list(range(1, ACCOUNTS + 1))
    results = await asyncio.to_thread(_writers, "like", url, POST_ID, accounts, 3)
    assert sum(r["inserted"] for r in results) == ACCOUNTS
    assert sum(r["conflicts"] for r in results) == 0
    assert await db.fetch_value("SELECT COUNT(*) FROM likes") == ACCOUNTS
    assert (
        await db.fetch_value("SELECT likes_count FROM posts WHERE id = :id", {"id": POST_ID})
        == ACCOUNTS
    )


async def test_follows_from_three_processes_are_one_each(url: str, db: PostgresDatabase) -> None:
    """The same Follows sent through three processes at once make one row per follower."""
    followers = list(range(2, ACCOUNTS + 1))
    results = await asyncio.to_thread(_writers, "follow", url, 1, followers, 3)
    assert sum(r["inserted"] for r in results) == len(followers)
    assert await db.fetch_value("SELECT COUNT(*) FROM follows WHERE followee_id = 1") == len(
        followers
    )
    pairs = await db.fetch_value("SELECT COUNT(DISTINCT follower_id) FROM follows")
    assert pairs == len(followers)


async def test_a_username_taken_by_a_racing_transaction_is_503_not_a_crash(
    url: str, db: PostgresDatabase
) -> None:
    """Two sign-ups of one name check, both find it free, both insert: one account exists,
    the loser is `WriteConflict` (503 + Retry-After) and left nothing behind."""
    other = PostgresDatabase(url, pool_size=2)
    await other.open()
    both_checked = asyncio.Barrier(2)

    async def sign_up(handle: PostgresDatabase, account_id: int) -> str:
        try:
            async with handle.transaction() as tx:
                taken = await tx.fetch_value(
                    "SELECT COUNT(*) FROM accounts WHERE username_key = 'same'"
                )
                await both_checked.wait()
                if taken:
                    return "taken"
                await tx.execute(
                    "INSERT INTO accounts (id, local, username, username_key, created_at,"
                    " updated_at) VALUES (:id, 1, 'same', 'same', 0, 0)",
                    {"id": account_id},
                )
                await tx.execute(
                    "INSERT INTO keypairs (id, account_id, key_id, public_pem, created_at)"
                    " VALUES (:id, :id, :k, 'pem', 0)",
                    {"id": account_id, "k": f"key{account_id}"},
                )
            return "created"
        except WriteConflict as exc:
            assert exc.status == 503 and exc.retry_after
            return "503"

    try:
        outcomes = await asyncio.gather(sign_up(db, 101), sign_up(other, 102))
    finally:
        await other.close()
    assert sorted(outcomes) == ["503", "created"]
    assert await db.fetch_value("SELECT COUNT(*) FROM accounts WHERE username_key = 'same'") == 1
    # The loser's other row went with it.
    assert await db.fetch_value("SELECT COUNT(*) FROM keypairs") == 1


async def _flaky(db: PostgresDatabase, sqlstate: str, failures: int) -> None:
    """`flaky()` fails with `sqlstate` on its first `failures` calls, whoever rolls back
    (a sequence counts calls outside any transaction)."""
    await db.execute("CREATE SEQUENCE calls")
    await db.execute(
        "CREATE FUNCTION flaky() RETURNS integer LANGUAGE plpgsql AS $$"
        f" BEGIN IF nextval('calls') <= {failures} THEN"
        f" RAISE EXCEPTION 'lost a race' USING ERRCODE = '{sqlstate}'; END IF; RETURN 1; END $$"
    )


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
async def test_a_serialization_failure_or_deadlock_is_retried(
    db: PostgresDatabase, sqlstate: str
) -> None:
    """Fixed statements that PostgreSQL rolls back twice for a conflict commit on the third try,
    once: their earlier attempts left nothing."""
    await _flaky(db, sqlstate, failures=2)
    counts = await db.write_statements(
        [
            ("INSERT INTO hosts (domain, updated_at) VALUES ('a.example', 0)", None),
            ("UPDATE hosts SET blocked = flaky() WHERE domain = 'a.example'", None),
        ]
    )
    assert counts == [1, 1]
    assert await db.fetch_value("SELECT COUNT(*) FROM hosts") == 1
    assert await db.fetch_value("SELECT last_value FROM calls") == 3


async def test_endless_conflicts_end_as_503(db: PostgresDatabase) -> None:
    """A transaction that keeps losing is given up after a few tries, as a 503."""
    await _flaky(db, "40001", failures=1000)
    with pytest.raises(WriteConflict) as caught:
        await db.execute("UPDATE posts SET likes_count = flaky()")
    assert caught.value.status == 503
    with pytest.raises(WriteConflict):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO hosts (domain, updated_at) VALUES ('b.example', 0)")
            await tx.execute("UPDATE posts SET likes_count = flaky()")
    assert await db.fetch_value("SELECT COUNT(*) FROM hosts") == 0
