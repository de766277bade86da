"""Two real Gapo instances: a post's image and video travel with every field, and the
receiving instance shows them from its own origin, through /media/proxy/.

The processed files and their `media` rows are put in place directly (as the upload
pipeline leaves them), then the author edits the post: the Update carries the attachments.
"""

from __future__ import annotations

import io
import re
import secrets
import sqlite3
import time

import aiohttp
import pytest
from PIL import Image

from instance.urls import remote_file_hash
from tests.helpers.instances import GapoInstance, eventually, signed_in
from tests.helpers.media_files import jpeg_with_gps, tiny_mp4

pytestmark = pytest.mark.federation


def webp(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 90)).save(out, "WEBP")
    return out.getvalue()


def put_file(instance: GapoInstance, data: bytes, ext: str) -> str:
    key = f"{secrets.token_urlsafe(18)}.{ext}"
    media = instance.data_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / key).write_bytes(data)
    return key


def insert_media(instance: GapoInstance, post_id: int, account_id: int, **values: object) -> None:
    row = {
        "id": secrets.randbelow(2**62),
        "account_id": account_id,
        "post_id": post_id,
        "created_at": int(time.time()),
        **values,
    }
    conn = sqlite3.connect(instance.data_dir / "gapo.sqlite3", timeout=30)
    try:
        columns = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        conn.execute(f"INSERT INTO media ({columns}) VALUES ({marks})", row)
        conn.commit()
    finally:
        conn.close()


def remote_media(instance: GapoInstance, ap_id: str) -> list[sqlite3.Row]:
    return instance.query(
        "SELECT m.* FROM media m JOIN posts p ON p.id = m.post_id WHERE p.ap_id = ?"
        " ORDER BY m.position",
        (ap_id,),
    )


async def test_image_and_video_travel_and_are_proxied(
    instances: tuple[GapoInstance, GapoInstance],
) -> None:
    one, two = instances
    async with signed_in((one, "alice"), (two, "bob")) as (alice, bob):
        await bob.follow(one.handle("alice"))
        await eventually(
            lambda: two.query("SELECT 1 FROM follows WHERE state = 'accepted'"), timeout=30
        )
        post_id = await alice.post("A picture and a clip")
        note_id = f"{one.actor('alice')}/statuses/{post_id}"
        await eventually(lambda: two.query("SELECT id FROM posts WHERE ap_id = ?", (note_id,)))

        account_id = int(
            one.query("SELECT id FROM accounts WHERE username = 'alice' AND local = 1")[0]["id"]
        )
        image_key = put_file(one, webp((320, 240)), "webp")
        video_key = put_file(one, tiny_mp4(), "mp4")
        poster_key = put_file(one, jpeg_with_gps((64, 48)), "jpg")
        insert_media(
            one, post_id, account_id, position=0, kind="image", state="ready",
            media_type="image/webp", file_key=image_key, width=320, height=240,
            blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj", focus_x=0.5, focus_y=-0.25,
            description="A green field",
        )  # fmt: skip
        insert_media(
            one, post_id, account_id, position=1, kind="video", state="ready",
            media_type="video/mp4", file_key=video_key, thumb_key=poster_key, width=64,
            height=48, description="Grey frames",
        )  # fmt: skip
        # The edit's Update is built from the rows: it carries both attachments.
        await alice.act(post_id, "edit", {"text": "A picture and a clip, edited", "summary": ""})

        rows = await eventually(lambda: remote_media(two, note_id) or None, timeout=30)
        image, video = rows
        assert (image["kind"], image["state"], image["media_type"]) == (
            "image",
            "remote",
            "image/webp",
        )
        assert image["remote_url"] == f"{one.base_url}/media/{image_key}"
        assert image["description"] == "A green field"
        assert image["blurhash"] == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
        assert (image["width"], image["height"]) == (320, 240)
        assert (image["focus_x"], image["focus_y"]) == (0.5, -0.25)
        assert (video["kind"], video["media_type"]) == ("video", "video/mp4")
        assert video["remote_url"] == f"{one.base_url}/media/{video_key}"
        assert video["remote_preview_url"] == f"{one.base_url}/media/{poster_key}"
        assert (video["width"], video["height"], video["description"]) == (64, 48, "Grey frames")

        local_id = two.query("SELECT id FROM posts WHERE ap_id = ?", (note_id,))[0]["id"]
        page = await bob.get(f"/p/{local_id}")
        assert one.base_url not in re.sub(r'href="[^"]*"', "", page)  # no src on one's origin
        image_path = f"/media/proxy/{remote_file_hash(image['remote_url'])}"
        poster_path = f"/media/proxy/{remote_file_hash(video['remote_preview_url'])}"
        video_path = f"/media/proxy/{remote_file_hash(video['remote_url'])}"
        for path in (image_path, poster_path, video_path):
            assert path in page

        async with aiohttp.ClientSession() as session:
            async with session.get(two.base_url + image_path) as got:
                assert got.status == 200 and got.content_type == "image/webp"
                assert got.headers["X-Content-Type-Options"] == "nosniff"
                assert Image.open(io.BytesIO(await got.read())).size == (320, 240)
            async with session.get(two.base_url + poster_path) as got:
                assert got.status == 200 and got.content_type == "image/webp"
                assert not Image.open(io.BytesIO(await got.read())).getexif()  # GPS gone
            async with session.get(f"{one.base_url}/media/{video_key}") as origin:
                assert origin.status == 200 and origin.content_type == "video/mp4"
            async with session.get(two.base_url + video_path) as got:
                assert got.status == 200 and got.content_type == "video/mp4"
                assert await got.read() == (one.data_dir / "media" / video_key).read_bytes()
