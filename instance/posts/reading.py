"""Reading posts as a viewer may see them: one post, an account's page, a thread, edits.

Every method applies the visibility rule (`posts/visibility.py`); a post the viewer may not
see is exactly a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from instance.db import Database
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.rows import PostEditRow
from instance.errors import NotFound, PostDeleted
from instance.posts.reply_counts import with_visible_reply_counts
from instance.posts.views import PostView, post_views
from instance.posts.visibility import can_see, could_have_seen, visible_posts
from instance.urls import LocalUrls

# The reply tree under a post page: deeper or larger threads are cut, not paged.
MAX_TREE_DEPTH = 12
MAX_TREE_NODES = 300


@dataclass(frozen=True)
class ReplyNode:
    """One visible reply and the visible replies under it."""

    post: PostView
    children: list[ReplyNode]


@dataclass(frozen=True)
class Thread:
    """What a post page shows: the visible ancestors, the post, the visible reply tree."""

    post: PostView
    ancestors: list[PostView]
    replies: list[ReplyNode]


@dataclass(frozen=True)
class PostHistory:
    """A post and its earlier versions, oldest first."""

    post: PostView
    edits: list[PostEditRow]


@dataclass(frozen=True)
class _Tree:
    """The visible replies under a post as read: flat, and each post's children ids."""

    rows: list[Row]
    children: dict[int, list[int]]


async def get_visible(db: Database, viewer_account_id: int | None, post_id: int) -> Row:
    """The post if the viewer may see it; a forbidden post is exactly a missing one.

    A deleted post is `PostDeleted` (410) to those who could have seen it, and to
    everyone else the same NotFound as a post that never existed.
    """
    post = await posts_q.get(db, post_id)
    if post is not None and post["deleted_at"] is not None:
        if await could_have_seen(db, viewer_account_id, post):
            raise PostDeleted()
        raise NotFound()
    if post is None or not await can_see(db, viewer_account_id, post):
        raise NotFound()
    return post


class PostReader:
    """The read side of posts; the writers are in `posts/service.py`."""

    def __init__(self, db: Database, urls: LocalUrls) -> None:
        self.db = db
        self.urls = urls

    async def get_visible(self, viewer_account_id: int | None, post_id: int) -> Row:
        """See `get_visible`: the post, or NotFound / PostDeleted."""
        return await get_visible(self.db, viewer_account_id, post_id)

    async def view(self, viewer_account_id: int | None, post_id: int) -> PostView:
        """The post as the viewer sees it (reply count and the viewer's reactions)."""
        post = await self.get_visible(viewer_account_id, post_id)
        counted = await with_visible_reply_counts(self.db, viewer_account_id, [post])
        return (await post_views(self.db, viewer_account_id, counted, self.urls))[0]

    async def history(self, viewer_account_id: int | None, post_id: int) -> PostHistory:
        """The post page's edit history: the post as it is now and its earlier versions."""
        post = await self.view(viewer_account_id, post_id)
        return PostHistory(post=post, edits=await posts_q.edits(self.db, post_id))

    async def by_account(
        self,
        viewer_account_id: int | None,
        account: Row,
        *,
        visibilities: tuple[str, ...],
        limit: int = 20,
        max_id: int | None = None,
        with_replies: bool = True,
    ) -> list[PostView]:
        """A page of the account's posts the viewer may see, newest first."""
        visible: list[Row] = []
        # Hidden rows are skipped, so read a few batches to fill the page; bounded so a
        # profile of thousands of hidden posts costs a handful of queries, not a scan.
        for _ in range(5):
            rows = await posts_q.by_account(
                self.db,
                account["id"],
                visibilities=visibilities,
                limit=limit,
                max_id=max_id,
                with_replies=with_replies,
            )
            visible.extend(await visible_posts(self.db, viewer_account_id, rows))
            if len(rows) < limit or len(visible) >= limit:
                break
            max_id = int(rows[-1]["id"])
        counted = await with_visible_reply_counts(self.db, viewer_account_id, visible[:limit])
        return await post_views(self.db, viewer_account_id, counted, self.urls)

    async def public_count(self, account: Row) -> int:
        """Posts shown in the profile's count: public and unlisted only, so the number
        never tells a stranger how much an account writes for its followers."""
        return await posts_q.count_by_account(self.db, account["id"], ("public", "unlisted"))

    async def _tree(
        self, viewer_account_id: int | None, post_id: int, max_depth: int, max_nodes: int
    ) -> _Tree:
        """The visible replies under a post, read level by level (one query per depth).

        A reply the viewer may not see hides its whole branch: answers to a followers-only
        reply would otherwise reveal it. Depth and size are capped so a long or hostile
        thread costs a bounded read.
        """
        tree = _Tree(rows=[], children={post_id: []})
        level = [post_id]
        seen = 0
        for _ in range(max_depth):
            rows = await posts_q.replies_to_any(self.db, level, limit=max_nodes - seen)
            level = []
            for row in await visible_posts(self.db, viewer_account_id, rows):
                parent_id = row["in_reply_to_id"]
                assert parent_id is not None  # replies_to_any selects replies only
                tree.rows.append(row)
                tree.children[parent_id].append(row["id"])
                tree.children[int(row["id"])] = []
                level.append(int(row["id"]))
            seen += len(rows)
            if not level or seen >= max_nodes:
                break
        return tree

    async def _views(self, viewer_account_id: int | None, rows: list[Row]) -> dict[int, PostView]:
        """Views by id, each count as the viewer may see it, reactions read in one query."""
        counted = await with_visible_reply_counts(self.db, viewer_account_id, rows)
        return {v.id: v for v in await post_views(self.db, viewer_account_id, counted, self.urls)}

    async def thread(self, viewer_account_id: int | None, post_id: int) -> Thread:
        """The post page's content; every count in it is what this viewer may see."""
        post = await self.get_visible(viewer_account_id, post_id)
        ancestors = await self.ancestors(viewer_account_id, post)
        tree = await self._tree(viewer_account_id, post_id, MAX_TREE_DEPTH, MAX_TREE_NODES)
        views = await self._views(viewer_account_id, [*ancestors, post, *tree.rows])
        return Thread(
            post=views[post_id],
            ancestors=[views[int(a["id"])] for a in ancestors],
            replies=_nodes(post_id, tree.children, views),
        )

    async def ancestors(
        self, viewer_account_id: int | None, post: Row, limit: int = 20
    ) -> list[Row]:
        """Visible parents, oldest first; stops at the first one the viewer may not see."""
        chain: list[Row] = []
        current = post
        while current["in_reply_to_id"] and len(chain) < limit:
            parent = await posts_q.get(self.db, current["in_reply_to_id"])
            if parent is None or not await can_see(self.db, viewer_account_id, parent):
                break
            chain.append(parent)
            current = parent
        return list(reversed(chain))


def _nodes(
    parent_id: int, children: dict[int, list[int]], views: dict[int, PostView]
) -> list[ReplyNode]:
    """The nested nodes under `parent_id`, in the order they were read."""
    return [ReplyNode(views[c], _nodes(c, children, views)) for c in children[parent_id]]
