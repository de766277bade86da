"""Feed pages from the card and page caches (web/feed_cards.py, web/feed_page.py).

A cached card is exactly what `{% include "_post.html" %}` renders, for every kind of
card and reader; a change to a post shows at once (edit, delete, like count, content
warning, attachments); what belongs to one reader (their like and share, reply count,
CSRF token, username, unread count) never reaches another from the caches; the caches
stay within their bounds.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from quart import Quart, g, render_template_string

from instance.accounts.views import AccountView
from instance.posts.views import PostView
from instance.web.feed_cards import CardCache, card_cache, nonce, render_cards
from instance.web.feed_page import page_cache
from instance.web.sync_templates import with_template_globals
from tests.helpers.social import account_id, act_ok, gapo, home, page, user, write
from tests.test_media_cards import photo, video

AUTHOR = AccountView(
    id=1,
    username="lan",
    domain=None,
    local=True,
    display_name="Lan <b>&</b>",
    avatar_url="https://remote.example/a.png",
    ap_id=None,
    url=None,
)
SHARER = replace(AUTHOR, id=2, username="minh", display_name="Minh", avatar_url=None)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def view(post_id: int, **changes: Any) -> PostView:
    base = PostView(
        id=post_id,
        author=AUTHOR,
        local=True,
        ap_id=None,
        url=None,
        in_reply_to_id=None,
        in_reply_to_ap_id=None,
        content_html=f"<p>Bài {post_id} &amp; <a href='/x'>link</a></p>",
        summary="",
        sensitive=False,
        visibility="public",
        language="vi",
        created_at=1_700_000_000,
        updated_at=None,
        replies_count=3,
        likes_count=5,
        shares_count=1,
    )
    return replace(base, **changes)


VARIANTS = [
    view(1),
    view(2, liked=True),
    view(3, shared=True, liked=True),
    view(4, visibility="followers", summary="spoilers <i>", updated_at=1_700_000_100),
    view(5, visibility="direct", language=None, replies_count=0),
    view(6, shared_by=SHARER, feed_id=99, visibility="unlisted"),
    view(7, media=(photo(11), video(21)), sensitive=True),
    view(8, media=(photo(12, state="processing", url=None),), summary="cw"),
    # Text that looks like a marker of another process is only text.
    view(9, content_html="<p>\ue000deadbeefdeadbeef:csrf\ue001 gapodeadbeefcsrfmark</p>"),
]


async def _both(
    app: Quart, views: list[PostView], *, signed_in: bool, locale: str, reader: int = 1
) -> tuple:
    async with app.test_request_context("/home?max_id=5&x=<1>"):
        if signed_in:
            g.user = {"account_id": reader, "username": "lan", "locale": locale}
        g.locale = locale
        from instance import i18n

        i18n.current_locale.set(locale)
        fresh = await render_template_string(
            '{% for post in posts %}{% include "_post.html" %}{% endfor %}',
            posts=views,
            post_actions=True,
        )
        context = await with_template_globals({"post_actions": True})
        first = render_cards(views, context)
        second = render_cards(views, context)
        return fresh, first, second


async def test_cached_cards_are_what_the_template_renders(app: Quart) -> None:
    for signed_in in (True, False):
        for locale in ("en", "vi"):
            fresh, first, second = await _both(app, VARIANTS, signed_in=signed_in, locale=locale)
            assert first == fresh
            assert second == fresh
            assert "\ue000" + nonce() not in second
    cache = card_cache(app)
    assert len(cache) == 4 * len(VARIANTS)  # two readers' kinds × two locales
    assert cache.hits >= 4 * len(VARIANTS)


async def test_a_changed_view_is_a_new_card(app: Quart) -> None:
    before = view(1)
    changes: list[dict[str, Any]] = [
        {"content_html": "<p>edited</p>", "updated_at": 1_700_000_500},
        {"likes_count": 6},
        {"shares_count": 2},
        {"summary": "now with a warning"},
        {"sensitive": True, "media": (photo(11),)},
        {"media": (photo(11, description="new alt"),)},
        {"media": (video(21, state="processing", url=None),)},
        {"author": replace(AUTHOR, display_name="Lan renamed")},
        {"visibility": "unlisted"},
        {"liked": True},
    ]
    for change in changes:
        after = replace(before, **change)
        fresh, first, second = await _both(app, [before, after], signed_in=True, locale="en")
        assert first == fresh and second == fresh
        one, two = fresh.split("</article>")[:2]
        assert one != two.replace('id="post-1-', 'id="post-1-')


async def test_per_reader_values_are_not_cached(app: Quart) -> None:
    """Same post, same cached card: each reader's reply count and relative time."""
    few, many = view(1, replies_count=1), view(1, replies_count=42)
    fresh, first, _ = await _both(app, [few, many], signed_in=True, locale="en")
    assert first == fresh
    assert ": 1</a>" in first and ": 42</a>" in first
    assert len(card_cache(app)) == 1


async def test_the_report_link_is_on_others_posts_only(app: Quart) -> None:
    """One cached card serves the author (no Report link on their own post) and everyone
    else (a Report link naming the author and the post)."""
    lans, minhs = view(1), view(2, author=SHARER)
    report = "/report?account_id={}&amp;post_id={}"
    fresh, first, second = await _both(app, [lans, minhs], signed_in=True, locale="en")
    assert first == fresh and second == fresh
    assert report.format(1, 1) not in first and report.format(2, 2) in first
    fresh, first, _ = await _both(app, [lans, minhs], signed_in=True, locale="en", reader=2)
    assert first == fresh
    assert report.format(1, 1) in first and report.format(2, 2) not in first
    assert len(card_cache(app)) == 2
    fresh, first, _ = await _both(app, [lans], signed_in=False, locale="en")
    assert "/report?" not in first and first == fresh


