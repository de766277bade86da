"""Deleting a local account: asked for in a request, done by a job that survives restarts.

`AccountDeletion.request` (the person from settings, the admin from `gapo user delete` or the
admin pages) does only what must happen at once, in one transaction: the account is marked
deleted (hidden everywhere, its actor, WebFinger and profile answer 410), every session ends,
its posts are hidden, and one `account_delete` job is queued. The job then works in steps,
each idempotent, with the step it reached kept in its payload (written in the same
transaction as the step's last rows), so a crash or restart anywhere resumes where it was:

1. `federate`: the signed `Delete` of the actor goes to every known server (one delivery
   per shared inbox, and to the inboxes of related accounts on servers without one). Skipped
   when the account never federated (it has no key, so no server ever knew it).
2. `content`: files first (media and profile pictures; a retry finds them gone), then the
   rows: posts, likes, shares, follows, blocks, mutes, notifications, the user and its
   sessions. What remains is the tombstone row (`db/account_removal.py`).
3. `keys`: the key pair goes once no delivery of the Delete is left to sign (they are
   signed when sent, `outbound/delivery_lane.py`), or after KEY_HOLD_MAX whatever remains.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from activitypub.delivery import RecipientInboxes, inboxes_for
from instance.accounts.changes import AccountChanges
from instance.db import Database
from instance.db import account_removal as removal_q
from instance.db import accounts as accounts_q
from instance.db import jobs as jobs_q
from instance.db import keys as keys_q
from instance.db.connection import Row, Transaction
from instance.errors import NotFound
from instance.ids import now
from instance.jobs.queue import JobQueue
from instance.jobs.runner import Defer
from instance.outbound import to_ap
from instance.outbound.outbox import Outbox
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

ACCOUNT_DELETE = "account_delete"
BATCH = 200
# The key outlives the rows only while deliveries of the Delete may still be retried.
KEY_HOLD_MAX = 7 * 86400
KEY_CHECK_DELAY = 600


class AccountDeletion:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        outbox: Outbox,
        urls: LocalUrls,
        *,
        delete_file: Callable[[str], Awaitable[None]],
        forget_url: Callable[[str | None], Awaitable[None]],
        changes: AccountChanges | None = None,
        key_check_delay: int = KEY_CHECK_DELAY,
    ) -> None:
        self.db = db
        self.queue = queue
        self.outbox = outbox
        self.urls = urls
        # Removes a stored media file by key (also a source still waiting for its transcode).
        self.delete_file = delete_file
        # Removes one of our own files by URL (avatars and headers).
        self.forget_url = forget_url
        self.changes = changes
        self.key_check_delay = key_check_delay

    async def request(self, account_id: int, *, by: str) -> bool:
        """Mark the local account deleted and queue its job; False when it already was
        (the job queued the first time carries on). `by` says who asked ("self", "admin")."""
        ts = now()
        async with self.db.transaction() as tx:
            account = await accounts_q.get_by_id(tx, account_id)
            if account is None or not account["local"] or account["ap_type"] != "Person":
                raise NotFound()
            if not await removal_q.mark_deleting(tx, account_id, ts):
                return False
            await removal_q.delete_user_sessions(tx, account_id)
            await removal_q.unindex_account(tx, account_id)
            await removal_q.hide_posts(tx, account_id, ts)
            await self.queue.enqueue(
                tx, ACCOUNT_DELETE, {"account_id": account_id, "by": by, "step": "federate"}
            )
            self._changed(tx)
        log.info("account %d: deletion requested by %s", account_id, by)
        return True

    def _changed(self, tx: Transaction) -> None:
        if self.changes is not None:
            tx.after_commit(self.changes.bump)

    async def job(self, payload: dict[str, Any], job: Row) -> None:
        """The `account_delete` job: runs the steps from the one its row has reached."""
        current = await jobs_q.get(self.db, int(job["id"]))
        if current is not None:
            payload = json.loads(current["payload"])
        account_id = int(payload["account_id"])
        account = await accounts_q.get_by_id(self.db, account_id)
        if account is None or account["deleted_at"] is None:
            return  # nothing to do: never a reason to remove an account not marked
        if payload["step"] == "federate":
            await self._federate(int(job["id"]), payload, account)
        if payload["step"] == "content":
            await self._content(int(job["id"]), payload, account)
        if payload["step"] == "keys":
            await self._keys(int(job["id"]), payload, account_id)

    async def _next(
        self, tx: Transaction, job_id: int, payload: dict[str, Any], step: str, **extra: Any
    ) -> None:
        payload.update(step=step, **extra)
        await jobs_q.set_payload(tx, job_id, json.dumps(payload, separators=(",", ":")))

    async def _federate(self, job_id: int, payload: dict[str, Any], account: Row) -> None:
        account_id = int(account["id"])
        key = await keys_q.get_for_account(self.db, account_id)
        async with self.db.transaction() as tx:
            await removal_q.cancel_pending_sends(tx, account_id)
            if key is not None:
                rows = await removal_q.delete_recipients(tx, account_id)
                inboxes = inboxes_for(
                    RecipientInboxes(inbox=r["ap_inbox"], shared_inbox=r["ap_shared_inbox"])
                    for r in rows
                )
                sent = await self.outbox.to_inboxes(
                    tx,
                    signer_account_id=account_id,
                    activity=to_ap.delete_actor(self.urls, account["username"]),
                    inboxes=sorted(inboxes),
                )
                log.info("account %d: Delete queued for %d inbox(es)", account_id, sent)
            await self._next(tx, job_id, payload, "content")

    async def _content(self, job_id: int, payload: dict[str, Any], account: Row) -> None:
        account_id = int(account["id"])
        # Files before the rows naming them: a crash in between leaves rows whose files are
        # gone, which the retry removes; the other order would leave files nobody names.
        for key in await removal_q.file_keys(self.db, account_id):
            await self.delete_file(key)
        for url in (account["avatar_url"], account["header_url"]):
            await self.forget_url(url)
        while ids := await removal_q.post_ids(self.db, account_id, BATCH):
            async with self.db.transaction() as tx:
                await removal_q.delete_posts(tx, ids)
        async with self.db.transaction() as tx:
            await removal_q.delete_reactions(tx, account_id)
            await removal_q.delete_relations(tx, account_id)
            await removal_q.delete_user(tx, account_id)
            await removal_q.tombstone(tx, account_id)
            await self._next(tx, job_id, payload, "keys", since=now())
            self._changed(tx)

    async def _keys(self, job_id: int, payload: dict[str, Any], account_id: int) -> None:
        waiting = await removal_q.pending_deliveries(self.db, account_id)
        if waiting and now() - int(payload.get("since", 0)) < KEY_HOLD_MAX:
            # Not an attempt: the job waits for the deliveries, it has not failed.
            raise Defer(
                f"{waiting} delivery(ies) of the Delete still to sign", self.key_check_delay
            )
        async with self.db.transaction() as tx:
            await removal_q.delete_keys(tx, account_id)
            await self._next(tx, job_id, payload, "done")
        log.info("account %d: deletion finished", account_id)
