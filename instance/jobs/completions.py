"""Job outcomes written in batches: one write transaction for many finished jobs.

Writing each job's end on its own cost a transaction (and an fsync) per job. Outcomes wait
here for at most `delay` seconds or `size` entries, then go in one transaction, together
with what a lane writes beside them (`SideWrites`: the delivery lane's changed host rows,
the inbox lane's results on `inbox_activities`). Nothing acknowledged depends on this:
until the batch commits its jobs stay `running` under their lease, so a process killed in
between has them claimed again when the lease runs out and run again (deliveries are
deduplicated by receivers, inbox activities by their handlers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from instance.db import Database
from instance.db import jobs as jobs_q
from instance.db.connection import Transaction
from instance.ids import now

log = logging.getLogger(__name__)

# 50 ms adds nothing a person notices to a job and groups ~75 completions at 1,500/s.
FLUSH_DELAY = 0.05
FLUSH_SIZE = 256


class SideWrites(Protocol):
    """Rows a lane writes in the same transaction as its outcomes."""

    def take(self) -> Any:
        """What waits to be written now (handed back to `write`, then `written` or
        `restore`)."""

    async def write(self, tx: Transaction, taken: Any, ts: int) -> None: ...

    def written(self, taken: Any) -> None:
        """The transaction with `taken` committed."""

    def restore(self, taken: Any) -> None:
        """The transaction failed: keep `taken` for the next flush."""


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

    def ids(self) -> list[int]:
        return self.done + [r[0] for r in self.retry] + [d[0] for d in self.dead]


class JobCompletions:
    """Collects outcomes and writes them, with the lane's side writes, in one transaction."""

    def __init__(
        self,
        db: Database,
        side: SideWrites | None = None,
        *,
        delay: float = FLUSH_DELAY,
        size: int = FLUSH_SIZE,
        on_written: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.db = db
        self.side = side
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
            log.exception("writing job outcomes failed")

    async def flush(self) -> None:
        """Write every outcome collected so far, and the side writes waiting."""
        async with self._lock:
            pending, self._pending = self._pending, Pending()
            taken = self.side.take() if self.side is not None else None
            if not pending and not taken:
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
                    if self.side is not None and taken:
                        await self.side.write(tx, taken, ts)
            except BaseException:
                # Not written: keep them for the next flush (their leases still hold them).
                self._pending.done[:0] = pending.done
                self._pending.retry[:0] = pending.retry
                self._pending.dead[:0] = pending.dead
                if self.side is not None and taken:
                    self.side.restore(taken)
                raise
            if self.side is not None and taken:
                self.side.written(taken)
        if self.on_written is not None:
            self.on_written(pending.ids())

    async def close(self) -> None:
        """Stop the timers and write what is left."""
        for task in [self._timer, *self._tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.flush()
