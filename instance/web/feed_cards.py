"""The post cards of a feed page: each rendered once per version of the post, then reused.

A card (`templates/_post.html`) costs about a millisecond to render and a feed page has 20;
most of them are the same for every reader and every request until the post changes. So a
card is rendered once with markers where a reader's own values go, cut at the markers, and
kept; a page joins the kept pieces with its reader's values.

What is cached is a pure function of its key, so nothing is ever invalidated by hand: the
key is every field of the `PostView` the card shows (its content and edit time, content
warning, sensitivity, visibility, language, author as shown, like and share counts, every
attachment with its state, who shared it onto the feed, and the reader's own like and
share, which change the buttons), plus whether someone is signed in, the locale and the
reader's time zone (the exact time in the `title`). An edit, a delete, a new like, a
finished transcode or a renamed author makes another key; the old entry is never asked for
again and falls out of the LRU. Which posts a reader sees is decided before, by the same
queries and visibility rule as without the cache: the cache only turns a view into HTML.

The reader's own values are applied to the pieces on every request, never cached: the
CSRF token, the page to come back to (`next`), the reply count the reader may see
(tests/test_visibility_matrix.py: it differs between readers), and the relative time
("5 minutes ago"), which changes with the clock. What only another's post offers (the
Report link) is cut out between two markers and left out, per request, of the reader's own
posts, so one card serves its author and everyone else. The markers carry a random
per-process nonce, so no text in a post can forge one.

Size: at most `MAX_ENTRIES` cards and `MAX_CHARS` characters of kept text (pieces plus the
content held by the key), whichever comes first: 4,096 cards of ~2.5 kB on the bench's
feed are ~10 MB per worker, enough for the first pages of a few hundred active readers.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from markupsafe import escape
from quart import Quart, current_app, g

from instance.i18n import DEFAULT_LOCALE
from instance.posts.views import PostView
from instance.web.context import ago, csrf_token, here, reader_zone
from instance.web.sync_templates import sync_template

MAX_ENTRIES = 4096
MAX_CHARS = 12 * 1024 * 1024
_EXTENSION = "gapo_card_cache"

_NONCE = secrets.token_hex(8)
SLOTS = ("csrf", "here", "replies", "ago", "others", "/others")
_MARK = {slot: f"\ue000{_NONCE}:{slot}\ue001" for slot in SLOTS}
_SPLIT = re.compile(f"\ue000{_NONCE}:({'|'.join(SLOTS)})\ue001")

# Everything a card shows of a view but the per-reader reply count; `feed_id` (the share's
# or the post's cursor) is not shown. New fields of PostView join the key by themselves.
_PER_READER = ("replies_count", "feed_id")
_KEYED = operator.attrgetter(
    *(f.name for f in dataclasses.fields(PostView) if f.name not in _PER_READER)
)

Pieces = tuple[str, ...]  # literal, slot name, literal, slot name, ..., literal
CardKey = tuple[Any, ...]


class CardCache:
    """A bounded LRU of cut cards (see the module docstring)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[CardKey, tuple[Pieces, int]] = OrderedDict()
        self.chars = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CardKey) -> Pieces | None:
        found = self._entries.get(key) if self.max_entries > 0 else None
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: CardKey, pieces: Pieces, view: PostView) -> None:
        if self.max_entries <= 0:
            return
        size = sum(len(p) for p in pieces) + len(view.content_html)
        if size > self.max_chars:
            return
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.chars -= previous[1]
        self._entries[key] = (pieces, size)
        self.chars += size
        while len(self._entries) > self.max_entries or self.chars > self.max_chars:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.chars -= dropped

    def clear(self) -> None:
        self._entries.clear()
        self.chars = 0


def install(app: Quart) -> None:
    app.extensions[_EXTENSION] = CardCache()


def card_cache(app: Quart | None = None) -> CardCache:
    return cast(CardCache, (app or current_app).extensions[_EXTENSION])


def nonce() -> str:
    """The random part of this process's markers (also used by web/feed_page.py)."""
    return _NONCE


@dataclass(frozen=True)
class CardReader:
    """The signed-in reader as a card may read them: only that someone is (a card that
    read anything of the reader would fail to render rather than keep one reader's value
    for all; web/view_undefined.py)."""


def card_key(view: PostView, *, signed_in: bool, locale: str, zone: str) -> CardKey:
    return (signed_in, locale, zone, _KEYED(view))


def cut(html: str) -> Pieces:
    """A card rendered with markers, as literal pieces and slot names in turn."""
    return tuple(_SPLIT.split(html))


def _marker(slot: str) -> Callable[..., str]:
    mark = _MARK[slot]  # escaping leaves it as it is
    return lambda *_args: mark


def _render_pieces(view: PostView, context: dict[str, Any]) -> Pieces:
    # The template only prints the count, so a marker string stands in for the number.
    marked = dataclasses.replace(view, replies_count=cast(int, _MARK["replies"]))
    html = sync_template("_post.html").render(
        {
            **context,
            "post": marked,
            "current_user": CardReader() if context.get("current_user") else None,
            "csrf_token": _marker("csrf"),
            "here": _marker("here"),
            "ago": _marker("ago"),
            "others_only": _marker("others"),
            "end_others_only": _marker("/others"),
        }
    )
    return cut(html)


def render_cards(posts: Sequence[PostView], context: dict[str, Any]) -> str:
    """The cards of `posts` (HTML), one after another, as `{% include "_post.html" %}` in a
    loop over them would render them with this page's `context` (its template globals)."""
    cache = card_cache()
    signed_in = bool(context.get("current_user"))
    locale = str(g.get("locale", DEFAULT_LOCALE))
    zone = reader_zone().key
    reader = context.get("current_user")
    reader_account = reader["account_id"] if reader else None
    shared: dict[str, str] = {}
    out: list[str] = []
    for view in posts:
        key = card_key(view, signed_in=signed_in, locale=locale, zone=zone)
        pieces = cache.get(key)
        if pieces is None:
            pieces = _render_pieces(view, context)
            cache.put(key, pieces, view)
        own = view.author.id == reader_account
        skipping = False
        for index, piece in enumerate(pieces):
            if piece == "others" and index % 2:
                skipping = own
            elif piece == "/others" and index % 2:
                skipping = False
            elif skipping:
                continue
            elif not index % 2:
                out.append(piece)
            elif piece == "replies":
                out.append(str(view.replies_count))
            elif piece == "ago":
                out.append(str(escape(ago(view.created_at))))
            else:
                if piece not in shared:  # once a page, and only when a card asks
                    shared[piece] = str(escape(csrf_token() if piece == "csrf" else here()))
                out.append(shared[piece])
    return "".join(out)
