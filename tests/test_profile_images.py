"""Avatar and header uploads: validated, resized, stripped of metadata, served from /media."""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import Any
from urllib.parse import urlsplit

from PIL import Image
from quart import Quart
from quart.datastructures import FileStorage
from quart.typing import TestClientProtocol as Client

from instance.config import Settings
from instance.media.images import process_image
from tests.helpers.media_files import jpeg_with_gps as camera_jpeg
from tests.helpers.web import csrf_of, signup


def jpeg_with_gps(size: tuple[int, int] = (1200, 900)) -> bytes:
    return camera_jpeg(size, (200, 30, 30))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions: a decompression bomb's header, no real pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


async def upload(client: Client, **files: tuple[bytes, str]) -> Any:
    token = await csrf_of(client, "/settings/profile")
    return await client.post(
        "/settings/profile",
        form={"csrf_token": token, "display_name": "Alice", "bio": ""},
        files={
            name: FileStorage(io.BytesIO(data), filename=filename, name=name)
            for name, (data, filename) in files.items()
        },
    )


async def account(app: Quart, name: str = "alice") -> Any:
    return await app.extensions["gapo"].accounts.profile(name)


async def fetch_media(client: Client, url: str) -> Any:
    return await client.get(urlsplit(url).path)


async def test_avatar_loses_exif_and_gps_and_is_cropped(app: Quart) -> None:
    """A JPEG with EXIF GPS comes out as a 400×400 WebP with no EXIF at all."""
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, avatar=(jpeg_with_gps(), "holiday.jpg"))
    assert response.status_code in (302, 303), await response.get_data(as_text=True)

    avatar_url = (await account(app))["avatar_url"]
    assert avatar_url.startswith("http://localhost:8000/media/") and avatar_url.endswith(".webp")
    served = await fetch_media(client, avatar_url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    body = await served.get_data()
    image = Image.open(io.BytesIO(body))
    assert image.format == "WEBP" and image.size == (400, 400)
    assert len(image.getexif()) == 0 and "exif" not in image.info and "xmp" not in image.info
    assert b"TestCam" not in body and b"Exif" not in body

    # The actor document (and so Update(Person)) carries the new icon.
    actor = await client.get("/users/alice", headers={"Accept": "application/activity+json"})
    assert (await actor.get_json())["icon"]["url"] == avatar_url


async def test_header_is_cropped_to_three_by_one_and_replaces_the_old_file(
    app: Quart,
) -> None:
    """A header becomes at most 1500×500; uploading another deletes the previous file."""
    client = app.test_client()
    await signup(client, "alice")
    await upload(client, header=(jpeg_with_gps((3000, 1500)), "wide.jpg"))
    first = (await account(app))["header_url"]
    image = Image.open(io.BytesIO(await (await fetch_media(client, first)).get_data()))
    assert image.size == (1500, 500)

    await upload(client, header=(jpeg_with_gps((600, 600)), "small.jpg"))
    second = (await account(app))["header_url"]
    assert second != first
    assert (await fetch_media(client, first)).status_code == 404
    small = Image.open(io.BytesIO(await (await fetch_media(client, second)).get_data()))
    assert small.size == (600, 200)  # cropped to 3:1, never enlarged


async def test_transparency_survives(app: Quart) -> None:
    """A PNG with alpha stays transparent (RGBA), not flattened on black."""
    source = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    out = io.BytesIO()
    source.save(out, "PNG")
    result = Image.open(io.BytesIO(process_image(out.getvalue(), "avatar")))
    assert result.mode == "RGBA" and result.getpixel((10, 10))[3] == 0


async def test_non_image_is_refused_with_a_reason(app: Quart) -> None:
    """Text bytes named .png are a 422 that says what to upload, and nothing changes."""
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, avatar=(b"this is not a picture\n" * 20, "cat.png"))
    assert response.status_code == 422
    assert "not an image" in await response.get_data(as_text=True)
    assert (await account(app))["avatar_url"] is None


async def test_decompression_bomb_and_huge_files_are_refused(app: Quart) -> None:
    """Images past 40 megapixels or 8 MB are refused with 413 and a reason, never a 500."""
    client = app.test_client()
    await signup(client, "alice")
    for data in (png_header_only(8000, 6000), png_header_only(100_000, 100_000)):
        response = await upload(client, avatar=(data, "bomb.png"))
        assert response.status_code == 413
        assert "too large" in await response.get_data(as_text=True)
    response = await upload(client, header=(b"\xff\xd8" + b"\x00" * (8 * 1024 * 1024), "x.jpg"))
    assert response.status_code == 413
    # Past what the form may carry at all, the body itself is refused.
    response = await upload(client, header=(b"\x00" * (17 * 1024 * 1024), "x.jpg"))
    assert response.status_code == 413
    assert (await account(app))["avatar_url"] is None
    assert (await account(app))["header_url"] is None


async def test_media_route_refuses_traversal_and_bad_keys(app: Quart, settings: Settings) -> None:
    """Only well-formed keys are served: no path traversal to the data dir's secret key."""
    client = app.test_client()
    secret = (settings.data_dir / "secret_key").read_bytes().strip()
    for path in (
        "/media/..%2Fsecret_key",
        "/media/%2E%2E%2Fsecret_key",
        "/media/../secret_key",
        "/media/secret_key",
        "/media/aaaaaaaaaaaaaaaaaaaaaaaa.webp",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert secret not in await response.get_data()


async def test_upload_larger_than_the_general_body_limit_is_accepted(app: Quart) -> None:
    """The profile form may carry more than other requests (1 MB) when it holds images."""
    noise = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    assert out.tell() > 1_048_576 * 1.5
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, avatar=(out.getvalue(), "noise.jpg"))
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    assert (await account(app))["avatar_url"]
