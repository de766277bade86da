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

The claim rounds, the held ids and stopping are the lanes' shared part (`jobs/lane.py`).

A job whose outcome was not written when the process died is applied again once its lease
runs out; the handlers are idempotent by activity and object id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
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
from instance.jobs.lane import ClaimLane
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


class InboxLane(ClaimLane):
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
        super().__init__(db, "inbox", max_claimed, lease, max_attempts, stop_grace)
        self.inbox = inbox
        self.concurrency = concurrency
        self.results = InboxResults()
        self.completions = JobCompletions(
            db, self.results, delay=flush_delay, size=flush_size, on_written=self._written
        )
        self._applying = asyncio.Semaphore(concurrency)
        # Per actor: its claimed activities waiting, in order; a chain task drains each.
        self._chains: dict[str, deque[tuple[JobRow, InboxActivityRow | None]]] = {}

    # -- claiming -----------------------------------------------------------------------------

    async def _pick(self) -> list[int]:
        free = self._free()
        if free <= 0:
            return []
        window = await jobs_q.due(self.db, now(), limit=free, kinds=self.kinds)
        return [int(job["id"]) for job in window if int(job["id"]) not in self._held]

    async def _hand_out(self, taken: list[JobRow]) -> None:
        """Read the claimed jobs' records once, and queue each on its actor's chain."""
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
                self._spawn(self._chain(actor, chain), "inbox-chain")
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
            self._retry_or_dead(job_id, attempts, str(exc), delay)
        except GiveUp as exc:
            self.completions.dead(job_id, attempts=attempts, error=str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("inbox job %s failed", job_id)
            self._retry_or_dead(job_id, attempts, repr(exc), int(retry_delay(attempts - 1)))
        else:
            assert row is not None
            self.results.waiting.append((row["id"], result))
            self.completions.done(job_id)

    def _stopped(self) -> None:
        self._chains.clear()
