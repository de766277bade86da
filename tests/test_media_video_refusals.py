"""The video pipeline refuses what is not a usable video, with its own errors and no others."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from instance.errors import GapoError, PayloadTooLarge, ValidationFailed
from instance.media.video import (
    VideoRejected,
    VideoTooLarge,
    VideoTooLong,
    probe,
    transcode,
)
from tests.test_media_video_inputs import make_audio_only, make_clip, make_music_with_cover


def text_file(path: Path) -> Path:
    path.write_text("This is my holiday video, honest.\n" * 50)
    return path


def fake_ftyp(path: Path) -> Path:
    """An MP4 file type box (what `file` and browsers sniff) followed by random bytes."""
    box = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    path.write_bytes(box + random.Random(13).randbytes(64 * 1024))  # noqa: S311 (test input)
    return path


def png_image(path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (10, 200, 10)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def truncated_mp4(path: Path) -> Path:
    """An MP4 written without faststart (index at the end), cut in half: no index at all."""
    whole = make_clip(path.with_name("whole.mp4"), audio=None)
    data = whole.read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")
    path.write_bytes(data[: len(data) // 2])
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def avi_clip(path: Path) -> Path:
    """A real video, in a container outside the accepted list."""
    return make_clip(path, seconds=0.4, audio=None)


REJECTED: dict[str, Callable[[Path], Path]] = {
    "text": lambda tmp: text_file(tmp / "video.mp4"),
    "fake_ftyp": lambda tmp: fake_ftyp(tmp / "video.mp4"),
    "png": lambda tmp: png_image(tmp / "video.mp4"),
    "wav": lambda tmp: make_audio_only(tmp / "sound.wav", "pcm_s16le"),
    "mp3": lambda tmp: make_audio_only(tmp / "sound.mp3", "libmp3lame"),
    "audio_only_m4a": lambda tmp: make_audio_only(tmp / "sound.m4a", "aac"),
    "truncated_mp4": lambda tmp: truncated_mp4(tmp / "cut.mp4"),
    "avi": lambda tmp: avi_clip(tmp / "clip.avi"),
    "mpeg_ts": lambda tmp: make_clip(tmp / "clip.ts", seconds=0.4, audio=None),
    "empty": lambda tmp: empty_file(tmp / "empty.mp4"),
    "music_with_cover_art": lambda tmp: make_music_with_cover(tmp / "song.m4a"),
}


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_what_is_not_a_usable_video_is_rejected(tmp_path: Path, kind: str) -> None:
    source = REJECTED[kind](tmp_path)
    assert source.exists()

    with pytest.raises(VideoRejected) as probed:
        probe(source)
    with pytest.raises(VideoRejected):
        transcode(source, tmp_path / "work")

    assert isinstance(probed.value, ValidationFailed) and probed.value.status == 422
    assert not list((tmp_path / "work").iterdir())  # nothing half-written is left behind


def test_a_video_over_the_length_limit_is_too_long(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.mov", seconds=2.0)

    with pytest.raises(VideoTooLong) as raised:
        probe(source, max_duration=1.0)
    with pytest.raises(VideoTooLong):
        transcode(source, tmp_path / "work", max_duration=1.0)

    assert raised.value.status == 422
    assert raised.value.args_for_message == {"seconds": 1}
    assert "1 seconds" in str(raised.value)
    assert not list((tmp_path / "work").iterdir())


def test_a_frame_over_the_pixel_limit_is_too_large(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.mov", seconds=0.4, audio=None)

    with pytest.raises(VideoTooLarge) as raised:
        probe(source, max_pixels=320 * 239)

    assert isinstance(raised.value, PayloadTooLarge) and raised.value.status == 413
    assert probe(source, max_pixels=320 * 240).width == 320


def test_damaged_files_raise_only_the_pipeline_errors(tmp_path: Path) -> None:
    """Bytes flipped here and there in a real MP4: it transcodes, or it is refused, no crash."""
    original = make_clip(tmp_path / "good.mp4", seconds=0.6, audio="aac").read_bytes()
    chance = random.Random(2026)  # noqa: S311 (test input)
    for attempt in range(24):
        data = bytearray(original)
        for _ in range(chance.choice((1, 8, 64))):
            data[chance.randrange(len(data))] = chance.randrange(256)
        source = tmp_path / f"damaged-{attempt}.mp4"
        source.write_bytes(bytes(data))
        try:
            transcode(source, tmp_path / f"work-{attempt}")
        except (VideoRejected, VideoTooLong, VideoTooLarge) as refused:
            assert isinstance(refused, GapoError)
