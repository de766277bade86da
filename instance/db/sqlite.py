"""The SQLite backend of `Database`: aiosqlite with WAL, a reader pool and one serialised writer.

SQL everywhere in `db/` uses named parameters (`:name`), which SQLite takes as is
and which a PostgreSQL backend will rewrite to `$n` in its own module.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from instance.db.connection import Params, Row

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
BUSY_RETRIES = 8


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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


class SqliteTransaction:
    """Statements inside one write transaction; committed when the `async with` ends cleanly."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.committed_callbacks: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never if it rolls back); a
        callback already registered is not added twice."""
        if callback not in self.committed_callbacks:
            self.committed_callbacks.append(callback)

    async def execute(self, sql: str, params: Params = None) -> int:
        cursor = await self._conn.execute(sql, params or {})
        return cursor.rowcount

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        cursor = await self._conn.execute(sql, params or {})
        row = await cursor.fetchone()
        return dict(row) if row is not None else None

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        cursor = await self._conn.execute(sql, params or {})
        return [dict(r) for r in await cursor.fetchall()]

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))


class SqliteDatabase:
    """A handle shared by one process: reads run on a pool, writes on a single connection.

    SQLite allows one writer at a time across every process sharing the file. Writes take
    the lock up front (`BEGIN IMMEDIATE`) so a transaction never fails half-way on
    SQLITE_BUSY; waiting for the lock is bounded by `busy_timeout` and retried.
    """

    def __init__(self, path: Path, *, synchronous: str = "FULL", readers: int = 4) -> None:
        self.path = Path(path)
        self.synchronous = synchronous.upper()
        self._reader_count = readers
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
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
        if self._watcher is not None:
            await self._watcher.close()
            self._watcher = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

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

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            conn = self._writer
            await self._begin_immediate(conn)
            tx = SqliteTransaction(conn)
            try:
                yield tx
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await self._commit(conn)
        for callback in tx.committed_callbacks:
            callback()

    async def _begin_immediate(self, conn: aiosqlite.Connection) -> None:
        for attempt in range(BUSY_RETRIES):
            try:
                await conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == BUSY_RETRIES - 1:
                    raise
                log.warning("database busy, retrying BEGIN (attempt %d)", attempt + 1)
                await asyncio.sleep(0.02 * (2**attempt))

    async def _commit(self, conn: aiosqlite.Connection) -> None:
        for attempt in range(BUSY_RETRIES):
            try:
                await conn.execute("COMMIT")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or attempt == BUSY_RETRIES - 1:
                    await conn.execute("ROLLBACK")
                    raise
                await asyncio.sleep(0.02 * (2**attempt))
