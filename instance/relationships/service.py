"""Reading relationships: follow states, follower and following lists, requests, blocks.

Writes are `writes.py` (`RelationshipWriter`); the lookups at the end serve the inbox
handlers, which parse an activity and then name the rows the writer acts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instance.accounts.views import AccountView
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import follows as follows_q
from instance.db.connection import Row
from instance.db.rows import FollowedAccountRow
from instance.errors import NotFound


@dataclass(frozen=True)
class PeoplePage:
    """One page of an account's followers or following list (`which`), newest first;
    `next_max_id` pages on (None at the end)."""

    account: AccountView
    which: str
    accounts: list[AccountView] = field(default_factory=list)
    next_max_id: int | None = None


class Relationships:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def state(self, follower_id: int, followee_id: int) -> str | None:
        row = await follows_q.get_follow(self.db, follower_id, followee_id)
        return None if row is None else str(row["state"])

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
        account = await accounts_q.get_by_id(self.db, account_id)
        if account is None:
            raise NotFound()
        reader = self.followers if which == "followers" else self.following
        rows = await reader(account_id, limit=limit, max_id=max_id)
        hidden = await self.hidden_ids(viewer_id) if viewer_id is not None else set()
        return PeoplePage(
            account=AccountView.of_account(account),
            which=which,
            accounts=[AccountView.of_account(r) for r in rows if r["id"] not in hidden],
            next_max_id=int(rows[-1]["follow_id"]) if len(rows) == limit else None,
        )

    async def pending_requests(self, account_id: int) -> list[AccountView]:
        """Who asks to follow this account, newest first (the 200 latest)."""
        rows = await follows_q.list_followers(self.db, account_id, state="pending", limit=200)
        return [AccountView.of_account(r) for r in rows]

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

    # --- lookups for the inbox handlers ---

    async def local_account(self, username: str | None) -> Row | None:
        """The local account of that username (suspended ones too), or None."""
        if not username:
            return None
        return await accounts_q.get_local_by_username(self.db, username)

    async def account(self, account_id: int) -> Row | None:
        return await accounts_q.get_by_id(self.db, account_id)

    async def follow_between(self, follower_id: int, followee_id: int) -> Row | None:
        return await follows_q.get_follow(self.db, follower_id, followee_id)

    async def follow_by_ap_id(self, ap_id: str | None) -> Row | None:
        """The follow whose Follow activity has this id, or None."""
        if not ap_id:
            return None
        return await follows_q.get_by_ap_id(self.db, ap_id)
