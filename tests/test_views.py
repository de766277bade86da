"""Typed views: what the services hand the pages (and the coming client API) for one viewer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from jinja2 import Environment, UndefinedError
from quart import Quart

from instance.accounts.views import AccountView
from tests.helpers.social import account_id, act_ok, gapo, user, write


async def test_a_post_view_carries_the_viewers_own_like_and_share(app: Quart) -> None:
    """The same post, read for three viewers: each view says what that viewer did."""
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    post_id = await write(alice, "a post to react to")
    await act_ok(bob, f"/p/{post_id}/like")
    await act_ok(carol, f"/p/{post_id}/share")
    feeds = gapo(app).feeds

    async def view_for(viewer: int | None) -> tuple[bool, bool, int, int]:
        page = await feeds.local(viewer_id=viewer)
        post = next(p for p in page.posts if p.id == post_id)
        assert post.author.username == "alice" and post.media == ()
        return post.liked, post.shared, post.likes_count, post.shares_count

    assert await view_for(await account_id(app, "bob")) == (True, False, 1, 1)
    assert await view_for(await account_id(app, "carol")) == (False, True, 1, 1)
    assert await view_for(None) == (False, False, 1, 1)


async def test_a_share_in_the_home_feed_names_the_sharer(app: Quart) -> None:
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    await act_ok(bob, "/follow", account_id=str(await account_id(app, "carol")))
    post_id = await write(alice, "shared onto bob's home")
    await act_ok(carol, f"/p/{post_id}/share")
    page = await gapo(app).feeds.home_page(await account_id(app, "bob"))
    (post,) = [p for p in page.posts if p.id == post_id]
    assert post.shared_by is not None and post.shared_by.username == "carol"
    assert post.author.username == "alice" and post.feed_id != post.id
    del alice


async def test_a_profile_view_carries_the_relationship_both_ways(app: Quart) -> None:
    """Following, followed-by, muting and blocking, as the viewer stands to the account."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    alice_id, bob_id = await account_id(app, "alice"), await account_id(app, "bob")
    profiles = gapo(app).profiles
    await act_ok(bob, "/follow", account_id=str(alice_id))
    await act_ok(alice, "/mute", account_id=str(bob_id))

    seen_by_alice = (await profiles.of_username(alice_id, "bob")).profile
    assert seen_by_alice.relationship is not None
    assert seen_by_alice.relationship.followed_by and not seen_by_alice.relationship.following
    assert seen_by_alice.relationship.muting and not seen_by_alice.relationship.blocking
    assert seen_by_alice.following_count == 1 and seen_by_alice.followers_count == 0

    seen_by_bob = (await profiles.of_username(bob_id, "alice")).profile
    assert seen_by_bob.relationship is not None
    assert seen_by_bob.relationship.following and not seen_by_bob.relationship.followed_by

    await act_ok(alice, "/block", account_id=str(bob_id))
    seen_by_bob = (await profiles.of_username(bob_id, "alice")).profile
    assert seen_by_bob.relationship is not None and seen_by_bob.relationship.blocked_by
    # A block ends the follow.
    assert seen_by_bob.relationship.follow_state is None

    assert (await profiles.of_username(alice_id, "alice")).profile.relationship is None
    assert (await profiles.of_username(None, "alice")).profile.relationship is None


async def test_notification_views_link_their_post(app: Quart) -> None:
    alice, bob = await user(app, "alice"), await user(app, "bob")
    post_id = await write(alice, "something to like")
    await act_ok(bob, f"/p/{post_id}/like")
    (note,) = await gapo(app).notifications.list(await account_id(app, "alice"))
    assert note.kind == "like" and note.account.username == "bob"
    assert note.post is not None and note.post.id == post_id
    assert "something to like" in note.post.content_html


@dataclass(frozen=True)
class _View:
    name: str


def test_a_template_asking_a_view_for_a_missing_field_fails() -> None:
    """A template still reading a row's key from a view must fail, not render blank."""
    from instance.web.view_undefined import ViewUndefined

    env = Environment(undefined=ViewUndefined, autoescape=True)
    assert env.from_string("{{ v.name }}").render(v=_View("x")) == "x"
    with pytest.raises(UndefinedError):
        env.from_string("{{ v.display_name }}").render(v=_View("x"))
    # Elsewhere Jinja stays lenient: optional page variables and dict keys.
    assert env.from_string("{{ row.missing }}{{ absent is defined }}").render(row={}) == "False"


async def test_people_lists_are_account_views(app: Quart) -> None:
    """Followers, follow requests and who-liked lists hand out views, never rows."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    alice_id, bob_id = await account_id(app, "alice"), await account_id(app, "bob")
    await act_ok(bob, "/follow", account_id=str(alice_id))
    post_id = await write(alice, "a post bob likes")
    await act_ok(bob, f"/p/{post_id}/like")
    services = gapo(app)
    page = await services.relationships.people_page(alice_id, "followers", viewer_id=None)
    assert page.account == AccountView.of_account(await services.accounts.account(alice_id))
    assert [(type(p), p.username) for p in page.accounts] == [(AccountView, "bob")]
    likers = await services.reactions.who(None, post_id, "likes")
    assert [(type(p), p.id) for p in likers.accounts] == [(AccountView, bob_id)]
    assert await services.relationships.pending_requests(bob_id) == []


async def test_search_finds_a_profile_in_one_service_call(app: Quart) -> None:
    """`/search` renders the profile that `ProfilePages.of_search` gives, or says why not."""
    alice = await user(app, "alice")
    await write(alice, "searchable post")
    page = await gapo(app).profiles.of_search(None, "@alice")
    assert page.profile.account.username == "alice"
    found = await alice.get("/search?q=%40alice")
    assert found.status_code == 200 and "searchable post" in await found.get_data(as_text=True)
    missing = await alice.get("/search?q=%40nobody")
    assert missing.status_code == 200
    assert "searchable post" not in await missing.get_data(as_text=True)
