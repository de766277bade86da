"""`visible_posts` (the rule read in bulk) agrees with `can_see` post by post, for everyone."""

from __future__ import annotations

from quart import Quart

from instance.db import posts as posts_q
from instance.posts.visibility import can_see, visible_posts
from tests.helpers.social import gapo, user

VISIBILITIES = ("public", "unlisted", "followers", "direct")


async def test_bulk_rule_matches_can_see_for_every_viewer_and_post(app: Quart) -> None:
    names = ("alice", "bob", "fran", "pete", "mia", "blocked", "blocker", "sam")
    for name in names:
        await user(app, name)
    services = gapo(app)
    accounts = {name: await services.accounts.profile(name) for name in names}
    alice, bob = accounts["alice"], accounts["bob"]
    await services.accounts.update_profile(alice["id"], display_name="Alice", bio="", locked=True)
    alice = await services.accounts.profile("alice")
    rel = services.relationship_writer
    await rel.follow(accounts["fran"], alice)
    await rel.approve(alice, accounts["fran"])
    await rel.follow(accounts["pete"], alice)  # stays pending
    await rel.follow(accounts["fran"], bob)
    await rel.block(alice, accounts["blocked"])
    await rel.block(accounts["blocker"], bob)

    ids = []
    for author in (alice, bob):
        for visibility in VISIBILITIES:
            for text in ("plain", "hello @mia"):
                post = await services.posts.create(author, text, visibility=visibility)
                ids.append(post["id"])
    gone = await services.posts.create(bob, "soon gone")
    await services.posts.delete(bob, gone["id"])
    ids.append(gone["id"])
    rows = [await posts_q.get(services.db, post_id) for post_id in ids]

    for viewer in [None, *(a["id"] for a in accounts.values())]:
        one_by_one = [r for r in rows if await can_see(services.db, viewer, r)]
        in_bulk = await visible_posts(services.db, viewer, rows)
        assert [r["id"] for r in in_bulk] == [r["id"] for r in one_by_one], viewer
    # The scenario exercises every branch: something is hidden from each non-author.
    assert len(await visible_posts(services.db, accounts["sam"]["id"], rows)) < len(rows) - 1
