"""Delivery outcomes written in batches: one write transaction for many finished jobs.

Writing each delivery's end on its own cost a transaction (and an fsync) per delivery.
Outcomes wait here for at most `delay` seconds or `size` entries, then go in one
transaction together with the host rows that changed. Nothing acknowledged depends on
this: until the batch commits its jobs stay `running` under their lease, so a process
killed in between has them claimed again when the lease runs out and delivered again
(receivers dedupe by activity id; a lost delivery would be the worse mistake).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.ids import now
from instance.outbound.host_book import HostBook

log = logging.getLogger(__name__)

# 50 ms adds nothing a person notices to a delivery and groups ~75 completions at 1,500/s.
FLUSH_DELAY = 0.05
FLUSH_SIZE = 256


@dataclass
class Pending:
    """Outcomes not yet written."""

    done: list[int] = field(default_factory=list)
    # (job id, attempts, run_at, error)
    retry: list[tuple[int, int, int, str]] = field(default_factory=list)
    # (job id, attempts, error)
    dead: list[tuple[int, int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.done) + len(self.retry) + len(self.dead)


class Completions:
    """Collects outcomes and writes them, with dirty host rows, in one transaction."""

    def __init__(
        self,
        db: Database,
        hosts: HostBook,
        *,
        delay: float = FLUSH_DELAY,
        size: int = FLUSH_SIZE,
        on_written: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.db = db
        self.hosts = hosts
        self.delay = delay
        self.size = size
        self.on_written = on_written
        self._pending = Pending()
        self._timer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    def done(self, job_id: int) -> None:
        self._pending.done.append(job_id)
        self._soon()

    def retry(self, job_id: int, *, attempts: int, run_at: int, error: str) -> None:
        self._pending.retry.append((job_id, attempts, run_at, error))
        self._soon()

    def dead(self, job_id: int, *, attempts: int, error: str) -> None:
        self._pending.dead.append((job_id, attempts, error))
        self._soon()

    def kick(self) -> None:
        """Schedule a write if outcomes wait and none is scheduled (after a failed one)."""
        if len(self._pending) and (self._timer is None or self._timer.done()):
            self._soon()

    def _soon(self) -> None:
        loop = asyncio.get_running_loop()
        # One write at a time on its way for the size: it takes all that waits by then.
        if len(self._pending) >= self.size and not self._tasks:
            self._tasks.add(task := loop.create_task(self._flush_logged(0.0)))
            task.add_done_callback(self._tasks.discard)
        elif self._timer is None or self._timer.done():
            self._timer = loop.create_task(self._flush_logged(self.delay))

    async def _flush_logged(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await self.flush()
        except Exception:  # the next outcome or the lane's stop flushes again
            log.exception("writing delivery outcomes failed")

    async def flush(self) -> None:
        """Write every outcome collected so far, and the host rows that changed."""
        async with self._lock:
            pending, self._pending = self._pending, Pending()
            dirty = [(host, entry, entry.snapshot()) for host, entry in self.hosts.dirty()]
            if not pending and not dirty:
                return
            ts = now()
            try:
                async with self.db.transaction() as tx:
                    await jobs_q.finish_many(tx, pending.done, ts)
                    for job_id, attempts, run_at, error in pending.retry:
                        await jobs_q.retry_later(
                            tx, job_id, attempts=attempts, run_at=run_at, error=error
                        )
                    for job_id, attempts, error in pending.dead:
                        await jobs_q.fail(tx, job_id, attempts=attempts, error=error, now=ts)
                    for host, _, snap in dirty:
                        if snap.health_dirty:
                            await hosts_q.set_health(tx, host, snap.health_json, ts)
                        if snap.scheme_dirty:
                            await hosts_q.set_signature_scheme(tx, host, snap.scheme, ts)
            except BaseException:
                # Not written: keep them for the next flush (their leases still hold them).
                self._pending.done[:0] = pending.done
                self._pending.retry[:0] = pending.retry
                self._pending.dead[:0] = pending.dead
                raise
            for _, entry, snap in dirty:
                entry.written(snap)
        if self.on_written is not None:
            self.on_written(
                pending.done + [r[0] for r in pending.retry] + [d[0] for d in pending.dead]
            )

    async def close(self) -> None:
        """Stop the timers and write what is left."""
        for task in [self._timer, *self._tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.flush()
