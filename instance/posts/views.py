"""Posts as a viewer sees them: the typed view that pages and the client API render.

A `PostView` is built from a post row joined with its author (`db.posts.WITH_AUTHOR`, reply
counts already as the viewer may see them) and the viewer's own likes and shares, read in
one query for a whole page (`post_views`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from instance.accounts.views import AccountView
from instance.db import Database
from instance.db import media as media_q
from instance.db import reactions as reactions_q
from instance.media.views import MediaView, media_view
from instance.urls import LocalUrls


@dataclass(frozen=True)
class PostView:
    """One post for one viewer: its content, author, counts and the viewer's reactions."""

    id: int
    author: AccountView
    local: bool
    ap_id: str | None  # a remote post's id; None for a local one (see urls.LocalUrls.note)
    url: str | None
    in_reply_to_id: int | None  # the parent stored here, if any
    in_reply_to_ap_id: str | None  # the parent's id, stored here or not
    content_html: str
    summary: str  # the content warning; "" for none
    sensitive: bool
    visibility: str
    language: str | None
    created_at: int
    updated_at: int | None  # set once the post was edited
    replies_count: int  # replies this viewer may see
    likes_count: int
    shares_count: int
    liked: bool = False  # by this viewer
    shared: bool = False  # by this viewer
    # In a feed, who shared the post onto it (None for the post itself), and the entry's
    # cursor: the share's id for a share, the post's for the post.
    shared_by: AccountView | None = None
    feed_id: int | None = None
    # Attachments, in their order (at most `config.max_attachments`).
    media: tuple[MediaView, ...] = ()

    @property
    def shareable(self) -> bool:
        """Followers-only and direct posts cannot be shared (PostService.react refuses them)."""
        return self.visibility in ("public", "unlisted")


def post_view(
    row: Mapping[str, Any],
    *,
    liked: bool = False,
    shared: bool = False,
    media: tuple[MediaView, ...] = (),
) -> PostView:
    """The view of one post row joined with its author (see the module docstring)."""
    shared_by = None
    if row.get("shared_by_id") is not None:
        shared_by = AccountView(
            id=int(row["shared_by_id"]),
            username=str(row["shared_by_username"]),
            domain=row.get("shared_by_domain") or None,
            local=not row.get("shared_by_domain"),
            display_name=str(row.get("shared_by_display_name") or ""),
            avatar_url=None,
            ap_id=None,
            url=None,
        )
    return PostView(
        id=int(row["id"]),
        author=AccountView.of_post_author(row),
        local=bool(row["local"]),
        ap_id=row.get("ap_id") or None,
        url=row.get("url") or None,
        in_reply_to_id=_int_or_none(row.get("in_reply_to_id")),
        in_reply_to_ap_id=row.get("in_reply_to_ap_id") or None,
        content_html=str(row.get("content_html") or ""),
        summary=str(row.get("summary") or ""),
        # An account forced sensitive by a moderator shows every post behind a warning.
        sensitive=bool(row.get("sensitive") or row.get("author_sensitive_forced")),
        visibility=str(row["visibility"]),
        language=row.get("language") or None,
        created_at=int(row["created_at"]),
        updated_at=_int_or_none(row.get("updated_at")),
        replies_count=int(row.get("replies_count") or 0),
        likes_count=int(row.get("likes_count") or 0),
        shares_count=int(row.get("shares_count") or 0),
        liked=liked,
        shared=shared,
        shared_by=shared_by,
        feed_id=_int_or_none(row.get("feed_id")),
        media=media,
    )


async def post_views(
    db: Database,
    viewer_account_id: int | None,
    rows: Sequence[Mapping[str, Any]],
    urls: LocalUrls,
) -> list[PostView]:
    """Views of a page of post rows, with the viewer's likes and shares read in one query
    and the attachments of all of them in another."""
    liked: set[int] = set()
    shared: set[int] = set()
    if viewer_account_id is not None and rows:
        reactions = await reactions_q.of_account(
            db, viewer_account_id, sorted({int(r["id"]) for r in rows})
        )
        for reaction in reactions:
            (liked if reaction["kind"] == "likes" else shared).add(int(reaction["post_id"]))
    attachments: dict[int, list[MediaView]] = {}
    if rows:
        for media_row in await media_q.of_posts(db, sorted({int(r["id"]) for r in rows})):
            post_id = int(media_row["post_id"] or 0)
            attachments.setdefault(post_id, []).append(media_view(media_row, urls))
    return [
        post_view(
            row,
            liked=int(row["id"]) in liked,
            shared=int(row["id"]) in shared,
            media=tuple(attachments.get(int(row["id"]), ())),
        )
        for row in rows
    ]


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
