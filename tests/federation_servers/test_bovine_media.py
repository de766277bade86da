"""Attachments with an independent implementation: a bovine Note with an image is stored
and shown through Gapo's media proxy; a Gapo Note with media, fetched by bovine's signed
GET, carries every attachment field."""

from __future__ import annotations

import io
import secrets
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from instance.urls import remote_file_hash
from tests.federation_bovine.bovine_harness import BovinePeer
from tests.federation_servers.test_two_instances_media import insert_media, put_file, webp
from tests.helpers.instances import GapoInstance, WebUser, eventually
from tests.helpers.media_files import FileServer, jpeg_with_gps

pytestmark = pytest.mark.federation


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    server = FileServer(files={"/cow.jpg": (jpeg_with_gps((200, 100)), "image/jpeg")})
    await server.start()
    yield server
    await server.stop()


async def test_bovine_note_with_an_image_is_stored_and_proxied(
    gapo: GapoInstance, peer: BovinePeer, files: FileServer
) -> None:
    gapo.create_user("gina")
    gina = await WebUser(gapo, "gina").login()
    try:
        await gina.follow(peer.actor_id)
        await eventually(
            lambda: gapo.query(
                "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.followee_id"
                " WHERE a.ap_id = ? AND f.state = 'accepted'",
                (peer.actor_id,),
            ),
            timeout=30,
        )
        image = {
            "type": "Image",
            "mediaType": "image/jpeg",
            "url": files.url("/cow.jpg"),
            "name": "A cow in a field",
            "width": 200,
            "height": 100,
        }
        note_id = await peer.post("Moo, with a picture", attachment=[image])
        rows = await eventually(
            lambda: gapo.query(
                "SELECT m.* FROM media m JOIN posts p ON p.id = m.post_id WHERE p.ap_id = ?",
                (note_id,),
            ),
            timeout=30,
        )
        (row,) = rows
        assert (row["kind"], row["remote_url"], row["description"]) == (
            "image",
            files.url("/cow.jpg"),
            "A cow in a field",
        )
        assert (row["width"], row["height"]) == (200, 100)
        proxied = f"/media/proxy/{remote_file_hash(files.url('/cow.jpg'))}"
        home = await gina.get("/home")
        assert proxied in home and f'src="{files.url("/cow.jpg")}"' not in home
        async with aiohttp.ClientSession() as session, session.get(gapo.base_url + proxied) as got:
            assert got.status == 200 and got.content_type == "image/webp"
            served = Image.open(io.BytesIO(await got.read()))
            assert served.size == (200, 100) and not served.getexif()
        assert files.gets["/cow.jpg"] == 1
    finally:
        await gina.close()


async def test_bovine_fetches_a_gapo_note_with_its_attachments(
    gapo: GapoInstance, peer: BovinePeer
) -> None:
    gapo.create_user("hugo")
    hugo = await WebUser(gapo, "hugo").login()
    try:
        post_id = await hugo.post("Pictures for bovine")
    finally:
        await hugo.close()
    account_id = int(
        gapo.query("SELECT id FROM accounts WHERE username = 'hugo' AND local = 1")[0]["id"]
    )
    key = put_file(gapo, webp((120, 80)), "webp")
    insert_media(
        gapo, post_id, account_id, position=0, kind="image", state="ready",
        media_type="image/webp", file_key=key, width=120, height=80,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj", focus_x=-0.5, focus_y=0.5,
        description="Alt for bovine",
    )  # fmt: skip
    pending = f"{secrets.token_urlsafe(18)}.mp4"
    insert_media(
        gapo, post_id, account_id, position=1, kind="video", state="processing",
        media_type="video/mp4", source_key=pending,
    )  # fmt: skip
    doc = await peer.fetch(f"{gapo.actor('hugo')}/statuses/{post_id}")
    (attachment,) = doc["attachment"]  # the video still processing is not federated
    assert attachment == {
        "type": "Image",
        "mediaType": "image/webp",
        "url": f"{gapo.base_url}/media/{key}",
        "name": "Alt for bovine",
        "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        "width": 120,
        "height": 80,
        "focalPoint": [-0.5, 0.5],
    }
