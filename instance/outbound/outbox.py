"""Builds deliveries: one `deliver` job per distinct inbox, in the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from activitypub.delivery import RecipientInboxes, inboxes_for
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.jobs.queue import JobQueue

DELIVER = "deliver"


class Outbox:
    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    async def to_inboxes(
        self,
        ex: Executor,
        *,
        signer_account_id: int,
        activity: dict[str, Any],
        inboxes: Iterable[str],
    ) -> int:
        # The activity is serialised once for all its inboxes; each payload is the JSON of
        # {"inbox", "activity", "signer"}, byte for byte what json.dumps of it would give.
        document = json.dumps(activity, separators=(",", ":"))
        signer = int(signer_account_id)
        jobs = [
            (
                f'{{"inbox":{json.dumps(inbox)},"activity":{document},"signer":{signer}}}',
                urlsplit(inbox).netloc,
            )
            for inbox in dict.fromkeys(inboxes)
        ]
        await self.queue.enqueue_many(ex, DELIVER, jobs)
        return len(jobs)

    async def to_accounts(
        self,
        ex: Executor,
        *,
        signer_account_id: int,
        activity: dict[str, Any],
        accounts: Iterable[Row],
    ) -> int:
        """Deliver to remote accounts (local ones need no delivery)."""
        recipients = [
            RecipientInboxes(inbox=a["ap_inbox"], shared_inbox=a["ap_shared_inbox"])
            for a in accounts
            if not a["local"]
        ]
        return await self.to_inboxes(
            ex,
            signer_account_id=signer_account_id,
            activity=activity,
            inboxes=inboxes_for(recipients),
        )

    async def to_followers(
        self, ex: Executor, *, account_id: int, activity: dict[str, Any], also: Iterable[Row] = ()
    ) -> int:
        """Every accepted remote follower's (shared) inbox, plus extra accounts (mentions)."""
        rows = await follows_q.follower_inboxes(ex, account_id)
        recipients = [
            RecipientInboxes(inbox=r["ap_inbox"], shared_inbox=r["ap_shared_inbox"]) for r in rows
        ]
        recipients += [
            RecipientInboxes(inbox=a["ap_inbox"], shared_inbox=a["ap_shared_inbox"])
            for a in also
            if not a["local"]
        ]
        return await self.to_inboxes(
            ex, signer_account_id=account_id, activity=activity, inboxes=inboxes_for(recipients)
        )
