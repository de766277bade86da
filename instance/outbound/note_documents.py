"""What a local post's Note needs from the database: its addressees, tags and parent.

Used by the post writers (Create, Update, Delete) and by serving (`federation/documents.py`),
so a note is the same document whether it is delivered or fetched.
"""

from __future__ import annotations

from typing import Any

from activitypub.entities import hashtags as find_hashtags
from instance.db import accounts as accounts_q
from instance.db import media as media_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.outbound import to_ap
from instance.outbound.to_ap.media import attachments
from instance.outbound.to_ap.notes import hashtag_tag, mention_tag
from instance.urls import LocalUrls


class NoteDocuments:
    def __init__(self, urls: LocalUrls) -> None:
        self.urls = urls
        self.host = urls.base_url.split("://", 1)[1].lower()

    def ap_id_of(self, post: Row) -> str:
        return self.urls.note(post["username"], post["id"]) if post["local"] else post["ap_id"]

    def actor_id_of(self, account: Row) -> str:
        return self.urls.actor(account["username"]) if account["local"] else account["ap_id"]

    async def addressees(self, ex: Executor, post: Row) -> list[Row]:
        """The accounts the post is addressed to (mentioned, and the author it answers)."""
        accounts = [
            await accounts_q.get_by_id(ex, i) for i in await posts_q.recipients(ex, post["id"])
        ]
        return [a for a in accounts if a is not None]

    async def addressees_and_tags(
        self, ex: Executor, post: Row
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Actor ids the note is addressed to, and its Mention and Hashtag tags.

        A mention must be both a tag and an address for Mastodon to notify the person.
        """
        mentioned: list[str] = []
        tags: list[dict[str, Any]] = []
        for account in await self.addressees(ex, post):
            href = self.actor_id_of(account)
            mentioned.append(href)
            domain = account["domain"] or self.host
            tags.append(mention_tag(href, f"@{account['username']}@{domain}"))
        tags.extend(hashtag_tag(self.urls, name) for name in find_hashtags(post["content_source"]))
        return mentioned, tags

    async def note(self, ex: Executor, post: Row, *, with_context: bool = True) -> dict[str, Any]:
        """The Note of a local post, as delivered and as served."""
        parent = None
        if post["in_reply_to_id"]:
            parent_row = await posts_q.get(ex, post["in_reply_to_id"])
            parent = self.ap_id_of(parent_row) if parent_row else post["in_reply_to_ap_id"]
        mentioned, tags = await self.addressees_and_tags(ex, post)
        media = attachments(self.urls, await media_q.of_posts(ex, [post["id"]]))
        return to_ap.note(
            self.urls,
            post,
            mentioned=mentioned,
            in_reply_to=parent,
            tags=tags,
            attachments=media,
            with_context=with_context,
        )

    async def addressing(self, ex: Executor, post: Row) -> tuple[list[str], list[str]]:
        """`to` and `cc` of the post's activities (its Delete, when the note is gone)."""
        return to_ap.addressing(
            self.urls, post, [self.actor_id_of(a) for a in await self.addressees(ex, post)]
        )
