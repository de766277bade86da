"""Notifications: each kind from local actions and from inbox handlers, the page, the count."""

from __future__ import annotations

import re

from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_activity
from instance.federation.handle_follows import handle_follow
from instance.federation.handle_notes import handle_create
from instance.federation.handle_reactions import handle_announce, handle_like
from instance.federation.handle_undo import handle_undo
from tests.helpers.social import account_id, act_ok, gapo, remote_account, user, write

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
NAV_COUNT = re.compile(r"Notifications <span class=\"count\" aria-hidden=\"true\">\((\d+)\)</span>")


async def kinds(app: Quart, name: str) -> list[str]:
    """The notifications `name` would see, newest first, as kinds."""
    return [n.kind for n in await gapo(app).notifications.list(await account_id(app, name))]


async def nav_count(client: Client) -> int | None:
    body = await (await client.get("/home")).get_data(as_text=True)
    match = NAV_COUNT.search(body)
    return int(match.group(1)) if match else None


# --- local actions ---


async def test_follow_of_open_account_notifies(app: Quart) -> None:
    """Following an unlocked account notifies it of a new follower; unfollowing withdraws it."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await act_ok(bob, "/follow", account_id=str(await account_id(app, "alice")))
    assert await kinds(app, "alice") == ["follow"]
    await act_ok(bob, "/unfollow", account_id=str(await account_id(app, "alice")))
    assert await kinds(app, "alice") == []
    assert await kinds(app, "bob") == []
    del alice


async def test_follow_request_of_locked_account_notifies_then_becomes_follow(app: Quart) -> None:
    """A locked account hears of the request; approving it turns it into a follow."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    alice_id = await account_id(app, "alice")
    await gapo(app).db.execute("UPDATE accounts SET locked = 1 WHERE id = :id", {"id": alice_id})
    await act_ok(bob, "/follow", account_id=str(alice_id))
    assert await kinds(app, "alice") == ["follow_request"]
    body = await (await alice.get("/notifications")).get_data(as_text=True)
    assert "asked to follow you" in body
    await act_ok(alice, "/follow_requests/approve", account_id=str(await account_id(app, "bob")))
    assert await kinds(app, "alice") == ["follow"]


async def test_mention_and_reply_notify(app: Quart) -> None:
    """A mention notifies the mentioned; a reply notifies the parent's author (once, as reply)."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    await user(app, "carol")
    post_id = await write(alice, "hello world")
    await write(bob, "@alice and @carol look", in_reply_to=str(post_id))
    assert await kinds(app, "alice") == ["reply"]
    assert await kinds(app, "carol") == ["mention"]
    body = await (await alice.get("/notifications")).get_data(as_text=True)
    assert "replied to your post" in body and "bob" in body
    assert "@alice and @carol look" in body


async def test_like_and_share_notify_once_and_unlike_withdraws(app: Quart) -> None:
    """The same like twice notifies once; unlike and unshare remove their notifications."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    post_id = await write(alice, "likeable")
    await act_ok(bob, f"/p/{post_id}/like")
    await act_ok(bob, f"/p/{post_id}/like")
    await act_ok(bob, f"/p/{post_id}/share")
    assert await kinds(app, "alice") == ["share", "like"]
    body = await (await alice.get("/notifications")).get_data(as_text=True)
    assert "liked your post" in body and "shared your post" in body
    assert f"/p/{post_id}" in body
    await act_ok(bob, f"/p/{post_id}/unlike")
    await act_ok(bob, f"/p/{post_id}/unshare")
    assert await kinds(app, "alice") == []


async def test_no_self_notification(app: Quart) -> None:
    """Liking, sharing, replying to or mentioning oneself notifies nobody."""
    alice = await user(app, "alice")
    post_id = await write(alice, "me, myself")
    await act_ok(alice, f"/p/{post_id}/like")
    await act_ok(alice, f"/p/{post_id}/share")
    await write(alice, "@alice talking to myself", in_reply_to=str(post_id))
    assert await kinds(app, "alice") == []
    assert await nav_count(alice) is None


async def test_block_and_mute_silence_notifications(app: Quart) -> None:
    """A blocked or muted account's actions do not notify, and earlier ones are hidden."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    carol = await user(app, "carol")
    post_id = await write(alice, "quiet please")
    await act_ok(bob, f"/p/{post_id}/like")
    await act_ok(alice, "/block", account_id=str(await account_id(app, "bob")))
    assert await kinds(app, "alice") == []
    await act_ok(alice, "/mute", account_id=str(await account_id(app, "carol")))
    await act_ok(carol, f"/p/{post_id}/like")
    assert await kinds(app, "alice") == []
    assert await nav_count(alice) is None


async def test_notification_about_a_post_one_cannot_see_is_hidden(app: Quart) -> None:
    """A notification whose post became invisible (deleted) is not shown nor counted."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    post_id = await write(bob, "hi @alice")
    assert await kinds(app, "alice") == ["mention"]
    assert await nav_count(alice) == 1
    await act_ok(bob, f"/p/{post_id}/delete")
    assert await kinds(app, "alice") == []
    assert await nav_count(alice) is None


