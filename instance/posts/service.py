"""Local posts and reactions: write the row and its deliveries in one transaction."""

from __future__ import annotations

import re
from typing import Any

from activitypub.html import text_to_html
from activitypub.vocab import PUBLIC
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import posts as posts_q
from instance.db import reactions as reactions_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.errors import N_, Forbidden, NotFound, ValidationFailed
from instance.federation import to_ap
from instance.federation.outbox import Outbox
from instance.federation.urls import LocalUrls
from instance.ids import IdGenerator, now
from instance.posts.visibility import can_see

VISIBILITIES = ("public", "unlisted", "followers", "direct")
MENTION_RE = re.compile(r"(?<![\w@/])@([a-z0-9_]{1,30})(?:@([a-z0-9.\-]+(?::\d+)?))?", re.I)


class PostService:
    def __init__(
        self, db: Database, ids: IdGenerator, outbox: Outbox, urls: LocalUrls, max_chars: int
    ) -> None:
        self.db = db
        self.ids = ids
        self.outbox = outbox
        self.urls = urls
        self.max_chars = max_chars

    # --- reading ---

    async def get_visible(self, viewer_account_id: int | None, post_id: int) -> Row:
        """The post if the viewer may see it; a forbidden post is exactly a missing one."""
        post = await posts_q.get(self.db, post_id)
        if post is None or not await can_see(self.db, viewer_account_id, post):
            raise NotFound()
        return post

    async def ap_id_of(self, post: Row) -> str:
        return self.urls.note(post["username"], post["id"]) if post["local"] else post["ap_id"]

    async def mentioned_actor_ids(self, post: Row) -> list[str]:
        ids = []
        for account_id in await posts_q.recipients(self.db, post["id"]):
            account = await accounts_q.get_by_id(self.db, account_id)
            if account is not None:
                ids.append(
                    self.urls.actor(account["username"]) if account["local"] else account["ap_id"]
                )
        return ids

    async def note_document(self, post: Row, *, with_context: bool = True) -> dict[str, Any]:
        parent = None
        if post["in_reply_to_id"]:
            parent_row = await posts_q.get(self.db, post["in_reply_to_id"])
            parent = await self.ap_id_of(parent_row) if parent_row else post["in_reply_to_ap_id"]
        mentioned = await self.mentioned_actor_ids(post)
        tags = [{"type": "Mention", "href": href} for href in mentioned]
        return to_ap.note(
            self.urls,
            post,
            mentioned=mentioned,
            in_reply_to=parent,
            tags=tags,
            with_context=with_context,
        )

    # --- writing ---

    async def _mentions(self, text: str) -> list[Row]:
        found: list[Row] = []
        for match in MENTION_RE.finditer(text):
            name, host = match.group(1), match.group(2)
            if host is None or host.lower() == self.urls.base_url.split("://", 1)[1]:
                account = await accounts_q.get_local_by_username(self.db, name)
            else:
                account = await accounts_q.get_by_username_domain(self.db, name, host)
            if account is not None and account["id"] not in {a["id"] for a in found}:
                found.append(account)
        return found

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
        text = text.strip()
        if not text:
            raise ValidationFailed(N_("Write something first."), field="text")
        if len(text) > self.max_chars:
            raise ValidationFailed(
                N_("A post has at most %(limit)d characters."), field="text", limit=self.max_chars
            )
        if visibility not in VISIBILITIES:
            raise ValidationFailed(N_("Unknown visibility."), field="visibility")
        parent = None
        if in_reply_to_id is not None:
            parent = await self.get_visible(author["id"], in_reply_to_id)
            # A reply never widens its parent's audience.
            if VISIBILITIES.index(visibility) < VISIBILITIES.index(parent["visibility"]):
                visibility = parent["visibility"]
        mentioned = await self._mentions(text)
        post_id = self.ids.next_id()
        ts = now()
        async with self.db.transaction() as tx:
            await posts_q.insert_post(
                tx,
                {
                    "id": post_id,
                    "account_id": author["id"],
                    "local": 1,
                    "ap_id": self.urls.note(author["username"], post_id),
                    "url": self.urls.note_page(author["username"], post_id),
                    "in_reply_to_id": parent["id"] if parent else None,
                    "in_reply_to_ap_id": await self.ap_id_of(parent) if parent else None,
                    "content_source": text,
                    "content_html": text_to_html(text),
                    "summary": summary.strip()[:500],
                    "sensitive": 1 if summary.strip() else 0,
                    "visibility": visibility,
                    "language": language,
                    "created_at": ts,
                },
            )
            await posts_q.add_recipients(tx, post_id, [a["id"] for a in mentioned])
            if parent is not None:
                await posts_q.bump_count(tx, parent["id"], "replies_count", 1)
            post = await posts_q.get(tx, post_id)
            assert post is not None
            await self._federate(tx, author, post, "Create", mentioned, parent)
        return post

    async def _federate(
        self,
        ex: Executor,
        author: Row,
        post: Row,
        kind: str,
        mentioned: list[Row],
        parent: Row | None,
    ) -> None:
        note = await self._note_in_tx(ex, post)
        to, cc = note["to"], note["cc"]
        activity_id = (
            f"{note['id']}/activity"
            if kind == "Create"
            else self.urls.activity(author["username"], kind.lower(), self.ids.next_id())
        )
        activity = to_ap.activity(
            kind,
            activity_id,
            self.urls.actor(author["username"]),
            note,
            to=to,
            cc=cc,
            published=post["updated_at"] or post["created_at"],
            context=note.pop("@context"),
        )
        also = list(mentioned)
        if parent is not None and not parent["author_local"]:
            parent_author = await accounts_q.get_by_id(ex, parent["account_id"])
            if parent_author is not None:
                also.append(parent_author)
        if post["visibility"] == "direct":
            await self.outbox.to_accounts(
                ex, signer_account_id=author["id"], activity=activity, accounts=also
            )
        else:
            await self.outbox.to_followers(
                ex, account_id=author["id"], activity=activity, also=also
            )

    async def _note_in_tx(self, ex: Executor, post: Row) -> dict[str, Any]:
        parent = None
        if post["in_reply_to_id"]:
            parent_row = await posts_q.get(ex, post["in_reply_to_id"])
            parent = await self.ap_id_of(parent_row) if parent_row else None
        mentioned = []
        for account_id in await posts_q.recipients(ex, post["id"]):
            account = await accounts_q.get_by_id(ex, account_id)
            if account is not None:
                mentioned.append(
                    self.urls.actor(account["username"]) if account["local"] else account["ap_id"]
                )
        tags = [{"type": "Mention", "href": href} for href in mentioned]
        return to_ap.note(self.urls, post, mentioned=mentioned, in_reply_to=parent, tags=tags)

    async def _own(self, author: Row, post_id: int) -> Row:
        post = await posts_q.get(self.db, post_id)
        if post is None or post["deleted_at"] is not None:
            raise NotFound()
        if post["account_id"] != author["id"]:
            raise Forbidden()
        return post

    async def edit(self, author: Row, post_id: int, text: str, summary: str = "") -> Row:
        post = await self._own(author, post_id)
        text = text.strip()
        if not text or len(text) > self.max_chars:
            raise ValidationFailed(
                N_("A post has at most %(limit)d characters."), field="text", limit=self.max_chars
            )
        mentioned = await self._mentions(text)
        async with self.db.transaction() as tx:
            await posts_q.add_edit(
                tx,
                edit_id=self.ids.next_id(),
                post_id=post_id,
                content_html=post["content_html"],
                summary=post["summary"],
                now=now(),
            )
            await posts_q.update_content(
                tx,
                post_id,
                {
                    "content_source": text,
                    "content_html": text_to_html(text),
                    "summary": summary.strip()[:500],
                    "sensitive": 1 if summary.strip() else 0,
                    "updated_at": now(),
                },
            )
            await posts_q.add_recipients(tx, post_id, [a["id"] for a in mentioned])
            updated = await posts_q.get(tx, post_id)
            assert updated is not None
            parent = (
                await posts_q.get(tx, post["in_reply_to_id"]) if post["in_reply_to_id"] else None
            )
            await self._federate(tx, author, updated, "Update", mentioned, parent)
        return updated

    async def history(self, viewer_account_id: int | None, post_id: int) -> list[Row]:
        await self.get_visible(viewer_account_id, post_id)
        return await posts_q.edits(self.db, post_id)

    async def delete(self, author: Row, post_id: int) -> None:
        post = await self._own(author, post_id)
        note_id = self.urls.note(author["username"], post_id)
        mentioned_ids = await posts_q.recipients(self.db, post_id)
        mentioned = [
            a
            for a in [await accounts_q.get_by_id(self.db, i) for i in mentioned_ids]
            if a is not None
        ]
        to, cc = to_ap.addressing(
            self.urls,
            post,
            [self.urls.actor(a["username"]) if a["local"] else a["ap_id"] for a in mentioned],
        )
        activity = to_ap.activity(
            "Delete",
            f"{note_id}#delete",
            self.urls.actor(author["username"]),
            {"id": note_id, "type": "Tombstone"},
            to=to,
            cc=cc,
        )
        async with self.db.transaction() as tx:
            await posts_q.mark_deleted(tx, post_id, now())
            if post["in_reply_to_id"]:
                await posts_q.bump_count(tx, post["in_reply_to_id"], "replies_count", -1)
            if post["visibility"] == "direct":
                await self.outbox.to_accounts(
                    tx, signer_account_id=author["id"], activity=activity, accounts=mentioned
                )
            else:
                await self.outbox.to_followers(
                    tx, account_id=author["id"], activity=activity, also=mentioned
                )

    # --- likes and shares ---

    async def react(self, account: Row, post_id: int, kind: str, *, undo: bool = False) -> None:
        """Like or share (kind 'likes' / 'shares') a visible post, or undo it; federated."""
        post = await self.get_visible(account["id"], post_id)
        if kind == "shares" and post["visibility"] not in ("public", "unlisted"):
            raise Forbidden(N_("Only public posts can be shared."))
        ap_type = "Like" if kind == "likes" else "Announce"
        column = f"{kind}_count"
        actor = self.urls.actor(account["username"])
        object_id = await self.ap_id_of(post)
        author = await accounts_q.get_by_id(self.db, post["account_id"])
        assert author is not None
        async with self.db.transaction() as tx:
            if undo:
                existing = await reactions_q.get(tx, kind, account["id"], post_id)
                if existing is None:
                    return
                await reactions_q.remove(tx, kind, account["id"], post_id)
                await posts_q.bump_count(tx, post_id, column, -1)
                original = {
                    "id": existing["ap_id"],
                    "type": ap_type,
                    "actor": actor,
                    "object": object_id,
                }
                activity = to_ap.activity(
                    "Undo",
                    self.urls.activity(account["username"], "undo", self.ids.next_id()),
                    actor,
                    original,
                )
            else:
                row_id = self.ids.next_id()
                ap_id = self.urls.activity(account["username"], kind, row_id)
                if not await reactions_q.add(
                    tx,
                    kind,
                    row_id=row_id,
                    account_id=account["id"],
                    post_id=post_id,
                    ap_id=ap_id,
                    now=now(),
                ):
                    return
                await posts_q.bump_count(tx, post_id, column, 1)
                activity = to_ap.activity(ap_type, ap_id, actor, object_id)
            if ap_type == "Announce":
                activity["to"] = [PUBLIC]
                activity["cc"] = [
                    author["ap_id"] or self.urls.actor(author["username"]),
                    self.urls.followers(account["username"]),
                ]
                await self.outbox.to_followers(
                    tx, account_id=account["id"], activity=activity, also=[author]
                )
            else:
                await self.outbox.to_accounts(
                    tx, signer_account_id=account["id"], activity=activity, accounts=[author]
                )

    async def by_account(
        self,
        viewer_account_id: int | None,
        account: Row,
        *,
        visibilities: tuple[str, ...],
        limit: int = 20,
        max_id: int | None = None,
    ) -> list[Row]:
        rows = await posts_q.by_account(
            self.db, account["id"], visibilities=visibilities, limit=limit, max_id=max_id
        )
        return [r for r in rows if await can_see(self.db, viewer_account_id, r)]

    async def replies(self, viewer_account_id: int | None, post_id: int) -> list[Row]:
        rows = await posts_q.replies_to(self.db, post_id)
        return [r for r in rows if await can_see(self.db, viewer_account_id, r)]

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

    async def my_reactions(self, viewer_account_id: int | None, post_id: int) -> dict[str, bool]:
        if viewer_account_id is None:
            return {"liked": False, "shared": False}
        return {
            "liked": await reactions_q.get(self.db, "likes", viewer_account_id, post_id)
            is not None,
            "shared": await reactions_q.get(self.db, "shares", viewer_account_id, post_id)
            is not None,
        }
