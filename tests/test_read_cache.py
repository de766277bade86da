"""Reads kept while the database is unchanged (db/read_cache.py): the home page, the
session's user and the unread count are answered from memory only under the version they
were read at, so every write is visible on the next request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from quart import Quart

from instance.db import request_version
from instance.db.read_cache import VersionedCache
from instance.db.sqlite import SqliteDatabase
from instance.feeds.service import FeedPage
from tests.helpers.social import account_id, act_ok, gapo, home, user, write


def test_an_entry_is_answered_only_under_its_version() -> None:
    cache: VersionedCache[str, int] = VersionedCache(2)
    cache.put("a", 1, 10)
    assert cache.get("a", 1) == 10
    assert cache.get("a", 2) is None
    cache.put("b", 1, 20)
    cache.put("c", 1, 30)  # past the bound: the least recently used ("a") goes
    assert cache.get("a", 1) is None and cache.get("c", 1) == 30
    cache.max_entries = 0  # off: nothing is answered
    assert cache.get("c", 1) is None


async def test_the_version_moves_on_every_commit_from_any_process(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite3"
    here, other = SqliteDatabase(path), SqliteDatabase(path)
    await here.open()
    await other.open()
    try:
        first = await here.version()
        assert await here.version() == first  # reads alone change nothing
        await here.execute("CREATE TABLE t (x INTEGER)")
        second = await here.version()
        assert second != first
        await other.execute("INSERT INTO t (x) VALUES (1)")  # another worker's write
        third = await here.version()
        assert third not in (first, second)
        # Reopened, the handle's counter starts again: its answers must not repeat.
        await here.close()
        await here.open()
        assert await here.version() not in (first, second, third)
    finally:
        await here.close()
        await other.close()


async def test_every_kind_of_write_shows_on_the_next_home_page(app: Quart) -> None:
    reader, lan, minh = [await user(app, n) for n in ("reader", "lan", "minh")]
    me = await account_id(app, "reader")
    feeds = gapo(app).feeds
    for name in ("lan", "minh"):
        await act_ok(reader, "/follow", account_id=str(await account_id(app, name)))
    first = await write(lan, "bài một")
    await write(minh, "bài hai")

    async def same_as_fresh() -> list[tuple[object, ...]]:
        def shown(page: FeedPage) -> list[tuple[object, ...]]:
            return [(p.feed_id, p.id, p.liked, p.likes_count, p.content_html) for p in page.posts]

        kept = shown(await feeds.home_page(me))
        assert kept == shown(await feeds.read_home_page(me))
        return kept

    await same_as_fresh()
    hits = feeds.home_pages.hits
    before = await same_as_fresh()
    assert feeds.home_pages.hits > hits  # nothing written: the kept page was answered

    lan_id, minh_id = await account_id(app, "lan"), await account_id(app, "minh")
    writes: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("a new post", lambda: write(lan, "bài ba")),
        ("a like", lambda: act_ok(reader, f"/p/{first}/like")),
        ("a share", lambda: act_ok(minh, f"/p/{first}/share")),
        ("an edit", lambda: act_ok(lan, f"/p/{first}/edit", text="bài một, sửa")),
        ("a mute", lambda: act_ok(reader, "/mute", account_id=str(minh_id))),
        ("an unmute", lambda: act_ok(reader, "/unmute", account_id=str(minh_id))),
        ("a block", lambda: act_ok(reader, "/block", account_id=str(lan_id))),
        ("an unblock", lambda: act_ok(reader, "/unblock", account_id=str(lan_id))),
        ("an unfollow", lambda: act_ok(reader, "/unfollow", account_id=str(minh_id))),
        ("a follow", lambda: act_ok(reader, "/follow", account_id=str(minh_id))),
        ("a deletion", lambda: act_ok(lan, f"/p/{first}/delete")),
        # A writer this cache knows nothing of (as account silencing will be): any commit
        # moves the version, so nothing needs to invalidate by hand.
        (
            "any other writer",
            lambda: gapo(app).db.execute(
                "UPDATE posts SET content_html = '<p>khác</p>' WHERE account_id = :id",
                {"id": minh_id},
            ),
        ),
    ]
    for what, change in writes:
        await change()
        after = await same_as_fresh()
        assert after != before, f"{what} did not change the home page"
        before = after


async def test_a_logout_and_a_new_notification_show_on_the_next_request(app: Quart) -> None:
    reader, lan = await user(app, "reader"), await user(app, "lan")
    kept = gapo(app).sessions.kept
    # The first pages after signing up write (last active, say), each moving the version.
    for _ in range(3):
        await home(reader)
    hits = kept.hits
    await home(reader)
    assert kept.hits > hits  # the session's user came from memory
    unread = gapo(app).notifications.unread_counts
    me = await account_id(app, "reader")
    assert await gapo(app).notifications.unread_count(me) == 0
    hits = unread.hits
    assert await gapo(app).notifications.unread_count(me) == 0
    assert unread.hits > hits
    await act_ok(lan, "/follow", account_id=str(me))
    assert await gapo(app).notifications.unread_count(me) == 1
    await act_ok(reader, "/logout")
    response = await reader.get("/home")
    assert response.status_code in (302, 303)  # signed out at once, not from a kept user


def count_version_reads(db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every answer of `db.version()` from now on, in order."""
    reads: list[int] = []
    read_version = db.version

    async def counted() -> int:
        reads.append(await read_version())
        return reads[-1]

    monkeypatch.setattr(db, "version", counted)
    return reads


async def test_one_home_page_request_reads_the_version_once(app: Quart, monkeypatch) -> None:
    """The session's user, the home page and the unread count of one request share one
    `Database.version()` read (db/request_version.py), and the page is still answered from
    the cache on the next request."""
    reader = await user(app, "reader")
    await home(reader)  # the sign-up's writes (and the last-active write) are behind us
    reads = count_version_reads(gapo(app).db, monkeypatch)
    hits = gapo(app).feeds.home_pages.hits
    await home(reader)
    assert len(reads) == 1
    assert gapo(app).feeds.home_pages.hits == hits + 1


async def test_a_snapshot_is_forgotten_by_its_own_write(tmp_path: Path, monkeypatch) -> None:
    """Within one request's snapshot the version stays put until the request itself commits;
    a task it spawned reads for itself; without a snapshot every call reads."""
    db = SqliteDatabase(tmp_path / "v.sqlite3")
    await db.open()
    reads = count_version_reads(db, monkeypatch)
    try:
        await request_version.version(db)
        await request_version.version(db)
        assert len(reads) == 2  # no request: no snapshot

        async def one_request() -> tuple[int, int, int]:
            request_version.begin()
            first = await request_version.version(db)
            assert await request_version.version(db) == first and len(reads) == 3
            await db.execute("CREATE TABLE t (x INTEGER)")
            second = await request_version.version(db)
            spawned = await asyncio.create_task(request_version.version(db))
            return first, second, spawned

        first, second, spawned = await asyncio.create_task(one_request())
        assert second != first  # the request's own write is seen
        assert spawned == second and len(reads) == 5  # the spawned task read again
    finally:
        await db.close()
