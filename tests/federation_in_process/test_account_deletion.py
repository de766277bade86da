"""Deleting a local account: asked for in settings with the password, hidden and 410 at once,
then removed by a resumable job that sends a signed Delete of the actor to the servers that
knew it; the username stays reserved. And the inbound side: a remote actor's own Delete."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from activitypub.signatures import verify_request
from instance.db import accounts as accounts_q
from tests.federation_in_process.test_inbox_apply import apply, follow_of, note, send, wrap
from tests.helpers.fake_peer import AP, LOCAL_BASE, FakePeer, local_user, remote_follower
from tests.helpers.media_files import jpeg_with_gps
from tests.helpers.social import act_ok, act_on, gapo, user, write
from tests.helpers.web import csrf_of, post_form, signup

PASSWORD = "a good long passphrase"
# Columns that name an account (or its user) in some table.
ACCOUNT_COLUMNS = ("account_id", "follower_id", "followee_id", "target_id", "from_account_id")


async def rows_naming(app: Quart, account_id: int, user_id: int) -> dict[str, int]:
    """Every table of the schema with a row that names the account (or its user)."""
    db = gapo(app).db
    found: dict[str, int] = {}
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%VIRTUAL%'"
    )
    for table in (t["name"] for t in tables):
        columns = {c["name"] for c in await db.fetch_all(f"PRAGMA table_info({table})")}
        checks = [f"{c} = :a" for c in ACCOUNT_COLUMNS if c in columns]
        if table == "sessions":
            checks.append("user_id = :u")
        if table == "accounts":
            continue  # the tombstone row stays, checked on its own
        if not checks:
            continue
        n = await db.fetch_value(
            f"SELECT COUNT(*) AS n FROM {table} WHERE {' OR '.join(checks)}",
            {"a": account_id, "u": user_id},
        )
        if n:
            found[table] = int(n)
    return found


async def upload_photo(client: Client) -> int:
    token = await csrf_of(client, "/")
    response = await client.post(
        "/media",
        files={"file": FileStorage(io.BytesIO(jpeg_with_gps()), filename="p.jpg", name="file")},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    return int((await response.get_json())["id"])


def media_files(app: Quart) -> list[Path]:
    root = Path(gapo(app).settings.data_dir) / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def delete_form(client: Client, password: str) -> Any:
    return await post_form(
        client, "/settings/delete", {"current": password}, csrf_from="/settings/data"
    )


async def finish_jobs(app: Quart) -> None:
    """Run every job, then the deferred key step once its deliveries are done."""
    services = gapo(app)
    await services.runner.run_until_idle(limit_seconds=10)
    await services.db.execute("UPDATE jobs SET run_at = 0 WHERE state = 'queued'")
    await services.runner.run_until_idle(limit_seconds=10)


async def alice_with_everything(
    app: Quart, peer: FakePeer
) -> tuple[Client, Client, dict[str, Any]]:
    """alice with a photo post, a reply, likes both ways, follows both ways (one remote),
    a block, a mute and notifications; returns (alice's client, bob's client, ids)."""
    alice = await user(app, "alice")
    bob = await user(app, "bob")
    services = gapo(app)
    alice_row = await accounts_q.get_local_by_username(services.db, "alice")
    bob_row = await accounts_q.get_local_by_username(services.db, "bob")
    assert alice_row and bob_row
    await remote_follower(app, peer, "fan", alice_row)
    await local_user(app, "carol")
    carol = await accounts_q.get_local_by_username(services.db, "carol")
    assert carol
    media_id = await upload_photo(alice)
    photo_post = await write(
        alice, "a lake", media_ids=str(media_id), **{f"description_{media_id}": "lake"}
    )
    bob_post = await write(bob, "hello from bob")
    await write(alice, "hi bob", in_reply_to=str(bob_post))
    await act_on(bob, "follow", alice_row["id"])
    await act_on(alice, "follow", bob_row["id"])
    await act_ok(bob, f"/p/{photo_post}/like")
    await act_ok(alice, f"/p/{bob_post}/like")
    await act_on(alice, "block", carol["id"])
    await act_on(alice, "mute", bob_row["id"])
    return (
        alice,
        bob,
        {
            "alice": alice_row,
            "bob": bob_row,
            "photo_post": photo_post,
            "bob_post": bob_post,
        },
    )


async def test_deletion_removes_every_row_and_file_and_federates_a_signed_delete(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """The form refuses a wrong password; the right one logs alice out, answers 410 at once
    for her actor, WebFinger and profile, reserves her name, and the job removes every row
    naming her, her files and finally her key, after a signed Delete reached the peer."""
    alice, bob, ids = await alice_with_everything(app, peer)
    services = gapo(app)
    alice_id = int(ids["alice"]["id"])
    user_id = int(
        await services.db.fetch_value("SELECT id FROM users WHERE account_id = :a", {"a": alice_id})
    )
    actor_doc = await (await client.get("/users/alice", headers={"Accept": AP})).get_json()
    pem = actor_doc["publicKey"]["publicKeyPem"]
    await services.runner.run_until_idle(limit_seconds=10)  # what was posted goes out first
    peer.received.clear()
    assert media_files(app)

    wrong = await delete_form(alice, "not my password")
    assert wrong.status_code == 401
    assert (await accounts_q.get_by_id(services.db, alice_id))["deleted_at"] is None  # type: ignore[index]

    done = await delete_form(alice, PASSWORD)
    assert done.status_code == 302 and done.headers["Location"].endswith("/settings/deleted")
    # At once, before any job ran: signed out, 410 everywhere, the name reserved.
    assert (await alice.get("/home")).status_code in (302, 303, 401)
    gone = await client.get("/users/alice", headers={"Accept": AP})
    assert gone.status_code == 410
    assert (await gone.get_json())["type"] == "Tombstone"
    assert (await client.get("/@alice")).status_code == 410
    for path in ("/users/alice/outbox", "/users/alice/followers"):
        assert (await client.get(path, headers={"Accept": AP})).status_code == 410, path
    webfinger = await client.get(
        f"/.well-known/webfinger?resource=acct:alice@{services.settings.host}"
    )
    assert webfinger.status_code == 410
    assert "a lake" not in await (await bob.get("/home")).get_data(as_text=True)
    again = await signup(app.test_client(), "alice", email="alice2@example.org")
    assert again.status_code == 409

    await finish_jobs(app)

    assert await rows_naming(app, alice_id, user_id) == {}
    assert media_files(app) == []
    # The search index holds no entry of a post that is gone.
    assert (
        await services.db.fetch_value(
            "SELECT COUNT(*) AS n FROM post_search WHERE rowid NOT IN (SELECT id FROM posts)"
        )
        == 0
    )
    counts = await services.db.fetch_one(
        "SELECT likes_count, replies_count FROM posts WHERE id = :p", {"p": ids["bob_post"]}
    )
    assert (counts["likes_count"], counts["replies_count"]) == (0, 0)
    tombstone = await accounts_q.get_by_id(services.db, alice_id)
    assert tombstone is not None and tombstone["username"] == "alice"
    assert tombstone["display_name"] == "" and tombstone["deleted_at"] is not None
    assert (
        await services.db.fetch_value(
            "SELECT COUNT(*) AS n FROM keypairs WHERE account_id = :a", {"a": alice_id}
        )
        == 0
    )
    # Still 410 after the job, and still reserved.
    assert (await client.get("/users/alice", headers={"Accept": AP})).status_code == 410
    assert (await signup(app.test_client(), "alice", email="a3@example.org")).status_code == 409

    deletes = [r for r in peer.received if r.activity["type"] == "Delete"]
    assert len(deletes) == 1  # one shared inbox for the peer's whole server
    [got] = deletes
    actor = f"{LOCAL_BASE}/users/alice"
    assert got.path == "/inbox"
    assert got.activity["id"] == f"{actor}#delete"
    assert got.activity["actor"] == actor and got.activity["object"] == actor
    assert got.activity["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    key_id = verify_request("POST", peer.base_url + got.path, got.headers, got.body, pem)
    assert key_id == f"{actor}#main-key"


async def test_interrupted_deletion_resumes_and_sends_one_delete(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A crash while files are being removed: the retried job carries on from its step,
    removes everything, and the Delete is queued once."""
    _alice, _bob, ids = await alice_with_everything(app, peer)
    services = gapo(app)
    alice_id = int(ids["alice"]["id"])
    await services.actor_keys.for_account(alice_id)
    await services.runner.run_until_idle(limit_seconds=10)
    real_delete = services.deletion.delete_file
    calls = 0

    async def crashing(key: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("disk went away")
        await real_delete(key)

    services.deletion.delete_file = crashing
    await services.accounts.delete("alice")  # the admin's path, as `gapo user delete alice`
    await services.runner.run_until_idle(limit_seconds=10)
    [job] = await services.db.fetch_all("SELECT * FROM jobs WHERE kind = 'account_delete'")
    assert job["state"] == "queued" and "disk went away" in job["last_error"]
    assert json.loads(job["payload"])["step"] == "content"
    assert (
        await services.db.fetch_value(
            "SELECT COUNT(*) AS n FROM users WHERE account_id = :a", {"a": alice_id}
        )
        == 1
    )

    services.deletion.delete_file = real_delete
    await finish_jobs(app)
    [job] = await services.db.fetch_all("SELECT * FROM jobs WHERE kind = 'account_delete'")
    assert job["state"] == "done" and json.loads(job["payload"])["step"] == "done"
    assert await rows_naming(app, alice_id, 0) == {}
    assert media_files(app) == []
    deletes = await services.db.fetch_all(
        "SELECT payload FROM jobs WHERE kind = 'deliver' AND payload LIKE '%#delete%'"
    )
    assert len(deletes) == 1
    # A second request changes nothing and queues nothing.
    assert await services.deletion.request(alice_id, by="admin") is False


async def test_account_that_never_federated_sends_nothing_and_gets_no_key(
    app: Quart, client: Client
) -> None:
    """No key means no server ever knew the actor: nothing is sent, no key is made."""
    await user(app, "quiet")
    services = gapo(app)
    account = await accounts_q.get_local_by_username(services.db, "quiet")
    assert account is not None
    await services.accounts.delete("quiet")
    await finish_jobs(app)
    assert (
        await services.db.fetch_value("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'deliver'") == 0
    )
    assert await services.actor_keys.for_account(account["id"]) is None


async def test_remote_actor_delete_removes_its_posts_follows_and_reactions(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """An incoming Delete of a remote actor removes its posts, its follows and its likes
    here (the liked post's count drops) and the notifications it caused."""
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "like me")
    await send(client, peer, follow_of(peer, "alice"))
    await send(client, peer, wrap(peer, "Create", note(peer, 1, "a remote post"), 1))
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.base_url}/likes/1",
        "type": "Like",
        "actor": peer.actor_id("remote"),
        "object": f"{LOCAL_BASE}/users/alice/statuses/{post['id']}",
    }
    await send(client, peer, like)
    await apply(app)
    db = gapo(app).db
    assert (
        await db.fetch_value("SELECT likes_count FROM posts WHERE id = :p", {"p": post["id"]}) == 1
    )
    remote = await accounts_q.get_by_ap_id(db, peer.actor_id("remote"))
    assert remote is not None
    await send(client, peer, wrap(peer, "Delete", peer.actor_id("remote"), 9))
    await apply(app)
    assert (
        await db.fetch_value("SELECT likes_count FROM posts WHERE id = :p", {"p": post["id"]}) == 0
    )
    for table, column in (
        ("likes", "account_id"),
        ("follows", "follower_id"),
        ("notifications", "from_account_id"),
    ):
        assert (
            await db.fetch_value(
                f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = :a", {"a": remote["id"]}
            )
            == 0
        ), table
    assert (
        await db.fetch_value(
            "SELECT COUNT(*) AS n FROM posts WHERE account_id = :a AND deleted_at IS NULL",
            {"a": remote["id"]},
        )
        == 0
    )


async def test_posts_not_yet_sent_are_superseded_by_the_delete(
    app: Quart, client: Client, peer: FakePeer
) -> None:
    """A post whose fan-out had not run when the account was deleted is never sent: the
    peer gets the Delete of the actor only; a login with the old password fails at once."""
    services = gapo(app)
    alice = await local_user(app, "alice")
    await remote_follower(app, peer, "fan", alice)
    await services.actor_keys.for_account(alice["id"])
    await services.posts.create(alice, "last words")
    await services.accounts.delete("alice")
    login = await post_form(
        app.test_client(), "/login", {"login": "alice", "password": PASSWORD}, csrf_from="/login"
    )
    assert login.status_code == 401
    await finish_jobs(app)
    assert [r.activity["type"] for r in peer.received] == ["Delete"]
