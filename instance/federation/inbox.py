"""Receiving: verify, store once, answer 202; applying each activity is a job.

`InboxService.receive` is called by the web layer for per-user inboxes and the
shared inbox; `InboxService.apply` is the `inbox` job, dispatching to one handler
per activity type. Unknown types are stored and ignored, not errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from activitypub.delivery import HostHealth
from activitypub.inbox import VerifiedActivity, verify_inbox_request
from activitypub.vocab import ACTIVITY_TYPES, VocabError, parse_activity, primary_type
from instance.db import Database
from instance.db import hosts as hosts_q
from instance.db import inbox as inbox_q
from instance.db.connection import Row
from instance.db.rows import InboxActivityRow
from instance.federation.context import FederationContext
from instance.federation.handle_blocks import handle_block
from instance.federation.handle_flag import handle_flag
from instance.federation.handle_follows import handle_accept, handle_follow, handle_reject
from instance.federation.handle_move import handle_move
from instance.federation.handle_notes import handle_create, handle_delete, handle_update
from instance.federation.handle_reactions import handle_announce, handle_like
from instance.federation.handle_undo import handle_undo
from instance.federation.host_blocks import BlockedHosts
from instance.federation.remote_actors import ActorFetchFailed
from instance.ids import now
from instance.jobs.queue import JobQueue
from instance.jobs.runner import GiveUp, RetryLater

log = logging.getLogger(__name__)

INBOX_JOB = "inbox"
# A host's health is read (to clear an unavailable mark) at most once this often per host.
SEEN_EVERY = 60.0
Handler = Callable[[FederationContext, Any, Row], Awaitable[str]]
HANDLERS: dict[str, Handler] = {
    "Follow": handle_follow,
    "Accept": handle_accept,
    "Reject": handle_reject,
    "Undo": handle_undo,
    "Create": handle_create,
    "Update": handle_update,
    "Delete": handle_delete,
    "Like": handle_like,
    # Pleroma/Akkoma emoji reactions, kept as likes (see handle_like).
    "EmojiReact": handle_like,
    "Announce": handle_announce,
    "Block": handle_block,
    "Flag": handle_flag,
    "Move": handle_move,
}


class InboxService:
    def __init__(
        self,
        ctx: FederationContext,
        queue: JobQueue,
        *,
        max_body: int,
        origins: Sequence[str] = (),
        blocked_hosts: BlockedHosts | None = None,
    ) -> None:
        self.ctx = ctx
        self.queue = queue
        self.max_body = max_body
        self.blocked_hosts = blocked_hosts
        self._seen_at: dict[str, float] = {}
        # Where this instance answers (base URL first, then alternate hosts); a request
        # signed for any other server is refused. Empty: the base URL of `ctx.urls`.
        self.origins = tuple(origins) or (ctx.urls.base_url,)

    @property
    def db(self) -> Database:
        return self.ctx.db

    async def _is_blocked(self, domain: str) -> bool:
        if self.blocked_hosts is not None:
            return await self.blocked_hosts.is_blocked(domain)
        return await hosts_q.is_blocked(self.db, domain)

    async def receive(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> VerifiedActivity:
        """Verify and store; raises activitypub.inbox.InboxError subclasses with a status.

        `url` is the requested URL on the base origin; a request made to an alternate host
        is verified against that host's URL (RFC 9421 signs the whole URL).
        """
        verified = await verify_inbox_request(
            method,
            self._as_requested(url, headers),
            headers,
            body,
            lookup_key=self.ctx.actors.lookup_key_or_refuse,
            is_blocked_domain=self._is_blocked,
            max_body=self.max_body,
            run_blocking=asyncio.to_thread,
            origins=self.origins,
        )
        activity = verified.activity
        # One transaction carried with the other requests' of the moment (one trip to the
        # database's thread, one COMMIT): the record and, if it is new, its job.
        row_id = self.ctx.ids.next_id()
        await inbox_q.insert_once_with_job(
            self.db,
            inbox_q.Received(
                row_id=row_id,
                ap_id=str(activity["id"]),
                ap_type=str(primary_type(activity, ACTIVITY_TYPES)),
                actor_ap_id=verified.actor_id,
                key_id=verified.key_id,
                body=json.dumps(activity, separators=(",", ":")),
                now=now(),
            ),
            job=self.queue.enqueue_statement(
                INBOX_JOB, {"row": row_id}, if_row_in=("inbox_activities", row_id)
            ),
            after_commit=self.queue.notify_committed,
        )
        await self._seen(verified.actor_id)
        return verified

    def _as_requested(self, url: str, headers: Mapping[str, str]) -> str:
        host = next((v.strip().lower() for k, v in headers.items() if k.lower() == "host"), "")
        base = self.origins[0]
        for origin in self.origins[1:]:
            if urlsplit(origin).netloc == host and url.startswith(base):
                return origin + url[len(base) :]
        return url

    async def _seen(self, actor_id: str) -> None:
        """Any signed inbound activity clears a host's unavailable mark."""
        host = urlsplit(actor_id).netloc.lower()
        t = time.monotonic()
        if self._seen_at.get(host, 0.0) > t:
            return  # checked lately: a burst from one host reads its row once a minute
        if len(self._seen_at) > 10_000:
            self._seen_at.clear()
        self._seen_at[host] = t + SEEN_EVERY
        row = await hosts_q.get(self.db, host)
        if row is None:
            return
        health = HostHealth.from_dict(json.loads(row["health_json"]))
        if health.to_dict() != HostHealth().to_dict():
            health.clear()
            await hosts_q.set_health(self.db, host, json.dumps(health.to_dict()), now())

    async def apply(self, payload: dict[str, Any], job: Row) -> None:
        """The `inbox` job run alone (the generic runner): apply and record the result."""
        row = await inbox_q.get(self.db, int(payload["row"]))
        if row is None:
            raise GiveUp("inbox row is gone")
        result = await self.apply_row(row)
        await inbox_q.mark_processed(self.db, row["id"], result, now())

    async def apply_row(self, row: InboxActivityRow) -> str:
        """Apply one stored activity with its type's handler; returns the result to record.
        Raises `RetryLater` when the actor cannot be had now. The inbox lane
        (`inbox_lane.py`) records the results of many in one transaction."""
        try:
            activity = parse_activity(json.loads(row["body"]))
        except (VocabError, ValueError) as exc:
            return f"malformed: {exc}"
        handler = HANDLERS.get(activity.type)
        if handler is None:
            return "ignored: unknown type"
        try:
            actor = await self.ctx.actors.get_or_fetch(row["actor_ap_id"])
        except ActorFetchFailed as exc:
            raise RetryLater(f"actor unavailable: {exc}") from exc
        result = await handler(self.ctx, activity, actor)
        # DEBUG: at INFO this line was 9 % of the drain's time under a burst (issue 15).
        log.debug("inbox %s %s from %s: %s", activity.type, activity.id, actor["ap_id"], result)
        return result
