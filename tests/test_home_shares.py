"""Shares in the home feed: by followed accounts, local and remote, newest share first."""

from __future__ import annotations

import re

from quart import Quart

from activitypub.vocab import parse_activity
from instance.federation.handle_reactions import handle_announce
from instance.posts.views import PostView
from tests.helpers.social import account_id, act, gapo, home, remote_account, user, write

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SHARED_BY = re.compile(r'<p class="shared-by"><a href="[^"]+">([^<]+)</a> shared</p>')


async def test_share_by_followed_local_account_appears_with_who_shared(app: Quart) -> None:
    """Bob follows Carol, not Alice: Carol's share of Alice's post is in Bob's feed, labelled."""
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    await act(bob, "/follow", account_id=str(await account_id(app, "carol")))
    post_id = await write(alice, "worth passing on")
    await write(carol, "words by carol")
    assert "worth passing on" not in await home(bob)
    response = await act(carol, f"/p/{post_id}/share")
    assert response.status_code in (302, 303)
    body = await home(bob)
    assert "worth passing on" in body
    assert SHARED_BY.findall(body) == ["carol"]
    # Newest first by the share: the older post shared now comes before Carol's own post.
    assert body.index("worth passing on") < body.index("words by carol")
    await act(carol, f"/p/{post_id}/unshare")
    assert "worth passing on" not in await home(bob)
    del alice


async def test_share_by_followed_remote_account_appears(app: Quart) -> None:
    """An Announce from a followed remote account puts the shared post in the home feed."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    services = gapo(app)
    remote = await remote_account(app)
    bob_row = await services.accounts.account(await account_id(app, "bob"))
    await services.relationship_writer.follow(bob_row, remote)
    await services.relationship_writer.approve(remote, bob_row)
    post_id = await write(alice, "shared across the fediverse")
    announce = {
        "id": f"{remote['ap_id']}/statuses/1/activity",
        "type": "Announce",
        "actor": remote["ap_id"],
        "object": services.urls.note("alice", post_id),
        "to": [PUBLIC],
    }
    assert await handle_announce(services.federation, parse_activity(announce), remote) == (
        "shared"
    )
    body = await home(bob)
    assert "shared across the fediverse" in body
    assert SHARED_BY.findall(body) == [remote["display_name"] or remote["username"]]
    del alice


async def test_home_pages_by_share_id_without_repeats_on_a_page(app: Quart) -> None:
    """Paging follows the share's id; a post shared by two followees shows once on a page."""
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    dave = await user(app, "dave")
    for name in ("alice", "carol", "dave"):
        await act(bob, "/follow", account_id=str(await account_id(app, name)))
    old = await write(alice, "an old favourite")
    for n in range(24):
        await write(alice, f"filler number {n}")
    await act(carol, f"/p/{old}/share")
    await act(dave, f"/p/{old}/share")
    rows = await services_home(app, "bob")
    assert rows[0].id == old and rows[0].shared_by is not None
    assert rows[0].shared_by.username == "dave"
    assert [r.id for r in rows].count(old) == 1
    assert len(rows) == 20
    first = await home(bob)
    assert first.count("an old favourite") == 1
    match = re.search(r'href="\?max_id=(\d+)"', first)
    assert match is not None
    second = await home(bob, f"?max_id={match.group(1)}")
    assert "filler number 0" in second and "filler number 23" not in second
    del carol, dave


async def services_home(app: Quart, name: str) -> list[PostView]:
    return list(await gapo(app).feeds.home(await account_id(app, name)))


async def test_share_hidden_when_viewer_blocks_the_author(app: Quart) -> None:
    """A share never shows a post the viewer may not see: a block hides it."""
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    await act(bob, "/follow", account_id=str(await account_id(app, "carol")))
    post_id = await write(alice, "blocked author speaks")
    await act(carol, f"/p/{post_id}/share")
    assert "blocked author speaks" in await home(bob)
    await act(bob, "/block", account_id=str(await account_id(app, "alice")))
    assert "blocked author speaks" not in await home(bob)
    del alice


async def test_followers_only_post_cannot_be_shared(app: Quart) -> None:
    """Sharing a followers-only post is refused, locally (403) and from a remote Announce."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await act(bob, "/follow", account_id=str(await account_id(app, "alice")))
    post_id = await write(alice, "for my followers", visibility="followers")
    assert "for my followers" in await home(bob)
    response = await act(bob, f"/p/{post_id}/share")
    assert response.status_code == 403
    assert await gapo(app).db.fetch_value("SELECT COUNT(*) AS n FROM shares") == 0
    services = gapo(app)
    remote = await remote_account(app)
    announce = {
        "id": f"{remote['ap_id']}/statuses/2/activity",
        "type": "Announce",
        "actor": remote["ap_id"],
        "object": services.urls.note("alice", post_id),
        "to": [PUBLIC],
    }
    result = await handle_announce(services.federation, parse_activity(announce), remote)
    assert result == "ignored: not shareable"
    assert await services.db.fetch_value("SELECT COUNT(*) AS n FROM shares") == 0
    notified = await services.notifications.list(await account_id(app, "alice"))
    assert [n.kind for n in notified] == ["follow"]


async def test_home_paging_goes_on_past_a_page_shortened_by_repeats(app: Quart) -> None:
    """Two followees share the same 15 posts after sharing 10 older ones: the newest 30
    shares are only 15 posts, yet the older shared posts are still reached by paging."""
    await user(app, "alice")
    bob = await user(app, "bob")
    await user(app, "carol")
    await user(app, "dave")
    for name in ("carol", "dave"):
        await act(bob, "/follow", account_id=str(await account_id(app, name)))
    services = gapo(app)
    alice_row = await services.accounts.profile("alice")
    ids = [
        int((await services.posts.create(alice_row, f"shared post {n:02d}"))["id"])
        for n in range(25)
    ]
    sharers = [await services.accounts.profile(name) for name in ("carol", "dave")]
    for batch in (ids[:10], ids[10:]):
        for sharer in sharers:
            for post_id in batch:
                await services.posts.react(sharer, post_id, "shares")

    seen: list[str] = []
    query = ""
    for _ in range(10):
        body = await home(bob, query)
        seen += re.findall(r"shared post (\d\d)", body)
        match = re.search(r'href="\?max_id=(\d+)"', body)
        if match is None:
            break
        query = f"?max_id={match.group(1)}"
    assert len(re.findall(r"shared post \d\d", await home(bob))) == 20
    assert set(seen) == {f"{n:02d}" for n in range(25)}


async def test_feed_page_carries_the_next_cursor(app: Quart) -> None:
    """The service says where the next page starts; the last page says there is none."""
    alice = await user(app, "alice")
    for n in range(3):
        await write(alice, f"a few posts {n}")
    page = await gapo(app).feeds.home_page(await account_id(app, "alice"))
    assert len(page.posts) == 3 and page.next_max_id is None
    assert 'href="?max_id=' not in await home(alice)
