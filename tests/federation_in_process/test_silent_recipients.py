"""Being addressed is not being mentioned: only a `Mention` tag (or a reply) notifies.

Remote notes go through the real inbox (Quart test client, real signatures, the signer's
key fetched from a loopback peer); notifications and visibility are read back from SQLite.
"""

from __future__ import annotations

from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.db import posts as posts_q
from instance.posts.visibility import can_see
from tests.federation_in_process.test_inbound_interop import local_note_id, notification_kinds
from tests.federation_in_process.test_inbox_apply import apply, note, send, wrap
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer, local_user
from tests.helpers.social import gapo


async def test_addressed_without_mention_sees_the_post_and_is_not_notified(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A direct note to alice (in `to`) and carol (in `to`, with a Mention tag): both may see
    it, only carol is notified."""
    alice = await local_user(app, "alice")
    carol = await local_user(app, "carol")
    dm = note(peer, 1, "<p>psst</p>") | {
        "to": [f"{LOCAL_BASE}/users/alice", f"{LOCAL_BASE}/users/carol"],
        "cc": [],
        "tag": [{"type": "Mention", "href": f"{LOCAL_BASE}/users/carol", "name": "@carol"}],
    }
    await send(client, peer, wrap(peer, "Create", dm, 1))
    await apply(app)
    post = await posts_q.get_by_ap_id(gapo(app).db, dm["id"])
    assert post is not None and post["visibility"] == "direct"
    assert await can_see(gapo(app).db, alice["id"], post)
    assert await can_see(gapo(app).db, carol["id"], post)
    assert await notification_kinds(app, alice) == []
    assert await notification_kinds(app, carol) == ["mention"]
    rows = await gapo(app).db.fetch_all(
        "SELECT account_id, mentioned FROM post_recipients WHERE post_id = :p", {"p": post["id"]}
    )
    assert {r["account_id"]: r["mentioned"] for r in rows} == {alice["id"]: 0, carol["id"]: 1}


async def test_public_note_cc_a_local_user_notifies_nobody(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A public note with alice in `cc` and no tag: no "mentioned you"."""
    alice = await local_user(app, "alice")
    spam = note(peer, 2, "<p>buy now</p>") | {"cc": [f"{LOCAL_BASE}/users/alice"]}
    await send(client, peer, wrap(peer, "Create", spam, 2))
    await apply(app)
    assert await posts_q.get_by_ap_id(gapo(app).db, spam["id"]) is not None
    assert await notification_kinds(app, alice) == []


async def test_reply_without_mention_still_notifies_the_parent_author(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A reply to alice's post that tags nobody: alice hears of it as a reply."""
    alice = await local_user(app, "alice")
    parent = await gapo(app).posts.create(alice, "what do you think?", visibility="public")
    reply = note(peer, 3, "<p>I think so</p>") | {
        "inReplyTo": local_note_id("alice", parent["id"]),
        "cc": [f"{LOCAL_BASE}/users/alice"],
    }
    await send(client, peer, wrap(peer, "Create", reply, 3))
    await apply(app)
    assert await notification_kinds(app, alice) == ["reply"]
