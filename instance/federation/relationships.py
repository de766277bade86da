"""Follows between any two accounts, local or remote, with the activities they federate.

A follow of a locked account stays `pending` until its owner approves; a pending
follow is not a follower (no deliveries, no followers-only posts).
"""

from __future__ import annotations

from typing import Any

from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.errors import N_, BadRequest, NotFound
from instance.federation import to_ap
from instance.federation.outbox import Outbox
from instance.federation.urls import LocalUrls
from instance.ids import IdGenerator, now


class Relationships:
    def __init__(self, db: Database, ids: IdGenerator, outbox: Outbox, urls: LocalUrls) -> None:
        self.db = db
        self.ids = ids
        self.outbox = outbox
        self.urls = urls

    def _actor_id(self, account: Row) -> str:
        return self.urls.actor(account["username"]) if account["local"] else str(account["ap_id"])

    async def state(self, follower_id: int, followee_id: int) -> str | None:
        row = await follows_q.get_follow(self.db, follower_id, followee_id)
        return None if row is None else str(row["state"])

    async def follow(self, follower: Row, target: Row) -> str:
        """A local account follows any account; returns 'accepted' or 'pending'."""
        if follower["id"] == target["id"]:
            raise BadRequest(N_("You cannot follow yourself."))
        existing = await follows_q.get_follow(self.db, follower["id"], target["id"])
        if existing is not None:
            return str(existing["state"])
        follow_id = self.ids.next_id()
        follow_ap_id = self.urls.activity(follower["username"], "follows", follow_id)
        ts = now()
        async with self.db.transaction() as tx:
            if target["local"]:
                state = "pending" if target["locked"] else "accepted"
                await follows_q.upsert_follow(
                    tx,
                    follow_id=follow_id,
                    follower_id=follower["id"],
                    followee_id=target["id"],
                    state=state,
                    ap_id=follow_ap_id,
                    now=ts,
                )
                return state
            await follows_q.upsert_follow(
                tx,
                follow_id=follow_id,
                follower_id=follower["id"],
                followee_id=target["id"],
                state="pending",
                ap_id=follow_ap_id,
                now=ts,
            )
            activity = to_ap.activity(
                "Follow", follow_ap_id, self._actor_id(follower), target["ap_id"]
            )
            await self._send_to(tx, follower, target, activity)
        return "pending"

    async def _send_to(
        self, ex: Executor, sender: Row, target: Row, activity: dict[str, Any]
    ) -> None:
        # Follow-related activities go to the actor's own inbox, as Mastodon sends them.
        if target["local"] or not target["ap_inbox"]:
            return
        await self.outbox.to_inboxes(
            ex, signer_account_id=sender["id"], activity=activity, inboxes=[target["ap_inbox"]]
        )

    async def unfollow(self, follower: Row, target: Row) -> None:
        existing = await follows_q.get_follow(self.db, follower["id"], target["id"])
        if existing is None:
            return
        async with self.db.transaction() as tx:
            await follows_q.delete(tx, follower["id"], target["id"])
            if not target["local"]:
                follow = to_ap.activity(
                    "Follow",
                    existing["ap_id"]
                    or self.urls.activity(follower["username"], "follows", existing["id"]),
                    self._actor_id(follower),
                    target["ap_id"],
                    context=None,
                )
                follow.pop("@context")
                undo = to_ap.activity(
                    "Undo",
                    self.urls.activity(follower["username"], "undo", self.ids.next_id()),
                    self._actor_id(follower),
                    follow,
                )
                await self._send_to(tx, follower, target, undo)

    async def approve(self, followee: Row, follower: Row) -> None:
        row = await follows_q.get_follow(self.db, follower["id"], followee["id"])
        if row is None or row["state"] != "pending":
            raise NotFound(N_("There is no such follow request."))
        async with self.db.transaction() as tx:
            await follows_q.accept(tx, row["id"], now())
            if not follower["local"]:
                await self._answer(tx, "Accept", followee, follower, row)

    async def reject(self, followee: Row, follower: Row) -> None:
        row = await follows_q.get_follow(self.db, follower["id"], followee["id"])
        if row is None:
            raise NotFound(N_("There is no such follow request."))
        async with self.db.transaction() as tx:
            await follows_q.delete(tx, follower["id"], followee["id"])
            if not follower["local"]:
                await self._answer(tx, "Reject", followee, follower, row)

    async def _answer(
        self, ex: Executor, kind: str, followee: Row, follower: Row, follow: Row
    ) -> None:
        follow_doc = {
            "id": follow["ap_id"],
            "type": "Follow",
            "actor": follower["ap_id"],
            "object": self.urls.actor(followee["username"]),
        }
        answer = to_ap.activity(
            kind,
            self.urls.activity(followee["username"], kind.lower(), self.ids.next_id()),
            self.urls.actor(followee["username"]),
            follow_doc,
        )
        await self._send_to(ex, followee, follower, answer)

    async def receive_follow(self, follower: Row, followee: Row, follow_ap_id: str) -> str:
        """A remote Follow of a local account: auto-accept unless the account is locked."""
        ts = now()
        async with self.db.transaction() as tx:
            row = await follows_q.upsert_follow(
                tx,
                follow_id=self.ids.next_id(),
                follower_id=follower["id"],
                followee_id=followee["id"],
                state="pending",
                ap_id=follow_ap_id,
                now=ts,
            )
            if row["state"] == "accepted" or not followee["locked"]:
                # Already accepted follows are answered again: the peer may have lost our Accept.
                await follows_q.accept(tx, row["id"], ts)
                row = {**row, "ap_id": follow_ap_id}
                await self._answer(tx, "Accept", followee, follower, row)
                return "accepted"
        return "pending"

    async def receive_accept(self, followee_remote: Row, follower_local_username: str) -> bool:
        follower = await accounts_q.get_local_by_username(self.db, follower_local_username)
        if follower is None:
            return False
        row = await follows_q.get_follow(self.db, follower["id"], followee_remote["id"])
        if row is None:
            return False
        await follows_q.accept(self.db, row["id"], now())
        return True

    async def remove(self, follower_id: int, followee_id: int) -> None:
        await follows_q.delete(self.db, follower_id, followee_id)

    async def followers(
        self, account_id: int, *, limit: int = 40, max_id: int | None = None
    ) -> list[Row]:
        return await follows_q.list_followers(self.db, account_id, limit=limit, max_id=max_id)

    async def following(
        self, account_id: int, *, limit: int = 40, max_id: int | None = None
    ) -> list[Row]:
        return await follows_q.list_following(self.db, account_id, limit=limit, max_id=max_id)

    async def pending_requests(self, account_id: int) -> list[Row]:
        return await follows_q.list_followers(self.db, account_id, state="pending", limit=200)

    async def counts(self, account_id: int) -> tuple[int, int]:
        return (
            await follows_q.count_followers(self.db, account_id),
            await follows_q.count_following(self.db, account_id),
        )
