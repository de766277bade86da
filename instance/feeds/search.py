"""Search: one query box for people, hashtags and local public posts.

A query that names one account (`@name@host`, `name@host`, a profile URL) opens that
profile, fetching a remote one over WebFinger as before; `@name` opens a local person of
exactly that name. Anything else is searched for: people by name and handle, tags by
name (`#việtnam` or `viet nam`), and the words of local public posts, all without regard
to case or diacritics (`db/search.py`). A query starting with `#` looks for tags only
(and the posts that carry the word).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instance.accounts.views import AccountView
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db import search as search_q
from instance.errors import N_, ValidationFailed
from instance.feeds.profiles import ProfilePage, ProfilePages
from instance.posts.reply_counts import with_visible_reply_counts
from instance.posts.views import PostView, post_views
from instance.posts.visibility import visible_posts
from instance.urls import LocalUrls
from webfinger.client import parse_handle

PAGE = 20
MAX_ACCOUNTS = 10
MAX_TAGS = 10
MAX_QUERY = 300


@dataclass(frozen=True)
class TagMatch:
    """A hashtag that matches, as its first writer spelt it, and how many posts carry it."""

    name: str
    uses: int


@dataclass(frozen=True)
class SearchResults:
    """What a search found; people and tags on the first page only, posts paged by id."""

    query: str
    accounts: list[AccountView] = field(default_factory=list)
    hashtags: list[TagMatch] = field(default_factory=list)
    posts: list[PostView] = field(default_factory=list)
    next_max_id: int | None = None  # for the "older posts" link; None on the last page

    @property
    def empty(self) -> bool:
        return not (self.accounts or self.hashtags or self.posts)


@dataclass(frozen=True)
class SearchOutcome:
    """Either the one profile the query named, or the results of searching for it."""

    profile: ProfilePage | None = None
    results: SearchResults | None = None


def names_one_account(query: str) -> bool:
    """A profile URL or a full handle: the existing lookup resolves it, remote ones too."""
    return query.startswith(("http://", "https://")) or parse_handle(query) is not None


class SearchService:
    def __init__(self, db: Database, urls: LocalUrls, profiles: ProfilePages) -> None:
        self.db = db
        self.urls = urls
        self.profiles = profiles

    async def search(
        self,
        viewer_id: int | None,
        query: str,
        *,
        max_id: int | None = None,
        with_replies: bool = False,
    ) -> SearchOutcome:
        """The profile a query names, or what it finds; a GapoError says why there is
        nothing to show (no account at that handle, or nothing searchable typed)."""
        query = " ".join(query.split())[:MAX_QUERY]
        if names_one_account(query):
            profile = await self.profiles.of_search(
                viewer_id, query, max_id=max_id, with_replies=with_replies
            )
            return SearchOutcome(profile=profile)
        if query.startswith("@") and " " not in query:
            local = await accounts_q.get_local_by_username(self.db, query[1:])
            if local is not None and local["ap_type"] == "Person" and not local["suspended_at"]:
                profile = await self.profiles.of_account(
                    viewer_id, local, max_id=max_id, with_replies=with_replies
                )
                return SearchOutcome(profile=profile)
            query = query[1:]  # no one of that name here: search for it as a name
        return SearchOutcome(results=await self.find(viewer_id, query, max_id=max_id))

    async def find(
        self, viewer_id: int | None, query: str, *, max_id: int | None = None
    ) -> SearchResults:
        """People, tags and posts matching the query (see the module's docstring)."""
        tags_only = query.startswith("#")
        words = query.lstrip("#")
        if not search_q.terms_of(words):
            raise ValidationFailed(
                N_("Type a name, a #hashtag or a few words to search for."), field="q"
            )
        accounts: list[AccountView] = []
        hashtags: list[TagMatch] = []
        if max_id is None:
            if not tags_only:
                rows = await search_q.accounts(
                    self.db, words, viewer_id=viewer_id, limit=MAX_ACCOUNTS
                )
                accounts = [AccountView.of_account(row) for row in rows]
            hashtags = [
                TagMatch(name=row["display_name"], uses=int(row["uses"]))
                for row in await search_q.hashtags(self.db, words, limit=MAX_TAGS)
            ]
        rows_read = await search_q.posts(
            self.db, words, viewer_id=viewer_id, limit=PAGE, max_id=max_id
        )
        # The query selects public posts only; can_see stays the one rule that decides.
        visible = await visible_posts(self.db, viewer_id, rows_read)
        visible = await with_visible_reply_counts(self.db, viewer_id, visible)
        return SearchResults(
            query=query,
            accounts=accounts,
            hashtags=hashtags,
            posts=await post_views(self.db, viewer_id, visible, self.urls),
            # Paging follows the rows read, so a filtered page never ends the listing early.
            next_max_id=int(rows_read[-1]["id"]) if len(rows_read) == PAGE else None,
        )
