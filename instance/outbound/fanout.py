"""Fan-out: an activity to every follower's (shared) inbox, outside the post's transaction.

Posting writes the post and ONE `fanout` job. That job, run by the job runner, expands
into one `deliver` job per distinct inbox, BATCH inboxes per transaction, so an account
with 10,000 followers never holds SQLite's only write lock for 10,000 inserts.

Retried after a crash, the job does not deliver twice: the inboxes are walked in sorted
order and the last one enqueued is saved in the job's payload in the same transaction as
its batch, so a retry resumes after it (and a finished job adds nothing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from activitypub.delivery import RecipientInboxes, inboxes_for
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import follows as follows_q
from instance.db import jobs as jobs_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.jobs.queue import JobQueue
from instance.outbound.outbox import Outbox

FANOUT = "fanout"
BATCH = 500


class FanOut:
    """Enqueues the one fan-out job of an activity, in the caller's transaction."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    async def to_followers(
        self,
        ex: Executor,
        *,
        account_id: int,
        activity: dict[str, Any],
        also: Iterable[Row] = (),
    ) -> int:
        """Every accepted remote follower of `account_id`, plus `also` (mentions, the author
        of a shared post); local accounts need no delivery."""
        payload = {
            "activity": activity,
            "signer": account_id,
            "followers_of": account_id,
            "also": [int(a["id"]) for a in also if not a["local"]],
            "after": "",
        }
        return await self.queue.enqueue(ex, FANOUT, payload)


class FanOutJob:
    """The `fanout` job handler: expands into `deliver` jobs, BATCH per transaction."""

    def __init__(self, db: Database, outbox: Outbox, batch: int = BATCH) -> None:
        self.db = db
        self.outbox = outbox
        self.batch = batch

    async def inboxes(self, payload: dict[str, Any]) -> list[str]:
        """The distinct inboxes (shared ones where known), sorted: the order a cursor needs."""
        rows = await follows_q.follower_inboxes(self.db, int(payload["followers_of"]))
        recipients = [
            RecipientInboxes(inbox=r["ap_inbox"], shared_inbox=r["ap_shared_inbox"]) for r in rows
        ]
        for account_id in payload.get("also", []):
            account = await accounts_q.get_by_id(self.db, int(account_id))
            if account is not None and not account["local"]:
                recipients.append(
                    RecipientInboxes(
                        inbox=account["ap_inbox"], shared_inbox=account["ap_shared_inbox"]
                    )
                )
        return sorted(set(inboxes_for(recipients)))

    async def __call__(self, payload: dict[str, Any], job: Row) -> None:
        # The row, not the payload the runner read at claim time, holds the latest cursor.
        current = await jobs_q.get(self.db, int(job["id"]))
        if current is not None:
            payload = json.loads(current["payload"])
        after = str(payload.get("after", ""))
        pending = [inbox for inbox in await self.inboxes(payload) if inbox > after]
        for start in range(0, len(pending), self.batch):
            chunk = pending[start : start + self.batch]
            payload["after"] = chunk[-1]
            async with self.db.transaction() as tx:
                await self.outbox.to_inboxes(
                    tx,
                    signer_account_id=int(payload["signer"]),
                    activity=payload["activity"],
                    inboxes=chunk,
                )
                await jobs_q.set_payload(
                    tx, int(job["id"]), json.dumps(payload, separators=(",", ":"))
                )
