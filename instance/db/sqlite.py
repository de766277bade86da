"""The SQLite backend of `Database`: aiosqlite with WAL, a reader pool and one serialised writer.

SQL everywhere in `db/` uses named parameters (`:name`), which SQLite takes as is
and which a PostgreSQL backend will rewrite to `$n` in its own module.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from instance.db import request_version
from instance.db.connection import Params, Row
from instance.db.dialect import SQLITE, Dialect
from instance.db.group_commit import BUSY_RETRIES, GroupWriter, WriterFileLock
from instance.db.group_commit import is_busy as _is_busy

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# Callers of `write_statements` one carrier runs in its trip, at most.
MAX_CARRIED = 256


async def _configure(conn: aiosqlite.Connection, synchronous: str) -> None:
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute(f"PRAGMA synchronous = {synchronous}")


async def enable_wal(path: Path) -> None:
    """Switch the file to WAL once; the mode is persistent, and every process then shares it."""
    for attempt in range(BUSY_RETRIES):
        try:
            async with aiosqlite.connect(path, timeout=BUSY_TIMEOUT_MS / 1000) as conn:
                await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                await conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or attempt == BUSY_RETRIES - 1:
                raise
            await asyncio.sleep(0.05 * (attempt + 1))


def _run_statements(
    tx: SqliteTransaction, raw: sqlite3.Connection, statements: Sequence[tuple[str, Params]]
) -> list[int]:
    """On the connection's thread: the pending savepoint, then every statement; one hop."""
    tx.open_pending_savepoint(raw)
    return [raw.execute(sql, params or {}).rowcount for sql, params in statements]


