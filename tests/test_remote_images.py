"""Re-encoding cached remote images: metadata gone, animations kept, bombs and non-images
refused, big photos scaled down."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from instance.media.remote_images import MAX_SIDE, NotAnImage, reencode
from tests.helpers.media_files import jpeg_with_gps
from tests.test_profile_images import png_header_only


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "file"
    path.write_bytes(data)
    return path


def test_exif_and_gps_are_gone(tmp_path: Path) -> None:
    out = Image.open(io.BytesIO(reencode(write(tmp_path, jpeg_with_gps()))))
    assert out.format == "WEBP" and out.size == (320, 240)
    assert not out.getexif() and "exif" not in out.info


def test_animation_stays_animated(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (40, 30), (i * 60, 0, 0)) for i in range(4)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    out = Image.open(io.BytesIO(reencode(write(tmp_path, gif.getvalue()))))
    assert out.format == "WEBP" and getattr(out, "n_frames", 1) == 4


def test_big_photo_is_scaled_down(tmp_path: Path) -> None:
    image = io.BytesIO()
    Image.new("RGB", (4100, 300), (1, 2, 3)).save(image, "PNG")
    out = Image.open(io.BytesIO(reencode(write(tmp_path, image.getvalue()))))
    assert out.size[0] == MAX_SIDE


@pytest.mark.parametrize(
    "data",
    [
        png_header_only(100_000, 100_000),
        b"<html><body>not a picture</body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"",
    ],
)
def test_non_images_and_bombs_are_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(NotAnImage):
        reencode(write(tmp_path, data))
