"""The PostgreSQL backend of `Database`: asyncpg with a connection pool, for several processes
and machines on one database (issue 16).

Isolation is PostgreSQL's default, READ COMMITTED, as Mastodon runs it. What keeps data
exact under concurrent writers from many processes is how the SQL of `db/` is written, the
same for both engines: counters move by `x = x + 1` in one UPDATE (the row is locked and
re-read, so no increment is lost), and uniqueness (usernames, activity ids, follows, likes)
is a constraint with `ON CONFLICT DO NOTHING`, whose row count says who won.

A serialization failure or deadlock (SQLSTATE 40001 / 40P01, PostgreSQL having rolled the
transaction back) is retried transparently where the whole transaction is known here: a
single `execute` and `write_statements`. A `transaction()` block is the caller's code,
which cannot be re-run from here; it is rolled back and answered as `WriteConflict`, a 503
with Retry-After, never a 500 and never half written. So is a unique violation in such a
block: a check-then-insert that lost a race to another process. A database that cannot be reached is
`DatabaseUnavailable`, the same 503 path as every other overload (`instance/errors.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import asyncpg

from instance.db import request_version
from instance.db.connection import Params, Row
from instance.db.dialect import POSTGRESQL, Dialect
from instance.db.pg_sql import arguments, rewrite, typed
from instance.errors import Overloaded

log = logging.getLogger(__name__)

# Attempts of a transaction that PostgreSQL rolled back for a conflict, and the first pause.
CONFLICT_ATTEMPTS = 5
CONFLICT_PAUSE = 0.01
# Seconds a request waits for a free pooled connection before it is answered 503.
ACQUIRE_TIMEOUT = 10.0
UNAVAILABLE_RETRY_AFTER = 5
# Seconds between attempts to listen again once the listening connection is lost.
LISTEN_RETRY = 2.0

T = TypeVar("T")


class DatabaseUnavailable(Overloaded):
    """PostgreSQL cannot be reached (down, restarting, out of connections): 503."""


class WriteConflict(Overloaded):
    """A transaction kept losing to concurrent ones (serialization failure or deadlock)."""


_CONFLICTS = (asyncpg.SerializationError, asyncpg.DeadlockDetectedError)
# What a statement or a COMMIT raises when the server went away under it.
_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was lost
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,  # the pool is closing, or the connection was closed under us
    # A connection the server ended while idle: asyncpg's protocol state is left broken.
    asyncpg.InternalClientError,
)
# ... and, reaching it at all: refused, unreachable, no answer in time.
_UNREACHABLE: tuple[type[BaseException], ...] = (OSError, TimeoutError, *_LOST)


@contextmanager
def reachable() -> Iterator[None]:
    """Connection failures become `DatabaseUnavailable` (503), whatever the statement.
    Only around the driver's own calls: an OSError of the caller's code inside a
    transaction block is not the database's."""
    try:
        yield
    except _UNREACHABLE as exc:
        log.warning("PostgreSQL unavailable: %s", exc)
        raise DatabaseUnavailable(retry_after=UNAVAILABLE_RETRY_AFTER) from exc


def _row_count(status: str) -> int:
    # asyncpg answers a command's tag: "UPDATE 3", "INSERT 0 1", "DELETE 0", "CREATE TABLE".
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


async def _execute(conn: asyncpg.Connection, sql: str, params: Params) -> int:
    text, names = rewrite(sql)
    values = arguments(names, params)
    with reachable():
        status: str = await conn.execute(typed(text, values), *values)
    return _row_count(status)


async def _fetch(conn: asyncpg.Connection, sql: str, params: Params) -> list[Row]:
    text, names = rewrite(sql)
    values = arguments(names, params)
    with reachable():
        records = await conn.fetch(typed(text, values), *values)
    # Plain dicts, as the SQLite backend answers: callers copy and merge rows.
    return [dict(r) for r in records]


class PostgresTransaction:
    """Statements inside one transaction on one pooled connection."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.committed_callbacks: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the transaction has committed (never if it rolls back); a
        callback already registered is not added twice."""
        if callback not in self.committed_callbacks:
            self.committed_callbacks.append(callback)

    async def execute(self, sql: str, params: Params = None) -> int:
        return await _execute(self._conn, sql, params)

    async def execute_batch(self, statements: Sequence[tuple[str, Params]]) -> list[int]:
        """The statements in order; their row counts."""
        return [await _execute(self._conn, sql, params) for sql, params in statements]

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        return await _fetch(self._conn, sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        rows = await _fetch(self._conn, sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))


def _run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # one caller's hook must not fail another's committed write
            log.exception("after_commit callback failed")


