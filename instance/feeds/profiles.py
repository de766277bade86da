"""Profile pages: an account as the viewer sees it, with a page of its posts.

One method per way a page names its account (a local username, an account id, an account
already found by a search); each returns everything the page shows as typed views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from instance.accounts.profile_fields import stored_fields
from instance.accounts.service import AccountService
from instance.accounts.views import AccountView
from instance.db.connection import Row
from instance.errors import AccountGone, NotFound
from instance.federation.lookup import Lookup, RemotePreview
from instance.federation.moves_in import MovedAccounts
from instance.posts.reading import PostReader
from instance.posts.views import PostView
from instance.relationships.mutes import MuteService
from instance.relationships.service import Relationships
from instance.relationships.views import ProfileField, ProfileView, RelationshipView

PAGE = 20
# Direct posts of a remote account are never listed on its profile, even to the mentioned.
LOCAL_VISIBILITIES = ("public", "unlisted", "followers", "direct")
REMOTE_VISIBILITIES = ("public", "unlisted", "followers")


@dataclass(frozen=True)
class ProfilePage:
    """A profile and one page of its posts; `next_max_id` pages on (None on the last)."""

    profile: ProfileView
    posts: list[PostView] = field(default_factory=list)
    # On the first page of a remote account: its latest posts as its own server lists them.
    remote_posts: list[dict[str, Any]] = field(default_factory=list)
    next_max_id: int | None = None


class ProfilePages:
    def __init__(
        self,
        accounts: AccountService,
        relationships: Relationships,
        mutes: MuteService,
        posts: PostReader,
        lookup: Lookup,
        *,
        moved: MovedAccounts | None = None,
    ) -> None:
        self.moved = moved
        self.accounts = accounts
        self.relationships = relationships
        self.mutes = mutes
        self.posts = posts
        self.lookup = lookup

    async def of_username(
        self,
        viewer_id: int | None,
        username: str,
        *,
        with_replies: bool = False,
        max_id: int | None = None,
    ) -> ProfilePage:
        """A local person's profile (`/@name`); NotFound for a missing or suspended one."""
        account = await self.accounts.profile(username)
        return await self.of_account(viewer_id, account, with_replies=with_replies, max_id=max_id)

    async def of_id(
        self,
        viewer_id: int | None,
        account_id: int,
        *,
        with_replies: bool = False,
        max_id: int | None = None,
    ) -> ProfilePage:
        """Any account's profile; suspended accounts and server actors have none."""
        account = await self.accounts.account(account_id)
        if account["deleted_at"] is not None and account["local"]:
            raise AccountGone()
        if account["suspended_at"] or account["ap_type"] == "Application":
            raise NotFound()
        return await self.of_account(viewer_id, account, with_replies=with_replies, max_id=max_id)

    async def of_search(
        self,
        viewer_id: int | None,
        query: str,
        *,
        with_replies: bool = False,
        max_id: int | None = None,
    ) -> ProfilePage:
        """The profile a search finds (`@name@host`, a handle or an actor URL, resolved over
        WebFinger when it is not known yet); a GapoError says why none was found."""
        account = await self.lookup.find(query)
        return await self.of_account(viewer_id, account, with_replies=with_replies, max_id=max_id)

    async def of_account(
        self,
        viewer_id: int | None,
        account: Row,
        *,
        with_replies: bool = False,
        max_id: int | None = None,
    ) -> ProfilePage:
        """The profile of an account row (from a search, or the two methods above)."""
        relationship = None
        if viewer_id is not None and viewer_id != account["id"]:
            relationship = await self._relationship(viewer_id, int(account["id"]))
        followers, following = await self.relationships.counts(account["id"])
        posts = await self.posts.by_account(
            viewer_id,
            account,
            visibilities=LOCAL_VISIBILITIES if account["local"] else REMOTE_VISIBILITIES,
            limit=PAGE,
            max_id=max_id,
            with_replies=with_replies,
        )
        preview = RemotePreview()
        blocked = relationship is not None and (relationship.blocking or relationship.blocked_by)
        # Only signed-in viewers make us ask the remote server (and then at most every few
        # minutes per account); anonymous viewers see what is stored here.
        if viewer_id is not None and not account["local"] and not blocked:
            # Posts read from the remote server bypass can_see: a block hides them here too.
            preview = await self.lookup.remote_preview(account)
        profile = ProfileView(
            account=AccountView.of_account(account),
            header_url=account["header_url"] or None,
            note_html=str(account["note_html"] or ""),
            fields=tuple(
                ProfileField(name=f["name"], value_html=f["value_html"])
                for f in stored_fields(account["fields_json"])
            ),
            posts_count=await self.posts.public_count(account),
            # A remote account's own totals when its server tells them, never fewer than
            # the follows known here (the totals are cached for minutes; a new follow
            # counts at once).
            followers_count=max(followers, preview.followers_total or 0),
            following_count=max(following, preview.following_total or 0),
            relationship=relationship,
            moved_to=await self._moved_to(account),
        )
        return ProfilePage(
            profile=profile,
            posts=posts,
            remote_posts=preview.posts if max_id is None else [],
            next_max_id=posts[-1].id if len(posts) >= PAGE else None,
        )

    async def _moved_to(self, account: Row) -> AccountView | None:
        """Where the account moved, when it did (and the new account is known here)."""
        if self.moved is None:
            return None
        target = await self.moved.moved_to_account(int(account["id"]))
        return None if target is None else AccountView.of_account(target)

    async def _relationship(self, viewer_id: int, account_id: int) -> RelationshipView:
        return RelationshipView(
            follow_state=await self.relationships.state(viewer_id, account_id),
            followed_by=await self.relationships.state(account_id, viewer_id) == "accepted",
            blocking=await self.relationships.is_blocked(viewer_id, account_id),
            blocked_by=await self.relationships.is_blocked(account_id, viewer_id),
            muting=await self.mutes.is_muted(viewer_id, account_id),
        )
