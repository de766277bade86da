"""Mentions in local text: which accounts `@name` and `@name@host` name, and the HTML.

Unknown remote handles are resolved over WebFinger before any write transaction starts
(a slow peer must never hold the database's write lock), at most MAX_MENTIONS per text.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from activitypub.entities import mentions as find_mentions
from activitypub.html import text_to_html
from instance.db import Database
from instance.db import accounts as accounts_q
from instance.db.connection import Row
from instance.errors import GapoError
from instance.outbound.to_ap.notes import tag_href
from instance.urls import LocalUrls

log = logging.getLogger(__name__)

# Each unknown remote handle costs a WebFinger query and an actor fetch before the post is
# saved; a post naming hundreds of handles must not turn into hundreds of requests.
MAX_MENTIONS = 10

MentionKey = tuple[str, str | None]  # (username lower-cased, host or None)


class AccountFinder(Protocol):
    """Finds an account by `@name@host`, over WebFinger when unknown (federation.Lookup)."""

    async def find(self, query: str) -> Row: ...


def distinct(accounts: list[Row]) -> list[Row]:
    """Accounts in order, each once (`@bob` and `@bob@ourhost` are one person)."""
    return list({int(a["id"]): a for a in accounts}.values())


class Mentions:
    def __init__(self, db: Database, urls: LocalUrls, lookup: AccountFinder | None = None) -> None:
        self.db = db
        self.urls = urls
        # Without a lookup (tests, tools) only accounts already stored can be mentioned.
        self.lookup = lookup
        self.host = urls.base_url.split("://", 1)[1].lower()

    async def accounts(self, text: str) -> list[Row]:
        """The distinct accounts a text mentions (resolving unknown remote handles)."""
        return distinct(list((await self.resolve(text)).values()))

    async def resolve(self, text: str) -> dict[MentionKey, Row]:
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
        return self.render(text, await self.resolve(text))

    def render(self, text: str, resolved: dict[MentionKey, Row]) -> str:
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
