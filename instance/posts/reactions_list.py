"""Who liked or shared a post, as the likes and shares pages list them.

The viewer's own likes and shares of each post are on its view (`posts/views.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instance.accounts.views import AccountView
from instance.db import Database
from instance.db import posts as posts_q
from instance.db import reactions as reactions_q
from instance.db.connection import Row
from instance.errors import NotFound
from instance.posts.visibility import can_see

KINDS = ("likes", "shares")
PEOPLE_PAGE = 40


@dataclass(frozen=True)
class ReactorsPage:
    """Who liked or shared a post, newest first; `next_max_id` pages on, None at the end."""

    post: Row
    kind: str
    accounts: list[AccountView] = field(default_factory=list)
    next_max_id: int | None = None


class Reactions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def who(
        self,
        viewer_account_id: int | None,
        post_id: int,
        kind: str,
        *,
        max_id: int | None = None,
        limit: int = PEOPLE_PAGE,
    ) -> ReactorsPage:
        """The accounts that liked (`likes`) or shared (`shares`) a post the viewer may see.

        A post the viewer may not see answers NotFound, exactly like a missing one.
        """
        if kind not in KINDS:
            raise NotFound()
        post = await posts_q.get(self.db, post_id)
        if post is None or not await can_see(self.db, viewer_account_id, post):
            raise NotFound()
        rows = await reactions_q.accounts_of(
            self.db, kind, post_id, viewer_id=viewer_account_id, limit=limit, max_id=max_id
        )
        return ReactorsPage(
            post=post,
            kind=kind,
            accounts=[AccountView.of_account(r) for r in rows],
            next_max_id=int(rows[-1]["reaction_id"]) if len(rows) == limit else None,
        )
