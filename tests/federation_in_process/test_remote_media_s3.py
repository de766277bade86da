"""The remote-media cache on an S3 bucket: a remote post's files fetched once into the
bucket, served from it through `/media/proxy/`, refetched when pruned (moto's real server)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from quart import Quart
from quart.typing import TestClientProtocol as Client

from instance.config import Settings
from instance.db import media as media_q
from instance.ids import now
from instance.urls import remote_file_hash
from tests.federation_in_process.test_inbox_apply import wrap
from tests.federation_in_process.test_remote_attachments import files, receive, with_media
from tests.helpers.fake_peer import LOCAL_BASE, FakePeer
from tests.helpers.media_files import FileServer
from tests.helpers.s3_fixtures import bucket, s3_server
from tests.helpers.s3_server import Bucket, S3Server
from tests.helpers.social import gapo
from tests.helpers.web import make_settings

# Fixtures: the remote file server (shared with the local-disk tests) and the bucket.
__all__ = ["bucket", "files", "s3_server"]


@pytest.fixture
def settings(tmp_path: Path, s3_server: S3Server, bucket: Bucket) -> Settings:
    return make_settings(
        tmp_path / "data",
        base_url=LOCAL_BASE,
        allow_private_addresses=True,
        **s3_server.settings(bucket.name),
    )


async def test_remote_files_are_cached_in_the_bucket_and_served_from_it(
    app: Quart, client: Client, peer: FakePeer, files: FileServer, bucket: Bucket
) -> None:
    await receive(app, client, peer, wrap(peer, "Create", with_media(peer, files), 1))
    photo = f"/media/proxy/{remote_file_hash(files.url('/photo.jpg'))}"
    clip = f"/media/proxy/{remote_file_hash(files.url('/clip.mp4'))}"
    assert await bucket.keys() == {}  # nothing fetched before a reader looks

    got = await client.get(photo)
    assert got.status_code == 200 and got.content_type == "image/webp"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"].startswith("public, max-age=")
    data = await got.get_data()
    assert not Image.open(io.BytesIO(data)).getexif()
    row = await media_q.remote_file(gapo(app).db, remote_file_hash(files.url("/photo.jpg")))
    assert row is not None and row["file_key"]
    assert await bucket.get(row["file_key"]) == data
    video = await client.get(clip, headers={"Range": "bytes=0-9"})
    assert video.status_code == 206 and video.content_type == "video/mp4"
    assert await video.get_data() == files.files["/clip.mp4"][0][:10]
    assert (await client.get(photo)).status_code == 200
    assert files.gets["/photo.jpg"] == 1  # the second view came from the bucket
    local = Path(gapo(app).settings.data_dir)
    assert not (local / "media").exists() or not any((local / "media").rglob("*.*"))

    await media_q.update_remote_file(
        gapo(app).db, row["url_hash"], {"last_used_at": now() - 40 * 86400}
    )
    assert await gapo(app).remote_media.prune(now() - 30 * 86400) >= 1
    assert row["file_key"] not in await bucket.keys()
    assert (await client.get(photo)).status_code == 200
    assert files.gets["/photo.jpg"] == 2
