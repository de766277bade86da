"""Group commit at the SQLite writer: shared COMMITs, savepoints per caller, ack after commit."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from instance.db import sqlite as sqlite_backend
from instance.db.sqlite import SqliteDatabase


class Boom(Exception):
    pass


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "gapo.sqlite3")
    await database.open()
    await database.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    yield database
    await database.close()


def committed_rows(path: Path) -> list[int]:
    """What another connection sees: only committed rows."""
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT n FROM t ORDER BY n")]
    finally:
        conn.close()


async def traced(db: SqliteDatabase) -> list[str]:
    """Every statement the writer connection runs, from now on."""
    statements: list[str] = []
    assert db._writer is not None
    await db._writer.set_trace_callback(statements.append)
    return statements


async def test_queued_transactions_share_one_commit_and_a_failure_rolls_back_alone(
    db: SqliteDatabase,
) -> None:
    """Three transactions queued behind each other commit together; the one that raises
    loses only its own rows, and each caller learns its own outcome."""
    statements = await traced(db)
    hold = asyncio.Event()
    inside = asyncio.Event()

    async def first() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (1)")
            inside.set()
            await hold.wait()  # the others queue meanwhile

    async def failing() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (2)")
            raise Boom

    async def third() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (3)")

    tasks = [asyncio.create_task(first())]
    await inside.wait()
    tasks += [asyncio.create_task(failing()), asyncio.create_task(third())]
    await asyncio.sleep(0.05)  # both are waiting for their turn
    hold.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] is None and isinstance(results[1], Boom) and results[2] is None
    assert committed_rows(db.path) == [1, 3]
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]


async def test_no_caller_resumes_before_the_commit(db: SqliteDatabase) -> None:
    """A caller whose body is done waits, unacknowledged, while its group is still open;
    once the group commits, its row is there for every reader."""
    hold = asyncio.Event()
    second_inside = asyncio.Event()
    acknowledged: list[int] = []

    async def first() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (1)")
            await asyncio.sleep(0.05)  # the second caller queues behind
        acknowledged.append(1)

    async def second() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (2)")
            second_inside.set()
            await hold.wait()
        acknowledged.append(2)

    one = asyncio.create_task(first())
    await asyncio.sleep(0.01)
    two = asyncio.create_task(second())
    await second_inside.wait()
    await asyncio.sleep(0.05)
    assert acknowledged == []  # the first body ended long ago, but nothing is committed
    assert committed_rows(db.path) == []
    hold.set()
    await asyncio.gather(one, two)
    assert sorted(acknowledged) == [1, 2]
    assert committed_rows(db.path) == [1, 2]


async def test_after_commit_callbacks_run_once_per_group_and_never_on_rollback(
    db: SqliteDatabase,
) -> None:
    """A callback registered by several callers of one group runs once, after the commit;
    one registered by a caller that rolled back does not run."""
    calls: list[str] = []

    def shared() -> None:
        calls.append("shared")

    hold = asyncio.Event()

    async def caller(n: int, fail: bool = False, wait: bool = False) -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (:n)", {"n": n})
            tx.after_commit(shared)
            if fail:
                tx.after_commit(lambda: calls.append("rolled back"))
                raise Boom
            if wait:
                await hold.wait()

    tasks = [asyncio.create_task(caller(1, wait=True))]
    await asyncio.sleep(0.01)
    tasks += [asyncio.create_task(caller(2)), asyncio.create_task(caller(3, fail=True))]
    await asyncio.sleep(0.02)
    hold.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert calls == ["shared"]
    assert committed_rows(db.path) == [1, 2]


async def test_a_failing_first_caller_leaves_the_writer_usable(db: SqliteDatabase) -> None:
    """The first caller of a group has no savepoint: its failure rolls back the whole
    (still empty) transaction, and the next transaction begins afresh."""
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (1)")
            raise Boom
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (2)")
            await tx.execute("INSERT INTO t (n) VALUES (2)")
    await db.execute("INSERT INTO t (n) VALUES (3)")
    assert committed_rows(db.path) == [3]


async def test_many_concurrent_writers_all_land(db: SqliteDatabase) -> None:
    """Hundreds of concurrent one-row transactions: every one acknowledged is committed,
    in far fewer COMMITs than transactions."""
    statements = await traced(db)

    async def one(n: int) -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (:n)", {"n": n})

    await asyncio.gather(*(one(n) for n in range(300)))
    assert committed_rows(db.path) == list(range(300))
    commits = sum(1 for s in statements if s == "COMMIT")
    assert 5 <= commits < 300  # groups are bounded (64) and shared


async def test_two_handles_on_one_file_take_turns(tmp_path: Path) -> None:
    """Two handles (as two worker processes) queue on the writer file lock, never fail."""
    path = tmp_path / "gapo.sqlite3"
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    await first.open()
    await second.open()
    try:
        await first.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")

        async def write(db: SqliteDatabase, base: int) -> None:
            for n in range(50):
                await db.execute("INSERT INTO t (n) VALUES (:n)", {"n": base + n})

        await asyncio.gather(write(first, 0), write(second, 1000))
        assert len(committed_rows(path)) == 100
    finally:
        await first.close()
        await second.close()


async def test_carried_statements_fail_alone_and_share_commits(db: SqliteDatabase) -> None:
    """`write_statements` from many callers at once: carried in a few transactions, each
    caller's statements rolled back alone when one fails (the duplicate key here), the
    others acknowledged only once committed, their callbacks run once per commit."""
    await db.execute("INSERT INTO t (n) VALUES (7)")
    statements = await traced(db)
    notified: list[int] = []

    def notify() -> None:
        notified.append(1)

    async def one(n: int) -> list[int]:
        # Two statements: the second fails for n = 7 (taken), and so undoes the first.
        return await db.write_statements(
            [
                ("INSERT INTO t (n) VALUES (:n)", {"n": 1000 + n}),
                ("INSERT INTO t (n) VALUES (:n)", {"n": n}),
            ],
            after_commit=notify,
        )

    results = await asyncio.gather(*(one(n) for n in range(100)), return_exceptions=True)
    failed = [n for n, r in enumerate(results) if isinstance(r, BaseException)]
    assert failed == [7]
    assert isinstance(results[7], sqlite3.IntegrityError)
    assert all(r == [1, 1] for n, r in enumerate(results) if n != 7)
    rows = committed_rows(db.path)
    assert 1007 not in rows
    assert len(rows) == 1 + 99 * 2
    commits = sum(1 for s in statements if s == "COMMIT")
    assert 1 <= commits < 20
    assert len(notified) == commits


async def test_past_one_carriers_bound_the_next_carrier_takes_the_rest(
    db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More callers than one carrier takes: every one is still run and acknowledged."""
    monkeypatch.setattr(sqlite_backend, "MAX_CARRIED", 4)
    counts = await asyncio.gather(
        *(db.write_statements([("INSERT INTO t (n) VALUES (:n)", {"n": n})]) for n in range(50))
    )
    assert counts == [[1]] * 50
    assert committed_rows(db.path) == list(range(50))
