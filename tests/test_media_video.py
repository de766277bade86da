"""The video pipeline: uploads come out as upright H.264/AAC MP4 with a poster and no metadata."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from instance.media.video import POSTER_FILE, VIDEO_FILE, ProcessedVideo, probe, transcode
from instance.media.video_frames import clockwise_quarter_turns, output_size
from tests.test_media_video_inputs import (
    COMMENT,
    LOCATION,
    TAGS,
    TITLE,
    has_encoder,
    make_clip,
    make_gif,
)

# What the MP4 muxer writes whatever we ask: the file type box and each track's handler.
HARMLESS_KEYS = {
    "major_brand",
    "minor_version",
    "compatible_brands",
    "handler_name",
    "vendor_id",
    "language",
}


def reopened(video: Path) -> dict[str, object]:
    """What a player sees in the output: codecs, sizes, tags, frames decoded to the end."""
    with av.open(str(video)) as container:
        streams = {stream.type: stream for stream in container.streams}
        tags = [dict(container.metadata)] + [dict(s.metadata) for s in container.streams]
        frames = list(container.decode(video=0))
        return {
            "format": container.format.name,
            "brand": container.metadata.get("major_brand"),
            "video_codec": streams["video"].codec_context.name,
            "audio_codec": streams["audio"].codec_context.name if "audio" in streams else None,
            "stream_types": sorted(streams),
            "pix_fmt": frames[0].format.name,
            "size": (frames[0].width, frames[0].height),
            "rotation": frames[0].rotation,
            "side_data": [str(side.type) for side in frames[0].side_data],
            "frames": len(frames),
            "last_time": frames[-1].time,
            "tag_keys": set().union(*tags),
            "first_rgb": frames[0].to_ndarray(format="rgb24"),
            "chapters": container.chapters(),
        }


def assert_no_metadata(result: ProcessedVideo, seen: dict[str, object]) -> None:
    assert seen["tag_keys"] <= HARMLESS_KEYS, seen["tag_keys"]
    data = result.video.read_bytes()
    for secret in (LOCATION.encode()[:8], TITLE.encode(), COMMENT.encode(), b"\xa9xyz", b"2024-05"):
        assert secret not in data
    assert b"com.apple.quicktime" not in data
    assert b"x264" not in data and b"Lavf" not in data and b"Lavc" not in data  # no encoder tags
    # faststart: the index comes before the media data.
    assert 0 <= data.find(b"moov") < data.find(b"mdat")


def test_mov_with_tags_becomes_a_clean_faststart_mp4(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.mov", tags=TAGS, chapter="Chapter at home")
    with av.open(str(source)) as check:  # the fixture really carries the tags and chapter
        assert check.metadata["location"] == LOCATION
        assert check.metadata["title"] == TITLE
        assert check.chapters()[0]["metadata"]["title"] == "Chapter at home"
    assert LOCATION.encode() in source.read_bytes()

    result = transcode(source, tmp_path / "work")

    assert result.video == tmp_path / "work" / VIDEO_FILE
    assert result.poster == tmp_path / "work" / POSTER_FILE
    assert (result.width, result.height) == (320, 240)
    assert result.duration == pytest.approx(2.0, abs=0.15)
    assert result.has_audio
    assert result.blurhash is None
    seen = reopened(result.video)
    assert "mp4" in str(seen["format"]) and seen["brand"] == "isom"
    assert (seen["video_codec"], seen["audio_codec"]) == ("h264", "aac")
    assert seen["stream_types"] == ["audio", "video"]
    assert seen["pix_fmt"] == "yuv420p"
    assert seen["frames"] == 50  # decodes to the end
    assert seen["last_time"] == pytest.approx(1.96, abs=0.05)
    assert seen["chapters"] == []
    assert b"Chapter at home" not in result.video.read_bytes()
    assert_no_metadata(result, seen)


def test_poster_is_a_plain_jpeg_and_feeds_the_blurhash(tmp_path: Path) -> None:
    hashed: list[Path] = []

    def fake_blurhash(path: Path) -> str:
        hashed.append(path)
        return "LEHV6nWB2yk8pyo0adR*.7kCMdnj"

    result = transcode(
        make_clip(tmp_path / "in.mov", tags=TAGS), tmp_path, blurhash_of=fake_blurhash
    )

    assert hashed == [result.poster]
    assert result.blurhash == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
    with Image.open(result.poster) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (320, 240)
        assert not poster.getexif()
        assert not {"exif", "xmp", "comment", "icc_profile"} & set(poster.info)
        # 0.5 s into a 2 s clip (frame 13 of 25 fps): the moving white bar is at x = 13 * 4.
        rgb = poster.convert("RGB")
        brightest = max(range(rgb.width), key=lambda x: sum(rgb.getpixel((x, 60))))  # type: ignore[arg-type]
        assert brightest == pytest.approx(52, abs=1)


@pytest.mark.parametrize(
    ("rotation", "size", "red_at", "blue_at"),
    [
        # The matrix of a phone held upright: turn 90° clockwise; red top goes to the right.
        (-90, (240, 320), (230, 160), (10, 160)),
        (90, (240, 320), (10, 160), (230, 160)),  # held the other way: red goes left
        (180, (320, 240), (160, 230), (160, 10)),  # upside down: red at the bottom
    ],
)
def test_rotated_phone_video_is_turned_upright(
    tmp_path: Path,
    rotation: int,
    size: tuple[int, int],
    red_at: tuple[int, int],
    blue_at: tuple[int, int],
) -> None:
    source = make_clip(tmp_path / "in.mp4", rotation=rotation, audio=None)
    with av.open(str(source)) as check:  # the fixture really carries the display matrix
        assert abs(next(check.decode(video=0)).rotation) == abs(rotation)

    result = transcode(source, tmp_path / "work")

    assert (result.width, result.height) == size
    seen = reopened(result.video)
    assert seen["size"] == size
    assert seen["rotation"] == 0
    assert "DISPLAYMATRIX" not in " ".join(seen["side_data"])  # type: ignore[arg-type]
    rgb = seen["first_rgb"]
    (red_x, red_y), (blue_x, blue_y) = red_at, blue_at
    assert rgb[red_y, red_x, 0] > 200 and rgb[red_y, red_x, 2] < 60  # type: ignore[index]
    assert rgb[blue_y, blue_x, 2] > 200 and rgb[blue_y, blue_x, 0] < 60  # type: ignore[index]
    assert seen["audio_codec"] is None and not result.has_audio


def test_full_hd_is_scaled_to_max_height(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.mov", size=(1920, 1080), seconds=0.4, fps=10, audio=None)

    result = transcode(source, tmp_path / "work", max_height=720)

    assert (result.width, result.height) == (1280, 720)
    assert reopened(result.video)["size"] == (1280, 720)


def test_small_video_is_never_enlarged_and_sizes_stay_even() -> None:
    assert output_size(320, 240, 0, 1080) == (320, 240)
    assert output_size(1920, 1080, 0, 720) == (1280, 720)
    assert output_size(1080, 1920, 0, 1080) == (608, 1080)
    assert output_size(1920, 1080, 1, 1080) == (608, 1080)  # portrait after the turn
    assert output_size(333, 201, 0, 101) == (168, 100)
    assert output_size(720, 576, 0, 1080, sar=None) == (720, 576)
    assert clockwise_quarter_turns(-90) == 1
    assert clockwise_quarter_turns(90) == 3
    assert clockwise_quarter_turns(180) == clockwise_quarter_turns(-180) == 2


@pytest.mark.skipif(not has_encoder("libvpx-vp9"), reason="no VP9 encoder in this PyAV")
def test_webm_vp9_with_opus_becomes_h264_aac(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "in.webm", codec="libvpx-vp9", audio="libopus", tags=TAGS)
    found = probe(source)
    assert (found.container, found.video_codec, found.has_audio) == ("matroska", "vp9", True)

    result = transcode(source, tmp_path / "work")

    seen = reopened(result.video)
    assert (seen["video_codec"], seen["audio_codec"]) == ("h264", "aac")
    assert result.duration == pytest.approx(2.0, abs=0.15)
    assert_no_metadata(result, seen)


def test_animated_gif_becomes_a_silent_mp4(tmp_path: Path) -> None:
    result = transcode(make_gif(tmp_path / "in.gif"), tmp_path / "work", gifv=True)

    seen = reopened(result.video)
    assert seen["stream_types"] == ["video"] and not result.has_audio
    assert seen["video_codec"] == "h264" and seen["pix_fmt"] == "yuv420p"
    assert seen["frames"] == 10
    assert (result.width, result.height) == (64, 48)
    assert result.duration == pytest.approx(1.0, abs=0.15)


def test_gifv_drops_the_sound_of_any_input(tmp_path: Path) -> None:
    result = transcode(make_clip(tmp_path / "in.mov"), tmp_path / "work", gifv=True)

    assert reopened(result.video)["stream_types"] == ["video"]
    assert not result.has_audio


def test_probe_reports_what_the_file_is(tmp_path: Path) -> None:
    found = probe(make_clip(tmp_path / "in.mov"))

    assert found.container == "mov"
    assert (found.width, found.height, found.video_codec) == (320, 240, "mpeg4")
    assert found.duration == pytest.approx(2.0, abs=0.1)
    assert found.has_audio
    assert found.frames_estimate == 50
