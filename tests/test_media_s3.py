"""Media in an S3-compatible bucket: a real moto server process, the real app and routes.

A photo uploaded through `POST /media` lands in the bucket (and nowhere on the local disk)
without its EXIF; it is served in each mode (streamed through Gapo, redirected to a public
URL, redirected to a presigned URL); deleting it removes the object; a large file goes up
in parts; `gapo media migrate --to s3` copies what a local instance stored; a store that
is down answers 503 with Retry-After, never 500.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import av
import pytest
from PIL import Image
from quart import Quart
from quart.datastructures import FileStorage
from quart.typing import TestClientProtocol as Client

from instance.config import ConfigError
from instance.jobs.runner import RetryLater
from instance.media.s3_storage import S3Settings, S3Storage
from instance.media.storage import StorageUnavailable
from instance.media.uploads import MEDIA_TRANSCODE
from tests.helpers.fake_peer import jobs
from tests.helpers.media_files import jpeg_with_gps
from tests.helpers.processes import free_port, gapo
from tests.helpers.s3_fixtures import bucket, s3_server
from tests.helpers.s3_server import ACCESS_KEY, REGION, SECRET_KEY, Bucket, S3Server
from tests.helpers.social import account_id
from tests.helpers.social import gapo as services_of
from tests.helpers.web import AppFactory, csrf_of, make_settings, signup
from tests.test_media_uploads import small_mp4

__all__ = ["bucket", "s3_server"]  # the shared S3 fixtures

BASE = "http://localhost:8000"


async def upload_photo(client: Client) -> Any:
    token = await csrf_of(client, "/")
    return await client.post(
        "/media",
        files={"file": FileStorage(io.BytesIO(jpeg_with_gps()), filename="a.jpg", name="file")},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )


async def uploaded(app: Quart) -> tuple[Client, dict[str, Any]]:
    client = app.test_client()
    await signup(client, "alice")
    response = await upload_photo(client)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return client, await response.get_json()


def key_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def local_media(app: Quart) -> list[str]:
    root = Path(services_of(app).settings.data_dir) / "media"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_photo_lands_in_the_bucket_bare_and_is_streamed_then_deleted(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket
) -> None:
    app = await make_app(**s3_server.settings(bucket.name))
    client, body = await uploaded(app)
    key, thumb = key_of(body["url"]), key_of(body["preview_url"])
    assert set(await bucket.keys()) == {key, thumb}
    assert local_media(app) == []  # nothing of it on this machine's disk
    # The admin dashboard's figure counts the bucket.
    assert await services_of(app).media.storage.usage() == (
        sum((await bucket.keys()).values()),
        2,
    )

    stored = await bucket.get(key)
    image = Image.open(io.BytesIO(stored))
    assert image.size == (320, 240)
    assert len(image.getexif()) == 0
    assert b"TestCam" not in stored and b"SecretPhone" not in stored
    head = await bucket.head(key)
    assert head["ContentType"] == "image/jpeg"
    assert "immutable" in head["CacheControl"]

    # Proxied (the default): the reader's browser gets the bytes from Gapo itself.
    served = await client.get(body["url"].removeprefix(BASE))
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Length"] == str(len(stored))
    assert await served.get_data() == stored
    # A HEAD reads no body from the store (Quart's test client recounts Content-Length).
    head = await client.head(body["url"].removeprefix(BASE))
    assert head.status_code == 200 and await head.get_data() == b""
    part = await client.get(body["url"].removeprefix(BASE), headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(stored)}"
    assert await part.get_data() == stored[10:110]
    again = await client.get(body["url"].removeprefix(BASE), headers={"If-None-Match": f'"{key}"'})
    assert again.status_code == 304
    # Pages still let a browser load media from Gapo's origin only.
    policy = (await client.get("/")).headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in policy and s3_server.endpoint not in policy

    await services_of(app).uploads.delete_key(key)
    assert set(await bucket.keys()) == {thumb}
    assert (await client.get(body["url"].removeprefix(BASE))).status_code == 404


async def test_a_video_waits_in_the_bucket_and_its_transcode_lands_there(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket
) -> None:
    app = await make_app(**s3_server.settings(bucket.name))
    client = app.test_client()
    await signup(client, "alice")
    token = await csrf_of(client, "/")
    response = await client.post(
        "/media",
        files={"file": FileStorage(io.BytesIO(small_mp4()), filename="clip.mov", name="file")},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 202, await response.get_data(as_text=True)
    media_id = (await response.get_json())["id"]
    # The source waits in the bucket, so a worker on any machine can transcode it.
    waiting = [k for k in await bucket.keys() if k.startswith("incoming/")]
    assert waiting and waiting[0].startswith(f"incoming/{media_id}.")
    incoming = Path(services_of(app).settings.data_dir) / "media-incoming"
    assert not incoming.exists() or not any(p.is_file() for p in incoming.rglob("*"))

    (job,) = await jobs(app, MEDIA_TRANSCODE)
    await services_of(app).uploads.transcode_job(json.loads(job["payload"]), job)
    state = await (await client.get(f"/media/{media_id}/state")).get_json()
    assert state["state"] == "ready", state
    assert set(await bucket.keys()) == {key_of(state["url"]), key_of(state["preview_url"])}
    video = await bucket.get(key_of(state["url"]))
    assert b"Secret meeting" not in video
    with av.open(io.BytesIO(video)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    served = await client.get(state["url"].removeprefix(BASE))
    assert served.headers["Content-Type"] == "video/mp4"
    assert await served.get_data() == video


async def test_a_transcode_waits_for_a_store_that_is_down(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket, tmp_path: Path
) -> None:
    data_dir = tmp_path / "shared"
    app = await make_app(data_dir=data_dir, **s3_server.settings(bucket.name))
    client = app.test_client()
    await signup(client, "alice")
    token = await csrf_of(client, "/")
    response = await client.post(
        "/media",
        files={"file": FileStorage(io.BytesIO(small_mp4()), filename="clip.mov", name="file")},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 202
    # A worker on the same database whose store does not answer.
    down = await make_app(
        data_dir=data_dir,
        **s3_server.settings(bucket.name, s3_endpoint_url=f"http://127.0.0.1:{free_port()}"),
    )
    (job,) = await jobs(down, MEDIA_TRANSCODE)
    with pytest.raises(RetryLater, match="media storage unavailable"):
        await services_of(down).uploads.transcode_job(json.loads(job["payload"]), job)
    state = await (await client.get(f"/media/{(await response.get_json())['id']}/state")).get_json()
    assert state["state"] == "processing"  # not failed: the job runs again later
    assert any(k.startswith("incoming/") for k in await bucket.keys())


async def test_an_export_zips_the_files_of_the_bucket(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket
) -> None:
    app = await make_app(**s3_server.settings(bucket.name))
    _client, body = await uploaded(app)
    services = services_of(app)
    archive = await services.exports.archive(await account_id(app, "alice"))
    try:
        with zipfile.ZipFile(archive) as zipped:
            name = f"media_attachments/{key_of(body['url'])}"
            assert zipped.read(name) == await bucket.get(key_of(body["url"]))
    finally:
        archive.unlink()
    # The downloaded copies were work files: none is left.
    work = Path(services.settings.data_dir) / "tmp" / "s3"
    assert not work.exists() or list(work.iterdir()) == []


async def test_the_unattached_upload_sweep_empties_the_bucket(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket
) -> None:
    app = await make_app(**s3_server.settings(bucket.name))
    await uploaded(app)
    assert len(await bucket.keys()) == 2
    assert await services_of(app).uploads.remove_unattached(2**40) == 1
    assert await bucket.keys() == {}


async def test_public_mode_redirects_to_the_public_url(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket
) -> None:
    public = f"{s3_server.endpoint}/{bucket.name}"
    await bucket.make_public()
    app = await make_app(
        **s3_server.settings(bucket.name, s3_serving="public", s3_public_url=public)
    )
    client, body = await uploaded(app)
    key = key_of(body["url"])
    answer = await client.get(body["url"].removeprefix(BASE))
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{public}/{key}"
    # The admin chose the store: pages allow images and videos from it, and from no other.
    policy = (await client.get("/")).headers["Content-Security-Policy"]
    assert f"img-src 'self' {s3_server.endpoint} data:" in policy
    assert f"media-src 'self' {s3_server.endpoint} blob:" in policy
    async with aiohttp.ClientSession() as http, http.get(answer.headers["Location"]) as got:
        assert got.status == 200
        assert got.headers["Content-Type"] == "image/jpeg"
        assert await got.read() == await bucket.get(key)


async def test_signed_mode_redirects_to_a_presigned_url_that_expires(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket
) -> None:
    app = await make_app(
        **s3_server.settings(bucket.name, s3_serving="signed", s3_signed_seconds=600)
    )
    client, body = await uploaded(app)
    key = key_of(body["url"])
    answer = await client.get(body["url"].removeprefix(BASE))
    assert answer.status_code == 302
    location = answer.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-Signature"]
    assert urlsplit(location).path == f"/{bucket.name}/{key}"
    # The browser may keep the redirect for less than the signature lives.
    assert answer.headers["Cache-Control"] == "private, max-age=300"
    async with aiohttp.ClientSession() as http, http.get(location) as got:
        assert got.status == 200
        assert await got.read() == await bucket.get(key)


async def test_a_large_file_goes_up_in_parts_and_its_source_is_removed(
    s3_server: S3Server, bucket: Bucket, tmp_path: Path
) -> None:
    mib = 1024 * 1024
    storage = S3Storage(
        S3Settings(
            bucket=bucket.name,
            endpoint_url=s3_server.endpoint,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
        ),
        BASE,
        tmp_path / "work",
        part_size=5 * mib,
        multipart_over=6 * mib,
    )
    source = tmp_path / "video.mp4"
    data = os.urandom(11 * mib + 123)
    source.write_bytes(data)
    try:
        key = await storage.save_file(source, "mp4")
        assert not source.exists()
        assert await storage.size(key) == len(data)
        # A multipart object's ETag ends in the number of its parts.
        assert (await bucket.head(key))["ETag"].strip('"').endswith("-3")
        assert await bucket.get(key) == data
        async with storage.local_copy(key) as copy:
            assert copy is not None and copy.read_bytes() == data
        await storage.delete(key)
        assert await storage.size(key) is None
        await storage.delete(key)  # deleting twice is no error
    finally:
        await storage.close()


async def test_migrate_copies_local_files_into_the_bucket_and_resumes(
    make_app: AppFactory, s3_server: S3Server, bucket: Bucket, tmp_path: Path
) -> None:
    data_dir = tmp_path / "instance"
    local = await make_app(data_dir=data_dir)
    _client, body = await uploaded(local)
    files = {p.name: p.stat().st_size for p in (data_dir / "media").iterdir() if p.is_file()}
    assert set(files) == {key_of(body["url"]), key_of(body["preview_url"])}
    # A video still waiting for its transcode goes along, to where S3 storage keeps sources.
    (data_dir / "media-incoming").mkdir(exist_ok=True)
    (data_dir / "media-incoming" / "4242.mov").write_bytes(b"not yet transcoded")
    files["incoming/4242.mov"] = len(b"not yet transcoded")
    # One of them is already there with the wrong size (an upload cut off earlier).
    await bucket.put(key_of(body["url"]), b"half")

    first = gapo(data_dir, "media", "migrate", "--to", "s3", **s3_server.env(bucket.name))
    assert first.returncode == 0, first.stderr
    assert "3 local file(s): 3 copied" in first.stdout
    assert "GAPO_MEDIA_STORAGE=s3" in first.stdout
    assert await bucket.keys() == files
    second = gapo(data_dir, "media", "migrate", "--to", "s3", **s3_server.env(bucket.name))
    assert second.returncode == 0, second.stderr
    assert "0 copied (0 bytes), 3 already in the bucket, 0 failed" in second.stdout

    # Switched over, with the local folder gone: the same URLs serve from the bucket.
    for path in (data_dir / "media").iterdir():
        path.unlink() if path.is_file() else None
    moved = await make_app(data_dir=tmp_path / "moved", **s3_server.settings(bucket.name))
    served = await moved.test_client().get(body["url"].removeprefix(BASE))
    assert served.status_code == 200
    assert await served.get_data() == await bucket.get(key_of(body["url"]))


async def test_migrate_says_what_is_missing_or_unreachable(
    s3_server: S3Server, tmp_path: Path
) -> None:
    done = gapo(tmp_path / "data", "media", "migrate", "--to", "s3")
    assert done.returncode == 2 and "GAPO_S3_BUCKET" in done.stderr
    env = s3_server.env("any") | {"GAPO_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    down = gapo(tmp_path / "data", "media", "migrate", "--to", "s3", **env)
    assert down.returncode == 2
    assert "media storage unavailable" in down.stderr and "Traceback" not in down.stderr


async def test_a_store_that_is_down_answers_503_not_500(make_app: AppFactory) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = await make_app(
        media_storage="s3",
        s3_endpoint_url=down,
        s3_bucket="gone",
        s3_access_key=ACCESS_KEY,
        s3_secret_key=SECRET_KEY,
    )
    client = app.test_client()
    await signup(client, "alice")
    response = await upload_photo(client)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "storage" in (await response.get_json())["error"].lower()
    assert int(await services_of(app).db.fetch_value("SELECT COUNT(*) FROM media")) == 0
    # Serving from it says the same, not a 500.
    missing = await client.get("/media/AAAAAAAAAAAAAAAAAAAAAAAA.jpg")
    assert missing.status_code == 503
    with pytest.raises(StorageUnavailable):
        await services_of(app).media.storage.size("AAAAAAAAAAAAAAAAAAAAAAAA.jpg")


def test_s3_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GAPO_S3_BUCKET"):
        make_settings(tmp_path, media_storage="s3")
    with pytest.raises(ConfigError, match="GAPO_S3_PUBLIC_URL"):
        make_settings(tmp_path, media_storage="s3", s3_bucket="b", s3_serving="public")
    with pytest.raises(ConfigError, match="GAPO_S3_SERVING"):
        make_settings(tmp_path, s3_serving="cdn")
    with pytest.raises(ConfigError, match="both"):
        make_settings(tmp_path, media_storage="s3", s3_bucket="b", s3_access_key="k")
    with pytest.raises(ConfigError, match="GAPO_S3_SIGNED_SECONDS"):
        make_settings(tmp_path, s3_signed_seconds=8 * 86400)
    with pytest.raises(ConfigError, match="GAPO_S3_ADDRESSING"):
        make_settings(tmp_path, s3_addressing="dns")
    with pytest.raises(ConfigError, match="GAPO_MEDIA_STORAGE"):
        make_settings(tmp_path, media_storage="nfs")
    assert make_settings(tmp_path).media_storage == "local"
