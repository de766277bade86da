"""The home feed and the public timelines; reply counts as the viewer may see them."""

from __future__ import annotations

from dataclasses import dataclass, field

from instance.db import Database, request_version
from instance.db import feeds as feeds_q
from instance.db.connection import Row
from instance.db.read_cache import VersionedCache
from instance.posts.reply_counts import with_visible_reply_counts
from instance.posts.views import PostView, post_views
from instance.posts.visibility import visible_posts
from instance.urls import LocalUrls

PAGE = 20
# The "new posts" indicator counts this far and then says "20+": counting further would
# only cost time, and nobody reads the exact number of a backlog.
NEWER_CAP = 20
# Reads of the home feed's two lists per page at most, when repeats and hidden shares
# leave a read short; each read is one indexed query per list.
MAX_READS = 4
# Home pages kept per worker (~40 kB each: 20 views), each answered only while the
# database is unchanged since it was read (db/read_cache.py).
HOME_PAGES_KEPT = 256


@dataclass(frozen=True)
class NewerCount:
    """How many entries arrived above a feed's top since the page was loaded."""

    count: int  # at most NEWER_CAP
    capped: bool  # there may be more than `count`


@dataclass(frozen=True)
class FeedPage:
    """A page of a feed and the cursor of the next one (None on the last page)."""

    posts: list[PostView] = field(default_factory=list)
    next_max_id: int | None = None


class FeedService:
    def __init__(self, db: Database, urls: LocalUrls) -> None:
        self.db = db
        self.urls = urls
        self.home_pages: VersionedCache[tuple[int, int | None], FeedPage] = VersionedCache(
            HOME_PAGES_KEPT
        )

    async def home(self, account_id: int, *, max_id: int | None = None) -> list[PostView]:
        """The rows of `home_page` (see there)."""
        return (await self.home_page(account_id, max_id=max_id)).posts

    async def home_page(self, account_id: int, *, max_id: int | None = None) -> FeedPage:
        """`read_home_page`, or the same page read earlier while nothing has been written
        since: one `PRAGMA data_version` instead of the page's eight reads (issue 15)."""
        # Read before the page: a commit after it makes another version, never an old
        # page under the new one.
        version = await request_version.version(self.db)
        key = (account_id, max_id)
        kept = self.home_pages.get(key, version)
        if kept is None:
            kept = await self.read_home_page(account_id, max_id=max_id)
            self.home_pages.put(key, version, kept)
        return FeedPage(posts=list(kept.posts), next_max_id=kept.next_max_id)

    async def read_home_page(self, account_id: int, *, max_id: int | None = None) -> FeedPage:
        """Own and followed posts merged with shares by the same accounts, newest first.

        Every row has `feed_id` (the post's id, or the share's for a share) to page by;
        both come from one time-sorted id generator, so one `max_id` pages both lists.
        A post already on the page (as itself or shared earlier) is not repeated.

        Repeats and hidden shares are skipped, so one read may not fill the page: reading
        goes on below the last row consumed (a bounded number of times), and the page
        carries the cursor of the last row consumed, not of the last row shown. So a short
        page never ends the listing while older rows exist.
        """
        # A little slack so that skipped repeats rarely leave a page short.
        fetch = PAGE + PAGE // 2
        page: list[Row] = []
        seen: set[int] = set()
        cursor = max_id
        more = True
        for _ in range(MAX_READS):
            posts = await feeds_q.home(self.db, account_id, limit=fetch, max_id=cursor)
            # Below the last of a full batch of posts nothing is taken in this read (the
            # floor below), so shares are read only above it.
            shares = await feeds_q.home_shares(
                self.db,
                account_id,
                limit=fetch,
                max_id=cursor,
                min_id=int(posts[-1]["id"]) if len(posts) == fetch else None,
            )
            # A full batch may continue past its last row: rows older than the newest such
            # boundary are not known completely yet, so they wait for the next read.
            floors = []
            if len(posts) == fetch:
                floors.append(int(posts[-1]["id"]))
            if len(shares) == fetch:
                floors.append(int(shares[-1]["feed_id"]))
            floor = max(floors) if floors else None
            more = floor is not None
            # The query mirrors can_see for shares; the bulk form of the rule keeps it the
            # authority, in one read for the whole batch (it was one block look-up per share:
            # 20 of a page's 25 reads when its entries were shares).
            shown_shares = (
                {int(r["feed_id"]) for r in await visible_posts(self.db, account_id, shares)}
                if shares
                else set()
            )
            # One list of feed entries: each post under its own id, each share under the share's.
            merged: list[Row] = [{**row, "feed_id": row["id"]} for row in posts]
            merged += shares
            merged.sort(key=lambda row: int(row["feed_id"]), reverse=True)
            full = False
            for row in merged:
                feed_id = int(row["feed_id"])
                if floor is not None and feed_id < floor:
                    break
                cursor = feed_id
                if row["id"] in seen:
                    continue
                if row.get("shared_by_id") is not None and feed_id not in shown_shares:
                    continue
                seen.add(row["id"])
                page.append(row)
                if len(page) == PAGE:
                    full = True
                    break
            if full:
                # More may follow: a list not read to its end, or rows left in this read.
                more = more or int(merged[-1]["feed_id"]) < int(row["feed_id"])
                break
            if not more:
                break  # both lists were read to their end
        rows = await with_visible_reply_counts(self.db, account_id, page)
        return FeedPage(
            posts=await post_views(self.db, account_id, rows, self.urls),
            next_max_id=cursor if more and cursor is not None else None,
        )

    async def newer(self, which: str, since: int, *, viewer_id: int | None = None) -> NewerCount:
        """Entries of the feed `which` ("home", "local", "federated") newer than the id
        `since` (a page's first `feed_id`), not counting the viewer's own posts: they see
        those at the top after posting."""
        if which == "home":
            if viewer_id is None:
                return NewerCount(0, False)
            found = await feeds_q.count_home_newer(self.db, viewer_id, since=since, cap=NEWER_CAP)
        else:
            found = await feeds_q.count_public_newer(
                self.db,
                local_only=which == "local",
                since=since,
                cap=NEWER_CAP,
                viewer_id=viewer_id,
            )
        return NewerCount(min(found, NEWER_CAP), found >= NEWER_CAP)

    async def local(self, *, max_id: int | None = None, viewer_id: int | None = None) -> FeedPage:
        return await self._public(local_only=True, max_id=max_id, viewer_id=viewer_id)

    async def federated(
        self, *, max_id: int | None = None, viewer_id: int | None = None
    ) -> FeedPage:
        return await self._public(local_only=False, max_id=max_id, viewer_id=viewer_id)

    async def _public(
        self, *, local_only: bool, max_id: int | None, viewer_id: int | None
    ) -> FeedPage:
        rows = await feeds_q.public(
            self.db, local_only=local_only, limit=PAGE, max_id=max_id, viewer_id=viewer_id
        )
        counted = await with_visible_reply_counts(self.db, viewer_id, rows)
        return FeedPage(
            posts=await post_views(self.db, viewer_id, counted, self.urls),
            next_max_id=int(rows[-1]["id"]) if len(rows) == PAGE else None,
        )
