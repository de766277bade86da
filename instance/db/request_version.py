"""One `Database.version()` read per web request, shared by the read caches it consults.

The home page, the session's user and the unread count each key a `VersionedCache` by the
database version; asked separately, one page view cost three `PRAGMA data_version` trips to
the watcher's thread. The app begins a snapshot before each request (`begin`); `version`
then reads the database's once and answers the same number for the rest of that request.

That is the request seeing the database as of its first read, as any request whose reads
all happened at once would; what it reads under the snapshot is at least that new, so no
entry is ever kept under a version older than its content. The one thing a snapshot must
not hide is the request's own write: every commit made through the database forgets the
snapshot (`forget`, called by the backend), so a page rendered after a write reads the
version again and sees it. Outside a request (jobs, the CLI) or in a task the request
spawned, there is no snapshot and every call reads the database.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass

from instance.db.connection import Database


@dataclass
class _Snapshot:
    """The version read first in one request's task (None: not read yet, or forgotten)."""

    task: asyncio.Task[object] | None
    db: Database | None = None
    value: int | None = None


_current: ContextVar[_Snapshot | None] = ContextVar("gapo_request_version", default=None)


def begin() -> None:
    """Start this request's snapshot (the app's `before_request`)."""
    _current.set(_Snapshot(asyncio.current_task()))


def forget() -> None:
    """Something was committed on this request's behalf: the next `version` reads again."""
    snapshot = _current.get()
    if snapshot is not None:
        snapshot.value = None


async def version(db: Database) -> int:
    """`db.version()`, read at most once per request while the request writes nothing."""
    snapshot = _current.get()
    # A task the request spawned inherits the context; it may outlive the request, so it
    # reads for itself.
    if snapshot is None or snapshot.task is not asyncio.current_task():
        return await db.version()
    if snapshot.value is None or snapshot.db is not db:
        snapshot.db, snapshot.value = db, await db.version()
    return snapshot.value
