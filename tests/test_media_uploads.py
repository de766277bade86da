"""Attachments through the web: upload, limits, serving, posting, editing and deleting.

Real files through the real app: a JPEG with GPS and camera EXIF is uploaded, attached,
served and read back; a video goes through its transcode job; what is refused leaves no
row and no file behind.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import av
from PIL import ExifTags, Image
from quart import Quart
from quart.datastructures import FileStorage
from quart.typing import TestClientProtocol as Client

from instance.media.uploads import MEDIA_TRANSCODE
from tests.helpers.fake_peer import jobs
from tests.helpers.media_files import jpeg_with_gps as camera_jpeg
from tests.helpers.web import AppFactory, count_rows, csrf_of, signup


def jpeg_with_gps(size: tuple[int, int] = (1600, 1200)) -> bytes:
    return camera_jpeg(size)


def small_mp4(seconds: float = 1.0) -> bytes:
    """A short H.264 clip with a title and a location tag, made here with PyAV."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        container.metadata["title"] = "Secret meeting"
        container.metadata["location"] = "+21.0285+105.8542/"
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(int(seconds * 10)):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 120), (index * 20, 80, 40)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


async def upload(
    client: Client, data: bytes, name: str = "photo.jpg", *, csrf: str | None = None, **form: str
) -> Any:
    token = csrf if csrf is not None else await csrf_of(client, "/")
    return await client.post(
        "/media",
        form=form,
        files={"file": FileStorage(io.BytesIO(data), filename=name, name="file")},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )


def media_dir(app: Quart) -> Path:
    return Path(app.extensions["gapo"].settings.data_dir) / "media"


def stored_files(app: Quart) -> list[Path]:
    root = media_dir(app)
    return sorted(p for p in root.iterdir() if p.is_file()) if root.exists() else []


def leftovers(app: Quart) -> list[Path]:
    """Files anywhere under the data dir's upload work areas."""
    data_dir = Path(app.extensions["gapo"].settings.data_dir)
    found: list[Path] = []
    for name in ("tmp", "media-incoming"):
        if (data_dir / name).exists():
            found += [p for p in (data_dir / name).rglob("*") if p.is_file()]
    return found


