"""Export and import from settings: the archive holds the person's posts, profile, likes,
media and relationship lists in Mastodon's shapes; an import of Mastodon's CSV (with or
without its header) follows, blocks and mutes through the normal writers, in a job."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from quart import Quart
from quart.typing import TestClientProtocol as Client
from werkzeug.datastructures import FileStorage

from instance.db import accounts as accounts_q
from tests.federation_in_process.test_account_deletion import upload_photo
from tests.helpers.fake_peer import LOCAL_BASE, LOCAL_HOST, FakePeer
from tests.helpers.social import act_ok, act_on, gapo, user, write
from tests.helpers.web import csrf_of

FOLLOWING_HEADER = "Account address,Show boosts,Notify on new posts,Languages"


async def account(app: Quart, name: str) -> Any:
    row = await accounts_q.get_local_by_username(gapo(app).db, name)
    assert row is not None
    return row


async def import_file(client: Client, kind: str, data: bytes) -> Any:
    token = await csrf_of(client, "/settings/data")
    return await client.post(
        "/settings/import",
        form={"kind": kind, "csrf_token": token},
        files={"file": FileStorage(io.BytesIO(data), filename="list.csv", name="file")},
    )


async def test_export_archive_in_mastodon_shapes(app: Quart, client: Client) -> None:
    """The zip has every post as a Create (followers-only too), the actor, the likes, the
    media file and the three CSVs; nothing is left in the data dir; strangers get none."""
    alice = await user(app, "alice")
    bob = await user(app, "bob")
    for name in ("carol", "dave"):
        await user(app, name)
    media_id = await upload_photo(alice)
    await write(alice, "a lake", media_ids=str(media_id))
    await write(alice, "for friends", visibility="followers")
    bob_post = await write(bob, "hello")
    await act_ok(alice, f"/p/{bob_post}/like")
    await act_on(alice, "follow", (await account(app, "bob"))["id"])
    await act_on(alice, "block", (await account(app, "carol"))["id"])
    await act_on(alice, "mute", (await account(app, "dave"))["id"])

    assert (await client.get("/settings/export")).status_code in (302, 401)
    response = await alice.get("/settings/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "alice-archive.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(await response.get_data()))
    names = set(archive.namelist())
    assert {
        "outbox.json",
        "actor.json",
        "likes.json",
        "following_accounts.csv",
        "blocked_accounts.csv",
        "muted_accounts.csv",
    } <= names
    assert [n for n in names if n.startswith("media_attachments/")]
    outbox = json.loads(archive.read("outbox.json"))
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 2
    assert {item["type"] for item in outbox["orderedItems"]} == {"Create"}
    assert {item["object"]["content"] for item in outbox["orderedItems"]} == {
        "<p>a lake</p>",
        "<p>for friends</p>",
    }
    actor = json.loads(archive.read("actor.json"))
    assert actor["id"] == f"{LOCAL_BASE}/users/alice" and actor["type"] == "Person"
    likes = json.loads(archive.read("likes.json"))
    assert likes["orderedItems"] == [f"{LOCAL_BASE}/users/bob/statuses/{bob_post}"]
    following = archive.read("following_accounts.csv").decode()
    assert following.splitlines() == [FOLLOWING_HEADER, f"bob@{LOCAL_HOST},true,false,"]
    assert archive.read("blocked_accounts.csv").decode() == f"carol@{LOCAL_HOST}\n"
    muted = archive.read("muted_accounts.csv").decode().splitlines()
    assert muted == ["Account address,Hide notifications", f"dave@{LOCAL_HOST},true"]
    exports = Path(gapo(app).settings.data_dir) / "exports"
    assert not exports.exists() or list(exports.iterdir()) == []


async def test_import_follows_blocks_and_mutes(app: Quart, peer: FakePeer) -> None:
    """Mastodon's CSVs (header or none) are applied by the job through the writers: a remote
    follow sends its Follow; unknown addresses are skipped; existing ones are kept."""
    alice = await user(app, "alice")
    await user(app, "bob")
    await user(app, "carol")
    services = gapo(app)
    friend = await services.actors.get_or_fetch(peer.actor_id("friend"))
    me = await account(app, "alice")
    bob = await account(app, "bob")
    carol = await account(app, "carol")
    lines = [
        FOLLOWING_HEADER,
        f"bob@{LOCAL_HOST},true,false,",
        f"friend@{peer.host},true,false,",
        f"nobody@{LOCAL_HOST},true,false,",
        f"bob@{LOCAL_HOST},true,false,",
    ]
    response = await import_file(alice, "following", "\n".join(lines).encode())
    assert response.status_code == 302 and "imported=3" in response.headers["Location"]
    assert (await import_file(alice, "blocks", f"carol@{LOCAL_HOST}\n".encode())).status_code == 302
    mutes = f"Account address,Hide notifications\n@bob@{LOCAL_HOST},true\n"
    assert (await import_file(alice, "mutes", mutes.encode())).status_code == 302
    await services.runner.run_until_idle(limit_seconds=10)

    assert await services.relationships.state(me["id"], bob["id"]) == "accepted"
    assert await services.relationships.state(me["id"], friend["id"]) == "pending"
    follows = [r.activity for r in peer.received if r.activity["type"] == "Follow"]
    assert [f["object"] for f in follows] == [peer.actor_id("friend")]
    assert (
        await services.db.fetch_value(
            "SELECT COUNT(*) AS n FROM blocks WHERE account_id = :a AND target_id = :t",
            {"a": me["id"], "t": carol["id"]},
        )
        == 1
    )
    assert await services.mutes.is_muted(me["id"], bob["id"])
    [job] = await services.db.fetch_all(
        "SELECT payload FROM jobs WHERE kind = 'relationships_import'"
        " AND payload LIKE '%following%'"
    )
    finished = json.loads(job["payload"])
    assert (finished["skipped"], finished["total"], finished["addresses"]) == (1, 3, [])


async def test_bad_import_files_get_a_clear_422(app: Quart) -> None:
    """Not text, not addresses, nothing at all, or no file: 422 with the reason; no job."""
    alice = await user(app, "alice")
    for data, words in (
        (b"\xff\xfe\x00garbage\x00", "not a CSV"),
        (f"{FOLLOWING_HEADER}\nbob@gapo.test\nthis is not one\n".encode(), "Line 3"),
        (b"", "no account addresses"),
        (b"Account address,Show boosts\n", "no account addresses"),
    ):
        response = await import_file(alice, "following", data)
        assert response.status_code == 422, data
        assert words in await response.get_data(as_text=True)
    assert (await import_file(alice, "nonsense", b"bob@gapo.test\n")).status_code == 422
    assert (
        await gapo(app).db.fetch_value(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'relationships_import'"
        )
        == 0
    )


async def test_one_export_per_account_per_interval(app: Quart) -> None:
    """A second archive within GAPO_EXPORT_INTERVAL_MINUTES is a 429 with Retry-After and a
    reason; another account is not held up."""
    alice = await user(app, "alice")
    bob = await user(app, "bob")
    assert (await alice.get("/settings/export")).status_code == 200
    again = await alice.get("/settings/export")
    assert again.status_code == 429
    assert 0 < int(again.headers["Retry-After"]) <= 600
    body = await again.get_data(as_text=True)
    assert "You can download an archive once every 10 minutes. Try again in 10 minutes." in body
    assert (await bob.get("/settings/export")).status_code == 200
