"""What every bulk job lane shares: claim rounds, batched outcomes, and how it stops.

A lane (`jobs/runner.py` `Lane`) runs every job of its kinds its own way: the delivery lane
signs and POSTs per host, the inbox lane applies each actor's activities in order. Around
that work they are the same: one transaction claims a round of due jobs under a lease, the
claimed ids are held until their outcomes are written (`JobCompletions`), an exhausted
retry becomes a dead job, and stopping waits `stop_grace` seconds before handing the
unfinished jobs back at once. `ClaimLane` is that part; a lane says which jobs a round
picks (`_pick`) and what happens to them once claimed (`_hand_out`).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import random
from collections.abc import Callable, Coroutine
from typing import Any

from instance.db import Database
from instance.db import jobs as jobs_q
from instance.db.rows import JobRow
from instance.ids import now
from instance.jobs.completions import JobCompletions


class ClaimLane(abc.ABC):
    """The claim, hold, end and stop logic of a lane; subclasses do the work itself."""

    kinds: frozenset[str]
    completions: JobCompletions

    def __init__(
        self,
        db: Database,
        label: str,
        max_claimed: int,
        lease: int,
        max_attempts: int,
        stop_grace: float,
    ) -> None:
        self.db = db
        self.max_claimed = max_claimed
        self.lease = lease
        self.max_attempts = max_attempts
        self.stop_grace = stop_grace
        # The lease owner's name: unique per process and lane, readable in the jobs table.
        self.name = f"{os.uname().nodename}:{os.getpid()}:{random.getrandbits(32):08x}:{label}"
        # Claimed and not yet written back: the due query must not hand these out again.
        self._held: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.wake: Callable[[], None] = lambda: None

    # -- what the runner asks ---------------------------------------------------------------

    def tasks(self) -> list[asyncio.Task[None]]:
        """The lane's tasks running now."""
        return list(self._tasks)

    async def flush(self) -> None:
        """Write every outcome collected so far (the runner's `run_until_idle`)."""
        await self.completions.flush()

    async def run_once(self) -> int:
        """Claim what `_pick` chose, in one transaction, and hand it out; returns how many."""
        if self._stopping:
            return 0
        self.completions.kick()  # outcomes a failed write left behind are tried again
        picked = await self._pick()
        if not picked:
            return 0
        async with self.db.transaction() as tx:
            taken = await jobs_q.claim_many(tx, picked, self.name, now(), self.lease)
        if taken:
            await self._hand_out(taken)
        return len(taken)

    @abc.abstractmethod
    async def _pick(self) -> list[int]:
        """The due jobs this round claims (none already held)."""

    @abc.abstractmethod
    async def _hand_out(self, taken: list[JobRow]) -> None:
        """Start the work on the jobs just claimed (each is in `_held` from here on)."""

    def _free(self) -> int:
        """How many more jobs the lane may hold."""
        return self.max_claimed - len(self._held)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` as one of the lane's tasks (waited for, then cancelled, by `stop`)."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- outcomes -----------------------------------------------------------------------------

    def _retry_or_dead(self, job_id: int, attempts: int, error: str, delay: int) -> None:
        """A failed attempt: tried again in `delay` seconds, or dead once attempts run out."""
        if attempts >= self.max_attempts:
            self.completions.dead(job_id, attempts=attempts, error=error)
        else:
            self.completions.retry(job_id, attempts=attempts, run_at=now() + delay, error=error)

    def _written(self, job_ids: list[int]) -> None:
        """`JobCompletions.on_written`: those jobs are no longer held."""
        self._held.difference_update(job_ids)
        self.wake()  # room to claim again

    # -- stopping -------------------------------------------------------------------------

    async def stop(self) -> None:
        """Claim nothing more; work in flight gets `stop_grace` seconds; then what is left
        is written, and the jobs never finished are handed back at once (attempts unchanged)."""
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
        self._stopped()

    def _stopped(self) -> None:
        """What a lane lets go of after stopping (its queues, its threads): by default
        nothing."""
        return None
