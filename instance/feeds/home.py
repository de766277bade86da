"""The home page of a signed-in person: the feed, and on an empty one what to do first."""

from __future__ import annotations

from dataclasses import dataclass

from instance.feeds.service import FeedPage, FeedService
from instance.feeds.suggestions import Suggestions, Welcome


@dataclass(frozen=True)
class HomePage:
    feed: FeedPage
    welcome: Welcome | None = None  # set on the first page while the home is still empty


class HomePages:
    def __init__(self, feeds: FeedService, suggestions: Suggestions) -> None:
        self.feeds = feeds
        self.suggestions = suggestions

    async def page(self, account_id: int, *, max_id: int | None = None) -> HomePage:
        """A page of the home feed; the first page of someone who follows nobody yet, or
        whose feed is empty, also carries the getting-started panel."""
        feed = await self.feeds.home_page(account_id, max_id=max_id)
        welcome = None
        if max_id is None and (
            not feed.posts
            or not (
                _follows_someone(account_id, feed)
                or await self.suggestions.follows_anyone(account_id)
            )
        ):
            welcome = await self.suggestions.welcome(account_id)
        return HomePage(feed=feed, welcome=welcome)


def _follows_someone(account_id: int, feed: FeedPage) -> bool:
    """True when the page itself proves an accepted follow: an entry of someone else's own
    (a post by them, or a share by them) is on a home feed only through one. Saves a read
    on nearly every page; False means "not known", and the follows are then read."""
    return any(
        (post.shared_by.id if post.shared_by else post.author.id) != account_id
        for post in feed.posts
    )
