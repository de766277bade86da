"""One writer per relationship action: the web forms and the inbox reach the same effects.

Each test names the drift the shared writer removed.
"""

from __future__ import annotations

from typing import Any

from quart import Quart

from activitypub.vocab import parse_activity
from instance.federation.handle_blocks import handle_block
from instance.federation.handle_follows import handle_follow, handle_reject
from instance.federation.handle_undo import handle_undo
from instance.outbound.to_ap import relationships as to_ap
from instance.urls import LocalUrls
from tests.helpers.social import account_id, act_on, deliveries, gapo, page, remote_account, user


async def kinds(app: Quart, name: str) -> list[str]:
    """The notifications `name` would see, newest first, as kinds."""
    return [n.kind for n in await gapo(app).notifications.list(await account_id(app, name))]


def _activity(remote: Any, kind: str, n: int, obj: Any) -> Any:
    return parse_activity(
        {"id": f"{remote['ap_id']}#{kind.lower()}/{n}", "type": kind, "actor": remote["ap_id"]}
        | {"object": obj}
    )


async def test_remote_block_takes_the_ended_follows_notification_with_it(app: Quart) -> None:
    """A remote Block ends its follow of alice; after its Undo no "followed you" comes back.

    The inbox's Block used to delete the follows with queries of its own and leave the
    notification, hidden only while the block lasted.
    """
    await user(app, "alice")
    services = gapo(app)
    ctx = services.federation
    remote = await remote_account(app)
    alice_url = services.urls.actor("alice")
    follow = _activity(remote, "Follow", 1, alice_url)
    assert await handle_follow(ctx, follow, remote) == "follow accepted"
    assert await kinds(app, "alice") == ["follow"]

    block = {"id": f"{remote['ap_id']}#blocks/1", "type": "Block", "actor": remote["ap_id"]}
    block["object"] = alice_url
    assert await handle_block(ctx, parse_activity(block), remote) == "blocked"
    assert await handle_undo(ctx, _activity(remote, "Undo", 2, block), remote) == "unblocked"

    alice_id = await account_id(app, "alice")
    assert await services.relationships.state(remote["id"], alice_id) is None
    assert await kinds(app, "alice") == []


async def test_local_block_withdraws_a_pending_request(app: Quart) -> None:
    """Alice blocks bob, who had asked to follow her; unblocked, no request reappears."""
    alice, bob = await user(app, "alice"), await user(app, "bob")
    alice_id, bob_id = await account_id(app, "alice"), await account_id(app, "bob")
    await gapo(app).accounts.update_profile(alice_id, display_name="Alice", bio="", locked=True)
    await act_on(bob, "follow", alice_id)
    assert await kinds(app, "alice") == ["follow_request"]

    await act_on(alice, "block", bob_id)
    await act_on(alice, "unblock", bob_id)
    assert await kinds(app, "alice") == []
    assert "@bob@" not in await page(alice, "/follow_requests")
    assert not await gapo(app).relationships.is_blocked(alice_id, bob_id)


async def test_remote_reject_and_local_reject_end_a_follow_alike(app: Quart) -> None:
    """A follower removed by a remote Reject, or by a local person, is gone with its notice."""
    alice = await user(app, "alice")
    await user(app, "bob")
    services = gapo(app)
    alice_id, bob_id = await account_id(app, "alice"), await account_id(app, "bob")
    remote = await remote_account(app)
    alice_row = await services.accounts.account(alice_id)

    # Alice follows the remote account; its Reject (by the Follow's id) ends the follow.
    assert await services.relationship_writer.follow(alice_row, remote) == "pending"
    [sent] = [d["activity"] for d in await deliveries(app) if d["activity"]["type"] == "Follow"]
    reject = _activity(remote, "Reject", 1, sent["id"])
    assert await handle_reject(services.federation, reject, remote) == "follow rejected"
    assert await services.relationships.state(alice_id, remote["id"]) is None

    # Bob follows alice; alice removes him through the same writer's local path.
    bob_row = await services.accounts.account(bob_id)
    assert await services.relationship_writer.follow(bob_row, alice_row) == "accepted"
    await services.relationship_writer.reject(alice_row, bob_row)
    assert await services.relationships.state(bob_id, alice_id) is None
    assert await kinds(app, "alice") == []
    del alice


def test_undo_documents_wrap_the_activity_they_take_back() -> None:
    """Undo(Follow) and Undo(Block) carry the original's id, without a nested @context."""
    urls = LocalUrls("https://gapo.test")
    alice = {"id": 1, "local": 1, "username": "alice", "ap_id": None}
    remote = {"id": 2, "local": 0, "username": "r", "ap_id": "https://far.test/users/r"}
    follow_row = {"id": 7, "ap_id": None}
    sent = to_ap.follow(urls, alice, remote, follow_row)
    assert sent["id"] == "https://gapo.test/users/alice#follows/7"
    undo = to_ap.undo_follow(urls, alice, remote, follow_row, undo_id=9)
    assert undo["object"] == {k: v for k, v in sent.items() if k != "@context"}
    assert undo["id"] == "https://gapo.test/users/alice#undo/9"

    block = to_ap.block(urls, alice, remote, {"id": 8, "ap_id": None})
    assert to_ap.undo_block(urls, alice, remote, {"id": 8, "ap_id": None}, undo_id=10)[
        "object"
    ] == {k: v for k, v in block.items() if k != "@context"}

    accept = to_ap.accept(urls, alice, remote, "https://far.test/follows/3", answer_id=11)
    assert accept["actor"] == "https://gapo.test/users/alice"
    assert accept["object"] == {
        "id": "https://far.test/follows/3",
        "type": "Follow",
        "actor": "https://far.test/users/r",
        "object": "https://gapo.test/users/alice",
    }
