"""Each typed query returns exactly the keys its `db/rows.py` shape declares.

mypy trusts the shapes; this checks them against what SQLite really returns, so a column
added to or dropped from a SELECT without its TypedDict fails here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_type_hints

from quart import Quart

from instance.db import accounts as accounts_q
from instance.db import blocks as blocks_q
from instance.db import feeds as feeds_q
from instance.db import follows as follows_q
from instance.db import hashtags as hashtags_q
from instance.db import hosts as hosts_q
from instance.db import inbox as inbox_q
from instance.db import invites as invites_q
from instance.db import jobs as jobs_q
from instance.db import keys as keys_q
from instance.db import notifications as notifications_q
from instance.db import posts as posts_q
from instance.db import reactions as reactions_q
from instance.db import rows
from instance.db import sessions as sessions_q
from instance.db import users as users_q
from instance.ids import now
from tests.helpers.fake_peer import accepted_follow
from tests.helpers.social import account_id, act_ok, gapo, remote_account, user, write


def assert_shape(row: Mapping[str, Any] | None, shape: type) -> None:
    assert row is not None
    assert set(row) == set(get_type_hints(shape)), shape.__name__


def assert_shapes(found: list[Any], shape: type) -> None:
    assert found, f"no row to check against {shape.__name__}"
    for row in found:
        assert_shape(row, shape)


async def test_query_rows_have_their_declared_shapes(app: Quart) -> None:
    alice, bob, carol = await user(app, "alice"), await user(app, "bob"), await user(app, "carol")
    alice_id, bob_id, carol_id = [await account_id(app, n) for n in ("alice", "bob", "carol")]
    db = gapo(app).db
    await act_ok(bob, "/follow", account_id=str(alice_id))
    await act_ok(carol, "/follow", account_id=str(bob_id))
    post_id = await write(alice, "shaped rows #shapes")
    await act_ok(alice, f"/p/{post_id}/edit", text="shaped rows, edited #shapes")
    await act_ok(bob, f"/p/{post_id}/like")
    await act_ok(bob, f"/p/{post_id}/share")
    await act_ok(carol, "/block", account_id=str(alice_id))
    remote = await remote_account(app)
    await accepted_follow(app, remote, await gapo(app).accounts.account(alice_id))

    assert_shape(await accounts_q.get_by_id(db, alice_id), rows.AccountRow)
    assert_shape(await accounts_q.get_local_by_username(db, "alice"), rows.AccountRow)
    assert_shape(await accounts_q.get_by_ap_id(db, remote["ap_id"]), rows.AccountRow)

    assert_shape(await posts_q.get(db, post_id), rows.PostWithAuthorRow)
    assert_shapes(
        await posts_q.by_account(db, alice_id, visibilities=("public",), limit=5),
        rows.PostWithAuthorRow,
    )
    assert_shapes(await posts_q.edits(db, post_id), rows.PostEditRow)
    assert_shapes(await feeds_q.home(db, bob_id, limit=5, max_id=None), rows.PostWithAuthorRow)
    assert_shapes(
        await feeds_q.public(db, local_only=True, limit=5, max_id=None), rows.PostWithAuthorRow
    )
    assert_shapes(await feeds_q.home_shares(db, bob_id, limit=5, max_id=None), rows.SharedPostRow)
    tag = await hashtags_q.get_by_key(db, "shapes")
    assert_shape(tag, rows.HashtagRow)
    assert tag is not None
    assert_shapes(await hashtags_q.public_posts(db, tag["id"], limit=5), rows.PostWithAuthorRow)

    assert_shape(await follows_q.get_follow(db, bob_id, alice_id), rows.FollowRow)
    assert_shapes(await follows_q.list_followers(db, alice_id), rows.FollowedAccountRow)
    assert_shapes(await follows_q.list_following(db, bob_id), rows.FollowedAccountRow)
    assert_shapes(await follows_q.follower_inboxes(db, alice_id), rows.InboxesRow)

    assert_shape(await reactions_q.get(db, "likes", bob_id, post_id), rows.ReactionRow)
    assert_shapes(await reactions_q.of_account(db, bob_id, [post_id]), rows.OwnReactionRow)
    assert_shapes(
        await reactions_q.accounts_of(db, "shares", post_id, viewer_id=None, limit=5),
        rows.ReactorRow,
    )
    assert_shape(await blocks_q.get(db, carol_id, alice_id), rows.BlockRow)
    await gapo(app).accounts.public_key(alice_id)  # made on first use
    assert_shape(await keys_q.get_for_account(db, alice_id), rows.KeyPairRow)
    remote_key = await keys_q.get_for_account(db, remote["id"])
    assert remote_key is not None
    assert_shape(await keys_q.get_by_key_id(db, remote_key["key_id"]), rows.RemoteKeyRow)

    assert_shapes(
        await notifications_q.page(db, alice_id, limit=10, max_id=None), rows.NotificationRow
    )
    assert_shape(await users_q.get_by_username(db, "alice"), rows.UserRow)
    assert_shapes(await users_q.list_all(db), rows.UserRow)
    user_row = await users_q.get_by_username(db, "alice")
    assert user_row is not None
    assert_shapes(await sessions_q.list_for_user(db, user_row["user_id"], now()), rows.SessionRow)


async def test_queue_host_inbox_and_invite_rows_have_their_declared_shapes(app: Quart) -> None:
    services = gapo(app)
    db, ids = services.db, services.ids
    async with db.transaction() as tx:
        job_id = await services.queue.enqueue(tx, "shape", {"a": 1}, host="peer.example")
    assert_shape(await jobs_q.get(db, job_id), rows.JobRow)
    assert_shapes(await jobs_q.list_by_kind(db, "shape"), rows.JobRow)
    assert_shapes(await jobs_q.due(db, now() + 1, 10), rows.JobRow)
    assert_shapes(await jobs_q.counts_by_state(db), rows.JobCountRow)

    await hosts_q.set_blocked(db, "peer.example", True, now())
    assert_shape(await hosts_q.get(db, "peer.example"), rows.HostRow)

    row_id = ids.next_id()
    await inbox_q.insert_once(
        db,
        inbox_q.Received(
            row_id=row_id,
            ap_id="https://peer.example/activities/1",
            ap_type="Like",
            actor_ap_id="https://peer.example/users/u",
            key_id=None,
            body="{}",
            now=now(),
        ),
    )
    assert_shape(await inbox_q.get(db, row_id), rows.InboxActivityRow)

    await invites_q.insert_invite(
        db,
        invite_id=ids.next_id(),
        code="shape",
        created_by=None,
        now=now(),
        expires_at=None,
        max_uses=1,
    )
    assert_shape(await invites_q.use_invite(db, "shape", now()), rows.UsedInviteRow)
