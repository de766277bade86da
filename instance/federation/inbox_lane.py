"""The `inbox` jobs in bulk: claimed in batches, applied concurrently, each actor's in order.

Run one by one by the generic runner, an inbox activity cost four write transactions (its
claim, its handler's, its record's result, its job's end) and the drain fell to ~10/s while
a burst of POSTs held the writer (issue 15). Here, as the delivery lane does for deliveries
(`outbound/delivery_lane.py`):

- claiming: one transaction claims every due `inbox` job a round takes (up to
  `max_claimed` held), and one read fetches their records;
- applying: one chain per actor applies that actor's activities in the order they were
  received (a Create before the Delete of the same note, a Follow before its Undo), at most
  `concurrency` activities at once across actors; each handler writes through the same
  writers as before, in its own transaction;
- ending: the jobs' outcomes and the records' results go in one transaction per batch
  (`jobs/completions.py`, every 50 ms or 256 outcomes).

A job whose outcome was not written when the process died is applied again once its lease
runs out; the handlers are idempotent by activity and object id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from activitypub.delivery import MAX_ATTEMPTS, retry_delay
from instance.db import Database
from instance.db import inbox as inbox_q
from instance.db import jobs as jobs_q
from instance.db.connection import Transaction
from instance.db.rows import InboxActivityRow, JobRow
from instance.federation.inbox import INBOX_JOB, InboxService
from instance.ids import now
from instance.jobs.completions import FLUSH_DELAY, FLUSH_SIZE, JobCompletions
from instance.jobs.runner import GiveUp, RetryLater

log = logging.getLogger(__name__)

Results = list[tuple[int, str]]


@dataclass
class InboxResults:
    """Each applied record's result, written with its job's end (`SideWrites`)."""

    waiting: Results = field(default_factory=list)

    def take(self) -> Results:
        taken, self.waiting = self.waiting, []
        return taken

    async def write(self, tx: Transaction, taken: Results, ts: int) -> None:
        await inbox_q.mark_processed_many(tx, taken, ts)

    def written(self, taken: Results) -> None:
        """Nothing more to do."""

    def restore(self, taken: Results) -> None:
        self.waiting[:0] = taken


class InboxLane:
    """Runs every `inbox` job for a `JobRunner` (which leaves that kind to it)."""

    kinds = frozenset({INBOX_JOB})

    def __init__(
        self,
        db: Database,
        inbox: InboxService,
        *,
        concurrency: int = 64,
        max_claimed: int = 512,
        lease: int = 300,
        max_attempts: int = MAX_ATTEMPTS + 1,
        stop_grace: float = 10.0,
        flush_delay: float = FLUSH_DELAY,
        flush_size: int = FLUSH_SIZE,
    ) -> None:
        self.db = db
        self.inbox = inbox
        self.concurrency = concurrency
        self.max_claimed = max_claimed
        self.lease = lease
        self.max_attempts = max_attempts
        self.stop_grace = stop_grace
        self.name = f"{os.uname().nodename}:{os.getpid()}:{random.getrandbits(32):08x}:inbox"
        self.results = InboxResults()
        self.completions = JobCompletions(
            db, self.results, delay=flush_delay, size=flush_size, on_written=self._written
        )
        self._applying = asyncio.Semaphore(concurrency)
        # Claimed and not yet written back: the due query must not hand these out again.
        self._held: set[int] = set()
        # Per actor: its claimed activities waiting, in order; a chain task drains each.
        self._chains: dict[str, deque[tuple[JobRow, InboxActivityRow | None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.wake: Callable[[], None] = lambda: None

    # -- what the runner asks ---------------------------------------------------------------

    def tasks(self) -> list[asyncio.Task[None]]:
        """The actor chains running now."""
        return list(self._tasks)

    async def flush(self) -> None:
        """Write every outcome collected so far (the runner's `run_until_idle`)."""
        await self.completions.flush()

    async def run_once(self) -> int:
        """Claim what is due, in one transaction, and hand it to the actors' chains."""
        if self._stopping:
            return 0
        self.completions.kick()  # outcomes a failed write left behind are tried again
        free = self.max_claimed - len(self._held)
        if free <= 0:
            return 0
        window = await jobs_q.due(self.db, now(), limit=free, kinds=self.kinds)
        picked = [int(job["id"]) for job in window if int(job["id"]) not in self._held]
        if not picked:
            return 0
        async with self.db.transaction() as tx:
            taken = await jobs_q.claim_many(tx, picked, self.name, now(), self.lease)
        if taken:
            await self._hand_out(taken)
        return len(taken)

    async def _hand_out(self, taken: list[JobRow]) -> None:
        row_ids: dict[int, int] = {}
        for job in taken:
            self._held.add(int(job["id"]))
            # A malformed payload finds no record: given up in `_apply`.
            with contextlib.suppress(ValueError, KeyError, TypeError):
                row_ids[int(job["id"])] = int(json.loads(job["payload"])["row"])
        rows = {r["id"]: r for r in await inbox_q.get_many(self.db, row_ids.values())}
        # Claimed oldest first (run_at, id): each actor's chain keeps that order.
        for job in taken:
            row_id = row_ids.get(int(job["id"]))
            row = rows.get(row_id) if row_id is not None else None
            actor = row["actor_ap_id"] if row is not None else ""
            chain = self._chains.get(actor)
            if chain is None:
                chain = self._chains[actor] = deque()
                task = asyncio.create_task(self._chain(actor, chain), name="inbox-chain")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            chain.append((job, row))

    # -- one actor ----------------------------------------------------------------------------

    async def _chain(
        self, actor: str, chain: deque[tuple[JobRow, InboxActivityRow | None]]
    ) -> None:
        try:
            while chain and not self._stopping:
                job, row = chain.popleft()
                async with self._applying:
                    await self._apply(job, row)
        finally:
            if self._chains.get(actor) is chain:
                del self._chains[actor]
            # What was claimed but not started (stopping) goes back in `stop`.

    async def _apply(self, job: JobRow, row: InboxActivityRow | None) -> None:
        job_id, attempts = int(job["id"]), int(job["attempts"]) + 1
        try:
            if row is None:
                raise GiveUp("inbox row is gone")
            result = await self.inbox.apply_row(row)
        except RetryLater as exc:
            delay = exc.delay if exc.delay is not None else int(retry_delay(attempts - 1))
            self._end_retry(job_id, attempts, str(exc), delay)
        except GiveUp as exc:
            self.completions.dead(job_id, attempts=attempts, error=str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("inbox job %s failed", job_id)
            self._end_retry(job_id, attempts, repr(exc), int(retry_delay(attempts - 1)))
        else:
            assert row is not None
            self.results.waiting.append((row["id"], result))
            self.completions.done(job_id)

    def _end_retry(self, job_id: int, attempts: int, error: str, delay: int) -> None:
        if attempts >= self.max_attempts:
            self.completions.dead(job_id, attempts=attempts, error=error)
        else:
            self.completions.retry(job_id, attempts=attempts, run_at=now() + delay, error=error)

    def _written(self, job_ids: list[int]) -> None:
        self._held.difference_update(job_ids)
        self.wake()  # room to claim again

    # -- stopping -------------------------------------------------------------------------

    async def stop(self) -> None:
        """Claim nothing more; activities being applied get `stop_grace` seconds; then what
        is left is written, and the jobs never started are handed back at once."""
        self._stopping = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.stop_grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.completions.close()
        unfinished = list(self._held)
        if unfinished:
            async with self.db.transaction() as tx:
                for job_id in unfinished:
                    await jobs_q.release(tx, job_id, self.name)
        self._held.clear()
        self._chains.clear()
