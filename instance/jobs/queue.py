"""Enqueueing jobs, inside the caller's transaction so the job and its cause commit together."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from instance.db import jobs as jobs_q
from instance.db.connection import Transaction
from instance.db.executor import Executor
from instance.ids import IdGenerator, now
from instance.jobs.wakeup import JobWakeup, LocalWakeup


class JobQueue:
    def __init__(self, ids: IdGenerator, wakeup: JobWakeup | None = None) -> None:
        self.ids = ids
        # Notified when jobs are committed, so runners start them at once, not at the next poll.
        self.wakeup: JobWakeup = wakeup or LocalWakeup()

    async def enqueue(
        self, ex: Executor, kind: str, payload: dict[str, Any], *, host: str = "", delay: int = 0
    ) -> int:
        job_id = self.ids.next_id()
        ts = now()
        await jobs_q.enqueue(
            ex,
            job_id=job_id,
            kind=kind,
            payload=json.dumps(payload, separators=(",", ":")),
            host=host.lower(),
            run_at=ts + delay,
            now=ts,
        )
        self._notify_when_visible(ex)
        return job_id

    def enqueue_statement(
        self, kind: str, payload: dict[str, Any], *, if_row_in: tuple[str, int]
    ) -> tuple[str, dict[str, Any]]:
        """The INSERT of a job added only if a row exists (see `jobs.enqueue_statement`),
        for the caller to run in one batch with the statement that adds the row; pass
        `notify_committed` to run after its commit."""
        ts = now()
        return jobs_q.enqueue_statement(
            job_id=self.ids.next_id(),
            kind=kind,
            payload=json.dumps(payload, separators=(",", ":")),
            host="",
            run_at=ts,
            now=ts,
            if_row_in=if_row_in,
        )

    def notify_committed(self) -> None:
        """Wake the runners: call once jobs added by `enqueue_statement` are committed."""
        self.wakeup.notify()

    async def enqueue_many(
        self, ex: Executor, kind: str, jobs: Sequence[tuple[str, str]]
    ) -> list[int]:
        """Enqueue (payload JSON text, host) jobs of one kind at once; returns their ids."""
        ts = now()
        rows = [(self.ids.next_id(), payload, host.lower()) for payload, host in jobs]
        await jobs_q.enqueue_many(ex, rows, kind=kind, run_at=ts, now=ts)
        if rows:
            self._notify_when_visible(ex)
        return [row[0] for row in rows]

    async def enqueue_once(
        self, ex: Executor, kind: str, *, delay: int = 0, other_than: int = 0
    ) -> bool:
        """Schedule a recurring job of `kind` unless one is already queued or running
        (`other_than`, the run asking for its successor, aside); True when added."""
        ts = now()
        added = await jobs_q.enqueue_unless_pending(
            ex,
            job_id=self.ids.next_id(),
            kind=kind,
            payload="{}",
            run_at=ts + delay,
            now=ts,
            other_than=other_than,
        )
        if added and delay == 0:
            self._notify_when_visible(ex)
        return added

    def _notify_when_visible(self, ex: Executor) -> None:
        # Inside a transaction runners must wait for the commit: woken earlier, they read
        # before the job is visible and then sleep a whole poll interval. One notification
        # per transaction, however many jobs it adds (a fan-out adds hundreds): the same
        # callback registered twice runs once.
        if isinstance(ex, Transaction):
            ex.after_commit(self.wakeup.notify)
        else:
            self.wakeup.notify()
