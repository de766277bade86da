"""Blocks and mutes through the web UI: who sees what afterwards, and what federates."""

from __future__ import annotations

from quart import Quart

from tests.helpers.social import (
    account_id,
    act_on,
    deliveries,
    gapo,
    page,
    remote_account,
    user,
    write,
)
from tests.helpers.web import post_form


async def test_block_hides_posts_both_ways_and_ends_follows(app: Quart) -> None:
    """After A blocks B neither sees the other's posts (post page 404 like a missing one)."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    alice_id, bob_id = await account_id(app, "alice"), await account_id(app, "bob")
    await act_on(alice, "follow", bob_id)
    await act_on(bob, "follow", alice_id)
    alice_post = await write(alice, "alice speaks plainly")
    bob_post = await write(bob, "bob speaks loudly")
    assert "bob speaks loudly" in await page(alice, "/home")

    response = await act_on(alice, "block", bob_id)
    assert response.status_code in (302, 303)

    follows = await gapo(app).db.fetch_value("SELECT COUNT(*) AS n FROM follows")
    assert follows == 0
    missing_for_alice = await alice.get("/p/1")
    for client, post_id in ((alice, bob_post), (bob, alice_post)):
        response = await client.get(f"/p/{post_id}")
        assert response.status_code == 404
    blocked_body = await (await alice.get(f"/p/{bob_post}")).get_data(as_text=True)
    # The page echoes its own path (the language form); apart from that, identical.
    missing_body = await missing_for_alice.get_data(as_text=True)
    assert blocked_body.replace(f"/p/{bob_post}", "/p/1") == missing_body
    for path in ("/home", "/public/local", "/public", "/@bob"):
        assert "bob speaks loudly" not in await page(alice, path)
    for path in ("/home", "/public/local", "/public", "/@alice"):
        assert "alice speaks plainly" not in await page(bob, path)
    # Someone else still sees both.
    anonymous = app.test_client()
    local = await page(anonymous, "/public/local")
    assert "bob speaks loudly" in local and "alice speaks plainly" in local
    # The blocked one cannot follow again.
    assert (await act_on(bob, "follow", alice_id)).status_code == 403


async def test_block_hides_people_from_follower_lists(app: Quart) -> None:
    """A third account's follower list leaves out someone on the other side of a block."""
    alice, bob, carol = [await user(app, n) for n in ("alice", "bob", "carol")]
    carol_id = await account_id(app, "carol")
    await act_on(bob, "follow", carol_id)
    assert "@bob@" in await page(alice, f"/accounts/{carol_id}/followers")
    await act_on(alice, "block", await account_id(app, "bob"))
    assert "@bob@" not in await page(alice, f"/accounts/{carol_id}/followers")
    assert "@bob@" in await page(carol, f"/accounts/{carol_id}/followers")


async def test_unblock_restores_visibility(app: Quart) -> None:
    """Unblocking a local account makes its posts visible again (follows stay ended)."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    bob_id = await account_id(app, "bob")
    bob_post = await write(bob, "bob again")
    await act_on(alice, "block", bob_id)
    assert (await alice.get(f"/p/{bob_post}")).status_code == 404
    await act_on(alice, "unblock", bob_id)
    assert (await alice.get(f"/p/{bob_post}")).status_code == 200


async def test_block_of_remote_account_federates_block_and_undo(app: Quart) -> None:
    """Blocking a remote account queues a Block to its inbox; unblocking queues Undo(Block)."""
    alice = await user(app, "alice")
    remote = await remote_account(app)
    await act_on(alice, "block", remote["id"])
    [block] = [d for d in await deliveries(app) if d["activity"]["type"] == "Block"]
    assert block["inbox"] == remote["ap_inbox"]
    assert block["activity"]["object"] == remote["ap_id"]
    assert block["activity"]["actor"].endswith("/users/alice")

    await act_on(alice, "unblock", remote["id"])
    [undo] = [d for d in await deliveries(app) if d["activity"]["type"] == "Undo"]
    assert undo["inbox"] == remote["ap_inbox"]
    assert undo["activity"]["object"]["type"] == "Block"
    assert undo["activity"]["object"]["id"] == block["activity"]["id"]
    assert undo["activity"]["object"]["object"] == remote["ap_id"]


async def test_block_of_remote_followee_also_undoes_the_follow(app: Quart) -> None:
    """A block of an account one follows sends Undo(Follow) as well as the Block."""
    alice = await user(app, "alice")
    remote = await remote_account(app)
    await act_on(alice, "follow", remote["id"])
    await act_on(alice, "block", remote["id"])
    kinds = [d["activity"]["type"] for d in await deliveries(app)]
    assert kinds == ["Follow", "Undo", "Block"]
    assert await gapo(app).db.fetch_value("SELECT COUNT(*) AS n FROM follows") == 0


async def test_mute_hides_from_the_muters_feeds_only(app: Quart) -> None:
    """A muted account's posts and shares leave the muter's feeds; nobody else notices."""
    alice, bob, carol = [await user(app, n) for n in ("alice", "bob", "carol")]
    bob_id = await account_id(app, "bob")
    await act_on(alice, "follow", bob_id)
    bob_post = await write(bob, "bob own words")
    carol_post = await write(carol, "carol words")
    shared = await post_form(bob, f"/p/{carol_post}/share", {}, csrf_from="/home")
    assert shared.status_code in (302, 303)
    assert "carol words" in await page(alice, "/home")

    await act_on(alice, "mute", bob_id)
    for path in ("/home", "/public/local", "/public"):
        assert "bob own words" not in await page(alice, path)
    # Bob's share of Carol's post goes too; Carol's post on the public timeline stays.
    assert "carol words" not in await page(alice, "/home")
    assert "carol words" in await page(alice, "/public/local")
    # Still following; the post itself is not forbidden; Bob sees nothing different.
    assert await gapo(app).relationships.state(await account_id(app, "alice"), bob_id)
    assert (await alice.get(f"/p/{bob_post}")).status_code == 200
    assert "bob own words" in await page(bob, "/public/local")
    assert "bob own words" in await page(carol, "/public/local")

    await act_on(alice, "unmute", bob_id)
    assert "bob own words" in await page(alice, "/home")


async def test_cannot_block_or_mute_oneself(app: Quart) -> None:
    """Blocking or muting oneself is refused with a reason, not a 500."""
    alice = await user(app, "alice")
    alice_id = await account_id(app, "alice")
    assert (await act_on(alice, "block", alice_id)).status_code == 400
    assert (await act_on(alice, "mute", alice_id)).status_code == 400


async def test_block_needs_csrf_and_login(app: Quart) -> None:
    """The block form is refused without a CSRF token, and asks anonymous people to log in."""
    alice = await user(app, "alice")
    await user(app, "bob")
    bob_id = await account_id(app, "bob")
    response = await alice.post("/block", form={"account_id": str(bob_id)})
    assert response.status_code == 403
    assert not await gapo(app).relationships.is_blocked(await account_id(app, "alice"), bob_id)
