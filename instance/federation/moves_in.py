"""Followers follow a moved account to its new home: a remote actor's Move accepted by the
inbox, or a local person's own move away (their followers here move with them).

`accept` records where the account went and queues ONE `move_followers` job in the same
transaction. The job walks the account's local followers: each follows the new account
through the one follow writer (a Follow is delivered when it is remote), then unfollows
the old one (an Undo is delivered), as Mastodon's move does. A follower who cannot follow
the new account (a block either way) keeps following the old one. Retried after a crash,
the job repeats nothing: a follower who moved no longer follows the old account. Each run
takes one batch of followers and queues the next run with its cursor. Blocks and mutes of
the old account by people here carry over to the new one at the end. Each local follower
gets a `move` notification, as on Mastodon, whether or not they could follow along. A move
cancelled by its (local) account stops the walk where it is: those moved stay moved.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from instance.db import Database
from instance.db import account_moves as moves_q
from instance.db import accounts as accounts_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.errors import GapoError
from instance.ids import now
from instance.jobs.queue import JobQueue
from instance.notifications.writer import Notifier
from instance.relationships.mutes import MuteService
from instance.relationships.writes import RelationshipWriter
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

MOVE_FOLLOWERS = "move_followers"
BATCH = 100


class MovedAccounts:
    """Where accounts moved (read by pages and documents) and the followers' migration."""

    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        writer: RelationshipWriter,
        urls: LocalUrls,
        mutes: MuteService | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.mutes = mutes
        self.notifier = notifier
        self.db = db
        self.urls = urls
        self.queue = queue
        self.writer = writer

    async def moved_to(self, account_id: int) -> str | None:
        """The actor id the account moved to, or None."""
        row = await moves_q.get(self.db, account_id)
        return None if row is None else row["moved_to_ap_id"]

    async def moved_at(self, account_id: int) -> int | None:
        row = await moves_q.get(self.db, account_id)
        return None if row is None else row["moved_at"]

    async def also_known_as(self, account: Row) -> tuple[str, ...]:
        """A LOCAL account's aliases (a remote one's come from its fresh document)."""
        row = await moves_q.get(self.db, account["id"])
        if row is None:
            return ()
        return tuple(str(a["id"]) for a in json.loads(row["also_known_as_json"] or "[]"))

    async def moved_to_account(self, account_id: int) -> Row | None:
        """The account moved to, when it is known here (it is: the move checked it)."""
        target = await self.moved_to(account_id)
        if target is None:
            return None
        local = self.urls.parse_actor(target)
        if local is not None:
            return await accounts_q.get_local_by_username(self.db, local)
        return await accounts_q.get_by_ap_id(self.db, target)

    async def accept(self, origin: Row, target: Row, target_ap_id: str) -> None:
        """Record that `origin` moved to `target` and queue its local followers' migration."""
        async with self.db.transaction() as tx:
            await self.record(tx, origin, target, target_ap_id)

    async def record(self, ex: Executor, origin: Row, target: Row, target_ap_id: str) -> None:
        """`accept` in the caller's transaction (a local person's move writes more in it)."""
        await moves_q.set_moved(ex, origin["id"], target_ap_id, now())
        await self.queue.enqueue(
            ex, MOVE_FOLLOWERS, {"origin": origin["id"], "target": target["id"], "after": 0}
        )

    async def job(self, payload: dict[str, Any], job: Row) -> None:
        """The `move_followers` job: a batch of the origin's local followers follow the
        target; the last run carries blocks and mutes over."""
        origin = await accounts_q.get_by_id(self.db, int(payload["origin"]))
        target = await accounts_q.get_by_id(self.db, int(payload["target"]))
        if origin is None or target is None:
            return
        if await self.moved_to(origin["id"]) is None:
            return  # the move was cancelled
        after = int(payload.get("after", 0))
        batch = await moves_q.local_followers(self.db, origin["id"], after, BATCH)
        if batch:
            told: list[Row] = []
            for follow_id, follower_id in batch:
                after = follow_id
                follower = await accounts_q.get_by_id(self.db, follower_id)
                if follower is None or follower["id"] == target["id"]:
                    continue
                if follower["deleted_at"] is not None or follower["suspended_at"] is not None:
                    continue
                told.append(follower)
                try:
                    await self.writer.follow(follower, target)
                except GapoError as exc:
                    # Mastodon leaves such a follower where they were; so does Gapo.
                    log.info("a follower did not move: %s", type(exc).__name__)
                    continue
                await self.writer.unfollow(follower, origin)
            # One batch per job run, so no run outlives its lease; the next resumes after it.
            async with self.db.transaction() as tx:
                if self.notifier is not None:
                    for person in told:
                        await self.notifier.notify(
                            tx, recipient=person, kind="move", from_account_id=origin["id"]
                        )
                await self.queue.enqueue(tx, MOVE_FOLLOWERS, {**payload, "after": after})
            return
        await self._carry_over(origin, target)

    async def _carry_over(self, origin: Row, target: Row) -> None:
        """Who blocked or muted the old account here blocks or mutes the new one: a move
        must not be a way around a block. Both writers do nothing when it is already so."""
        for account_id, kind in await moves_q.local_blockers_and_muters(self.db, origin["id"]):
            account = await accounts_q.get_by_id(self.db, account_id)
            if account is None or account["id"] == target["id"]:
                continue
            if kind == "block":
                await self.writer.block(account, target)
            elif self.mutes is not None:
                await self.mutes.mute(account, target)
