"""Notifications folded into groups: "Lan and 3 others liked your post".

One group per (kind, post) on a page: likes and shares of one post, follows (no post),
and each mention or reply (always one person: a post has one author). The front-ends
render groups; the sentence itself is worded in templates, where the language is known.
A group never spans pages: paging stays by notification id, so a long burst of likes may
show as a group on each of two pages, which is fine for reading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from instance.accounts.views import AccountView

if TYPE_CHECKING:  # notifications.py builds groups: only its types are needed here
    from instance.feeds.notifications import NotificationView, NotifiedPost

# How many people a group shows by picture; the rest are a number.
SHOWN_ACCOUNTS = 4


@dataclass(frozen=True)
class NotificationGroup:
    """Notifications of one kind about one post (or none), newest first."""

    kind: str
    post: NotifiedPost | None
    # Everyone in the group, newest first; `accounts[0]` is the one the sentence names.
    accounts: tuple[AccountView, ...]
    # The newest notification's id and time: where the group sits in the list.
    latest_id: int
    created_at: int
    unread: bool

    @property
    def count(self) -> int:
        return len(self.accounts)

    @property
    def others(self) -> int:
        """People besides the one named: "and 3 others"."""
        return len(self.accounts) - 1

    @property
    def shown(self) -> tuple[AccountView, ...]:
        return self.accounts[:SHOWN_ACCOUNTS]


def group_notifications(items: Iterable[NotificationView]) -> list[NotificationGroup]:
    """Groups in the order of their newest notification (the input is newest first)."""
    order: list[tuple[str, int | None]] = []
    members: dict[tuple[str, int | None], list[NotificationView]] = {}
    for item in items:
        key = (item.kind, item.post.id if item.post else None)
        if key not in members:
            order.append(key)
            members[key] = []
        members[key].append(item)
    groups = []
    for key in order:
        found = members[key]
        accounts: list[AccountView] = []
        seen: set[int] = set()
        for n in found:
            if n.account.id not in seen:  # one person once, even if they liked, unliked, liked
                seen.add(n.account.id)
                accounts.append(n.account)
        groups.append(
            NotificationGroup(
                kind=key[0],
                post=found[0].post,
                accounts=tuple(accounts),
                latest_id=found[0].id,
                created_at=found[0].created_at,
                unread=any(n.read_at is None for n in found),
            )
        )
    return groups
