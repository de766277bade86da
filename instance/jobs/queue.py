"""Enqueueing jobs, inside the caller's transaction so the job and its cause commit together."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from instance.db import jobs as jobs_q
from instance.db.connection import Transaction
from instance.db.executor import Executor
from instance.ids import IdGenerator, now


class JobQueue:
    def __init__(self, ids: IdGenerator) -> None:
        self.ids = ids
        # Set when this process enqueues, so its runner starts at once instead of at the next poll.
        self.wakeup = asyncio.Event()

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
        # Inside a transaction the runner must wait for the commit: woken earlier, it reads
        # before the job is visible and then sleeps a whole poll interval.
        if isinstance(ex, Transaction):
            ex.after_commit(self.wakeup.set)
        else:
            self.wakeup.set()
        return job_id
