"""Local posts and reactions: checks what a person asked, then calls the post writer.

Validation and resolving mentions (network I/O) happen here, before any transaction; the
writes themselves, and what federates, are `posts/writes.py`, shared with the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from activitypub.entities import hashtags as find_hashtags
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.errors import N_, Forbidden, NotFound, PostDeleted, ValidationFailed
from instance.ids import now
from instance.outbound.note_documents import NoteDocuments
from instance.posts.languages import normalize_language
from instance.posts.mentions import Mentions, distinct
from instance.posts.reply_counts import with_visible_reply_counts
from instance.posts.visibility import can_see, could_have_seen, visible_posts
from instance.posts.writes import Audience, NewPost, PostContent, PostWriter, shareable

VISIBILITIES = ("public", "unlisted", "followers", "direct")
MAX_SUMMARY = 500
# The reply tree under a post page: deeper or larger threads are cut, not paged.
MAX_TREE_DEPTH = 12
MAX_TREE_NODES = 300


@dataclass(frozen=True)
class ReplyNode:
    """One visible reply and the visible replies under it."""

    post: Row
    children: list[ReplyNode]


@dataclass(frozen=True)
class Thread:
    """What a post page shows: the visible ancestors, the post, the visible reply tree."""

    post: Row
    ancestors: list[Row]
    replies: list[ReplyNode]


class PostService:
    def __init__(
        self,
        db: Database,
        writer: PostWriter,
        documents: NoteDocuments,
        mentions: Mentions,
        max_chars: int,
    ) -> None:
        self.db = db
        self.writer = writer
        self.documents = documents
        self.mentions = mentions
        self.max_chars = max_chars

    # --- reading ---

    async def get_visible(self, viewer_account_id: int | None, post_id: int) -> Row:
        """The post if the viewer may see it; a forbidden post is exactly a missing one.

        A deleted post is `PostDeleted` (410) to those who could have seen it, and to
        everyone else the same NotFound as a post that never existed.
        """
        post = await posts_q.get(self.db, post_id)
        if post is not None and post["deleted_at"] is not None:
            if await could_have_seen(self.db, viewer_account_id, post):
                raise PostDeleted()
            raise NotFound()
        if post is None or not await can_see(self.db, viewer_account_id, post):
            raise NotFound()
        return post

    # --- writing ---

    def _language(self, language: str | None) -> str | None:
        if not language or not language.strip():
            return None
        normalized = normalize_language(language)
        if normalized is None:
            raise ValidationFailed(N_("Unknown language."), field="language")
        return normalized

    def _text(self, text: str) -> str:
        text = text.strip()
        if not text:
            raise ValidationFailed(N_("Write something first."), field="text")
        if len(text) > self.max_chars:
            raise ValidationFailed(
                N_("A post has at most %(limit)d characters."), field="text", limit=self.max_chars
            )
        return text

    async def _content(self, text: str, summary: str) -> tuple[PostContent, list[Row]]:
        """The version a text makes, and the accounts it mentions.

        Network I/O (WebFinger for remote mentions) happens here, never inside the write
        transaction: a slow peer must not hold the database's write lock.
        """
        resolved = await self.mentions.resolve(text)
        content = PostContent(
            content_source=text,
            content_html=self.mentions.render(text, resolved),
            summary=summary.strip()[:MAX_SUMMARY],
            sensitive=bool(summary.strip()),
            hashtags=tuple(find_hashtags(text)),
        )
        return content, distinct(list(resolved.values()))

    def _audience(self, mentioned: list[Row], replied_to: list[Row]) -> Audience:
        # The person answered is always addressed, named in the text or not (Mastodon and
        # GoToSocial do the same): otherwise a followers-only or direct reply would be
        # hidden from them, and a remote author would never be notified.
        addressed = distinct(mentioned + replied_to)
        return Audience(
            addressed=tuple(int(a["id"]) for a in addressed),
            notified=tuple(int(a["id"]) for a in mentioned),
        )

    async def create(
        self,
        author: Row,
        text: str,
        *,
        visibility: str = "public",
        summary: str = "",
        in_reply_to_id: int | None = None,
        language: str | None = None,
    ) -> Row:
        text = self._text(text)
        if visibility not in VISIBILITIES:
            raise ValidationFailed(N_("Unknown visibility."), field="visibility")
        parent = None
        if in_reply_to_id is not None:
            parent = await self.get_visible(author["id"], in_reply_to_id)
            # A reply never widens its parent's audience.
            if VISIBILITIES.index(visibility) < VISIBILITIES.index(parent["visibility"]):
                visibility = parent["visibility"]
        language = self._language(language)
        content, mentioned = await self._content(text, summary)
        return await self.writer.create(
            NewPost(
                author=author,
                content=content,
                visibility=visibility,
                language=language,
                created_at=now(),
                audience=self._audience(mentioned, await self._replied_to(author, parent)),
                in_reply_to_id=parent["id"] if parent else None,
                in_reply_to_ap_id=self.documents.ap_id_of(parent) if parent else None,
            )
        )

    async def _replied_to(self, author: Row, parent: Row | None) -> list[Row]:
        """The parent's author as an addressee of a reply (nobody for one's own thread)."""
        if parent is None or parent["account_id"] == author["id"]:
            return []
        account = await accounts_q.get_by_id(self.db, parent["account_id"])
        if account is None or account["ap_type"] == "Application" or account["suspended_at"]:
            return []
        return [account]

    async def _own(self, author: Row, post_id: int) -> Row:
        post = await posts_q.get(self.db, post_id)
        if post is None or post["deleted_at"] is not None:
            raise NotFound()
        if post["account_id"] != author["id"]:
            raise NotFound()  # someone else's post answers like a missing one
        return post

    async def edit(self, author: Row, post_id: int, text: str, summary: str = "") -> Row:
        post = await self._own(author, post_id)
        text = self._text(text)
        content, mentioned = await self._content(text, summary)
        parent = (
            await posts_q.get(self.db, post["in_reply_to_id"]) if post["in_reply_to_id"] else None
        )
        return await self.writer.edit(
            post,
            content,
            self._audience(mentioned, await self._replied_to(author, parent)),
            # Peers keep an edit only when `updated` is strictly newer, and it is sent in
            # whole seconds: two edits within a second must still differ.
            updated_at=max(now(), (post["updated_at"] or post["created_at"]) + 1),
        )

    async def history(self, viewer_account_id: int | None, post_id: int) -> list[Row]:
        await self.get_visible(viewer_account_id, post_id)
        return await posts_q.edits(self.db, post_id)

    async def delete(self, author: Row, post_id: int) -> None:
        await self.writer.delete(await self._own(author, post_id))

    # --- likes and shares ---

    async def react(self, account: Row, post_id: int, kind: str, *, undo: bool = False) -> None:
        """Like or share (kind 'likes' / 'shares') a visible post, or undo it; federated."""
        post = await self.get_visible(account["id"], post_id)
        if kind == "shares" and not shareable(post):
            raise Forbidden(N_("Only public posts can be shared."))
        if undo:
            await self.writer.unreact(account, post_id, kind)
        else:
            await self.writer.react(account, post, kind)

    async def by_account(
        self,
        viewer_account_id: int | None,
        account: Row,
        *,
        visibilities: tuple[str, ...],
        limit: int = 20,
        max_id: int | None = None,
        with_replies: bool = True,
    ) -> list[Row]:
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
        return await with_visible_reply_counts(self.db, viewer_account_id, visible[:limit])

    async def public_count(self, account: Row) -> int:
        """Posts shown in the profile's count: public and unlisted only, so the number
        never tells a stranger how much an account writes for its followers."""
        return await posts_q.count_by_account(self.db, account["id"], ("public", "unlisted"))

    async def reply_tree(
        self,
        viewer_account_id: int | None,
        post_id: int,
        *,
        max_depth: int = MAX_TREE_DEPTH,
        max_nodes: int = MAX_TREE_NODES,
    ) -> list[ReplyNode]:
        """The conversation under a post as nested nodes, oldest first at each level.

        Read level by level (one query per depth). A reply the viewer may not see hides
        its whole branch: answers to a followers-only reply would otherwise reveal it.
        Depth and size are capped so a long or hostile thread costs a bounded read.
        """
        roots: list[ReplyNode] = []
        children_of: dict[int, list[ReplyNode]] = {post_id: roots}
        level = [post_id]
        seen = 0
        for _ in range(max_depth):
            rows = await posts_q.replies_to_any(self.db, level, limit=max_nodes - seen)
            level = []
            for row in await visible_posts(self.db, viewer_account_id, rows):
                node = ReplyNode(post=row, children=[])
                children_of[int(row["in_reply_to_id"])].append(node)
                children_of[int(row["id"])] = node.children
                level.append(int(row["id"]))
            seen += len(rows)
            if not level or seen >= max_nodes:
                break
        return await self._tree_with_counts(viewer_account_id, roots)

    async def _tree_with_counts(
        self, viewer_account_id: int | None, roots: list[ReplyNode]
    ) -> list[ReplyNode]:
        """The same tree with each reply's count as the viewer may see it."""
        flat: list[ReplyNode] = []
        stack = list(roots)
        while stack:
            node = stack.pop()
            flat.append(node)
            stack.extend(node.children)
        counted = await with_visible_reply_counts(
            self.db, viewer_account_id, [n.post for n in flat]
        )
        by_id = {int(row["id"]): row for row in counted}

        def rebuild(nodes: list[ReplyNode]) -> list[ReplyNode]:
            return [ReplyNode(by_id[int(n.post["id"])], rebuild(n.children)) for n in nodes]

        return rebuild(roots)

    async def thread(self, viewer_account_id: int | None, post_id: int) -> Thread:
        """The post page's content; every count in it is what this viewer may see."""
        post = await self.get_visible(viewer_account_id, post_id)
        ancestors = await self.ancestors(viewer_account_id, post)
        counted = await with_visible_reply_counts(self.db, viewer_account_id, [*ancestors, post])
        return Thread(
            post=counted[-1],
            ancestors=counted[:-1],
            replies=await self.reply_tree(viewer_account_id, post_id),
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
