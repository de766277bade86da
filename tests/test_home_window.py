"""The home feed's first read looks among the newest posts only (db/feeds.py HOME_WINDOWS),
and its shares only above a full batch of posts: the pages are the same as without."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Quart

from instance.db import feeds as feeds_q
from tests.helpers.social import account_id, act_ok, gapo, user, write


async def _all_pages(app: Quart, reader: int) -> list[list[tuple[int | None, int]]]:
    pages = []
    max_id = None
    while True:
        page = await gapo(app).feeds.read_home_page(reader, max_id=max_id)
        pages.append([(p.feed_id, p.id) for p in page.posts])
        if page.next_max_id is None:
            return pages
        max_id = page.next_max_id


@pytest.mark.parametrize("window", [1, 3, 7, 40])
async def test_windowed_reads_make_the_same_pages(
    app: Quart, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    reader, lan, minh, sam = [await user(app, n) for n in ("reader", "lan", "minh", "sam")]
    for name in ("lan", "minh"):
        await act_ok(reader, "/follow", account_id=str(await account_id(app, name)))
    written = []
    # Followed and other authors in turn, some shared, so windows cut through both lists.
    for n in range(26):
        author = (lan, minh, sam)[n % 3]
        written.append(await write(author, f"bài {n}", "followers" if n % 5 == 0 else "public"))
        if n % 4 == 1 and (n // 2) % 5:  # public ones only: the others cannot be shared
            await act_ok(minh, f"/p/{written[n // 2]}/share")
    me = await account_id(app, "reader")
    monkeypatch.setattr("instance.feeds.service.PAGE", 4)
    # The reference: no window, and every share read whatever the batch of posts.
    bounded = feeds_q.home_shares

    async def unbounded(*args: Any, **kwargs: Any) -> Any:
        return await bounded(*args, **{**kwargs, "min_id": None})

    monkeypatch.setattr(feeds_q, "HOME_WINDOWS", ())
    monkeypatch.setattr(feeds_q, "home_shares", unbounded)
    whole = await _all_pages(app, me)
    monkeypatch.setattr(feeds_q, "home_shares", bounded)
    for limit in (1, 5, 30):
        full = await feeds_q.home(gapo(app).db, me, limit=limit, max_id=None)
        monkeypatch.setattr(feeds_q, "HOME_WINDOWS", (window,))
        windowed = await feeds_q.home(gapo(app).db, me, limit=limit, max_id=None)
        assert [r["id"] for r in windowed] == [r["id"] for r in full]
        monkeypatch.setattr(feeds_q, "HOME_WINDOWS", ())
    monkeypatch.setattr(feeds_q, "HOME_WINDOWS", (window,))
    assert await _all_pages(app, me) == whole
    assert sum(len(p) for p in whole) > 10 and any(f != i for page in whole for f, i in page)