class PostgresDatabase:
    """One process's pool of connections to one PostgreSQL database."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        with reachable():
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=1,
                max_size=self.pool_size,
                # Statements are a fixed set of strings: asyncpg prepares each once per
                # connection and keeps it (its default cache of 100 is smaller than db/).
                statement_cache_size=1024,
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise RuntimeError("database is not open")
        pool = self._pool
        with reachable():
            conn = await pool.acquire(timeout=ACQUIRE_TIMEOUT)
        try:
            yield conn
        except DatabaseUnavailable:
            # Never hand this connection to anyone again: the pool opens a fresh one.
            conn.terminate()
            raise
        finally:
            await pool.release(conn)

    async def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        async with self._connection() as conn:
            return await _fetch(conn, sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Params = None) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else next(iter(row.values()))

    async def version(self) -> int:
        """The current write-ahead log insert position. Every commit, of any connection of
        any process, inserts its record into the WAL before it is visible, so the position
        after it is past every earlier answer (the insert position, not the write one: with
        synchronous_commit off a commit is visible before its record is written out);
        equal answers mean nothing committed in between. It also moves for writes that
        commit nothing visible (vacuum, checkpoints), which costs a cache miss, never a
        stale read. Chosen over a counter row bumped by every transaction: that row would
        be one lock that every writer of every process queues on."""
        value = await self.fetch_value("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
        return int(value)

    async def notify(self, channel: str) -> None:
        """One NOTIFY on `channel` (job wake-ups across machines, jobs/notify_wakeup.py)."""
        async with self._connection() as conn:
            with reachable():
                await conn.execute("SELECT pg_notify($1, '')", channel)

    async def listen(
        self, channel: str, on_notify: Callable[[], None]
    ) -> Callable[[], Awaitable[None]]:
        """Calls `on_notify` for every NOTIFY on `channel`, on a connection of its own (a
        listening connection cannot go back to the pool), opened again if it is lost;
        returns the coroutine function that stops listening."""
        listener = _Listener(self.dsn, channel, on_notify)
        await listener.start()
        return listener.stop

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt` (one whole transaction) again after a serialization failure or a
        deadlock, with a growing random pause, up to CONFLICT_ATTEMPTS times."""
        for tries in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return await attempt()
            except _CONFLICTS as exc:
                if tries == CONFLICT_ATTEMPTS:
                    raise WriteConflict(retry_after=1) from exc
                log.info("transaction conflict (%s), retrying", exc.sqlstate)
                # Jitter, so that two losers do not meet again: no secret in it.
                await asyncio.sleep(random.uniform(0, CONFLICT_PAUSE * 2**tries))  # noqa: S311
        raise AssertionError("unreachable")

    async def execute(self, sql: str, params: Params = None) -> int:
        """One write statement in a transaction of its own; returns the row count."""
        counts = await self.write_statements([(sql, params)])
        return counts[0]

    async def write_statements(
        self,
        statements: Sequence[tuple[str, Params]],
        *,
        after_commit: Callable[[], None] | None = None,
    ) -> list[int]:
        """Fixed statements as one transaction of their own, retried whole on a conflict;
        their row counts once committed, then `after_commit`."""
        fixed = list(statements)

        async def attempt() -> list[int]:
            async with self._connection() as conn:
                with reachable():
                    async with conn.transaction():
                        return [await _execute(conn, sql, params) for sql, params in fixed]

        try:
            counts = await self._retrying(attempt)
        finally:
            request_version.forget()  # the request that wrote must see its write
        if after_commit is not None:
            _run_callbacks([after_commit])
        return counts

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """A transaction on one pooled connection: committed when the block ends cleanly,
        rolled back when it raises; `after_commit` callbacks run once the COMMIT is done."""
        async with self._connection() as conn:
            tx = PostgresTransaction(conn)
            try:
                async with conn.transaction():
                    yield tx
            except (*_CONFLICTS, asyncpg.UniqueViolationError) as exc:
                # A unique violation here is a race a check-then-insert lost to another
                # process (SQLite's single writer never lets it happen): the block's own
                # check, run again by the client's retry, finds the winner's row.
                raise WriteConflict(retry_after=1) from exc
            except _LOST as exc:  # the COMMIT (or BEGIN) found the connection gone
                raise DatabaseUnavailable(retry_after=UNAVAILABLE_RETRY_AFTER) from exc
            finally:
                request_version.forget()  # the request that wrote must see its write
        _run_callbacks(tx.committed_callbacks)


class _Listener:
    """One LISTEN connection, reconnected every `LISTEN_RETRY` seconds while it is lost
    (the server restarting): wake-ups sent meanwhile are lost, which the runners' poll
    bounds."""

    def __init__(self, dsn: str, channel: str, on_notify: Callable[[], None]) -> None:
        self.dsn = dsn
        self.channel = channel
        self.on_notify = on_notify
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _notified(self, *_: object) -> None:
        self.on_notify()

    def _terminated(self, *_: object) -> None:
        self._lost.set()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        conn.add_termination_listener(self._terminated)
        await conn.add_listener(self.channel, self._notified)
        self._conn = conn
        self._lost.clear()
        self.on_notify()  # what was committed while nobody listened is looked at now

    async def start(self) -> None:
        with reachable():
            await self._connect()
        self._task = asyncio.create_task(self._keep())

    async def _keep(self) -> None:
        while True:
            await self._lost.wait()
            self._conn = None
            await asyncio.sleep(LISTEN_RETRY)
            try:
                await self._connect()
            except (OSError, asyncpg.PostgresError) as exc:
                log.debug("job wake-ups: listening again failed: %s", exc)
                self._lost.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=5)
            self._conn = None
