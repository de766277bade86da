"""Writing notifications for local accounts, inside the caller's transaction.

Kinds: `follow`, `follow_request`, `mention`, `reply`, `like`, `share`, `report_resolved`,
`move` (an account the recipient follows moved, as Mastodon's). Writing skips
remote recipients, oneself, and anyone silenced by a block (either way) or a mute;
the unique index makes the same event notify once. Every writer (posts, reactions,
relationships, the inbox) calls this one class; reading is `feeds/notifications.py`.
"""

from __future__ import annotations

from collections.abc import Iterable

from instance.db import accounts as accounts_q
from instance.db import notifications as notifications_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.ids import IdGenerator, now

KINDS = (
    "follow",
    "follow_request",
    "mention",
    "reply",
    "like",
    "share",
    "report_resolved",
    "move",
)


class Notifier:
    def __init__(self, ids: IdGenerator) -> None:
        self.ids = ids

    async def notify(
        self,
        ex: Executor,
        *,
        recipient: Row | int,
        kind: str,
        from_account_id: int,
        post_id: int | None = None,
    ) -> bool:
        """Record one notification in `ex`'s transaction; True when a new one was added."""
        if kind not in KINDS:
            raise ValueError(kind)
        account = (
            await accounts_q.get_by_id(ex, recipient) if isinstance(recipient, int) else recipient
        )
        # Remote accounts are notified by their own servers, from the activities we deliver.
        if account is None or not account["local"] or account["id"] == from_account_id:
            return False
        if await notifications_q.is_silenced(ex, account["id"], from_account_id):
            return False
        return await notifications_q.insert_once(
            ex,
            notification_id=self.ids.next_id(),
            account_id=account["id"],
            kind=kind,
            from_account_id=from_account_id,
            post_id=post_id,
            now=now(),
        )

    async def new_post(
        self,
        ex: Executor,
        *,
        author_id: int,
        post_id: int,
        mentioned_ids: Iterable[int],
        parent_id: int | None,
    ) -> None:
        """A new post: `reply` to the parent's author, `mention` to the others it names.

        The parent's author gets `reply` even when mentioned too (Mastodon mentions the
        parent's author in every reply): "replied to your post" says more.
        """
        parent_author = None
        if parent_id is not None:
            parent = await posts_q.get(ex, parent_id)
            if parent is not None:
                parent_author = int(parent["account_id"])
                await self.notify(
                    ex,
                    recipient=parent_author,
                    kind="reply",
                    from_account_id=author_id,
                    post_id=post_id,
                )
        for account_id in dict.fromkeys(mentioned_ids):
            if account_id != parent_author:
                await self.notify(
                    ex,
                    recipient=account_id,
                    kind="mention",
                    from_account_id=author_id,
                    post_id=post_id,
                )

    async def withdraw(
        self,
        ex: Executor,
        *,
        recipient_id: int,
        kinds: tuple[str, ...],
        from_account_id: int,
        post_id: int | None = None,
    ) -> None:
        """The event was undone (unlike, unshare, unfollow): its notification goes too."""
        await notifications_q.remove(
            ex,
            account_id=recipient_id,
            kinds=kinds,
            from_account_id=from_account_id,
            post_id=post_id,
        )

    async def request_approved(self, ex: Executor, *, recipient_id: int, follower_id: int) -> None:
        await notifications_q.change_kind(
            ex,
            account_id=recipient_id,
            from_account_id=follower_id,
            old="follow_request",
            new="follow",
        )
