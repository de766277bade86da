"""A local person's moves, from the "Moving" settings page: aliases and moving away.

Aliases ("accounts I moved from") are resolved over WebFinger and listed in the actor's
`alsoKnownAs`, which is what the old account's server checks before it lets that account
move here. Moving away follows Mastodon's rules: the password confirms it; the new account
is fetched fresh and must list this actor in its `alsoKnownAs`; one move per 30 days. Then,
in one transaction: `movedTo` is set, a signed Move (object: this actor, target: the new
one) fans out to the followers' (shared) inboxes, an Update of the actor follows it, and
local followers are queued to follow the new account (`moves_in.py`). The account stays
usable: the person can still log in, and its profile says where it went. As on Mastodon, the
move can be cancelled: `movedTo` goes (an Update of the actor tells the followers' servers)
and the account is an ordinary one again; followers already moved stay with the new account
and the cool-down still runs from the move.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from instance.accounts.changes import AccountChanges
from instance.accounts.service import AccountService
from instance.db import Database
from instance.db import account_moves as moves_q
from instance.db import accounts as accounts_q
from instance.db.connection import Row
from instance.errors import N_, Conflict, NotFound, ValidationFailed
from instance.federation.lookup import Lookup
from instance.federation.moves_in import MovedAccounts
from instance.federation.remote_actors import ActorFetchFailed, RemoteActors
from instance.ids import IdGenerator, now
from instance.outbound import to_ap
from instance.outbound.fanout import FanOut
from instance.outbound.profile_updates import ProfileFederation
from instance.urls import LocalUrls
from webfinger.client import parse_handle

# As Mastodon's AccountMigration: one move per 30 days.
COOLDOWN_SECONDS = 30 * 86400
MAX_ALIASES = 10


@dataclass(frozen=True)
class Alias:
    acct: str  # name@host
    id: str  # the actor id


@dataclass(frozen=True)
class MoveStatus:
    """What the settings page shows."""

    aliases: tuple[Alias, ...]
    actor_id: str  # this account's actor id, to give the new server
    moved_to: str | None  # the actor id moved to
    moved_to_acct: str | None
    next_move_at: str | None  # the UTC date the cool-down ends, while it runs


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


class AccountMoves:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        urls: LocalUrls,
        host: str,
        *,
        accounts: AccountService,
        lookup: Lookup,
        actors: RemoteActors,
        moved: MovedAccounts,
        fanout: FanOut,
        profile_updates: ProfileFederation,
        changes: AccountChanges | None = None,
    ) -> None:
        self.db = db
        self.ids = ids
        self.urls = urls
        self.host = host
        self.accounts = accounts
        self.lookup = lookup
        self.actors = actors
        self.moved = moved
        self.fanout = fanout
        self.profile_updates = profile_updates
        self.changes = changes

    def _actor_id(self, row: Row) -> str:
        return self.urls.actor(row["username"]) if row["local"] else str(row["ap_id"])

    def _acct(self, row: Row) -> str:
        return f"{row['username']}@{row['domain'] or self.host}"

    async def _local(self, account_id: int) -> Row:
        account = await accounts_q.get_by_id(self.db, account_id)
        if account is None or not account["local"] or account["deleted_at"] is not None:
            raise NotFound()
        return account

    async def _aliases(self, account_id: int) -> list[Alias]:
        row = await moves_q.get(self.db, account_id)
        stored = json.loads(row["also_known_as_json"]) if row else []
        return [Alias(acct=str(a["acct"]), id=str(a["id"])) for a in stored]

    async def _find(self, handle: str, field: str) -> Row:
        """The account an address names, over WebFinger when it is not known here."""
        handle = handle.strip()
        if parse_handle(handle) is None:
            raise ValidationFailed(N_("Write the account's address as @name@server."), field=field)
        try:
            return await self.lookup.find(handle if handle.startswith("@") else f"@{handle}")
        except NotFound:
            raise ValidationFailed(
                N_("No account was found at that address."), field=field
            ) from None

    async def status(self, account_id: int) -> MoveStatus:
        account = await self._local(account_id)
        row = await moves_q.get(self.db, account_id)
        moved_to = row["moved_to_ap_id"] if row else None
        target = await self.moved.moved_to_account(account_id) if moved_to else None
        moved_at = row["moved_at"] if row else None
        cooling = moved_at is not None and now() < moved_at + COOLDOWN_SECONDS
        return MoveStatus(
            aliases=tuple(await self._aliases(account_id)),
            actor_id=self._actor_id(account),
            moved_to=moved_to,
            moved_to_acct=self._acct(target) if target is not None else None,
            next_move_at=_date(moved_at + COOLDOWN_SECONDS) if cooling and moved_at else None,
        )

    async def add_alias(self, account_id: int, handle: str) -> Alias:
        """Name another account as this person's old one (it can then move here)."""
        account = await self._local(account_id)
        found = await self._find(handle, "alias")
        if found["id"] == account["id"]:
            raise ValidationFailed(N_("That is this account."), field="alias")
        alias = Alias(acct=self._acct(found), id=self._actor_id(found))
        aliases = await self._aliases(account_id)
        if any(a.id == alias.id for a in aliases):
            return alias
        if len(aliases) >= MAX_ALIASES:
            raise ValidationFailed(
                N_("At most %(count)s aliases."), field="alias", count=MAX_ALIASES
            )
        await self._save_aliases(account_id, [*aliases, alias])
        return alias

    async def remove_alias(self, account_id: int, alias_id: str) -> None:
        await self._local(account_id)
        aliases = await self._aliases(account_id)
        kept = [a for a in aliases if a.id != alias_id]
        if len(kept) == len(aliases):
            raise NotFound(N_("There is no such alias."))
        await self._save_aliases(account_id, kept)

    async def _save_aliases(self, account_id: int, aliases: list[Alias]) -> None:
        stored = json.dumps([{"acct": a.acct, "id": a.id} for a in aliases])
        async with self.db.transaction() as tx:
            await moves_q.set_aliases(tx, account_id, stored, now())
            # Followers' servers refresh the actor, and our cached document goes.
            await self.profile_updates.enqueue_update(tx, account_id)
            if self.changes is not None:
                tx.after_commit(self.changes.bump)

    async def move_away(self, user_id: int, account_id: int, handle: str, current: str) -> str:
        """Move this account to the one `handle` names; returns its address."""
        await self.accounts.confirm_password(user_id, current)
        account = await self._local(account_id)
        row = await moves_q.get(self.db, account_id)
        if row is not None and row["moved_at"] is not None:
            until = row["moved_at"] + COOLDOWN_SECONDS
            if now() < until:
                raise Conflict(
                    N_("You moved less than 30 days ago. You can move again on %(date)s."),
                    field="target",
                    date=_date(until),
                )
        found = await self._find(handle, "target")
        if found["id"] == account["id"]:
            raise ValidationFailed(N_("You cannot move to this account itself."), field="target")
        target_id = self._actor_id(found)
        if row is not None and row["moved_to_ap_id"] == target_id:
            raise Conflict(N_("This account has already moved there."), field="target")
        if found["local"]:
            target, aliases = found, await self.moved.also_known_as(found)
        else:
            try:
                target, document = await self.actors.fetch_fresh(target_id)
            except ActorFetchFailed:
                raise ValidationFailed(
                    N_("The new account could not be reached. Try again later."), field="target"
                ) from None
            aliases = document.also_known_as
        if target["suspended_at"] is not None or target["deleted_at"] is not None:
            raise ValidationFailed(N_("You cannot move to this account."), field="target")
        actor_id = self.urls.actor(account["username"])
        if actor_id not in aliases:
            raise ValidationFailed(
                N_(
                    "The new account does not name this one as an alias yet: add %(actor)s"
                    " to its aliases on its server first."
                ),
                field="target",
                actor=actor_id,
            )
        move = to_ap.move(self.urls, account, target_id, self.ids.next_id())
        async with self.db.transaction() as tx:
            # Checked again under the write lock: two moves at once must not both pass.
            again = await moves_q.get(tx, account_id)
            if again is not None and again["moved_at"] != (row["moved_at"] if row else None):
                raise Conflict(N_("This account is already moving."), field="target")
            await self.moved.record(tx, account, target, target_id)
            await self.fanout.to_followers(tx, account_id=account_id, activity=move)
            await self.profile_updates.enqueue_update(tx, account_id)
            if self.changes is not None:
                tx.after_commit(self.changes.bump)
        return self._acct(target)

    async def cancel(self, account_id: int) -> bool:
        """Undo the redirect of a move (Mastodon's "cancel the redirect"); False when the
        account had not moved."""
        await self._local(account_id)
        row = await moves_q.get(self.db, account_id)
        if row is None or row["moved_to_ap_id"] is None:
            return False
        async with self.db.transaction() as tx:
            await moves_q.clear_moved(tx, account_id, now())
            await self.profile_updates.enqueue_update(tx, account_id)
            if self.changes is not None:
                tx.after_commit(self.changes.bump)
        return True
