"""The feed and the composer (issue 14): page titles, the new-posts endpoint, times in the
reader's zone and language, the composer's counter and return to the feed, the delete
confirmation, and notifications grouped and filtered."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from quart import Quart

from instance import i18n
from instance.accounts.views import AccountView
from instance.config import ConfigError
from instance.feeds.notification_groups import group_notifications
from instance.feeds.notifications import NotificationView, NotifiedPost
from instance.web import times
from tests.helpers.social import account_id, act_ok, gapo, page, user, write
from tests.helpers.web import make_settings, post_form

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def title(html: str) -> str:
    found = re.search(r"<title>([^<]*)</title>", html)
    assert found, html[:200]
    return found.group(1)


# --- Titles ---


async def test_feed_timeline_tag_and_post_pages_have_meaningful_titles(app: Quart) -> None:
    alice = await user(app, "alice")
    post_id = await write(alice, "Phở ngon nhất phố #amthuc")
    assert title(await page(alice, "/home")) == "Home · Gapo"
    assert title(await page(alice, "/public/local")) == "Local timeline · Gapo"
    assert title(await page(alice, "/public")) == "Federated timeline · Gapo"
    assert title(await page(alice, "/tags/amthuc")) == "Posts tagged #amthuc · Gapo"
    assert title(await page(alice, f"/p/{post_id}")) == "alice: “Phở ngon nhất phố #amthuc” · Gapo"


# --- New posts ---


async def test_newer_endpoint_counts_posts_above_the_top_of_the_feed(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await act_ok(alice, "/follow", account_id=str(await account_id(app, "bob")))
    top = await write(bob, "first")
    response = await alice.get(f"/home/newer?since={top}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.get_json() == {"count": 0, "capped": False}
    await write(bob, "second")
    await write(bob, "third")
    await write(alice, "mine: seen at the top after posting, never announced")
    assert await (await alice.get(f"/home/newer?since={top}")).get_json() == {
        "count": 2,
        "capped": False,
    }
    # The public timelines answer too, for anyone.
    anonymous = app.test_client()
    local = await (await anonymous.get(f"/public/local/newer?since={top}")).get_json()
    assert local == {"count": 3, "capped": False}
    assert (await anonymous.get(f"/public/newer?since={top}")).status_code == 200
    # A cursor is needed; the home feed is only its owner's.
    assert (await alice.get("/home/newer")).status_code == 400
    assert (await alice.get("/home/newer?since=abc")).status_code == 400
    assert (await anonymous.get(f"/home/newer?since={top}")).status_code in (302, 401)


async def test_newer_count_is_capped(app: Quart) -> None:
    from instance.feeds.service import NEWER_CAP

    alice = await user(app, "alice")
    for n in range(NEWER_CAP + 1):
        await write(alice, f"post {n}")
    answer = await (await app.test_client().get("/public/local/newer?since=0")).get_json()
    assert answer == {"count": NEWER_CAP, "capped": True}


async def test_first_page_of_a_feed_carries_the_newer_posts_poll(app: Quart) -> None:
    alice = await user(app, "alice")
    post_id = await write(alice, "the top")
    html = await page(alice, "/home")
    assert f'data-newer-url="/home/newer?since={post_id}"' in html
    assert 'data-newer-page="/home"' in html
    # An older page is being read, not watched.
    assert "data-newer-url" not in await page(alice, f"/home?max_id={post_id}")


# --- Times ---


@pytest.mark.parametrize(
    ("age", "locale", "expected"),
    [
        (20, "en", "just now"),
        (20, "vi", "vừa xong"),
        (300, "en", "5 minutes ago"),
        (300, "vi", "5 phút trước"),
        (50 * 60, "en", "50 minutes ago"),
        (2 * 3600, "en", "2 hours ago"),
        (2 * 3600, "vi", "2 giờ trước"),
    ],
)
def test_relative_times_within_a_day(age: int, locale: str, expected: str) -> None:
    now = int(datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp())
    token = i18n.current_locale.set(locale)
    try:
        assert times.relative(now - age, now, locale, HCM) == expected
    finally:
        i18n.current_locale.reset(token)


def test_older_times_are_dates_in_the_locales_order_and_the_readers_zone() -> None:
    now = int(datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp())
    # 20:30 UTC on 5 March is already 6 March in Vietnam (UTC+7).
    march = int(datetime(2026, 3, 5, 20, 30, tzinfo=UTC).timestamp())
    assert times.relative(march, now, "en", HCM) == "Mar 6"
    assert times.relative(march, now, "vi", HCM) == "6 thg 3"
    assert times.relative(march, now, "en", ZoneInfo("America/New_York")) == "Mar 5"
    last_year = int(datetime(2025, 3, 5, 20, 30, tzinfo=UTC).timestamp())
    assert times.relative(last_year, now, "en", HCM) == "Mar 6, 2025"
    assert times.relative(last_year, now, "vi", HCM) == "6 thg 3, 2025"
    assert times.exact(march, "en", HCM).endswith("+0700")


def test_zone_names_are_checked_before_use() -> None:
    assert times.zone_named("Asia/Ho_Chi_Minh") == HCM
    for bad in ("", None, "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "A" * 200):
        assert times.zone_named(bad) is None, bad


def _hover_time(html: str) -> str:
    found = re.search(r'<time datetime="[^"]+" title="([^"]+)">', html)
    assert found, "no time on the card"
    return found.group(1)


async def test_times_follow_the_zone_cookie_and_a_bad_one_falls_back(app: Quart) -> None:
    alice = await user(app, "alice")
    post_id = await write(alice, "what time is it")
    # No zone from the browser yet: the instance default, Vietnam's.
    assert _hover_time(await page(alice, f"/p/{post_id}")).endswith("+0700")
    alice.set_cookie("localhost", times.TIME_ZONE_COOKIE, "America/New_York")
    assert re.search(r" E[SD]T$", _hover_time(await page(alice, f"/p/{post_id}")))
    for bad in ("Mars/Olympus", "../../../etc/passwd", "x" * 300):
        alice.set_cookie("localhost", times.TIME_ZONE_COOKIE, bad)
        assert _hover_time(await page(alice, f"/p/{post_id}")).endswith("+0700"), bad


async def test_instance_default_zone_is_a_setting(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    utc_app = await make_app(default_time_zone="UTC")
    alice = await user(utc_app, "alice")
    post_id = await write(alice, "in UTC")
    assert _hover_time(await page(alice, f"/p/{post_id}")).endswith(" UTC")
    with pytest.raises(ConfigError, match="DEFAULT_TIME_ZONE"):
        make_settings(tmp_path / "bad", default_time_zone="Mars/Olympus")


async def test_vietnamese_reader_sees_vietnamese_relative_times(app: Quart) -> None:
    alice = await user(app, "alice")
    await write(alice, "xin chào")
    await post_form(alice, "/settings/locale", {"locale": "vi", "next": "/home"}, csrf_from="/home")
    assert "vừa xong</time>" in await page(alice, "/home")


# --- Composer ---


async def test_composer_counts_up_to_the_limit_and_returns_to_the_feed(app: Quart) -> None:
    alice = await user(app, "alice")
    html = await page(alice, "/home")
    form = html[html.index('class="stack compose"') :]
    # The text field comes before every other field of the form.
    first_field = re.search(r"<(textarea|input(?! type=\"hidden\")|select)\b", form)
    assert first_field and first_field.group(1) == "textarea"
    limit = gapo(app).settings.max_post_chars
    assert f'data-max-chars="{limit}"' in form
    assert f"Up to {limit} characters" in form
    # The warning waits behind a toggle; each audience has its explanation.
    assert '<details class="compose-cw">' in form
    assert form.count('name="visibility"') == 4 and "Only the people you mention" in form
    assert '<input type="hidden" name="next" value="/home">' in form
    response = await post_form(
        alice, "/posts", {"text": "back to the feed", "next": "/home"}, csrf_from="/home"
    )
    post_id = int(re.search(r"post-(\d+)-card", response.headers["Location"]).group(1))  # type: ignore[union-attr]
    assert response.headers["Location"] == f"/home#post-{post_id}-card"
    feed = await page(alice, "/home")
    # The first card of the feed itself (a new person's page also has a welcome panel).
    posts = feed[feed.index('class="feed"') :]
    assert posts.index(f'id="post-{post_id}-card"') < posts.index("</section>")


async def test_a_draft_with_a_warning_keeps_the_toggle_open(app: Quart) -> None:
    alice = await user(app, "alice")
    limit = gapo(app).settings.max_post_chars
    response = await post_form(
        alice, "/posts", {"text": "x" * (limit + 1), "summary": "spoiler"}, csrf_from="/home"
    )
    assert response.status_code == 422
    assert '<details class="compose-cw" open>' in await response.get_data(as_text=True)


# --- Deleting ---


async def test_delete_asks_first_and_says_what_federates(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    post_id = await write(alice, "soon gone")
    post_page = await page(alice, f"/p/{post_id}")
    assert f'href="/p/{post_id}/delete" data-dialog="delete-{post_id}-dialog"' in post_page
    assert "other servers that received it are asked to delete it too" in post_page
    confirm = await page(alice, f"/p/{post_id}/delete")
    assert "Delete this post?" in confirm
    assert "asked to delete it too" in confirm
    assert f'action="/p/{post_id}/delete"' in confirm
    # Only the author is asked; anyone else finds nothing there.
    await page(bob, f"/p/{post_id}/delete", status=404)
    assert (
        await post_form(alice, f"/p/{post_id}/delete", {}, csrf_from="/home")
    ).status_code == 302
    assert (await alice.get(f"/p/{post_id}")).status_code in (404, 410)


# --- Notifications ---


def _view(n: int, kind: str, who: int, post: int | None, read: bool = True) -> NotificationView:
    account = AccountView(who, f"user{who}", None, True, f"User {who}", None, None, None)
    notified = NotifiedPost(post, "", "<p>text</p>") if post else None
    return NotificationView(n, kind, account, notified, 1000 + n, 1 if read else None)


def test_notifications_group_per_kind_and_post() -> None:
    items = [  # newest first, as a page is
        _view(9, "like", 4, 100, read=False),
        _view(8, "share", 2, 100),
        _view(7, "like", 3, 100),
        _view(6, "follow", 5, None),
        _view(5, "like", 2, 100),
        _view(4, "like", 2, 200),
        _view(3, "follow", 6, None),
        _view(2, "mention", 7, 300),
    ]
    groups = group_notifications(items)
    assert [(g.kind, g.post.id if g.post else None) for g in groups] == [
        ("like", 100),
        ("share", 100),
        ("follow", None),
        ("like", 200),
        ("mention", 300),
    ]
    likes = groups[0]
    assert [a.id for a in likes.accounts] == [4, 3, 2] and likes.others == 2
    assert likes.unread and likes.latest_id == 9 and likes.created_at == 1009
    assert groups[2].count == 2 and not groups[2].unread


async def test_notifications_page_groups_shows_text_and_filters_mentions(app: Quart) -> None:
    alice = await user(app, "alice")
    others = [await user(app, name) for name in ("lan", "minh", "hoa", "an")]
    post_id = await write(alice, "Bún chả Hà Nội", summary="đồ ăn")
    for other in others:
        await act_ok(other, f"/p/{post_id}/like")
    await write(others[0], "@alice nhìn ngon quá", in_reply_to=str(post_id))
    await write(others[1], "hello @alice")
    mentions = await page(alice, "/notifications?filter=mentions")
    assert 'aria-current="page">Mentions' in mentions
    assert "replied to your post" in mentions and "mentioned you" in mentions
    assert "liked your post" not in mentions
    everything = await page(alice, "/notifications")
    # The likes stayed unread while the mentions tab was read.
    assert everything.count('class="notification unread ') == 1
    assert everything.count("liked your post") == 1
    assert "and 3 others" in everything
    # The newest liker is named, with everyone's picture (a default one here).
    assert re.search(r"<strong>an</strong></a>\s*and 3 others\s*liked your post", everything)
    assert everything.count("avatar-initial") >= 4
    # The post's text is there, behind its warning.
    assert "<summary>đồ ăn</summary>" in everything and "Bún chả Hà Nội" in everything


# --- Follow buttons ---


async def test_follow_button_shows_requested_then_following_once_approved(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    alice_id = await account_id(app, "alice")
    await gapo(app).db.execute("UPDATE accounts SET locked = 1 WHERE id = :id", {"id": alice_id})
    profile = f"/accounts/{alice_id}"
    before = await page(bob, profile)
    # The form static/app.js sends in place, inside the fragment it swaps.
    assert f'data-fragment id="account-{alice_id}-relationship"' in before
    assert re.search(r'<form method="post" action="/follow"[^>]*data-enhance', before)
    await act_ok(bob, "/follow", account_id=str(alice_id))
    requested = await page(bob, profile)
    assert '<span class="state">Requested</span>' in requested and "Cancel request" in requested
    await act_ok(alice, "/follow_requests/approve", account_id=str(await account_id(app, "bob")))
    following = await page(bob, profile)
    assert '<span class="state">Following</span>' in following and ">Unfollow</button>" in following


# --- Avatars ---


async def test_cards_show_avatars_remote_ones_through_the_proxy(app: Quart) -> None:
    from dataclasses import replace

    from quart import render_template_string

    from tests.test_media_cards import post

    remote = AccountView(
        5, "gargron", "mastodon.example", False, "Eugen", "https://files.example/a.png", None, None
    )
    async with app.test_request_context("/public"):
        html = await render_template_string(
            '{% include "_post.html" %}', post=replace(post(), author=remote)
        )
        without = await render_template_string(
            '{% include "_post.html" %}',
            post=replace(post(), author=replace(remote, avatar_url=None)),
        )
    src = re.search(r'<img class="avatar avatar-small" src="([^"]+)"', html)
    assert src, html
    assert src.group(1).startswith("/media/proxy/")
    assert "files.example" not in html.split('<div class="content"')[0]
    # Nobody is left without a face: their initial, drawn here.
    assert '<span class="avatar avatar-small avatar-initial' in without and ">E</span>" in without
