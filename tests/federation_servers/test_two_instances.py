"""Two real Gapo instances on loopback follow each other and exchange posts, replies,
likes, edits and deletes over real HTTP with real signatures."""

from __future__ import annotations

import json

import pytest

from tests.helpers.instances import GapoInstance, eventually, signed_in

pytestmark = pytest.mark.federation


def remote_post(instance: GapoInstance, ap_id: str) -> dict | None:
    rows = instance.query(
        "SELECT id, content_html, deleted_at, in_reply_to_id, likes_count, updated_at,"
        " visibility FROM posts WHERE ap_id = ?",
        (ap_id,),
    )
    return dict(rows[0]) if rows else None


def follow_state(instance: GapoInstance, follower: str, followee: str) -> str | None:
    rows = instance.query(
        "SELECT f.state FROM follows f JOIN accounts a ON a.id = f.follower_id"
        " JOIN accounts b ON b.id = f.followee_id WHERE a.username = ? AND b.username = ?",
        (follower, followee),
    )
    return rows[0]["state"] if rows else None


async def test_follow_post_reply_like_edit_delete(instances: tuple[GapoInstance, GapoInstance]):
    """alice@one and bob@two follow each other; a post, reply, like, edit and delete travel."""
    one, two = instances
    async with signed_in((one, "alice"), (two, "bob")) as (alice, bob):
        # Given each follows the other by handle, through WebFinger and a signed Follow
        await alice.follow(two.handle("bob"))
        assert follow_state(one, "alice", "bob") in ("pending", "accepted")
        await eventually(lambda: follow_state(one, "alice", "bob") == "accepted")
        await eventually(lambda: follow_state(two, "alice", "bob") == "accepted")
        await bob.follow(one.handle("alice"))
        await eventually(lambda: follow_state(two, "bob", "alice") == "accepted")

        # When bob posts, alice's instance stores it and shows it in her home feed
        post_id = await bob.post("Xin chào from two #hello")
        note_id = f"{two.actor('bob')}/statuses/{post_id}"
        stored = await eventually(lambda: remote_post(one, note_id))
        assert "Xin chào from two" in stored["content_html"]
        assert "Xin chào from two" in await alice.get("/home")
        inbox = one.query(
            "SELECT ap_type, processed_at FROM inbox_activities WHERE ap_id = ?",
            (f"{note_id}/activity",),
        )
        assert inbox and inbox[0]["ap_type"] == "Create"

        # alice replies and likes on her instance; both arrive on bob's
        local_copy = stored["id"]
        await alice.act(local_copy, "like")
        await alice.post("A reply from one", in_reply_to=str(local_copy))
        await eventually(lambda: (remote_post(two, note_id) or {}).get("likes_count") == 1)
        reply = await eventually(
            lambda: two.query(
                "SELECT p.content_html, p.in_reply_to_id FROM posts p WHERE p.local = 0"
                " AND p.in_reply_to_id = ?",
                (post_id,),
            )
        )
        assert "A reply from one" in reply[0]["content_html"]

        # bob edits: the Update reaches one with the new text and an edit history
        await bob.act(post_id, "edit", {"text": "Edited on two", "summary": ""})
        await eventually(
            lambda: "Edited on two" in (remote_post(one, note_id) or {}).get("content_html", "")
        )
        assert (
            one.query("SELECT COUNT(*) AS n FROM post_edits WHERE post_id = ?", (local_copy,))[0][
                "n"
            ]
            == 1
        )

        # alice un-likes: the Undo(Like) reaches two
        await alice.act(local_copy, "unlike")
        await eventually(lambda: (remote_post(two, note_id) or {}).get("likes_count") == 0)

        # bob deletes: one keeps a tombstone, and two answers 410 for the note
        await bob.act(post_id, "delete")
        await eventually(lambda: (remote_post(one, note_id) or {}).get("deleted_at"))
        async with alice.session.get(
            note_id, headers={"Accept": "application/activity+json"}
        ) as response:
            assert response.status == 410
            assert json.loads(await response.text())["type"] == "Tombstone"

        # alice unfollows: the Undo(Follow) removes her from bob's followers
        bob_account = await alice.follow(two.handle("bob"))  # the search shows the button again
        await alice.unfollow(bob_account)
        await eventually(lambda: follow_state(two, "alice", "bob") is None)


async def test_restart_mid_delivery_loses_nothing(instances: tuple[GapoInstance, GapoInstance]):
    """A post made while the peer is down survives a kill -9 of the sender and arrives later."""
    one, two = instances
    async with signed_in((one, "carol"), (two, "dave")) as (carol, dave):
        await dave.follow(one.handle("carol"))
        await eventually(lambda: follow_state(two, "dave", "carol") == "accepted")
        await dave.close()

        two.stop()
        post_id = await carol.post("Posted while two was down")
        note_id = f"{one.actor('carol')}/statuses/{post_id}"
        # The first attempt fails (connection refused) and the job waits for its retry.
        await eventually(
            lambda: one.query(
                "SELECT attempts FROM jobs WHERE kind = 'deliver' AND state = 'queued'"
                " AND attempts >= 1 AND payload LIKE ?",
                (f"%{note_id}%",),
            )
        )
        await carol.close()
        one.stop(hard=True)

        two.start()
        one.start()
        one.cli("jobs", "retry-now")
        stored = await eventually(lambda: remote_post(two, note_id), timeout=30)
        assert "Posted while two was down" in stored["content_html"]


async def test_locked_account_and_profile_update(instances: tuple[GapoInstance, GapoInstance]):
    """A locked account approves a remote follower by hand; a profile edit federates."""
    one, two = instances
    async with signed_in((one, "gina"), (two, "hank")) as (gina, hank):
        status = await gina.post_form(
            "/settings/profile",
            {"display_name": "Gina", "bio": "", "locked": "on"},
            csrf_from="/settings/profile",
        )
        assert status == 302
        await hank.follow(one.handle("gina"))
        await eventually(lambda: follow_state(one, "hank", "gina") == "pending")
        assert follow_state(two, "hank", "gina") == "pending"
        assert "hank" in await gina.get("/follow_requests")

        hank_id = one.query("SELECT id FROM accounts WHERE username = 'hank'")[0]["id"]
        assert (
            await gina.post_form(
                "/follow_requests/approve",
                {"account_id": str(hank_id)},
                csrf_from="/follow_requests",
            )
            == 302
        )
        await eventually(lambda: follow_state(two, "hank", "gina") == "accepted")

        await gina.post_form(
            "/settings/profile",
            {"display_name": "Gina Nguyễn", "bio": "Hà Nội", "locked": "on"},
            csrf_from="/settings/profile",
        )
        await eventually(
            lambda: two.query(
                "SELECT 1 FROM accounts WHERE username = 'gina' AND display_name = 'Gina Nguyễn'"
            )
        )
