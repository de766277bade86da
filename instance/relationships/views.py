"""A profile as a viewer sees it: the account, its counts and the viewer's relationship to it.

Typed views for the front-ends (the HTML profile page, the coming client API); they are
built by `feeds/profiles.py` from the reading methods of accounts and relationships.
"""

from __future__ import annotations

from dataclasses import dataclass

from instance.accounts.views import AccountView


@dataclass(frozen=True)
class RelationshipView:
    """How a signed-in viewer stands to another account."""

    follow_state: str | None  # the viewer's follow of the account: accepted, pending or None
    followed_by: bool  # the account follows the viewer (accepted)
    blocking: bool  # the viewer blocked the account
    blocked_by: bool  # the account blocked the viewer
    muting: bool  # the viewer muted the account

    @property
    def following(self) -> bool:
        return self.follow_state == "accepted"

    @property
    def requested(self) -> bool:
        """A follow request waits for the account's approval."""
        return self.follow_state == "pending"


@dataclass(frozen=True)
class ProfileField:
    """One name/value pair of a profile (the value as sanitised HTML)."""

    name: str
    value_html: str


@dataclass(frozen=True)
class ProfileView:
    """A profile for one viewer. `relationship` is None for an anonymous viewer and on
    one's own profile."""

    account: AccountView
    header_url: str | None
    note_html: str
    fields: tuple[ProfileField, ...]
    posts_count: int  # public and unlisted posts only
    followers_count: int
    following_count: int
    relationship: RelationshipView | None
    # The account this one moved to (its profile says so), None when it did not move.
    moved_to: AccountView | None = None
