"""Attachments across the wire, in process: remote ones stored and served through the
media proxy, local ones federated in Mastodon's shape, remote avatars proxied.

The remote files live on a loopback file server that counts its GETs, so the tests see
when the proxy fetched and when it served its cache.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image
from quart import Quart
from quart.typing import TestClientProtocol as Client

from activitypub.vocab import parse_actor
from instance.db import media as media_q
from instance.db import posts as posts_q
from instance.db import users as users_q
from instance.ids import now
from instance.urls import remote_file_hash
from tests.federation_in_process.test_inbox_apply import apply, note, send, stored, wrap
from tests.helpers.fake_peer import AP, FakePeer, local_user
from tests.helpers.media_files import FileServer, jpeg_with_gps, tiny_mp4
from tests.helpers.social import gapo

PROXY_SRC = re.compile(r'src="(?:http://[^"/]+)?(/media/proxy/[0-9a-f]{64})"')


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    server = FileServer()
    server.files = {
        "/photo.jpg": (jpeg_with_gps(), "image/jpeg"),
        "/clip.mp4": (tiny_mp4(), "video/mp4"),
        "/poster.jpg": (jpeg_with_gps((64, 48)), "image/jpeg"),
        # HTML posing as a picture, with a picture's name and Content-Type.
        "/evil.jpg": (b"<html><script>alert(1)</script></html>", "image/jpeg"),
        "/drawing.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image/svg+xml"),
    }
    await server.start()
    yield server
    await server.stop()


def with_media(peer: FakePeer, files: FileServer, n: int = 1) -> dict[str, Any]:
    return note(peer, n, "<p>look</p>") | {
        "attachment": [
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": files.url("/photo.jpg"),
                "name": "A blue square",
                "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                "width": 320,
                "height": 240,
                "focalPoint": [0.25, -0.5],
            },
            {
                "type": "Video",
                "mediaType": "video/mp4",
                "url": files.url("/clip.mp4"),
                "name": None,
                "width": 64,
                "height": 48,
                "icon": {
                    "type": "Image",
                    "mediaType": "image/jpeg",
                    "url": files.url("/poster.jpg"),
                },
            },
        ]
    }


async def receive(app: Quart, client: Client, peer: FakePeer, activity: dict[str, Any]) -> None:
    await send(client, peer, activity)
    await apply(app)


async def media_rows(app: Quart, post_id: int) -> list[Any]:
    return list(await media_q.of_posts(gapo(app).db, [post_id]))


async def test_remote_attachments_are_stored_and_shown_through_the_proxy(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    created = with_media(peer, files)
    await receive(app, client, peer, wrap(peer, "Create", created, 1))
    post = await stored(app, created["id"])
    image, video = await media_rows(app, post["id"])
    assert (image["kind"], image["state"], image["media_type"]) == ("image", "remote", "image/jpeg")
    assert image["remote_url"] == files.url("/photo.jpg")
    assert (image["description"], image["width"], image["height"]) == ("A blue square", 320, 240)
    assert (image["focus_x"], image["focus_y"]) == (0.25, -0.5)
    assert image["blurhash"] == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
    assert video["kind"] == "video" and video["remote_preview_url"] == files.url("/poster.jpg")
    # Stored as media, not also as links in the content.
    assert "photo.jpg" not in post["content_html"]

    page = await (await client.get(f"/p/{post['id']}")).get_data(as_text=True)
    assert files.base_url not in page.replace(f'href="{files.base_url}', "")
    sources = PROXY_SRC.findall(page)
    assert f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}" in sources
    assert f"/media/proxy/{remote_file_hash(files.url('/clip.mp4'))}" in sources
    assert 'alt="A blue square"' in page
    poster = f"/media/proxy/{remote_file_hash(files.url('/poster.jpg'))}"
    assert re.search(f'poster="[^"]*{poster}"', page)
    assert files.gets == {}  # showing the page fetched nothing: readers' browsers do

    # The page's proxy URLs serve the files: the image re-encoded, the video as fetched.
    got = await client.get(f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}")
    assert got.status_code == 200 and got.content_type == "image/webp"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"] == "inline"
    assert got.headers["Cache-Control"].startswith("public, max-age=")
    served = Image.open(io.BytesIO(await got.get_data()))
    assert served.size == (320, 240) and not served.getexif()
    clip = await client.get(f"/media/proxy/{remote_file_hash(files.url('/clip.mp4'))}")
    assert clip.status_code == 200 and clip.content_type == "video/mp4"
    assert await clip.get_data() == files.files["/clip.mp4"][0]
    # Browsers seek in a video with Range requests.
    part = await client.get(
        f"/media/proxy/{remote_file_hash(files.url('/clip.mp4'))}", headers={"Range": "bytes=0-9"}
    )
    assert part.status_code == 206 and await part.get_data() == files.files["/clip.mp4"][0][:10]


async def test_remote_update_replaces_the_attachments(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    created = with_media(peer, files)
    await receive(app, client, peer, wrap(peer, "Create", created, 1))
    post = await stored(app, created["id"])
    edited = created | {
        "updated": "2025-01-03T00:00:00Z",
        "attachment": [
            {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": files.url("/poster.jpg"),
                "name": "new",
            }
        ],
    }
    await receive(app, client, peer, wrap(peer, "Update", edited, 2))
    (only,) = await media_rows(app, post["id"])
    assert only["remote_url"] == files.url("/poster.jpg") and only["description"] == "new"

    dropped = created | {"updated": "2025-01-04T00:00:00Z", "attachment": []}
    await receive(app, client, peer, wrap(peer, "Update", dropped, 3))
    assert await media_rows(app, post["id"]) == []


async def test_proxy_fetches_once_then_serves_its_cache(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    await receive(app, client, peer, wrap(peer, "Create", with_media(peer, files), 1))
    path = f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}"
    first = await client.get(path)
    second = await client.get(path)
    assert first.status_code == second.status_code == 200
    assert await first.get_data() == await second.get_data()
    assert files.gets["/photo.jpg"] == 1
    row = await media_q.remote_file(gapo(app).db, remote_file_hash(files.url("/photo.jpg")))
    assert row is not None and row["file_key"] and row["media_type"] == "image/webp"
    assert row["fetched_at"] and row["last_used_at"] and row["size"] > 0


async def test_fifty_readers_cause_one_fetch(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    await receive(app, client, peer, wrap(peer, "Create", with_media(peer, files), 1))
    url_hash = remote_file_hash(files.url("/clip.mp4"))
    remote = gapo(app).remote_media
    results = await asyncio.gather(*(remote.open(url_hash) for _ in range(50)))
    assert all(r is not None and r.media_type == "video/mp4" for r in results)
    assert files.gets["/clip.mp4"] == 1


async def test_html_posing_as_an_image_is_refused_and_not_refetched(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    evil = note(peer, 1, "<p>x</p>") | {
        "attachment": [
            {"type": "Image", "mediaType": "image/jpeg", "url": files.url("/evil.jpg")},
            {"type": "Document", "mediaType": "image/png", "url": files.url("/drawing.svg")},
        ]
    }
    await receive(app, client, peer, wrap(peer, "Create", evil, 1))
    for name in ("/evil.jpg", "/drawing.svg"):
        path = f"/media/proxy/{remote_file_hash(files.url(name))}"
        assert (await client.get(path)).status_code == 404
        assert (await client.get(path)).status_code == 404
        assert files.gets[name] == 1  # the failure is remembered
        row = await media_q.remote_file(gapo(app).db, remote_file_hash(files.url(name)))
        assert row is not None and row["failed_at"] and row["file_key"] is None


async def test_unknown_and_malformed_hashes_are_404(app: Quart, client: Client) -> None:
    """No open proxy: only URLs learnt from stored posts and actors are served."""
    for path in (
        f"/media/proxy/{remote_file_hash('http://127.0.0.1:1/anything.jpg')}",
        "/media/proxy/" + "A" * 64,
        "/media/proxy/abc",
        "/media/proxy/" + "0" * 63 + "g",
    ):
        response = await client.get(path)
        assert response.status_code == 404
        assert not response.content_type.startswith("application/json")


async def test_prune_drops_old_copies_and_the_next_view_refetches(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    await receive(app, client, peer, wrap(peer, "Create", with_media(peer, files), 1))
    url_hash = remote_file_hash(files.url("/photo.jpg"))
    assert (await client.get(f"/media/proxy/{url_hash}")).status_code == 200
    row = await media_q.remote_file(gapo(app).db, url_hash)
    assert row is not None and row["file_key"]
    key = row["file_key"]
    storage = gapo(app).media.storage
    assert storage.path_for(key) is not None
    long_ago = now() - 40 * 86400
    await media_q.update_remote_file(gapo(app).db, url_hash, {"last_used_at": long_ago})

    assert await gapo(app).remote_media.prune(now() - 30 * 86400) == 1
    row = await media_q.remote_file(gapo(app).db, url_hash)
    assert row is not None and row["file_key"] is None
    assert storage.path_for(key) is None
    assert (await client.get(f"/media/proxy/{url_hash}")).status_code == 200
    assert files.gets["/photo.jpg"] == 2


async def test_pages_allow_no_third_party_media(app: Quart, client: Client) -> None:
    policy = (await client.get("/")).headers["Content-Security-Policy"]
    assert "https:" not in policy and "http:" not in policy
    assert "img-src 'self' data: blob:" in policy and "media-src 'self' blob:" in policy


async def test_remote_avatar_and_header_go_through_the_proxy(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    doc = peer.actor_doc("pictured") | {
        "icon": {"type": "Image", "mediaType": "image/jpeg", "url": files.url("/photo.jpg")},
        "image": {"type": "Image", "url": files.url("/poster.jpg")},
    }
    peer.extra_docs["/users/pictured"] = doc
    account = await gapo(app).actors.store(parse_actor(doc))
    for url in (files.url("/photo.jpg"), files.url("/poster.jpg")):
        assert await media_q.remote_file(gapo(app).db, remote_file_hash(url)) is not None
    page = await (await client.get(f"/accounts/{account['id']}")).get_data(as_text=True)
    assert f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}" in page
    assert f'src="{files.url("/photo.jpg")}"' not in page
    assert (
        await client.get(f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}")
    ).status_code == 200


async def insert_media(
    app: Quart, account_id: int, post_id: int, position: int, **values: Any
) -> None:
    await media_q.insert(
        gapo(app).db,
        {
            "id": gapo(app).ids.next_id(),
            "account_id": account_id,
            "post_id": post_id,
            "position": position,
            "created_at": now(),
            **values,
        },
    )


async def test_local_note_carries_its_ready_attachments(app: Quart, client: Client) -> None:
    alice = await local_user(app, "alice")
    post = await gapo(app).posts.create(alice, "with media", visibility="public")
    base = gapo(app).settings.base_url
    await insert_media(
        app, alice["id"], post["id"], 0,
        kind="image", state="ready", media_type="image/webp", file_key="a" * 22 + ".webp",
        width=640, height=480, blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj", focus_x=0.5, focus_y=-0.25,
        description="A cat on a mat",
    )  # fmt: skip
    await insert_media(
        app, alice["id"], post["id"], 1,
        kind="video", state="ready", media_type="video/mp4", file_key="b" * 22 + ".mp4",
        thumb_key="c" * 22 + ".jpg", width=64, height=48,
    )  # fmt: skip
    await insert_media(
        app, alice["id"], post["id"], 2,
        kind="gifv", state="ready", media_type="video/mp4", file_key="d" * 22 + ".mp4",
        thumb_key="e" * 22 + ".jpg",
    )  # fmt: skip
    await insert_media(
        app, alice["id"], post["id"], 3,
        kind="video", state="processing", media_type="video/mp4", source_key="f" * 22 + ".mp4",
    )  # fmt: skip
    response = await client.get(f"/users/alice/statuses/{post['id']}", headers={"Accept": AP})
    doc = await response.get_json()
    image, video, gifv = doc["attachment"]
    assert image == {
        "type": "Image",
        "mediaType": "image/webp",
        "url": f"{base}/media/{'a' * 22}.webp",
        "name": "A cat on a mat",
        "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        "width": 640,
        "height": 480,
        "focalPoint": [0.5, -0.25],
    }
    assert video["type"] == "Video" and video["mediaType"] == "video/mp4"
    assert video["name"] is None and (video["width"], video["height"]) == (64, 48)
    assert video["icon"] == {
        "type": "Image",
        "mediaType": "image/jpeg",
        "url": f"{base}/media/{'c' * 22}.jpg",
    }
    assert gifv["type"] == "Video" and gifv["mediaType"] == "video/mp4" and "icon" in gifv
    assert "blurhash" in str(doc["@context"]) and "focalPoint" in str(doc["@context"])

    # A post without media still has no empty `attachment` array (see test_no_empty_arrays).
    bare = await gapo(app).posts.create(alice, "no media", visibility="public")
    plain = await (
        await client.get(f"/users/alice/statuses/{bare['id']}", headers={"Accept": AP})
    ).get_json()
    assert "attachment" not in plain
    assert await posts_q.get(gapo(app).db, bare["id"]) is not None


async def test_local_avatar_has_a_media_type(app: Quart, client: Client) -> None:
    await local_user(app, "alice")
    base = gapo(app).settings.base_url
    await gapo(app).db.execute(
        "UPDATE accounts SET avatar_url = :a, header_url = :h WHERE username = 'alice'",
        {"a": f"{base}/media/{'a' * 22}.webp", "h": f"{base}/media/{'b' * 22}.png"},
    )
    doc = await (await client.get("/users/alice", headers={"Accept": AP})).get_json()
    assert doc["icon"] == {
        "type": "Image",
        "url": f"{base}/media/{'a' * 22}.webp",
        "mediaType": "image/webp",
    }
    assert doc["image"]["mediaType"] == "image/png"


async def test_housekeeping_prunes_cached_copies(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    from instance.jobs.housekeeping import Housekeeping

    await receive(app, client, peer, wrap(peer, "Create", with_media(peer, files), 1))
    url_hash = remote_file_hash(files.url("/photo.jpg"))
    assert (await client.get(f"/media/proxy/{url_hash}")).status_code == 200
    old = now() - 31 * 86400
    await media_q.update_remote_file(gapo(app).db, url_hash, {"last_used_at": old})
    services = gapo(app)
    housekeeping = Housekeeping(
        services.db,
        retain_jobs_days=7,
        retain_inbox_days=30,
        remote_media=services.remote_media,
        remote_media_days=30,
    )
    assert (await housekeeping.purge()).remote_files == 1
    row = await media_q.remote_file(services.db, url_hash)
    assert row is not None and row["file_key"] is None


async def test_allowlist_mode_fetches_no_file_of_a_host_not_on_the_list(
    app: Quart, client: Client, peer: FakePeer, files: FileServer
) -> None:
    """Files already known are not fetched from a host the allowlist leaves out; once the
    host is allowed they are."""
    await receive(app, client, peer, wrap(peer, "Create", with_media(peer, files), 1))
    await local_user(app, "rooty")
    services = gapo(app)
    await services.accounts.promote("rooty", "admin")
    staff = await users_q.get_by_username(services.db, "rooty")
    await services.federation_admin.set_mode(staff, "allowlist", "closing ranks")
    path = f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}"
    assert (await client.get(path)).status_code == 404
    assert files.gets.get("/photo.jpg", 0) == 0
    await services.federation_admin.allow(staff, "127.0.0.1", "a friend")
    assert (await client.get(path)).status_code == 200
    assert files.gets["/photo.jpg"] == 1
