"""A feed page (home, local, federated): the page around the cards, kept per kind of reader.

The page around the cards (`base.html`, `feed.html`, the composer) is ~60 translated
strings and ~30 URLs, 1.5-3.5 ms of rendering, and the same for every signed-in reader
of a feed in a language. So, like the cards (web/feed_cards.py), it is rendered once with
markers, cut at them and kept; a request joins the pieces with its own values: the CSRF
token, the reader's username (the profile tab), the cards, the "new posts" poll URL and
the "older posts" cursor.

The key is everything else the page reads: the locale, whether someone is signed in and
their unread count as the navigation shows it, the ActivityPub alternate, the request's
path and query, the feed (`title_key`, composer or not) and whether it has posts and an
older page. The reader is rendered as `ShellReader`, a view with a username only: a
template that read anything else of the signed-in person would fail to render (a typed
view, web/view_undefined.py) instead of keeping one reader's value for another. A page
with the getting-started panel (`welcome`, a new reader's) is rendered the same way but
not kept.

Size: at most `MAX_ENTRIES` pages (~8 kB each): readers of a feed share an entry per
language and unread count, so 256 entries hold every common variant.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

from markupsafe import escape
from quart import Quart, current_app, request

from instance.posts.views import PostView
from instance.web.context import csrf_token
from instance.web.feed_cards import nonce as card_nonce
from instance.web.feed_cards import render_cards
from instance.web.sync_templates import sync_template

MAX_ENTRIES = 256
_EXTENSION = "gapo_feed_page_cache"

# Letters and digits only: the username goes through url_for, which would quote anything
# else. Nothing but the page's own templates is in the page around the cards (no post
# text), and the nonce is random per process.
_NONCE = card_nonce()
SLOTS = ("csrf", "username", "cards", "newer", "older")
_MARK = {slot: f"gapo{_NONCE}{slot}mark" for slot in SLOTS}
_SPLIT = re.compile(f"gapo{_NONCE}({'|'.join(SLOTS)})mark")

Pieces = tuple[str, ...]


@dataclass(frozen=True)
class ShellReader:
    """The signed-in reader as the page around the cards may read them: a username."""

    username: str


class PageCache:
    """A bounded LRU of cut pages."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], Pieces] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[Any, ...]) -> Pieces | None:
        found = self._entries.get(key) if self.max_entries > 0 else None
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], pieces: Pieces) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = pieces
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def install(app: Quart) -> None:
    app.extensions[_EXTENSION] = PageCache()


def page_cache(app: Quart | None = None) -> PageCache:
    return cast(PageCache, (app or current_app).extensions[_EXTENSION])


def _key(
    context: dict[str, Any], posts: list[PostView], next_max_id: int | None
) -> tuple[Any, ...]:
    return (
        context.get("locale"),
        bool(context.get("current_user")),
        context.get("unread_notifications"),
        context.get("activitypub_alternate"),
        request.path,
        request.query_string,
        context.get("title_key"),
        context.get("compose"),
        context.get("post_actions"),
        bool(posts),
        bool(next_max_id),
    )


def render_feed_page(
    context: dict[str, Any], posts: list[PostView], *, newer_url: str, next_max_id: int | None
) -> str:
    """`feed.html` for `posts`, with `context` holding the template globals and the page's
    own values (`title_key`, `compose`, `post_actions`, `welcome`)."""
    cache = page_cache()
    user = context.get("current_user")
    key = _key(context, posts, next_max_id)
    keep = context.get("welcome") is None
    pieces = cache.get(key) if keep else None
    if pieces is None:
        html = sync_template("feed.html").render(
            {
                **context,
                "current_user": ShellReader(_MARK["username"]) if user else None,
                "csrf_token": lambda: _MARK["csrf"],
                "posts": posts,
                "cards": _MARK["cards"],
                "newer_url": _MARK["newer"],
                "next_max_id": _MARK["older"] if next_max_id else None,
            }
        )
        pieces = tuple(_SPLIT.split(html))
        if keep:
            cache.put(key, pieces)
    values: dict[str, str] = {}
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if not index % 2:
            out.append(piece)
            continue
        if piece not in values:
            values[piece] = _value(piece, context, posts, newer_url, next_max_id)
        out.append(values[piece])
    return "".join(out)


def _value(
    slot: str,
    context: dict[str, Any],
    posts: list[PostView],
    newer_url: str,
    next_max_id: int | None,
) -> str:
    if slot == "cards":
        return render_cards(posts, context)
    if slot == "csrf":
        return str(escape(csrf_token()))
    if slot == "username":
        return str(escape(context["current_user"]["username"]))
    if slot == "newer":
        return str(escape(newer_url))
    return str(escape(next_max_id))
