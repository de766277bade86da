"""Accounts as the front-ends show them: typed views built from rows, never rows themselves.

The HTML pages and the coming client API render the same views, so a field one of them
shows is read, named and typed in this one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AccountView:
    """Who someone is, as shown next to a post, in a list or at the top of a profile."""

    id: int
    username: str
    domain: str | None  # None for a local account (the handle then carries our host)
    local: bool
    display_name: str
    avatar_url: str | None
    ap_id: str | None  # the actor id of a remote account; None for a local one (see urls)
    url: str | None  # a remote account's profile page as its server gives it

    @classmethod
    def of_account(cls, row: Mapping[str, Any]) -> AccountView:
        """From an `accounts` row."""
        return cls(
            id=int(row["id"]),
            username=str(row["username"]),
            domain=row.get("domain") or None,
            local=bool(row["local"]),
            display_name=str(row.get("display_name") or ""),
            avatar_url=row.get("avatar_url") or None,
            ap_id=row.get("ap_id") or None,
            url=row.get("ap_url") or None,
        )

    @classmethod
    def of_post_author(cls, row: Mapping[str, Any]) -> AccountView:
        """From a post row joined with its author (`db.posts.WITH_AUTHOR`)."""
        return cls(
            id=int(row["account_id"]),
            username=str(row["username"]),
            domain=row.get("domain") or None,
            local=bool(row["author_local"]),
            display_name=str(row.get("display_name") or ""),
            avatar_url=row.get("avatar_url") or None,
            ap_id=row.get("author_ap_id") or None,
            url=row.get("author_url") or None,
        )

    @property
    def name(self) -> str:
        """What a page calls the person: the display name, else the username."""
        return self.display_name or self.username
