"""Moderators' actions on accounts, each with a reason and an entry in the audit log.

One writer per action: the web pages call these, and the audit entry is written in the
same transaction as the change, so no action happens unrecorded. What the actions do to
what people see is not decided here: suspension and silencing are columns that the one
visibility rule (`instance/posts/visibility.py`) and its SQL copies (`db.posts.author_live`,
`db.posts.author_listed`) read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from instance.accounts.service import AccountService
from instance.admin.roles import Permission, may, may_act_on
from instance.admin.views import AdminAccountView, LogEntryView
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import moderation as moderation_q
from instance.db import posts as posts_q
from instance.db import sessions as sessions_q
from instance.db import users as users_q
from instance.db.connection import Transaction
from instance.db.executor import Executor
from instance.errors import N_, Forbidden, NotFound, ValidationFailed
from instance.ids import IdGenerator, now
from instance.posts.views import PostView, post_view

REASON_MAX = 1000
PAGE = 40
ACTIONS = (
    "approve",
    "suspend",
    "unsuspend",
    "silence",
    "unsilence",
    "force_sensitive",
    "unforce_sensitive",
    "reset_sessions",
)

Staff = Mapping[str, Any]  # the signed-in user row of the moderator or admin


def require(staff: Staff | None, permission: Permission) -> Staff:
    """The staff member, if their role grants `permission`; else NotFound, so that a person
    without the right learns nothing of the admin pages, not even that they exist."""
    if staff is None or not may(staff["role"], permission):
        raise NotFound()
    return staff


def clean_reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise ValidationFailed(N_("Give a reason: it goes in the audit log."), field="reason")
    if len(text) > REASON_MAX:
        raise ValidationFailed(
            N_("The reason is too long (at most %(max)d characters)."),
            field="reason",
            max=REASON_MAX,
        )
    return text


def label(row: Mapping[str, Any]) -> str:
    """`@name` or `@name@domain`: kept in the log, which outlives the account's row."""
    domain = row.get("domain") or ""
    return f"@{row['username']}@{domain}" if domain else f"@{row['username']}"


class Moderation:
    def __init__(self, db: Database, ids: IdGenerator, accounts: AccountService) -> None:
        self.db = db
        self.ids = ids
        # The writer of suspensions, shared with `gapo user suspend`.
        self.account_writer = accounts

    # --- reading ---

    async def accounts(
        self, staff: Staff | None, query: str = "", status: str = "all", max_id: int | None = None
    ) -> list[AdminAccountView]:
        require(staff, "view")
        if status not in moderation_q.FILTERS:
            status = "all"
        rows = await moderation_q.search_accounts(
            self.db, query.strip()[:200], status=status, limit=PAGE, max_id=max_id
        )
        return [AdminAccountView.of(row) for row in rows]

    async def account(self, staff: Staff | None, account_id: int) -> AdminAccountView:
        require(staff, "view")
        row = await moderation_q.get_account(self.db, account_id)
        if row is None or row["ap_type"] == "Application":
            raise NotFound()
        return AdminAccountView.of(row)

    async def public_posts(self, staff: Staff | None, account_id: int) -> list[PostView]:
        """The account's public and unlisted posts, even while it is suspended; never its
        followers-only or direct ones, which a moderator has no more right to than anyone."""
        require(staff, "view")
        rows = await posts_q.by_account(
            self.db, account_id, visibilities=("public", "unlisted"), limit=20
        )
        return [post_view(row) for row in rows]

    async def log(
        self,
        staff: Staff | None,
        *,
        target_account_id: int | None = None,
        max_id: int | None = None,
    ) -> list[LogEntryView]:
        require(staff, "view")
        rows = await moderation_q.log_page(
            self.db, limit=PAGE, max_id=max_id, target_account_id=target_account_id
        )
        return [LogEntryView.of(row) for row in rows]

    # --- acting ---

    async def act(self, staff: Staff | None, account_id: int, action: str, reason: str) -> None:
        """Does `action` to the account and logs it, in one transaction."""
        staff = require(staff, "moderate")
        if action not in ACTIONS:
            raise ValidationFailed(N_("Unknown action."), field="action")
        why = clean_reason(reason)
        async with self.db.transaction() as tx:
            await self.act_in(tx, staff, account_id, action, why)

    async def act_in(
        self, tx: Transaction, staff: Staff, account_id: int, action: str, why: str
    ) -> None:
        """`act` inside the caller's transaction (resolving a report acts and resolves in one)."""
        target = await moderation_q.get_account(tx, account_id)
        # A deleted account is a tombstone (its deletion also set `suspended_at`): nothing to
        # moderate, and unsuspending it would show what its deletion job is removing.
        if target is None or target["ap_type"] == "Application" or target["deleted_at"]:
            raise NotFound()
        if target["id"] == staff["account_id"]:
            raise Forbidden(N_("You cannot moderate your own account."))
        if not may_act_on(staff["role"], target["role"]):
            raise Forbidden(N_("Your role may not act on this account."))
        await self._apply(tx, target, action)
        await self.write_log(tx, staff, action, target, why)

    async def _apply(self, tx: Transaction, target: Mapping[str, Any], action: str) -> None:
        ts = now()
        account_id = int(target["id"])
        if action == "approve":
            if target["user_id"] is None or target["approved"]:
                raise ValidationFailed(N_("This account is not waiting for approval."))
            await users_q.set_fields(tx, target["user_id"], {"approved": 1})
        elif action in ("suspend", "unsuspend"):
            suspended = action == "suspend"
            if bool(target["suspended_at"]) == suspended:
                raise ValidationFailed(
                    N_("This account is already suspended.")
                    if suspended
                    else N_("This account is not suspended.")
                )
            await self.account_writer.set_suspension(
                tx, account_id, target["user_id"], suspended=suspended
            )
        elif action in ("silence", "unsilence"):
            await accounts_q.set_moderation(
                tx, account_id, {"silenced_at": ts if action == "silence" else None}
            )
        elif action in ("force_sensitive", "unforce_sensitive"):
            forced = 1 if action == "force_sensitive" else 0
            await accounts_q.set_moderation(tx, account_id, {"sensitive_forced": forced})
        elif action == "reset_sessions":
            if target["user_id"] is None:
                raise ValidationFailed(N_("A remote account has no sessions here."))
            await sessions_q.delete_for_user(tx, target["user_id"])

    async def write_log(
        self,
        ex: Executor,
        staff: Staff,
        action: str,
        target: Mapping[str, Any] | None,
        reason: str,
        *,
        target_label: str | None = None,
    ) -> None:
        """One audit entry: who (the staff member), what, whom, why, when. No address."""
        await moderation_q.insert_log(
            ex,
            {
                "id": self.ids.next_id(),
                "actor_account_id": staff["account_id"],
                "actor_label": f"@{staff['username']}",
                "action": action,
                "target_account_id": target["id"] if target is not None else None,
                "target_label": target_label or (label(target) if target is not None else ""),
                "reason": reason,
                "created_at": now(),
            },
        )