def _fetch(tx: SqliteTransaction, raw: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    tx.open_pending_savepoint(raw)
    return [dict(r) for r in raw.execute(sql, params or {}).fetchall()]


def _run_each(
    tx: SqliteTransaction, raw: sqlite3.Connection, batches: list[list[tuple[str, Params]]]
) -> list[list[int] | sqlite3.Error]:
    """On the connection's thread: each batch in a savepoint of its own, in one hop. A
    batch that fails is rolled back alone and its error returned in its place."""
    tx.open_pending_savepoint(raw)
    results: list[list[int] | sqlite3.Error] = []
    for statements in batches:
        raw.execute("SAVEPOINT one")
        try:
            counts = [raw.execute(sql, params or {}).rowcount for sql, params in statements]
        except sqlite3.Error as exc:
            raw.execute("ROLLBACK TO one")
            raw.execute("RELEASE one")
            results.append(exc)
        else:
            raw.execute("RELEASE one")
            results.append(counts)
    return results


@dataclass
class _Waiting:
    """Statements handed to `write_statements`, waiting for a carrier to run them."""

    statements: list[tuple[str, Params]]
    after_commit: Callable[[], None] | None
    done: asyncio.Future[list[int]]


class SqliteTransaction:
    """Statements inside one write transaction; committed when the `async with` ends cleanly.

    Each call is one trip to the writer's thread (a queue hand-off and a wake-up of the
    loop, ~50-100 µs under load, issue 15), so the savepoint a grouped caller runs in
    (`group_commit.py`) is opened on the trip of its first statement, and `execute_batch`
    runs several statements in one trip.
    """

    dialect: Dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.committed_callbacks: list[Callable[[], None]] = []
        self.savepoint_wanted = False
        self.savepoint_open = False

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never if it rolls back); a
        callback already registered is not added twice."""
        if callback not in self.committed_callbacks:
            self.committed_callbacks.append(callback)

    def open_pending_savepoint(self, raw: sqlite3.Connection) -> None:
        if self.savepoint_wanted and not self.savepoint_open:
            raw.execute("SAVEPOINT tx")
            self.savepoint_open = True

    async def _on_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        # aiosqlite's own one-function hop (what its `execute` uses inside).
        return await self._conn._execute(fn, self, self._conn._conn, *args)  # type: ignore[no-untyped-call]

    async def execute(self, sql: str, params: Params = None) -> int:
        counts: list[int] = await self._on_thread(_run_statements, [(sql, params)])
        return counts[0]

    async def execute_batch(self, statements: Sequence[tuple[str, Params]]) -> list[int]:
        """Run the statements in order in one trip; their row counts."""
        counts: list[int] = await self._on_thread(_run_statements, list(statements))
        return counts

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        rows: list[Row] = await self._on_thread(_fetch, sql, params)
        return rows

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))


class SqliteDatabase:
    """A handle shared by one process: reads run on a pool, writes on a single connection.

    SQLite allows one writer at a time across every process sharing the file. Writes take
    the lock up front (`BEGIN IMMEDIATE`) so a transaction never fails half-way on
    SQLITE_BUSY; processes queue for it on a file lock first, and within a process the
    transactions that queue share one COMMIT (`group_commit.py`).
    """

    dialect: Dialect = SQLITE

    def __init__(self, path: Path, *, synchronous: str = "FULL", readers: int = 4) -> None:
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self._reader_count = readers
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._writer: aiosqlite.Connection | None = None
        self._file_lock = WriterFileLock(self.path)
        self._group_writer: GroupWriter | None = None
        self._waiting_writes: list[_Waiting] = []
        self._carrier: asyncio.Task[None] | None = None
        # Only ever asked `PRAGMA data_version` (see `version`).
        self._watcher: aiosqlite.Connection | None = None
        # Counts the watcher connections opened: a reopened handle starts data_version
        # afresh, and must not answer a version that an entry kept before could match.
        self._watcher_epoch = 0

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await enable_wal(self.path)
        self._writer = await aiosqlite.connect(self.path, isolation_level=None)
        await _configure(self._writer, self.synchronous)
        self._file_lock.open()
        self._group_writer = GroupWriter(self._writer, self._file_lock)
        for _ in range(self._reader_count):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            await _configure(conn, self.synchronous)
            await conn.execute("PRAGMA query_only = ON")
            self._all_readers.append(conn)
            self._readers.put_nowait(conn)
        self._watcher = await aiosqlite.connect(self.path, isolation_level=None)
        await self._watcher.execute("PRAGMA query_only = ON")
        self._watcher_epoch += 1

    async def close(self) -> None:
        for conn in self._all_readers:
            await conn.close()
        self._all_readers.clear()
        # Reopened, readers are taken from the new connections only, never a closed one.
        self._readers = asyncio.Queue()
        if self._group_writer is not None:
            await self._group_writer.idle()
            self._group_writer = None
        if self._watcher is not None:
            await self._watcher.close()
            self._watcher = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        self._file_lock.close()

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        async with self._reader() as conn:
            # One trip to the connection's thread, not two (execute, then fetchall): each
            # trip is a queue hand-off and a wake-up of the event loop (issue 15: 8 reads
            # of a feed page were 16 trips).
            rows = await conn.execute_fetchall(sql, params or {})
            return [dict(r) for r in rows]

    async def version(self) -> int:
        """A number that differs from every earlier answer once anything has committed to
        the file since, by any connection of any process (`PRAGMA data_version` of one
        connection that never writes). Equal answers mean the same database: what was read
        under one may be reused under it (the read caches of feeds and sessions)."""
        if self._watcher is None:
            raise RuntimeError("database is not open")
        rows = await self._watcher.execute_fetchall("PRAGMA data_version")
        return (self._watcher_epoch << 48) + int(next(iter(rows))[0])

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        async with self._reader() as conn:
            cursor = await conn.execute(sql, params or {})
            row = await cursor.fetchone()
            return dict(row) if row is not None else None

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))

    async def execute(self, sql: str, params: Params = None) -> int:
        """One write statement in a transaction of its own; returns the row count."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def write_statements(
        self,
        statements: Sequence[tuple[str, Params]],
        *,
        after_commit: Callable[[], None] | None = None,
    ) -> list[int]:
        """Fixed statements as a transaction of their own; their row counts once committed.

        Callers arriving together are carried in one transaction turn and one trip to the
        writer's thread, each in a savepoint of its own (the inbox: hundreds of accepted
        activities a second, each an insert of its record and of its job)."""
        if self._group_writer is None:
            raise RuntimeError("database is not open")
        done: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting_writes.append(_Waiting(list(statements), after_commit, done))
        if self._carrier is None:
            # A task of its own: a caller cancelled meanwhile must not strand the others.
            self._carrier = asyncio.get_running_loop().create_task(self._carry())
        try:
            return await done
        finally:
            request_version.forget()  # the request that wrote must see its write

    async def _carry(self) -> None:
        taken: list[_Waiting] = []
        ok: list[tuple[_Waiting, list[int]]] = []
        try:
            async with self.transaction() as tx:
                # Who arrives from now on waits for the next carrier (the next turn); so
                # does what is past one carrier's bound.
                taken = self._waiting_writes[:MAX_CARRIED]
                self._waiting_writes = self._waiting_writes[MAX_CARRIED:]
                self._carrier = None
                if self._waiting_writes:
                    self._carrier = asyncio.get_running_loop().create_task(self._carry())
                results: list[list[int] | sqlite3.Error] = await tx._on_thread(
                    _run_each, [w.statements for w in taken]
                )
                for waiting, result in zip(taken, results, strict=True):
                    if isinstance(result, sqlite3.Error):
                        waiting.done.set_exception(result)  # rolled back: not acknowledged
                        continue
                    ok.append((waiting, result))
                    if waiting.after_commit is not None:
                        tx.after_commit(waiting.after_commit)
        except BaseException as exc:
            if self._carrier is asyncio.current_task():
                self._carrier = None
                taken, self._waiting_writes = self._waiting_writes, []
            for waiting in taken:
                if not waiting.done.done():
                    waiting.done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for waiting, counts in ok:
            if not waiting.done.done():
                waiting.done.set_result(counts)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """A write transaction, committed with the others queued at the same time; the
        `async with` returns only once the COMMIT is done (or raises if it failed)."""
        if self._group_writer is None:
            raise RuntimeError("database is not open")
        try:
            async with self._group_writer.turn(SqliteTransaction) as tx:
                yield tx
        finally:
            request_version.forget()  # the request that wrote must see its write
