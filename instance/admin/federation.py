"""Admin actions on federation: the job queue and blocked domains."""

from __future__ import annotations

from instance.accounts.changes import AccountChanges
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import jobs as jobs_q
from instance.db.rows import JobCountRow
from instance.ids import now
from instance.jobs.wakeup import JobWakeup


class FederationAdmin:
    def __init__(
        self, db: Database, wakeup: JobWakeup, host_changes: AccountChanges | None = None
    ) -> None:
        self.db = db
        self.wakeup = wakeup
        # Bumped after a block changes: every process's `BlockedHosts` reads afresh.
        self.host_changes = host_changes

    async def job_counts(self) -> list[JobCountRow]:
        return await jobs_q.counts_by_state(self.db)

    async def retry_now(self) -> int:
        count = await jobs_q.retry_now(self.db, now())
        if count:
            self.wakeup.notify()  # runners in other processes start them now, not at a poll
        return count

    async def block_domain(self, domain: str, blocked: bool = True) -> None:
        await hosts_q.set_blocked(self.db, domain.strip().lower(), blocked, now())
        if self.host_changes is not None:
            self.host_changes.bump()
