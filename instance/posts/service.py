"""Local posts and reactions: write the row and its deliveries in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from activitypub.entities import hashtags as find_hashtags
from activitypub.entities import mentions as find_mentions
from activitypub.html import text_to_html
from activitypub.vocab import PUBLIC
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import posts as posts_q
from instance.db import reactions as reactions_q
from instance.db.connection import Row
from instance.db.executor import Executor
from instance.errors import N_, Forbidden, GapoError, NotFound, ValidationFailed
from instance.ids import IdGenerator, now
from instance.notifications.writer import Notifier
from instance.outbound import to_ap
from instance.outbound.outbox import Outbox
from instance.posts.hashtags import hashtag_tag, store_post_tags, tag_href
from instance.posts.languages import normalize_language
from instance.posts.reading import get_visible
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

VISIBILITIES = ("public", "unlisted", "followers", "direct")
# Each unknown remote handle costs a WebFinger query and an actor fetch before the post is
# saved; a post naming hundreds of handles must not turn into hundreds of requests.
MAX_MENTIONS = 10

MentionKey = tuple[str, str | None]  # (username lower-cased, host or None)


class AccountFinder(Protocol):
    """Finds an account by `@name@host`, over WebFinger when unknown (federation.Lookup)."""

    async def find(self, query: str) -> Row: ...


class PostService:
    def __init__(
        self,
        db: Database,
        ids: IdGenerator,
        outbox: Outbox,
        urls: LocalUrls,
        max_chars: int,
        *,
        lookup: AccountFinder | None = None,
        notifications: Notifier,
    ) -> None:
        self.db = db
        self.ids = ids
        self.outbox = outbox
        self.urls = urls
        self.max_chars = max_chars
        # Without a lookup (tests, tools) only accounts already stored can be mentioned.
        self.lookup = lookup
        self.notifications = notifications
        self.host = urls.base_url.split("://", 1)[1].lower()

    # --- reading ---

    async def get_visible(self, viewer_account_id: int | None, post_id: int) -> Row:
        """The post if the viewer may see it (the rule lives in `posts/reading.py`)."""
        return await get_visible(self.db, viewer_account_id, post_id)

    async def ap_id_of(self, post: Row) -> str:
        return self.urls.note(post["username"], post["id"]) if post["local"] else post["ap_id"]

    async def mentioned_actor_ids(self, post: Row) -> list[str]:
        ids = []
        for account_id in await posts_q.recipients(self.db, post["id"]):
            account = await accounts_q.get_by_id(self.db, account_id)
            if account is not None:
                ids.append(
                    self.urls.actor(account["username"])
                    if account["local"]
                    else str(account["ap_id"])
                )
        return ids

    async def note_document(self, post: Row, *, with_context: bool = True) -> dict[str, Any]:
        parent = None
        if post["in_reply_to_id"]:
            parent_row = await posts_q.get(self.db, post["in_reply_to_id"])
            parent = await self.ap_id_of(parent_row) if parent_row else post["in_reply_to_ap_id"]
        mentioned, tags = await self._addressees_and_tags(self.db, post)
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
        """The distinct accounts a text mentions (resolving unknown remote handles)."""
        return _distinct(list((await self._resolve_mentions(text)).values()))

    async def _resolve_mentions(self, text: str) -> dict[MentionKey, Row]:
        """Each mention that names an account, resolved before any write transaction starts.

        Unknown remote handles go through WebFinger, at most MAX_MENTIONS per text and all at
        once; one that fails (dead host, no such account) stays plain text.
        """
        found: dict[MentionKey, Row] = {}
        unknown: list[tuple[str, str]] = []
        account: Row | None
        for name, host in find_mentions(text)[:MAX_MENTIONS]:
            if host is None or host == self.host:
                account = await accounts_q.get_local_by_username(self.db, name)
            else:
                account = await accounts_q.get_by_username_domain(self.db, name, host)
                if account is None:
                    unknown.append((name, host))
                    continue
            if account is not None:
                found[(name, host)] = account
        if unknown and self.lookup is not None:
            results = await asyncio.gather(*(self._find_remote(n, h) for n, h in unknown))
            for key, account in zip(unknown, results, strict=True):
                if account is not None:
                    found[key] = account
        # The instance actor and suspended accounts are not people one can address.
        return {
            key: account
            for key, account in found.items()
            if account["ap_type"] != "Application" and account["suspended_at"] is None
        }

    async def _find_remote(self, name: str, host: str) -> Row | None:
        assert self.lookup is not None
        try:
            return await self.lookup.find(f"@{name}@{host}")
        except GapoError:
            return None
        except Exception:  # a mention never fails the post, whatever the peer did
            log.warning("resolving @%s@%s failed", name, host, exc_info=True)
            return None

    async def render_text(self, text: str) -> str:
        """Text written elsewhere (a bio) rendered like a post: links, tags and mentions."""
        return self._render(text, await self._resolve_mentions(text))

    def _render(self, text: str, resolved: dict[MentionKey, Row]) -> str:
        """The stored HTML: escaped, with URLs, hashtags and resolved mentions linked."""

        def mention_href(name: str, host: str | None) -> str | None:
            account = resolved.get((name.lower(), host))
            if account is None:
                return None
            if account["local"]:
                return self.urls.profile(account["username"])
            return str(account["ap_url"] or account["ap_id"])

        return text_to_html(
            text,
            hashtag_href=lambda name: tag_href(self.urls, name),
            mention_href=mention_href,
        )

    def _language(self, language: str | None) -> str | None:
        if not language or not language.strip():
            return None
        normalized = normalize_language(language)
        if normalized is None:
            raise ValidationFailed(N_("Unknown language."), field="language")
        return normalized

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
        language = self._language(language)
        # Network I/O (WebFinger for remote mentions) happens here, never inside the
        # transaction below: a slow peer must not hold the database's write lock.
        resolved = await self._resolve_mentions(text)
        mentioned = _distinct(list(resolved.values()))
        # The person answered is always addressed, named in the text or not (Mastodon and
        # GoToSocial do the same): otherwise a followers-only or direct reply would be
        # hidden from them, and a remote author would never be notified.
        addressed = _distinct(mentioned + await self._replied_to(author, parent))
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
                    "content_html": self._render(text, resolved),
                    "summary": summary.strip()[:500],
                    "sensitive": 1 if summary.strip() else 0,
                    "visibility": visibility,
                    "language": language,
                    "created_at": ts,
                },
            )
            await posts_q.add_recipients(tx, post_id, [a["id"] for a in addressed])
            await store_post_tags(tx, self.ids, post_id, find_hashtags(text), ts)
            if parent is not None:
                await posts_q.bump_count(tx, parent["id"], "replies_count", 1)
            await self.notifications.new_post(
                tx,
                author_id=author["id"],
                post_id=post_id,
                mentioned_ids=[a["id"] for a in mentioned],
                parent_id=parent["id"] if parent else None,
            )
            post = await posts_q.get(tx, post_id)
            assert post is not None
            await self._federate(tx, author, post, "Create", addressed)
        return post

    async def _replied_to(self, author: Row, parent: Row | None) -> list[Row]:
        """The parent's author as an addressee of a reply (nobody for one's own thread)."""
        if parent is None or parent["account_id"] == author["id"]:
            return []
        account = await accounts_q.get_by_id(self.db, parent["account_id"])
        if account is None or account["ap_type"] == "Application" or account["suspended_at"]:
            return []
        return [account]

    async def _federate(
        self,
        ex: Executor,
        author: Row,
        post: Row,
        kind: str,
        addressed: list[Row],
    ) -> None:
        """Create or Update of the note, to its audience; `addressed` already holds the
        mentioned and the author of the post it answers (see `_replied_to`)."""
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
        await self._send(ex, author, post, activity, addressed)

    async def _send(
        self,
        ex: Executor,
        author: Row,
        post: Row,
        activity: dict[str, Any],
        addressed: Sequence[Row],
    ) -> None:
        """A direct post's activity goes to its addressees only; any other to followers too."""
        if post["visibility"] == "direct":
            await self.outbox.to_accounts(
                ex, signer_account_id=author["id"], activity=activity, accounts=addressed
            )
        else:
            await self.outbox.to_followers(
                ex, account_id=author["id"], activity=activity, also=addressed
            )

    async def _note_in_tx(self, ex: Executor, post: Row) -> dict[str, Any]:
        parent = None
        if post["in_reply_to_id"]:
            parent_row = await posts_q.get(ex, post["in_reply_to_id"])
            parent = await self.ap_id_of(parent_row) if parent_row else None
        mentioned, tags = await self._addressees_and_tags(ex, post)
        return to_ap.note(self.urls, post, mentioned=mentioned, in_reply_to=parent, tags=tags)

    async def _addressees_and_tags(
        self, ex: Executor, post: Row
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Actor ids the note is addressed to, and its Mention and Hashtag tags.

        A mention must be both a tag and an address for Mastodon to notify the person.
        """
        mentioned: list[str] = []
        tags: list[dict[str, Any]] = []
        for account_id in await posts_q.recipients(ex, post["id"]):
            account = await accounts_q.get_by_id(ex, account_id)
            if account is None:
                continue
            href = (
                self.urls.actor(account["username"]) if account["local"] else str(account["ap_id"])
            )
            mentioned.append(href)
            domain = account["domain"] or self.host
            tags.append(
                {"type": "Mention", "href": href, "name": f"@{account['username']}@{domain}"}
            )
        tags.extend(hashtag_tag(self.urls, name) for name in find_hashtags(post["content_source"]))
        return mentioned, tags

    async def _own(self, author: Row, post_id: int) -> Row:
        post = await posts_q.get(self.db, post_id)
        if post is None or post["deleted_at"] is not None:
            raise NotFound()
        if post["account_id"] != author["id"]:
            raise NotFound()  # someone else's post answers like a missing one
        return post

    async def edit(self, author: Row, post_id: int, text: str, summary: str = "") -> Row:
        post = await self._own(author, post_id)
        text = text.strip()
        if not text:
            raise ValidationFailed(N_("Write something first."), field="text")
        if len(text) > self.max_chars:
            raise ValidationFailed(
                N_("A post has at most %(limit)d characters."), field="text", limit=self.max_chars
            )
        resolved = await self._resolve_mentions(text)
        mentioned = _distinct(list(resolved.values()))
        parent = (
            await posts_q.get(self.db, post["in_reply_to_id"]) if post["in_reply_to_id"] else None
        )
        # The edited text decides who is addressed: a dropped mention drops that person
        # (they keep what they already received, and are not sent the new version).
        addressed = _distinct(mentioned + await self._replied_to(author, parent))
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
                    "content_html": self._render(text, resolved),
                    "summary": summary.strip()[:500],
                    "sensitive": 1 if summary.strip() else 0,
                    # Peers keep an edit only when `updated` is strictly newer, and it is sent
                    # in whole seconds: two edits within a second must still differ.
                    "updated_at": max(now(), (post["updated_at"] or post["created_at"]) + 1),
                },
            )
            await posts_q.replace_recipients(tx, post_id, [a["id"] for a in addressed])
            # Someone newly mentioned by the edit hears of it; the others were told already.
            await self.notifications.new_post(
                tx,
                author_id=author["id"],
                post_id=post_id,
                mentioned_ids=[a["id"] for a in mentioned],
                parent_id=None,
            )
            await store_post_tags(tx, self.ids, post_id, find_hashtags(text), now())
            updated = await posts_q.get(tx, post_id)
            assert updated is not None
            await self._federate(tx, author, updated, "Update", addressed)
        return updated

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
            [self.urls.actor(a["username"]) if a["local"] else str(a["ap_id"]) for a in mentioned],
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
            await self._send(tx, author, post, activity, mentioned)

    # --- likes and shares ---

    async def react(self, account: Row, post_id: int, kind: str, *, undo: bool = False) -> None:
        """Like or share (kind 'likes' / 'shares') a visible post, or undo it; federated."""
        post = await self.get_visible(account["id"], post_id)
        if kind == "shares" and post["visibility"] not in ("public", "unlisted"):
            raise Forbidden(N_("Only public posts can be shared."))
        ap_type = "Like" if kind == "likes" else "Announce"
        notice = "like" if kind == "likes" else "share"
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
                await self.notifications.withdraw(
                    tx,
                    recipient_id=author["id"],
                    kinds=(notice,),
                    from_account_id=account["id"],
                    post_id=post_id,
                )
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
                await self.notifications.notify(
                    tx,
                    recipient=author,
                    kind=notice,
                    from_account_id=account["id"],
                    post_id=post_id,
                )
                # Mastodon and GoToSocial send `published` on an Announce; some peers want it.
                activity = to_ap.activity(ap_type, ap_id, actor, object_id, published=now())
            if ap_type == "Announce":
                author_id = author["ap_id"] or self.urls.actor(author["username"])
                followers = self.urls.followers(account["username"])
                # A share keeps the post's reach: an unlisted post is shared unlisted.
                if post["visibility"] == "unlisted":
                    activity["to"], activity["cc"] = [followers], [PUBLIC, author_id]
                else:
                    activity["to"], activity["cc"] = [PUBLIC], [author_id, followers]
                await self.outbox.to_followers(
                    tx, account_id=account["id"], activity=activity, also=[author]
                )
            else:
                await self.outbox.to_accounts(
                    tx, signer_account_id=account["id"], activity=activity, accounts=[author]
                )


def _distinct(accounts: list[Row]) -> list[Row]:
    """Accounts in order, each once (`@bob` and `@bob@ourhost` are one person)."""
    return list({int(a["id"]): a for a in accounts}.values())