def test_the_cache_is_bounded() -> None:
    cache = CardCache(max_entries=2, max_chars=10_000)
    for n in range(3):
        cache.put(("k", n), ("x" * 100,), view(n, content_html=""))
    assert len(cache) == 2 and cache.get(("k", 0)) is None and cache.get(("k", 2)) is not None
    cache.get(("k", 1))  # now the most recent: 2 goes first
    cache.put(("k", 3), ("x" * 100,), view(3, content_html=""))
    assert cache.get(("k", 2)) is None and cache.get(("k", 1)) is not None
    big = CardCache(max_entries=100, max_chars=1_000)
    for n in range(5):
        big.put(("k", n), ("x" * 300,), view(n, content_html=""))
    assert big.chars <= 1_000 and len(big) == 3
    big.put(("huge",), ("x" * 2_000,), view(9, content_html=""))  # larger than the bound
    assert big.get(("huge",)) is None and big.chars <= 1_000
    off = CardCache(max_entries=0)
    off.put(("k",), ("x",), view(1))
    assert len(off) == 0


def _cards(body: str) -> str:
    """The page's cards, with the moments' text (which moves with the clock) left out."""
    start, end = body.index('class="feed">'), body.index("</section>")
    return re.sub(r"(<time [^>]*>)[^<]*", r"\1", body[start:end])


async def test_feed_pages_follow_every_change(app: Quart) -> None:
    lan, minh, reader = [await user(app, n) for n in ("lan", "minh", "reader")]
    for name in ("lan", "minh"):
        await act_ok(reader, "/follow", account_id=str(await account_id(app, name)))
    first = await write(lan, "bài đầu tiên", "public")
    second = await write(minh, "bài thứ hai", "followers")
    body = await home(reader)
    assert "bài đầu tiên" in body and "bài thứ hai" in body
    assert _cards(await home(reader)) == _cards(body)  # the second time from the cache

    await act_ok(lan, f"/p/{first}/edit", text="bài đã sửa", summary="")
    body = await home(reader)
    assert "bài đã sửa" in body and "bài đầu tiên" not in body and ">edited</a>" in body

    await act_ok(minh, f"/p/{first}/like")
    body = await home(reader)
    assert re.search(rf'/p/{first}/likes">Likes: <span class="like-count">1<', body)

    await act_ok(reader, f"/p/{first}/like")
    assert f'/p/{first}/unlike"' in await home(reader)
    # Lan's own page: the same cached card, with Lan's buttons, not the reader's.
    assert f'/p/{first}/like"' in await home(lan)

    await act_ok(lan, f"/p/{first}/edit", text="bài đã sửa", summary="cảnh báo")
    assert '<details class="cw"><summary>cảnh báo</summary>' in await home(reader)

    # An attachment that finishes processing (a transcode job writes its row).
    db = gapo(app).db
    await db.execute(
        "INSERT INTO media (id, account_id, post_id, position, kind, state, media_type,"
        " created_at) VALUES (5, :a, :p, 0, 'video', 'processing', 'video/mp4', 0)",
        {"a": await account_id(app, "minh"), "p": second},
    )
    assert 'data-media-processing="5"' in await home(reader)
    await db.execute(
        "UPDATE media SET state = 'ready', file_key = 'done.mp4', thumb_key = 'done.webp'"
        " WHERE id = 5"
    )
    body = await home(reader)
    assert 'data-media-processing="5"' not in body and "done.mp4" in body

    await act_ok(minh, f"/p/{second}/delete")
    body = await home(reader)
    assert "bài thứ hai" not in body

    # Every reader gets their own CSRF token and username around the shared cards.
    for client, name in ((reader, "reader"), (lan, "lan")):
        body = await home(client)
        tokens = set(CSRF_RE.findall(body))
        assert tokens == set(CSRF_RE.findall(await page(client, "/settings/profile")))
        assert f'class="tab" href="/@{name}"' in body
    assert len(page_cache(app)) >= 1 and page_cache(app).hits >= 1


async def test_unread_counts_and_usernames_stay_with_their_reader(app: Quart) -> None:
    lan, reader, sam = [await user(app, n) for n in ("lan", "reader", "sam")]
    for client in (reader, sam):
        await act_ok(client, "/follow", account_id=str(await account_id(app, "lan")))
    for name in ("reader", "sam"):  # one unread notification each
        await act_ok(lan, "/follow", account_id=str(await account_id(app, name)))
    post = await write(lan, "xin chào", "public")
    await act_ok(reader, f"/p/{post}/like")  # notifications for lan only
    pages = {name: await home(client) for name, client in (("lan", lan), ("reader", reader))}
    hits = page_cache(app).hits
    pages["sam"] = await home(sam)  # the same page around the cards as the reader's
    assert page_cache(app).hits == hits + 1
    assert "Notifications, 3 unread" in pages["lan"]
    tab = 'class="tab" href="/@{}"'
    for name, body in pages.items():
        assert ("Notifications, 1 unread" in body) == (name != "lan")
        for other in pages:
            assert (tab.format(other) in body) == (other == name)