async def test_photo_upload_is_stripped_and_served_with_safe_headers(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(
        client, jpeg_with_gps(), description="A lake at dawn", focus="0.5,-0.25"
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["kind"] == "image" and body["state"] == "ready"
    assert body["description"] == "A lake at dawn"
    assert body["width"] == 1600 and body["height"] == 1200 and body["blurhash"]

    served = await client.get(body["url"].removeprefix("http://localhost:8000"))
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert "immutable" in served.headers["Cache-Control"]
    data = await served.get_data()
    image = Image.open(io.BytesIO(data))
    assert image.size == (1600, 1200)
    assert len(image.getexif()) == 0 and "icc_profile" not in image.info
    assert b"TestCam" not in data and b"SecretPhone" not in data
    assert leftovers(app) == []
    # Whatever a client asks for, a file never poses as an ActivityPub document.
    for accept in ("application/activity+json", 'application/ld+json; profile="x"', "*/*"):
        asked = await client.get(
            body["url"].removeprefix("http://localhost:8000"), headers={"Accept": accept}
        )
        assert asked.headers["Content-Type"] == "image/jpeg", accept
        assert await asked.get_data() == data


async def test_range_requests_get_206_with_the_right_bytes(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    body = await (await upload(client, jpeg_with_gps())).get_json()
    path = body["url"].removeprefix("http://localhost:8000")
    whole = await (await client.get(path)).get_data()
    part = await client.get(path, headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(whole)}"
    assert await part.get_data() == whole[10:110]
    beyond = await client.get(path, headers={"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416


async def test_refused_files_leave_nothing_behind(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    html = b"<!doctype html><html><script>alert(1)</script></html>" * 4
    cases = [
        (html, "photo.jpg", 422),  # claims to be a photo by name only
        (
            b'{"@context": "https://www.w3.org/ns/activitystreams", "type": "Note"}' * 2,
            "a.json",
            422,
        ),
        (jpeg_with_gps()[:3000], "cut.jpg", 422),  # truncated
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000, "fake.mp4", 422),  # a video by header only
    ]
    for data, name, status in cases:
        response = await upload(client, data, name)
        assert response.status_code == status, (name, await response.get_data(as_text=True))
        assert (await response.get_json())["error"]
    assert await count_rows(app, "media") == 0
    assert stored_files(app) == [] and leftovers(app) == []


async def test_an_upload_without_the_csrf_token_stores_nothing(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, jpeg_with_gps(), csrf="forged")
    assert response.status_code == 403
    assert await count_rows(app, "media") == 0 and leftovers(app) == []


async def test_an_oversized_upload_is_refused_with_413(make_app: Any) -> None:
    app = await make_app(max_image_bytes=200_000)
    client = app.test_client()
    await signup(client, "alice")
    big = Image.effect_noise((1500, 1500), 64).convert("RGB")
    out = io.BytesIO()
    big.save(out, "PNG")
    assert len(out.getvalue()) > 200_000
    response = await upload(client, out.getvalue(), "big.png")
    assert response.status_code == 413
    assert "MB" in (await response.get_json())["error"]
    assert await count_rows(app, "media") == 0 and leftovers(app) == []


async def test_uploads_are_rate_limited_per_person(make_app: Any) -> None:
    app = await make_app(uploads_per_30min=2)
    client = app.test_client()
    await signup(client, "alice")
    tiny = io.BytesIO()
    Image.new("RGB", (20, 20)).save(tiny, "PNG")
    assert (await upload(client, tiny.getvalue(), "a.png")).status_code == 200
    assert (await upload(client, tiny.getvalue(), "b.png")).status_code == 200
    third = await upload(client, tiny.getvalue(), "c.png")
    assert third.status_code == 429 and third.headers.get("Retry-After")


def multi(fields: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments posting a form with repeated fields, as browsers send them (the
    test client keeps only the first value of a repeated name)."""
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return {
        "data": urlencode(pairs),
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


async def _post(client: Client, **fields: Any) -> Any:
    token = await csrf_of(client, "/")
    return await client.post(
        "/posts", **multi({"csrf_token": token, "visibility": "public", **fields})
    )


async def test_a_post_of_photos_only_shows_them_and_federates_them(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    first = await (await upload(client, jpeg_with_gps(), description="First")).get_json()
    second = await (await upload(client, jpeg_with_gps((800, 800)))).get_json()
    token = await csrf_of(client, "/")
    response = await client.post(
        "/posts",
        **multi(
            {
                "csrf_token": token,
                "text": "",
                "visibility": "public",
                "media_ids": [first["id"], second["id"]],
                f"description_{second['id']}": "Second, described at posting",
            }
        ),
    )
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    rows = await app.extensions["gapo"].db.fetch_all(
        "SELECT id, post_id, position, description FROM media ORDER BY position"
    )
    assert [r["description"] for r in rows] == ["First", "Second, described at posting"]
    assert rows[0]["post_id"] == rows[1]["post_id"] is not None

    page = await (await client.get(response.headers["Location"])).get_data(as_text=True)
    assert 'alt="First"' in page
    assert first["preview_url"].removeprefix("http://localhost:8000") in page

    # The same upload cannot be attached twice.
    again = await _post(client, text="again", media_ids=first["id"])
    assert again.status_code == 422


async def test_a_post_with_nothing_at_all_is_refused(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    assert (await _post(client, text="  ")).status_code == 422


async def test_a_form_without_javascript_posts_its_files(app: Quart) -> None:
    """The plain file input: the photo is processed and attached in the same request."""
    client = app.test_client()
    await signup(client, "alice")
    token = await csrf_of(client, "/")
    response = await client.post(
        "/posts",
        form={"csrf_token": token, "text": "From the lake", "visibility": "public"},
        files={"files": FileStorage(io.BytesIO(jpeg_with_gps()), filename="x.jpg", name="files")},
        # The test client writes files before fields; a browser sends the form's token first.
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    row = await app.extensions["gapo"].db.fetch_one("SELECT post_id, state FROM media")
    assert row["post_id"] is not None and row["state"] == "ready"
    assert leftovers(app) == []


async def test_a_video_is_transcoded_by_its_job_and_loses_its_metadata(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, small_mp4(), "clip.mov")
    assert response.status_code == 202, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["state"] == "processing" and body["kind"] == "video"

    # Posting before it is ready is refused with a reason, as on Mastodon.
    early = await _post(client, text="wait", media_ids=body["id"])
    assert early.status_code == 422

    services = app.extensions["gapo"]
    (job,) = await jobs(app, MEDIA_TRANSCODE)
    assert job["host"] == "media:transcode"
    await services.uploads.transcode_job(json.loads(job["payload"]), job)

    state = await (await client.get(f"/media/{body['id']}/state")).get_json()
    assert state["state"] == "ready" and state["preview_url"]
    served = await client.get(state["url"].removeprefix("http://localhost:8000"))
    assert served.headers["Content-Type"] == "video/mp4"
    data = await served.get_data()
    assert b"Secret meeting" not in data and b"+21.0285" not in data
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert "title" not in container.metadata and "location" not in container.metadata
    assert leftovers(app) == []

    posted = await _post(client, text="a clip", media_ids=body["id"])
    assert posted.status_code in (302, 303)


async def test_an_edit_changes_alt_text_and_removes_attachments_and_delete_frees_files(
    app: Quart,
) -> None:
    client = app.test_client()
    await signup(client, "alice")
    one = await (await upload(client, jpeg_with_gps())).get_json()
    two = await (await upload(client, jpeg_with_gps((640, 480)))).get_json()
    posted = await _post(client, text="two photos", media_ids=[one["id"], two["id"]])
    post_id = int(posted.headers["Location"].rsplit("/", 1)[1])
    assert len(stored_files(app)) == 4  # two photos, two thumbnails

    token = await csrf_of(client, f"/p/{post_id}/edit")
    edited = await client.post(
        f"/p/{post_id}/edit",
        **multi(
            {
                "csrf_token": token,
                "text": "one photo now",
                "summary": "",
                "media_ids": [one["id"], two["id"]],
                f"description_{one['id']}": "Now described",
                f"remove_{two['id']}": "1",
            }
        ),
    )
    assert edited.status_code in (302, 303), await edited.get_data(as_text=True)
    rows = await app.extensions["gapo"].db.fetch_all("SELECT id, description FROM media")
    assert [(str(r["id"]), r["description"]) for r in rows] == [(one["id"], "Now described")]
    updates = await app.extensions["gapo"].db.fetch_all(
        "SELECT payload FROM jobs WHERE kind = 'fanout'"
    )
    assert any("Update" in r["payload"] and "Now described" in r["payload"] for r in updates)

    services = app.extensions["gapo"]
    purge = await jobs(app, "media_purge")
    assert len(purge) == 1
    await services.uploads.purge_job(json.loads(purge[0]["payload"]), purge[0])
    assert len(stored_files(app)) == 2

    token = await csrf_of(client, f"/p/{post_id}/edit")
    await client.post(f"/p/{post_id}/delete", form={"csrf_token": token})
    assert await count_rows(app, "media") == 0
    for job in await jobs(app, "media_purge"):
        await services.uploads.purge_job(json.loads(job["payload"]), job)
    assert stored_files(app) == []


async def test_uploads_never_attached_are_removed_after_a_day(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    await upload(client, jpeg_with_gps())
    services = app.extensions["gapo"]
    assert await services.uploads.remove_unattached(0) == 0  # younger than the cutoff
    from instance.ids import now

    assert await services.uploads.remove_unattached(now() + 1) == 1
    assert await count_rows(app, "media") == 0 and stored_files(app) == []


def png_with_text_and_exif() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Taken at the safe house")
    info.add_text("Author", "SecretPhone 9")
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "SecretPhone 9"
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (200, 30, 30, 128)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def webp_with_exif() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "SecretPhone 9"
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 200, 90)).save(out, "WEBP", exif=exif)
    return out.getvalue()


def rotated_jpeg() -> bytes:
    """Stored 400×200 with Orientation 6: shown upright, it is 200×400."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Model] = "SecretPhone 9"
    out = io.BytesIO()
    Image.new("RGB", (400, 200), (90, 90, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (80, 60), (index * 60, 40, 200 - index * 40)) for index in range(4)]
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=100,
        loop=0,
        comment=b"SecretPhone 9",
    )
    return out.getvalue()


def png_bomb() -> bytes:
    """144 megapixels of one colour: a few kB on the wire, far more once decoded."""
    out = io.BytesIO()
    Image.new("1", (12000, 12000), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


async def test_every_photo_format_is_served_without_its_metadata_and_upright(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    for data, name, size in (
        (png_with_text_and_exif(), "a.png", (300, 200)),
        (webp_with_exif(), "a.webp", (320, 240)),
        (rotated_jpeg(), "a.jpg", (200, 400)),
    ):
        response = await upload(client, data, name)
        assert response.status_code == 200, (name, await response.get_data(as_text=True))
        body = await response.get_json()
        assert (body["width"], body["height"]) == size, name
        for url in (body["url"], body["preview_url"]):
            served = await (await client.get(url.removeprefix("http://localhost:8000"))).get_data()
            image = Image.open(io.BytesIO(served))
            assert len(image.getexif()) == 0, name
            assert not {"Comment", "Author", "exif", "xmp"} & set(image.info), (name, image.info)
            assert b"SecretPhone" not in served and b"safe house" not in served, name
        whole = Image.open(
            io.BytesIO(
                await (
                    await client.get(body["url"].removeprefix("http://localhost:8000"))
                ).get_data()
            )
        )
        assert whole.size == size, name


async def test_an_animated_gif_becomes_a_silent_looping_mp4(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, animated_gif(), "moving.gif")
    assert response.status_code == 202, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["kind"] == "gifv" and body["state"] == "processing"
    (job,) = await jobs(app, MEDIA_TRANSCODE)
    await app.extensions["gapo"].uploads.transcode_job(json.loads(job["payload"]), job)
    state = await (await client.get(f"/media/{body['id']}/state")).get_json()
    assert state["state"] == "ready"
    data = await (await client.get(state["url"].removeprefix("http://localhost:8000"))).get_data()
    assert b"SecretPhone" not in data
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert not container.streams.audio  # silent, as Mastodon's gifv


async def test_a_decompression_bomb_is_refused_and_leaves_nothing(app: Quart) -> None:
    client = app.test_client()
    await signup(client, "alice")
    bomb = png_bomb()
    assert len(bomb) < 100_000
    response = await upload(client, bomb, "bomb.png")
    assert response.status_code == 413  # judged from the header, before decoding
    assert "megapixels" in (await response.get_json())["error"]
    assert await count_rows(app, "media") == 0
    assert stored_files(app) == [] and leftovers(app) == []


ONION = "gapoexampleonionaddressforteststhatisfiftysixcharslongxyz.onion"


async def test_upload_and_state_urls_are_absolute_on_the_origin_asked(make_app: AppFactory) -> None:
    """The upload's answer and its state give absolute URLs on the base URL; asked on the
    onion origin, on that one; a Host that is not ours changes nothing."""
    app = await make_app(onion_address=ONION, base_url="https://gapo.example")
    client = app.test_client()
    await signup(client, "alice")
    response = await upload(client, jpeg_with_gps((64, 48)))
    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["url"].startswith("https://gapo.example/media/")
    assert body["preview_url"].startswith("https://gapo.example/media/")
    path = body["url"].removeprefix("https://gapo.example")
    state = await (await client.get(f"/media/{body['id']}/state")).get_json()
    assert state["url"] == body["url"]
    for host, origin in ((ONION, f"http://{ONION}"), ("evil.example", "https://gapo.example")):
        answer = await client.get(
            f"/media/{body['id']}/state", headers={"Host": host}, scheme="http"
        )
        assert answer.status_code == 200, host
        assert (await answer.get_json())["url"] == origin + path, host
