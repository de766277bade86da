"""The one writer of each relationship action: follow, approve, reject, unfollow, block, unblock.

The web forms (for a local person) and the inbox handlers (for a remote actor) call the
same method, so an action has the same effect whoever took it. Each method writes in one
transaction: the rows, the notifications of local people, and, when the acting account is
local and the other one remote, the activity that tells the other server.

A follow of a locked account stays `pending` until its owner approves; a pending follow is
not a follower (no deliveries, no followers-only posts). A follow that ends, by any path,
takes its notifications with it. A block ends follows both ways and refuses new ones until
it is lifted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from instance.db import Database
from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.errors import N_, BadRequest, Forbidden, NotFound
from instance.ids import IdGenerator, now
from instance.notifications.writer import Notifier
from instance.outbound.outbox import Outbox
from instance.outbound.to_ap import relationships as to_ap
from instance.urls import LocalUrls

FOLLOW_KINDS = ("follow", "follow_request")
# to_ap.accept or to_ap.reject
Answer = Callable[..., dict[str, Any]]


class RelationshipWriter:
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

    # --- follows ---

    async def follow(self, follower: Row, target: Row, *, follow_ap_id: str | None = None) -> str:
        """`follower` follows `target`; returns 'accepted', 'pending' or 'rejected'.

        A local follower's Follow gets its id here; a remote follower's (`follow_ap_id`, from
        its Follow) is answered at once: Accept, or Reject across a block. A local target
        accepts unless locked; a remote one is sent a Follow and answers later.
        """
        if follower["id"] == target["id"]:
            raise BadRequest(N_("You cannot follow yourself."))
        # An instance actor (ours or a peer's) is the server itself, not someone to follow.
        if target.get("ap_type") == "Application":
            raise Forbidden(N_("You cannot follow this account."))
        async with self.db.transaction() as tx:
            if await blocks_q.either_blocks(tx, follower["id"], target["id"]):
                if follower["local"]:
                    raise Forbidden(N_("You cannot follow this account."))
                # Answered at once so the peer does not show a request pending for ever.
                await self._answer(tx, to_ap.reject, target, follower, follow_ap_id)
                return "rejected"
            existing = await follows_q.get_follow(tx, follower["id"], target["id"])
            if existing is not None and follower["local"]:
                return str(existing["state"])
            row_id = self.ids.next_id()
            if follower["local"]:
                follow_ap_id = self.urls.activity(follower["username"], "follows", row_id)
            ts = now()
            row = await follows_q.upsert_follow(
                tx,
                follow_id=row_id,
                follower_id=follower["id"],
                followee_id=target["id"],
                state="pending",
                ap_id=follow_ap_id,
                now=ts,
            )
            if not target["local"]:
                await self._send(
                    tx, follower, target, to_ap.follow(self.urls, follower, target, row)
                )
                return "pending"
            # A follow accepted before is answered again: the peer may have lost our Accept.
            if row["state"] == "pending" and target["locked"]:
                await self._notify_follow(tx, follower, target, "pending")
                return "pending"
            await follows_q.accept(tx, row["id"], ts)
            await self._notify_follow(tx, follower, target, "accepted")
            await self._answer(tx, to_ap.accept, target, follower, follow_ap_id)
            return "accepted"

    async def approve(self, followee: Row, follower: Row) -> None:
        """The followee accepts a pending follow (a locked account's request, or a remote
        account's Accept of a local person's Follow)."""
        async with self.db.transaction() as tx:
            row = await follows_q.get_follow(tx, follower["id"], followee["id"])
            if row is None or row["state"] != "pending":
                raise NotFound(N_("There is no such follow request."))
            await follows_q.accept(tx, row["id"], now())
            await self.notifications.request_approved(
                tx, recipient_id=followee["id"], follower_id=follower["id"]
            )
            await self._answer(tx, to_ap.accept, followee, follower, row["ap_id"])

    async def reject(self, followee: Row, follower: Row) -> None:
        """The followee refuses a request or removes a follower (a remote one is told)."""
        async with self.db.transaction() as tx:
            row = await follows_q.get_follow(tx, follower["id"], followee["id"])
            if row is None:
                raise NotFound(N_("There is no such follow request."))
            await self._end_follow(tx, follower["id"], followee["id"])
            await self._answer(tx, to_ap.reject, followee, follower, row["ap_id"])

    async def unfollow(self, follower: Row, target: Row) -> None:
        """The follower stops following (or withdraws a request); a remote target is told."""
        async with self.db.transaction() as tx:
            existing = await follows_q.get_follow(tx, follower["id"], target["id"])
            # Withdrawn even without a row: an Undo may arrive after the follow already ended.
            await self._end_follow(tx, follower["id"], target["id"])
            if existing is not None:
                undo = to_ap.undo_follow(
                    self.urls, follower, target, existing, undo_id=self.ids.next_id()
                )
                await self._send(tx, follower, target, undo)

    # --- blocks ---

    async def block(self, blocker: Row, target: Row, *, block_ap_id: str | None = None) -> None:
        """`blocker` blocks `target`: follows end both ways; a remote target is sent a Block.

        `block_ap_id` is the id of a remote blocker's Block; a local blocker's is made here.
        """
        if blocker["id"] == target["id"]:
            raise BadRequest(N_("You cannot block yourself."))
        async with self.db.transaction() as tx:
            if await blocks_q.get(tx, blocker["id"], target["id"]) is not None:
                return
            my_follow = await follows_q.get_follow(tx, blocker["id"], target["id"])
            their_follow = await follows_q.get_follow(tx, target["id"], blocker["id"])
            row_id = self.ids.next_id()
            if blocker["local"]:
                block_ap_id = self.urls.activity(blocker["username"], "blocks", row_id)
            await blocks_q.add(
                tx,
                block_id=row_id,
                account_id=blocker["id"],
                target_id=target["id"],
                ap_id=block_ap_id,
                now=now(),
            )
            await self._end_follow(tx, blocker["id"], target["id"])
            await self._end_follow(tx, target["id"], blocker["id"])
            # Mastodon drops both follows when it receives the Block; other servers may not,
            # so the follows are also ended explicitly, as Mastodon's own BlockService does.
            if my_follow is not None:
                undo = to_ap.undo_follow(
                    self.urls, blocker, target, my_follow, undo_id=self.ids.next_id()
                )
                await self._send(tx, blocker, target, undo)
            if their_follow is not None:
                await self._answer(tx, to_ap.reject, blocker, target, their_follow["ap_id"])
            block_row = {"id": row_id, "ap_id": block_ap_id}
            await self._send(
                tx, blocker, target, to_ap.block(self.urls, blocker, target, block_row)
            )

    async def unblock(self, blocker: Row, target: Row) -> None:
        """Lift a block; a remote target is sent Undo(Block) wrapping the original Block."""
        async with self.db.transaction() as tx:
            row = await blocks_q.get(tx, blocker["id"], target["id"])
            if row is None:
                return
            await blocks_q.remove(tx, blocker["id"], target["id"])
            undo = to_ap.undo_block(self.urls, blocker, target, row, undo_id=self.ids.next_id())
            await self._send(tx, blocker, target, undo)

    async def forget_actor(self, actor: Row) -> None:
        """A remote actor deleted itself: every follow to or from it ends, with no activity
        sent (there is no one left to tell)."""
        async with self.db.transaction() as tx:
            await follows_q.delete_all_of(tx, actor["id"])

    # --- shared steps ---

    async def _end_follow(self, ex: Executor, follower_id: int, followee_id: int) -> None:
        # The notification goes with the follow: after an unblock it would come back from
        # behind the block's filter and announce a follow (or request) that no longer exists.
        await follows_q.delete(ex, follower_id, followee_id)
        await self.notifications.withdraw(
            ex, recipient_id=followee_id, kinds=FOLLOW_KINDS, from_account_id=follower_id
        )

    async def _notify_follow(self, ex: Executor, follower: Row, followee: Row, state: str) -> None:
        kind = "follow" if state == "accepted" else "follow_request"
        await self.notifications.notify(
            ex, recipient=followee, kind=kind, from_account_id=follower["id"]
        )

    async def _answer(
        self,
        ex: Executor,
        document: Answer,
        followee: Row,
        follower: Row,
        follow_ap_id: str | None,
    ) -> None:
        """Accept or Reject (`document`, from to_ap) of the follower's Follow."""
        answer = document(self.urls, followee, follower, follow_ap_id, answer_id=self.ids.next_id())
        await self._send(ex, followee, follower, answer)

    async def _send(
        self, ex: Executor, sender: Row, recipient: Row, activity: dict[str, Any]
    ) -> None:
        # Only what a local account did is ours to tell, and only a remote account needs
        # telling. Follow-related activities go to the actor's own inbox, as Mastodon sends them.
        if not sender["local"] or recipient["local"] or not recipient["ap_inbox"]:
            return
        await self.outbox.to_inboxes(
            ex, signer_account_id=sender["id"], activity=activity, inboxes=[recipient["ap_inbox"]]
        )
