"""Follows between any two accounts, local or remote, with the activities they federate.

A follow of a locked account stays `pending` until its owner approves; a pending
follow is not a follower (no deliveries, no followers-only posts). A block ends follows
both ways and refuses new ones until it is lifted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.db.rows import FollowedAccountRow
from instance.errors import N_, BadRequest, Forbidden, NotFound
from instance.ids import IdGenerator, now
from instance.notifications.writer import Notifier
from instance.outbound import to_ap
from instance.outbound.outbox import Outbox
from instance.urls import LocalUrls


@dataclass(frozen=True)
class PeoplePage:
    """Accounts of a followers or following list; `next_max_id` pages on (None at the end)."""

    accounts: list[Row] = field(default_factory=list)
    next_max_id: int | None = None


class Relationships:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        outbox: Outbox,
        urls: LocalUrls,
        *,
        notifications: Notifier,
    ) -> None:
        self.db = db
        self.ids = ids
        self.outbox = outbox
        self.urls = urls
        self.notifications = notifications

    async def _notify_follow(self, ex: Executor, follower: Row, followee: Row, state: str) -> None:
        kind = "follow" if state == "accepted" else "follow_request"
        await self.notifications.notify(
            ex, recipient=followee, kind=kind, from_account_id=follower["id"]
        )

    def _actor_id(self, account: Row) -> str:
        return self.urls.actor(account["username"]) if account["local"] else str(account["ap_id"])

    async def state(self, follower_id: int, followee_id: int) -> str | None:
        row = await follows_q.get_follow(self.db, follower_id, followee_id)
        return None if row is None else str(row["state"])

    async def follow(self, follower: Row, target: Row) -> str:
        """A local account follows any account; returns 'accepted' or 'pending'."""
        if follower["id"] == target["id"]:
            raise BadRequest(N_("You cannot follow yourself."))
        # An instance actor (ours or a peer's) is the server itself, not someone to follow.
        if target.get("ap_type") == "Application":
            raise Forbidden(N_("You cannot follow this account."))
        if await blocks_q.either_blocks(self.db, follower["id"], target["id"]):
            raise Forbidden(N_("You cannot follow this account."))
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
                await self._notify_follow(tx, follower, target, state)
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
            await self.notifications.withdraw(
                tx,
                recipient_id=target["id"],
                kinds=("follow", "follow_request"),
                from_account_id=follower["id"],
            )
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
            await self.notifications.request_approved(
                tx, recipient_id=followee["id"], follower_id=follower["id"]
            )
            if not follower["local"]:
                await self._answer(tx, "Accept", followee, follower, row)

    async def reject(self, followee: Row, follower: Row) -> None:
        row = await follows_q.get_follow(self.db, follower["id"], followee["id"])
        if row is None:
            raise NotFound(N_("There is no such follow request."))
        async with self.db.transaction() as tx:
            await follows_q.delete(tx, follower["id"], followee["id"])
            await self.notifications.withdraw(
                tx,
                recipient_id=followee["id"],
                kinds=("follow_request",),
                from_account_id=follower["id"],
            )
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
        if await blocks_q.either_blocks(self.db, follower["id"], followee["id"]):
            # Answered at once so the peer does not show a request pending for ever.
            async with self.db.transaction() as tx:
                await self._answer(tx, "Reject", followee, follower, {"ap_id": follow_ap_id})
            return "rejected"
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
                await self._notify_follow(tx, follower, followee, "accepted")
                return "accepted"
            await self._notify_follow(tx, follower, followee, "pending")
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
    ) -> list[FollowedAccountRow]:
        return await follows_q.list_followers(self.db, account_id, limit=limit, max_id=max_id)

    async def following(
        self, account_id: int, *, limit: int = 40, max_id: int | None = None
    ) -> list[FollowedAccountRow]:
        return await follows_q.list_following(self.db, account_id, limit=limit, max_id=max_id)

    async def people_page(
        self,
        account_id: int,
        which: str,
        *,
        viewer_id: int | None,
        limit: int = 40,
        max_id: int | None = None,
    ) -> PeoplePage:
        """A page of an account's followers or followed accounts (`which`), newest first.

        Someone on either side of a block with the viewer is left out. Paging follows the
        rows read, not those shown, so a filtered page never ends the listing early.
        """
        if which not in ("followers", "following"):
            raise NotFound()
        reader = self.followers if which == "followers" else self.following
        rows = await reader(account_id, limit=limit, max_id=max_id)
        hidden = await self.hidden_ids(viewer_id) if viewer_id is not None else set()
        return PeoplePage(
            accounts=[r for r in rows if r["id"] not in hidden],
            next_max_id=int(rows[-1]["follow_id"]) if len(rows) == limit else None,
        )

    async def pending_requests(self, account_id: int) -> list[FollowedAccountRow]:
        return await follows_q.list_followers(self.db, account_id, state="pending", limit=200)

    async def counts(self, account_id: int) -> tuple[int, int]:
        return (
            await follows_q.count_followers(self.db, account_id),
            await follows_q.count_following(self.db, account_id),
        )

    # --- blocks ---

    async def is_blocked(self, account_id: int, target_id: int) -> bool:
        """Whether `account_id` blocked `target_id` (one direction only)."""
        return await blocks_q.get(self.db, account_id, target_id) is not None

    async def hidden_ids(self, account_id: int) -> set[int]:
        """Accounts hidden from this one by a block in either direction."""
        return await blocks_q.related_ids(self.db, account_id)

    async def block(self, blocker: Row, target: Row) -> None:
        """Block any account: follows end both ways; a remote target is sent a Block."""
        if blocker["id"] == target["id"]:
            raise BadRequest(N_("You cannot block yourself."))
        if await blocks_q.get(self.db, blocker["id"], target["id"]) is not None:
            return
        my_follow = await follows_q.get_follow(self.db, blocker["id"], target["id"])
        their_follow = await follows_q.get_follow(self.db, target["id"], blocker["id"])
        block_id = self.ids.next_id()
        block_ap_id = self.urls.activity(blocker["username"], "blocks", block_id)
        async with self.db.transaction() as tx:
            await blocks_q.add(
                tx,
                block_id=block_id,
                account_id=blocker["id"],
                target_id=target["id"],
                ap_id=block_ap_id,
                now=now(),
            )
            await follows_q.delete(tx, blocker["id"], target["id"])
            await follows_q.delete(tx, target["id"], blocker["id"])
            if target["local"]:
                return
            # Mastodon drops both follows when it receives the Block; other servers may not,
            # so the follows are also ended explicitly, as Mastodon's own BlockService does.
            if my_follow is not None:
                await self._send_to(
                    tx, blocker, target, self._undo_follow(blocker, target, my_follow)
                )
            if their_follow is not None:
                await self._answer(tx, "Reject", blocker, target, their_follow)
            activity = to_ap.activity(
                "Block", block_ap_id, self._actor_id(blocker), target["ap_id"]
            )
            await self._send_to(tx, blocker, target, activity)

    def _undo_follow(self, follower: Row, target: Row, follow: Row) -> dict[str, Any]:
        inner = to_ap.strip_context(
            to_ap.activity(
                "Follow",
                follow["ap_id"]
                or self.urls.activity(follower["username"], "follows", follow["id"]),
                self._actor_id(follower),
                target["ap_id"],
            )
        )
        return to_ap.activity(
            "Undo",
            self.urls.activity(follower["username"], "undo", self.ids.next_id()),
            self._actor_id(follower),
            inner,
        )

    async def unblock(self, blocker: Row, target: Row) -> None:
        """Lift a block; a remote target is sent Undo(Block) wrapping the original Block."""
        row = await blocks_q.get(self.db, blocker["id"], target["id"])
        if row is None:
            return
        async with self.db.transaction() as tx:
            await blocks_q.remove(tx, blocker["id"], target["id"])
            if target["local"]:
                return
            inner = to_ap.strip_context(
                to_ap.activity(
                    "Block",
                    row["ap_id"] or self.urls.activity(blocker["username"], "blocks", row["id"]),
                    self._actor_id(blocker),
                    target["ap_id"],
                )
            )
            undo = to_ap.activity(
                "Undo",
                self.urls.activity(blocker["username"], "undo", self.ids.next_id()),
                self._actor_id(blocker),
                inner,
            )
            await self._send_to(tx, blocker, target, undo)
