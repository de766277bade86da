"""What the admin pages render: frozen views of accounts, audit entries and hosts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from instance.accounts.views import AccountView


@dataclass(frozen=True)
class AdminAccountView(AccountView):
    """An account as moderators see it: the `AccountView` every page shows (one place reads
    who and where), with its bio, its login's state and its sanctions."""

    bio_html: str
    created_at: int
    role: str | None  # None for a remote account
    pending: bool  # a local sign-up waiting for approval
    suspended: bool
    silenced: bool
    sensitive_forced: bool
    last_active_at: int | None

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain}" if self.domain else f"@{self.username}"

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> AdminAccountView:
        base = AccountView.of_account(row)
        return cls(
            **{f.name: getattr(base, f.name) for f in fields(AccountView)},
            bio_html=str(row.get("note_html") or ""),
            created_at=int(row["created_at"]),
            role=row.get("role"),
            pending=row.get("approved") == 0,
            suspended=row.get("suspended_at") is not None,
            silenced=row.get("silenced_at") is not None,
            sensitive_forced=bool(row.get("sensitive_forced")),
            last_active_at=row.get("last_active_at"),
        )


@dataclass(frozen=True)
class LogEntryView:
    """One line of the audit log."""

    id: int
    actor: str
    action: str
    target: str
    target_account_id: int | None
    reason: str
    created_at: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> LogEntryView:
        return cls(
            id=int(row["id"]),
            actor=str(row["actor_label"]),
            action=str(row["action"]),
            target=str(row["target_label"]),
            target_account_id=row.get("target_account_id"),
            reason=str(row["reason"]),
            created_at=int(row["created_at"]),
        )