async def test_unread_count_in_nav_resets_after_visiting_the_page(app: Quart) -> None:
    """The navigation shows the unread count with a label; viewing /notifications clears it."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    post_id = await write(alice, "count me")
    await act_ok(bob, f"/p/{post_id}/like")
    await act_ok(bob, f"/p/{post_id}/share")
    await act_ok(bob, "/follow", account_id=str(await account_id(app, "alice")))
    assert await nav_count(alice) == 3
    body = await (await alice.get("/home")).get_data(as_text=True)
    assert 'aria-label="Notifications, 3 unread"' in body
    page = await alice.get("/notifications")
    assert page.status_code == 200
    text = await page.get_data(as_text=True)
    assert text.count('class="notification unread ') == 3
    assert await nav_count(alice) is None
    again = await (await alice.get("/notifications")).get_data(as_text=True)
    assert 'class="notification unread ' not in again and "followed you" in again


async def test_notifications_page_needs_login(client: Client) -> None:
    """Anonymous visitors are sent to log in rather than shown anything."""
    response = await client.get("/notifications")
    assert response.status_code in (302, 303, 401)


# --- federation (inbox handlers called directly with a stored remote actor) ---


async def test_remote_follow_like_share_mention_reply_notify(app: Quart) -> None:
    """Follow, Like, Announce and Create (mention, reply) from a remote actor notify."""
    alice = await user(app, "alice")
    await user(app, "carol")
    services = gapo(app)
    ctx = services.federation
    remote = await remote_account(app)
    actor_url = remote["ap_id"]
    alice_url = services.urls.actor("alice")
    post_id = await write(alice, "federate me")
    note_url = services.urls.note("alice", post_id)

    follow = {"id": f"{actor_url}#follows/1", "type": "Follow", "actor": actor_url}
    assert await handle_follow(ctx, parse_activity({**follow, "object": alice_url}), remote) == (
        "follow accepted"
    )
    like = {"id": f"{actor_url}#likes/1", "type": "Like", "actor": actor_url, "object": note_url}
    assert await handle_like(ctx, parse_activity(like), remote) == "liked"
    assert await handle_like(ctx, parse_activity(like), remote) == "liked"
    announce = {"id": f"{actor_url}/statuses/9/activity", "type": "Announce"}
    announce.update({"actor": actor_url, "object": note_url, "to": [PUBLIC]})
    assert await handle_announce(ctx, parse_activity(announce), remote) == "shared"
    note = {
        "id": f"{actor_url}/statuses/10",
        "type": "Note",
        "attributedTo": actor_url,
        "inReplyTo": note_url,
        "content": "<p>a reply for alice and carol</p>",
        "to": [PUBLIC],
        "cc": [services.urls.actor("carol")],
        "tag": [{"type": "Mention", "href": services.urls.actor("carol")}],
    }
    create = {"id": f"{note['id']}/activity", "type": "Create", "actor": actor_url}
    assert (
        await handle_create(ctx, parse_activity({**create, "object": note}), remote)
    ).startswith("stored post")
    assert await kinds(app, "alice") == ["reply", "share", "like", "follow"]
    assert await kinds(app, "carol") == ["mention"]
    body = await (await alice.get("/notifications")).get_data(as_text=True)
    assert "@Gargron@mastodon.social" in body

    undo = {"id": f"{actor_url}#undo/1", "type": "Undo", "actor": actor_url}
    assert await handle_undo(ctx, parse_activity({**undo, "object": like}), remote) == (
        "undid likes"
    )
    undo_follow = {**undo, "id": f"{actor_url}#undo/2", "object": {**follow, "object": alice_url}}
    assert await handle_undo(ctx, parse_activity(undo_follow), remote) == "unfollowed"
    assert await kinds(app, "alice") == ["reply", "share"]


async def test_remote_follow_of_locked_account_is_a_request(app: Quart) -> None:
    """A remote Follow of a locked account notifies a follow request."""
    await user(app, "alice")
    services = gapo(app)
    await services.db.execute(
        "UPDATE accounts SET locked = 1 WHERE id = :id", {"id": await account_id(app, "alice")}
    )
    remote = await remote_account(app)
    follow = {
        "id": f"{remote['ap_id']}#follows/1",
        "type": "Follow",
        "actor": remote["ap_id"],
        "object": services.urls.actor("alice"),
    }
    assert await handle_follow(services.federation, parse_activity(follow), remote) == (
        "follow pending"
    )
    assert await kinds(app, "alice") == ["follow_request"]


async def test_remote_followers_only_reply_to_non_follower_is_not_shown(app: Quart) -> None:
    """A followers-only remote reply that the parent's author may not see notifies nothing."""
    alice = await user(app, "alice")
    services = gapo(app)
    remote = await remote_account(app)
    post_id = await write(alice, "open to all")
    note = {
        "id": f"{remote['ap_id']}/statuses/11",
        "type": "Note",
        "attributedTo": remote["ap_id"],
        "inReplyTo": services.urls.note("alice", post_id),
        "content": "<p>only my followers read this</p>",
        "to": [remote["ap_followers"]],
    }
    create = {"id": f"{note['id']}/activity", "type": "Create", "actor": remote["ap_id"]}
    result = await handle_create(
        services.federation, parse_activity({**create, "object": note}), remote
    )
    assert result.startswith("stored post")
    assert await kinds(app, "alice") == []
    assert await nav_count(alice) is None
