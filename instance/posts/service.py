"""Local posts and reactions: checks what a person asked, then calls the post writer.

Validation and resolving mentions (network I/O) happen here, before any transaction; the
writes themselves, and what federates, are `posts/writes.py`, shared with the inbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from activitypub.entities import hashtags as find_hashtags
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import media as media_q
from instance.db import posts as posts_q
from instance.db.connection import Row
from instance.errors import N_, Forbidden, NotFound, ValidationFailed
from instance.ids import now
from instance.outbound.note_documents import NoteDocuments
from instance.posts.attachments import MAX_ATTACHMENTS, MAX_DESCRIPTION, Attachment
from instance.posts.languages import normalize_language
from instance.posts.mentions import Mentions, distinct
from instance.posts.reading import get_visible
from instance.posts.writes import Audience, NewPost, PostContent, PostWriter, shareable

VISIBILITIES = ("public", "unlisted", "followers", "direct")
MAX_SUMMARY = 500


@dataclass(frozen=True)
class MediaChoice:
    """An attachment as the author chose it: which upload, its alt text, its focal point."""

    media_id: int
    description: str | None = None  # None: keep the alt text given at upload
    focus: tuple[float, float] | None = None  # None: keep the focal point given at upload


def parse_focus(text: str | None) -> tuple[float, float]:
    """A focal point "x,y" (each -1..1, Mastodon's convention); the centre when malformed."""
    try:
        x_text, y_text = (text or "").split(",", 1)
        x, y = float(x_text), float(y_text)
    except ValueError:
        return (0.0, 0.0)
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):  # also refuses NaN
        return (0.0, 0.0)
    return (round(x, 2), round(y, 2))


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
        """The post if the viewer may see it (the rule lives in `posts/reading.py`)."""
        return await get_visible(self.db, viewer_account_id, post_id)

    # --- writing ---

    def _language(self, language: str | None) -> str | None:
        if not language or not language.strip():
            return None
        normalized = normalize_language(language)
        if normalized is None:
            raise ValidationFailed(N_("Unknown language."), field="language")
        return normalized

    def _text(self, text: str, *, with_media: bool = False) -> str:
        text = text.strip()
        if not text and not with_media:
            raise ValidationFailed(N_("Write something first."), field="text")
        if len(text) > self.max_chars:
            raise ValidationFailed(
                N_("A post has at most %(limit)d characters."), field="text", limit=self.max_chars
            )
        return text

    async def _attachments(
        self, author: Row, chosen: Sequence[MediaChoice], *, post_id: int | None = None
    ) -> tuple[Attachment, ...]:
        """The uploads a post will carry, checked: the author's, not on another post, ready."""
        if len(chosen) > MAX_ATTACHMENTS:
            raise ValidationFailed(
                N_("A post has at most %(limit)d attachments."),
                field="media",
                limit=MAX_ATTACHMENTS,
            )
        ids = list(dict.fromkeys(c.media_id for c in chosen))
        rows = {row["id"]: row for row in await media_q.unattached_of(self.db, author["id"], ids)}
        if post_id is not None:
            rows.update({row["id"]: row for row in await media_q.of_posts(self.db, [post_id])})
        result = []
        for choice in chosen:
            row = rows.get(choice.media_id)
            if row is None or row["account_id"] != author["id"]:
                raise ValidationFailed(
                    N_("An attachment was not found. Upload it again."), field="media"
                )
            if row["state"] == "processing":
                # Mastodon refuses the same way: a post never federates half-made media.
                raise ValidationFailed(
                    N_("A video is still being processed. Post again when it is ready."),
                    field="media",
                )
            if row["state"] != "ready":
                raise ValidationFailed(
                    N_("An attachment could not be processed. Remove it and try another file."),
                    field="media",
                )
            result.append(
                Attachment(
                    media_id=row["id"],
                    description=(
                        None
                        if choice.description is None
                        else choice.description.strip()[:MAX_DESCRIPTION]
                    ),
                    focus_x=choice.focus[0] if choice.focus else row["focus_x"],
                    focus_y=choice.focus[1] if choice.focus else row["focus_y"],
                )
            )
        return tuple(result)

    async def _content(
        self,
        text: str,
        summary: str,
        *,
        attachments: tuple[Attachment, ...] | None = None,
        sensitive: bool = False,
    ) -> tuple[PostContent, list[Row]]:
        """The version a text makes, and the accounts it mentions.

        Network I/O (WebFinger for remote mentions) happens here, never inside the write
        transaction: a slow peer must not hold the database's write lock.
        """
        resolved = await self.mentions.resolve(text)
        content = PostContent(
            content_source=text,
            content_html=self.mentions.render(text, resolved),
            summary=summary.strip()[:MAX_SUMMARY],
            # A content warning always hides the media too; without one, the author may
            # still mark photos sensitive (Mastodon's "mark media as sensitive").
            sensitive=bool(summary.strip()) or (sensitive and attachments != ()),
            hashtags=tuple(find_hashtags(text)),
            attachments=attachments,
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
        media: Sequence[MediaChoice] = (),
        sensitive: bool = False,
    ) -> Row:
        text = self._text(text, with_media=bool(media))
        attachments = await self._attachments(author, media)
        if visibility not in VISIBILITIES:
            raise ValidationFailed(N_("Unknown visibility."), field="visibility")
        parent = None
        if in_reply_to_id is not None:
            parent = await self.get_visible(author["id"], in_reply_to_id)
            # A reply never widens its parent's audience.
            if VISIBILITIES.index(visibility) < VISIBILITIES.index(parent["visibility"]):
                visibility = parent["visibility"]
        language = self._language(language)
        content, mentioned = await self._content(
            text, summary, attachments=attachments, sensitive=sensitive
        )
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

    async def edit(
        self,
        author: Row,
        post_id: int,
        text: str,
        summary: str = "",
        *,
        media: Sequence[MediaChoice] | None = None,
    ) -> Row:
        """A new version of one's post; `media` (when given) is what stays attached, with
        its alt text: attachments left out are removed."""
        post = await self._own(author, post_id)
        attachments = None
        if media is not None:
            attachments = await self._attachments(author, media, post_id=post_id)
            existing = {row["id"] for row in await media_q.of_posts(self.db, [post_id])}
            if any(a.media_id not in existing for a in attachments):
                # An edit changes alt text and removes; new files need a new post.
                raise ValidationFailed(
                    N_("An attachment was not found. Upload it again."), field="media"
                )
        remaining = (
            bool(attachments)
            if attachments is not None
            else bool(await media_q.of_posts(self.db, [post_id]))
        )
        text = self._text(text, with_media=remaining)
        content, mentioned = await self._content(
            text, summary, attachments=attachments, sensitive=bool(post["sensitive"])
        )
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
