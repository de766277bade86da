"""Admin actions on federation: the job queue and blocked domains."""

from __future__ import annotations

from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.db.connection import Row
from instance.ids import now


class FederationAdmin:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def job_counts(self) -> list[Row]:
        return await jobs_q.counts_by_state(self.db)

    async def retry_now(self) -> int:
        return await jobs_q.retry_now(self.db, now())

    async def block_domain(self, domain: str, blocked: bool = True) -> None:
        await hosts_q.set_blocked(self.db, domain.strip().lower(), blocked, now())
