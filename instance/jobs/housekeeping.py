"""Housekeeping: a recurring job that deletes expired sessions, finished jobs, old inbox
records, old tombstones of deleted posts and cached copies of remote files nobody looked at for a while, so neither the
database nor the media folder grows for ever.

It is one row in the job queue, like any job: whichever runner claims it runs it, so it
runs once per interval for the whole instance, not once per process, and a runner that
dies with it loses its lease to another (a first run on years of records could outlast the
lease; a second runner would then delete alongside it, which is harmless). Rows go in batches of `BATCH` per transaction:
SQLite has one writer, and one huge DELETE would hold it while posts and inbox writes wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from instance.db import Database
from instance.db import inbox as inbox_q
from instance.db import jobs as jobs_q
from instance.db import posts as posts_q
from instance.db import sessions as sessions_q
from instance.db.connection import Row
from instance.ids import first_id_at, now

log = logging.getLogger(__name__)

HOUSEKEEPING = "housekeeping"
# Expired sessions used to be purged by an hourly timer in each web process; this keeps
# that promise (gone within the hour even if nobody logs in), once for the instance.
HOUSEKEEPING_INTERVAL = 3600
BATCH = 500
DAY = 86400


@dataclass(frozen=True)
class Purged:
    sessions: int
    jobs: int
    inbox: int
    remote_files: int = 0
    tombstones: int = 0


class RemoteCache(Protocol):
    """The cache of remote files (`media.remote.RemoteMedia`): old copies are dropped."""

    async def prune(self, cutoff: int, *, batch: int = ...) -> int: ...


class Housekeeping:
    def __init__(
        self,
        db: Database,
        *,
        retain_jobs_days: int,
        retain_inbox_days: int,
        batch: int = BATCH,
        remote_media: RemoteCache | None = None,
        remote_media_days: int = 30,
        retain_tombstones_days: int = 30,
    ) -> None:
        self.db = db
        self.remote_media = remote_media
        self.remote_media_age = remote_media_days * DAY
        self.retain_jobs = retain_jobs_days * DAY
        self.retain_inbox = retain_inbox_days * DAY
        self.retain_tombstones = retain_tombstones_days * DAY
        self.batch = batch

    async def run(self, payload: dict[str, Any], job: Row) -> None:
        """The job handler (the runner schedules the next run)."""
        purged = await self.purge()
        if any(vars(purged).values()):
            log.info(
                "housekeeping deleted %d expired session(s), %d finished job(s),"
                " %d inbox record(s), %d tombstone(s) of deleted posts,"
                " %d cached remote file(s)",
                purged.sessions,
                purged.jobs,
                purged.inbox,
                purged.tombstones,
                purged.remote_files,
            )

    async def purge(self) -> Purged:
        ts = now()
        jobs_before = ts - self.retain_jobs
        inbox_before = ts - self.retain_inbox
        sessions = await self._batched(lambda: sessions_q.purge_expired(self.db, ts, self.batch))
        jobs = await self._batched(lambda: jobs_q.purge_finished(self.db, jobs_before, self.batch))
        inbox = await self._batched(
            lambda: inbox_q.purge_received_before(
                self.db, inbox_before, first_id_at(inbox_before), self.batch
            )
        )
        tombstones_before = ts - self.retain_tombstones
        tombstones = await self._batched(
            lambda: posts_q.purge_tombstones(self.db, tombstones_before, self.batch)
        )
        remote_files = 0
        if self.remote_media is not None:
            remote_files = await self.remote_media.prune(
                ts - self.remote_media_age, batch=self.batch
            )
        return Purged(
            sessions=sessions,
            jobs=jobs,
            inbox=inbox,
            remote_files=remote_files,
            tombstones=tombstones,
        )

    async def _batched(self, delete_batch: Callable[[], Awaitable[int]]) -> int:
        total = 0
        while True:
            deleted = await delete_batch()
            total += deleted
            if deleted < self.batch:
                return total
            await asyncio.sleep(0)  # let other writers in between batches
