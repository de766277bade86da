"""Group commit at SQLite's single writer: many callers' transactions share one COMMIT.

SQLite has one writer per file, and each COMMIT in `synchronous=FULL` costs an fsync. Under
a burst (an inbox taking hundreds of activities a second) that fsync, and the file lock
around it, was the whole budget (issue 15). So the writer connection keeps one transaction
open for as long as callers queue for it:

- the first caller of a group takes the cross-process write lock (`WriterFileLock`) and
  runs `BEGIN IMMEDIATE`; each later caller runs inside a `SAVEPOINT` of its own (opened
  with its first statement, in the same trip to the thread), so a caller that raises
  rolls back only its own statements;
- callers take turns on the connection (one body at a time, in arrival order); when a
  caller ends and nobody is waiting for a turn — or the group holds `max_group` callers —
  the group commits, with one fsync;
- every caller is resumed only after that COMMIT (acknowledged = durable), or gets its
  exception if the COMMIT failed; `after_commit` callbacks run then, once per group.

With no queue (one request at a time) each transaction is its own group, as before; the
first caller of a group runs without a savepoint (a failure there rolls back the whole
transaction, which holds nothing else yet), so the quiet case costs nothing extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

MAX_GROUP = 64
BUSY_RETRIES = 8


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class WriterFileLock:
    """An exclusive `flock` on `<db>-writer.lock`, held from BEGIN to COMMIT.

    Several processes on one file (`gapo serve --workers 2`, `gapo worker`) then queue for
    writing in the kernel instead of polling in SQLite's busy handler, which sleeps in
    growing steps and was where the 2-worker p99 of 1.25 s came from. Processes that do not
    take it (the sqlite3 shell, an old version) are still kept out by SQLite's own lock.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + "-writer.lock")
        self._fd: int | None = None

    def open(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def acquire(self) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        # Another process writes: wait for it on a thread, never on the event loop. Either
        # this returns holding the lock or raises without it: a caller cancelled while the
        # thread waits lets it finish (the other process's COMMIT is near) and lets go.
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            with contextlib.suppress(OSError):
                await waiting
                self.release()
            raise

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class GroupedTx(Protocol):
    """A caller's transaction object: what it asked to run after the commit, and its
    savepoint (asked for by the group, opened with its first statement)."""

    committed_callbacks: list[Callable[[], None]]
    savepoint_wanted: bool
    savepoint_open: bool


TxT = TypeVar("TxT", bound=GroupedTx)


class Group:
    """One BEGIN…COMMIT and the callers inside it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.size = 0
        self.committed: asyncio.Future[None] = loop.create_future()
        # Nobody may be left to read a failed commit's exception (all callers cancelled).
        self.committed.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.callbacks: list[Callable[[], None]] = []


class GroupWriter:
    """The writer connection with its turns and groups (see the module docstring)."""

    def __init__(
        self, conn: aiosqlite.Connection, lock: WriterFileLock, *, max_group: int = MAX_GROUP
    ) -> None:
        self.conn = conn
        self.lock = lock
        self.max_group = max_group
        self._turn = asyncio.Lock()
        self._waiting = 0
        self._group: Group | None = None
        self._commits: set[asyncio.Task[None]] = set()

    async def idle(self) -> None:
        """Wait until no transaction is open or committing (before closing the connection)."""
        async with self._turn:
            pass

    @asynccontextmanager
    async def turn(self, make_tx: Callable[[aiosqlite.Connection], TxT]) -> AsyncIterator[TxT]:
        """One caller's transaction: its turn on the connection, inside the open group."""
        self._waiting += 1
        try:
            await self._turn.acquire()
        finally:
            self._waiting -= 1
        group: Group | None = None
        try:
            group = await self._join()
            tx = make_tx(self.conn)
            tx.savepoint_wanted = group.size > 1
            try:
                yield tx
            except BaseException:
                await self._undo(group, tx)
                raise
            # No RELEASE: the savepoints of a group nest, and its COMMIT ends them all.
            for callback in tx.committed_callbacks:
                if callback not in group.callbacks:
                    group.callbacks.append(callback)
        finally:
            self._end_turn(group)
        await group.committed

    async def _join(self) -> Group:
        """The open group, or one begun now (the file lock, then BEGIN IMMEDIATE)."""
        if self._group is not None:
            self._group.size += 1
            return self._group
        await self.lock.acquire()
        try:
            await self._begin_immediate()
        except BaseException:
            self.lock.release()
            raise
        group = self._group = Group(asyncio.get_running_loop())
        group.size = 1
        return group

    async def _undo(self, group: Group, tx: GroupedTx) -> None:
        """Roll back this caller's work only. A caller that wrote nothing has nothing to
        undo; the first caller of a group (no savepoint) rolls back the whole transaction,
        which holds nothing else yet; if SQLite already ended the transaction (an I/O
        error, a full disk), the group is lost and every caller in it fails."""
        if tx.savepoint_wanted and not tx.savepoint_open:
            return
        if tx.savepoint_open and self.conn.in_transaction:
            try:
                await self.conn.execute("ROLLBACK TO tx")
                await self.conn.execute("RELEASE tx")
                return
            except sqlite3.Error:
                log.exception("rolling back to a savepoint failed; the group is rolled back")
        await self._abort(group, RuntimeError("the write transaction was rolled back"))

    async def _abort(self, group: Group, exc: BaseException) -> None:
        if self._group is group:
            self._group = None
        try:
            if self.conn.in_transaction:
                await self.conn.execute("ROLLBACK")
        finally:
            self.lock.release()
            if not group.committed.done():
                group.committed.set_exception(exc)

    def _end_turn(self, group: Group | None) -> None:
        """Commit the group if nobody waits for a turn (or it is full), then pass the turn."""
        if (
            group is not None
            and self._group is group
            and (self._waiting == 0 or group.size >= self.max_group)
        ):
            self._group = None
            # The next turn starts after the COMMIT: a task of its own, so a caller cancelled
            # while it runs cannot leave the group unfinished and the turn held.
            task = asyncio.get_running_loop().create_task(self._commit(group))
            self._commits.add(task)
            task.add_done_callback(self._commits.discard)
            return
        self._turn.release()

    async def _commit(self, group: Group) -> None:
        try:
            await self._commit_with_retries()
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                if self.conn.in_transaction:
                    await self.conn.execute("ROLLBACK")
            self.lock.release()
            self._turn.release()
            group.committed.set_exception(exc)
            return
        self.lock.release()
        self._turn.release()
        group.committed.set_result(None)
        for callback in group.callbacks:
            try:
                callback()
            except Exception:
                log.exception("an after-commit callback failed")

    async def _begin_immediate(self) -> None:
        for attempt in range(BUSY_RETRIES):
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or attempt == BUSY_RETRIES - 1:
                    raise
                log.warning("database busy, retrying BEGIN (attempt %d)", attempt + 1)
                await asyncio.sleep(0.02 * (2**attempt))

    async def _commit_with_retries(self) -> None:
        for attempt in range(BUSY_RETRIES):
            try:
                await self.conn.execute("COMMIT")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or attempt == BUSY_RETRIES - 1:
                    raise
                await asyncio.sleep(0.02 * (2**attempt))
