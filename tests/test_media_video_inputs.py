"""Video inputs for the tests of instance/media/video.py, made with PyAV and Pillow on the spot.

No tests here: the clips are small (320×240, a second or two) so the video tests stay fast.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

LOCATION = "+21.0285+105.8542/"
TITLE = "Secret family title"
COMMENT = "a comment that names the street"
TAGS = {
    "title": TITLE,
    "comment": COMMENT,
    "location": LOCATION,
    "com.apple.quicktime.location.ISO6709": LOCATION,
    "creation_time": "2024-05-01T10:00:00.000000Z",
}


def picture(width: int, height: int, index: int) -> np.ndarray:
    """Red top half, blue bottom half, and a white bar that moves: orientation is checkable."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2] = (255, 0, 0)
    pixels[height // 2 :] = (0, 0, 255)
    pixels[:, (index * 4) % width] = 255
    return pixels


def _audio(
    stream: av.audio.stream.AudioStream, out: av.container.OutputContainer, seconds: float
) -> None:
    rate = stream.codec_context.sample_rate
    codec = stream.codec_context.name
    count = int(rate * seconds)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(count) / rate)).astype(np.float32)
    step = 960 if codec in ("libopus", "opus") else 1024
    for start in range(0, count, step):
        chunk = tone[start : start + step]
        frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def make_clip(
    path: Path,
    *,
    size: tuple[int, int] = (320, 240),
    seconds: float = 2.0,
    fps: int = 25,
    codec: str = "mpeg4",
    audio: str | None = "aac",
    rotation: int | None = None,
    tags: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    chapter: str | None = None,
) -> Path:
    """A clip with one video stream (and one audio stream unless `audio` is None), with
    container `tags` and one `chapter` of that title when given."""
    out = av.open(str(path), "w", container_options=container_options or {})
    for key, value in (tags or {}).items():
        out.metadata[key] = value
    if chapter is not None:
        out.set_chapters(
            [
                {
                    "id": 1,
                    "start": 0,
                    "end": round(seconds * 1000),
                    "time_base": Fraction(1, 1000),
                    "metadata": {"title": chapter},
                }
            ]
        )
    video = out.add_stream(codec, rate=fps)
    video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
    if rotation is not None:
        video.set_display_rotation(rotation)
    # Every stream exists before the first packet is muxed (the header is written then).
    sound = out.add_stream(audio, rate=48_000, layout="stereo") if audio else None
    for index in range(round(seconds * fps)):
        frame = av.VideoFrame.from_ndarray(picture(*size, index), format="rgb24")
        frame.pts = index
        out.mux(video.encode(frame))
    out.mux(video.encode(None))
    if sound is not None:
        _audio(sound, out, seconds)
    out.close()
    return path


def make_audio_only(path: Path, codec: str) -> Path:
    out = av.open(str(path), "w")
    rate = 44_100 if codec == "libmp3lame" else 48_000
    _audio(out.add_stream(codec, rate=rate, layout="stereo"), out, 1.0)
    out.close()
    return path


def make_gif(path: Path, frames: int = 10, delay_ms: int = 100) -> Path:
    images = [Image.fromarray(picture(64, 48, index)) for index in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=delay_ms, loop=0)
    return path


def make_music_with_cover(path: Path) -> Path:
    """An M4A-style file: AAC sound and a one-frame JPEG cover marked "attached picture"."""
    out = av.open(str(path), "w", format="mp4")
    cover = out.add_stream("mjpeg", rate=1)
    cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
    cover.disposition = av.stream.Disposition.attached_pic
    sound = out.add_stream("aac", rate=48_000, layout="stereo")
    frame = av.VideoFrame.from_ndarray(picture(64, 64, 0), format="rgb24")
    frame = frame.reformat(format="yuvj420p")
    frame.pts = 0
    out.mux(cover.encode(frame))
    out.mux(cover.encode(None))
    _audio(sound, out, 1.0)
    out.close()
    return path


def has_encoder(name: str) -> bool:
    try:
        av.Codec(name, "w")
    except (av.error.FFmpegError, ValueError):
        return False
    return True
