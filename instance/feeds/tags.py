"""Hashtag pages: the public posts carrying a tag, newest first, paged by id."""

from __future__ import annotations

from dataclasses import dataclass, field

from activitypub.entities import display_form, tag_key
from instance.db import Database
from instance.db import hashtags as hashtags_q
from instance.posts.reply_counts import with_visible_reply_counts
from instance.posts.views import PostView, post_views
from instance.posts.visibility import visible_posts
from instance.urls import LocalUrls

PAGE = 20


@dataclass(frozen=True)
class TagPage:
    name: str  # the tag as first written here, or as asked for when nobody used it yet
    posts: list[PostView] = field(default_factory=list)
    next_max_id: int | None = None  # for the "older posts" link; None on the last page


class TagFeed:
    def __init__(self, db: Database, urls: LocalUrls) -> None:
        self.db = db
        self.urls = urls

    async def page(
        self, viewer_account_id: int | None, name: str, *, max_id: int | None = None
    ) -> TagPage:
        """Any case or Unicode form of the name finds the tag (`ViệtNam`, `#VIỆTNAM`, NFD…)."""
        tag = await hashtags_q.get_by_key(self.db, tag_key(name.strip()))
        if tag is None:
            return TagPage(name=display_form(name.strip()))
        rows = await hashtags_q.public_posts(
            self.db, tag["id"], limit=PAGE, max_id=max_id, viewer_id=viewer_account_id
        )
        # Only public posts are selected, without the authors the viewer blocked, muted or is
        # blocked by; can_see stays the one rule that decides.
        visible = await visible_posts(self.db, viewer_account_id, rows)
        visible = await with_visible_reply_counts(self.db, viewer_account_id, visible)
        # Paging follows the rows read, not the rows shown, so a filtered page never ends
        # the listing early.
        next_max_id = int(rows[-1]["id"]) if len(rows) == PAGE else None
        return TagPage(
            name=tag["display_name"],
            posts=await post_views(self.db, viewer_account_id, visible, self.urls),
            next_max_id=next_max_id,
        )
